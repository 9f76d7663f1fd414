// End to end in a real browser: the built pane (dist/taskpane.html) in headless Chromium, with
// Office.js answered by the scripted workbook holding the Sitka data. Pick the columns, fit in
// the Web Worker, and check what lands on the new sheets against the lme4 fixture; then the
// R code, an error next to the spec, live formulas, and the lecture's LRT through Compare.
// A screenshot of the pane goes to test/out/taskpane.png (to docs/taskpane.png, the README's
// picture, with LMM_UPDATE_SCREENSHOT=1), so a test run leaves the work tree clean.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import type { Page } from "playwright-core";
import { CHROMIUM, ROOT_DIR, openPane } from "./browser";
import { SheetInfo, cellIndex, sheetHtml } from "./render-sheet";
import { ChartInfo, chartHtml } from "./render-chart";
import { formatValue } from "../../src/taskpane/numfmt";
import { EngineFx, closeAbs, closeRel, csvRows, readJson } from "../helpers/fixtures";

interface Snapshot {
  names: string[];
  summary: unknown[][];
  detail: unknown[][];
  sheet1: unknown[][];
  overwrites: number;
  charts: (ChartInfo & { legendPosition: string })[];
  formulas: Record<string, string>;
  info: SheetInfo & { formats: Record<string, string>; tables: unknown[] };
  detailInfo: SheetInfo;
}

const snap = (page: Page, summary: string, detail: string) =>
  page.evaluate(
    ([s, d]) => {
      const f = (window as unknown as { __fakeExcel: any }).__fakeExcel; // eslint-disable-line @typescript-eslint/no-explicit-any
      return {
        names: f.sheetNames(),
        summary: f.snapshot(s),
        detail: f.snapshot(d),
        sheet1: f.snapshot("Sheet1"),
        overwrites: f.log.filter((e: { op: string }) => e.op === "OVERWRITE").length,
        charts: (f.sheetInfo(s) || { charts: [] }).charts,
        formulas: (f.sheetInfo(s) || { formulas: {} }).formulas,
        info: f.sheetInfo(s),
        detailInfo: f.sheetInfo(d),
      } as Snapshot;
    },
    [summary, detail],
  );

/** Wait until the pane reports the end of a task: a final status or an error. */
async function settled(page: Page, done: RegExp, timeout = 90000): Promise<void> {
  await page.waitForFunction(
    (src) => {
      const status = (document.getElementById("status")!.textContent || "") + " " + (document.getElementById("compare-status")!.textContent || "");
      const errs = Array.from(document.querySelectorAll(".err")).some((e) => (e.textContent || "") !== "");
      return new RegExp(src).test(status) || errs;
    },
    done.source,
    { timeout },
  );
}

/** A summary-sheet cell as Excel shows it under the format the pane wrote. */
function shownAt(out: Snapshot, row: number, col: number): string {
  return formatValue(out.summary[row][col], out.info.formats[`${row},${col}`]);
}

async function errorsShown(page: Page): Promise<string[]> {
  return page.evaluate(() => Array.from(document.querySelectorAll(".err")).map((e) => e.textContent || "").filter((t) => t !== ""));
}

test("the pane fits the lecture's model in Chromium and writes it to new sheets", { skip: fs.existsSync(CHROMIUM) ? false : `no Chromium at ${CHROMIUM}`, timeout: 240000 }, async () => {
  const rows = csvRows("assets/examples/sitka.csv");
  const want = readJson<EngineFx[]>("test/fixtures/engine.json").find((f) => f.name === "sitka_ri_reml")!;
  // A laptop's task pane: 320 px wide, 800 px tall.
  const h = await openPane(rows, { width: 320, height: 800 });
  const { page } = h;
  try {
    // 0. Before the data: the model's controls are disabled (not just faded), their text readable
    assert.equal(await page.isDisabled("#response"), true, "the Model card's controls are disabled before data");
    const contrast = await page.evaluate(() => {
      const rgb = (s: string) => (s.match(/[\d.]+/g) || []).slice(0, 3).map(Number);
      const lum = (c: number[]) => {
        const [r, g, b] = c.map((v) => (v / 255 <= 0.03928 ? v / 255 / 12.92 : Math.pow((v / 255 + 0.055) / 1.055, 2.4)));
        return 0.2126 * r + 0.7152 * g + 0.0722 * b;
      };
      const worst: { text: string; ratio: number }[] = [];
      for (const el of Array.from(document.querySelectorAll<HTMLElement>("#model-card label, #model-card .hint, #model-card .label, #model-card legend"))) {
        if (!el.offsetParent) continue;
        let opacity = 1;
        for (let e: HTMLElement | null = el; e; e = e.parentElement) opacity *= Number(getComputedStyle(e).opacity);
        const fg = rgb(getComputedStyle(el).color), bg = [255, 255, 255];
        const mixed = fg.map((v, i) => v * opacity + bg[i] * (1 - opacity));
        const [l1, l2] = [lum(mixed), lum(bg)].sort((x, y) => y - x);
        worst.push({ text: (el.textContent || "").slice(0, 30), ratio: (l1 + 0.05) / (l2 + 0.05) });
      }
      return worst.sort((x, y) => x.ratio - y.ratio)[0];
    });
    assert.ok(contrast.ratio >= 4.5, `text in the Model card has contrast ${contrast.ratio.toFixed(2)}:1 ('${contrast.text}')`);
    assert.doesNotMatch((await page.getAttribute("#spec", "placeholder"))!, /~/, "the placeholder does not look like a spec");
    // Fit before the data: the message is beside the Fit button, on screen
    await page.click("#fit");
    const fitErr = (await page.textContent("#fit-err"))!;
    assert.match(fitErr, /Choose the data first/);
    assert.equal(await page.evaluate(() => document.getElementById("actionbar")!.contains(document.getElementById("fit-err"))), true);
    const errBox = (await page.locator("#fit-err").boundingBox())!;
    assert.ok(errBox.y >= 0 && errBox.y + errBox.height <= 800, `the message is on screen (y ${errBox.y})`);
    assert.equal(await page.textContent("#data-err"), "", "not at the top of the pane");
    // 1. Data: the selection (the Sitka data on Sheet1)
    await page.click("#read");
    await page.waitForFunction(() => /395 rows/.test(document.getElementById("data-info")!.textContent || "") || document.getElementById("data-err")!.textContent !== "");
    assert.equal(await page.textContent("#data-info"), "Sheet1!A1:D396: 395 rows, columns size, time, tree, treat");
    assert.equal(await page.isVisible("#fit-err"), false, "the message went with its cause");
    // 2. Model: pick the columns as the lecture's model has them
    await page.selectOption("#response", "size");
    await page.selectOption("#group1", "tree");
    await page.selectOption("#time", "time");
    await page.check("#interaction");
    assert.equal(await page.inputValue("#spec"), "size ~ time*treat + (1|tree)");
    assert.equal(await page.inputValue("#chart-factor"), "treat", "population lines per treatment by default");
    // the response is not offered as a fixed effect; an ID column ticked is warned about
    assert.equal(await page.isVisible("#fixed input[value=size]"), false);
    await page.check("#fixed input[value=tree]");
    assert.match((await page.textContent("#fixed-warn"))!, /'tree' looks like ID numbers/);
    await page.uncheck("#fixed input[value=tree]");
    assert.equal(await page.isVisible("#fixed-warn"), false);
    // AR1 with a grouping column: both models, said plainly
    await page.click("#residual-section > summary");
    await page.selectOption("#residual", "AR1");
    assert.equal(await page.inputValue("#spec"), "size ~ time*treat + (1|tree) ; AR1(time | tree)");
    await page.check("#gls");
    assert.equal(await page.inputValue("#spec"), "size ~ time*treat ; AR1(time | tree)", "the lecture's GLS AR1 model");
    await page.check("#with-re");
    await page.selectOption("#residual", "none");
    assert.equal(await page.inputValue("#spec"), "size ~ time*treat + (1|tree)");
    // The main path is short: at 320 px the Fit button is on screen without scrolling
    const fitBox = (await page.locator("#fit").boundingBox())!;
    const paneHeight = await page.evaluate(() => document.documentElement.scrollHeight);
    assert.ok(fitBox.y + fitBox.height <= 800, `Fit at ${Math.round(fitBox.y)} px, within the 800 px pane (pane ${paneHeight} px tall)`);
    fs.mkdirSync(path.join(ROOT_DIR, "test", "out"), { recursive: true });
    fs.writeFileSync(path.join(ROOT_DIR, "test", "out", "pane-height.txt"), `pane ${paneHeight} px tall at 320 px; Fit button at ${Math.round(fitBox.y)} px\n`);
    // 3. Fit (in the Web Worker) and write
    await page.click("#fit");
    await settled(page, /Written to|cancelled/);
    assert.deepEqual(await errorsShown(page), []);
    assert.ok(h.workers.some((u) => u.endsWith("/lmm-worker.js")), `the fit ran in the engine's Web Worker (workers: ${h.workers.join(", ")})`);
    assert.match((await page.textContent("#status"))!, /^Fitted by REML in [\d.]+ s: logLik -81\.7585, AIC 175\.52, BIC 199\.33; converged\. Written to 'LMM 1' and 'LMM 1 data'\./);
    const phases = await page.evaluate(() => ((window as unknown as { __lmmPhases?: { name: string }[] }).__lmmPhases ?? []).map((p) => p.name));
    for (const p of ["read: convert to typed columns and hash", "transfer to the worker", "worker: table from the data", "worker: engine: optimizer", "write: fitted values"]) {
      assert.ok(phases.includes(p), `the data went as typed columns, the worker reported its parts: phase '${p}' in ${phases.join(", ")}`);
    }
    // the key results in the pane: fixed effects with p, variance components
    const results = (await page.textContent("#results"))!;
    assert.match(results, /time:treatozone/);
    assert.match(results, /< \.001/);
    assert.match(results, /Variance components[\s\S]*tree[\s\S]*Residual/);
    assert.match(results, /Type III tests[\s\S]*time:treat14\.65314\.0< \.001/, "the F tests in the pane: F, DenDF, p as on the sheet");
    const out = await snap(page, "LMM 1", "LMM 1 data");
    assert.deepEqual(out.names, ["Sheet1", "LMM 1", "LMM 1 data"]);
    assert.equal(out.overwrites, 0, "nothing written onto the user's sheet or onto filled cells");
    assert.deepEqual(out.sheet1, rows, "the data are untouched");
    const row = (label: string) => out.summary.find((r) => r[0] === label)!;
    closeAbs(row("logLik (REML)")[1] as number, want.logLik, 1e-4, "logLik");
    closeAbs(row("AIC")[1] as number, want.AIC, 2e-4, "AIC");
    closeAbs(row("BIC")[1] as number, want.BIC, 2e-4, "BIC");
    closeRel(row("sigma (residual SD)")[1] as number, want.sigma, 1e-4, "sigma");
    assert.equal(row("observations used")[1], want.n);
    assert.equal(row("groups: tree")[1], 79);
    for (const fx of want.fixef) {
      closeAbs(row(fx.term)[1] as number, fx.estimate, 1e-4 * fx.se, `estimate of ${fx.term}`);
      closeRel(row(fx.term)[2] as number, fx.se, 1e-4, `SE of ${fx.term}`);
    }
    const vc = (g: string) => out.summary.find((r) => r[0] === g && (g === "Residual" || r[1] === "(Intercept)"))!;
    closeRel(vc("tree")[2] as number, want.varcomp[0].variance!, 1e-4, "tree variance");
    closeRel(vc("Residual")[2] as number, want.varcomp[1].variance!, 1e-4, "residual variance");
    // number formats as Excel shows them: estimate to its SE's precision, SE 4 digits, df 0.0, p "< .001"
    const shown = (label: string, col: number) => {
      const r = out.summary.findIndex((x) => x[0] === label);
      return formatValue(out.summary[r][col], out.info.formats[`${r},${col}`]);
    };
    assert.deepEqual([1, 2, 3, 4, 5].map((c) => shown("(Intercept)", c)), ["2.122", "0.1544", "177.4", "13.74", "< .001"]);
    assert.equal(shown("time", 1), "0.014147");
    assert.match(shown("treatozone", 5), /^0\.\d{3}$/, "p above 0.001: three decimals");
    assert.equal(out.info.tables.length, 0, "no Excel tables (filter buttons) on the summary sheet");
    // the estimates, tests and variance components are on the first screen (rows 1-25)
    assert.ok(out.summary.findIndex((r) => r[0] === "Residual") < 25);
    // detail sheet: a label row, 79 BLUPs, 395 fitted rows; the observed size keeps its data format
    assert.match(String(out.detail[0][0]), /Random effects/);
    assert.equal(out.detail.slice(2).filter((r) => r[0] !== "").length, 79);
    const fittedCol = out.detail[1].indexOf("fitted");
    assert.equal(out.detail.slice(2).filter((r) => typeof r[fittedCol] === "number").length, 395);
    const sizeCol = out.detail[1].indexOf("size");
    assert.equal(formatValue(out.detail[2][sizeCol], out.detailInfo.formats[`2,${sizeCol}`]), "4.51", "the observed 4.51 shows as in the data");
    assert.ok(out.detail[0].some((v) => /^Chart data/.test(String(v))), "the chart data are labelled");
    // the chart: 60 of 79 trees + two population lines, a legend for those two, bounds from the data, on screen
    assert.equal(out.charts.length, 2, "the spaghetti plot and the means chart");
    const chart = out.charts.find((c) => c.name === "LMM spaghetti plot")!;
    assert.equal(chart.series.length, 62);
    assert.equal(chart.title, "size over time by tree (60 of 79 shown)");
    assert.equal(chart.legend, true);
    assert.equal(chart.legendPosition, "Bottom");
    assert.deepEqual(chart.legendShown.map((i) => chart.series[i].name), ["control (fitted)", "ozone (fitted)"]);
    assert.deepEqual([chart.bounds.x.min, chart.bounds.x.max], [150, 260]);
    const ys = out.detail.slice(2).flatMap((r) => r.slice(out.detail[1].indexOf("time", fittedCol) + 1)).filter((v): v is number => typeof v === "number");
    assert.ok(chart.bounds.y.min! > 0 && chart.bounds.y.min! <= Math.min(...ys) && chart.bounds.y.max! >= Math.max(...ys), "size axis from the data, not from 0");
    const pop = chart.series.slice(-2).map((s) => s.line);
    assert.notEqual(pop[0].lineStyle, pop[1].lineStyle, "the two lines differ in more than colour");
    assert.notEqual(chart.series[0].line.color, chart.series[59].line.color, "thin lines take their treatment's tint");
    const [, c0] = cellIndex(chart.position!.from);
    const [, c1] = cellIndex(chart.position!.to!);
    const px = (c: number) => Array.from({ length: c }, (_, k) => ((out.info.widths[k] ?? 48) * 4) / 3).reduce((a, b) => a + b, 0);
    assert.ok(px(c0) < 600 && px(c1 + 1) < 1000, `the chart spans ${Math.round(px(c0))}-${Math.round(px(c1 + 1))} px from the left: on a laptop screen`);
    // The Type III table (lmerTest) under the fixed effects; the means of treat (emmeans) with
    // Tukey pairs, and over time; the means chart: a line per treatment with its CI segments
    const at = (re: RegExp) => out.summary.findIndex((r) => re.test(String(r[0])));
    const aov = readJson<{ fixtures: { name: string; anova: Record<string, { term: string; "F value": number; DenDF: number; "Pr(>F)": number }[]> }[] }>("test/fixtures/anova.json").fixtures.find((f) => f.name === "sitka_ri")!.anova["3"];
    const a0 = at(/^Type III tests of the fixed effects \(F, Satterthwaite df\)$/);
    assert.ok(a0 > 0 && a0 < out.summary.findIndex((r) => r[0] === "Residual"), "the Type III table sits above the variance components");
    assert.deepEqual(out.summary[a0 + 1].slice(0, 7), ["term", "Sum Sq", "Mean Sq", "NumDF", "DenDF", "F value", "Pr(>F)"]);
    aov.forEach((w, i) => {
      const r = out.summary[a0 + 2 + i];
      assert.equal(r[0], w.term);
      closeRel(r[5] as number, w["F value"], 1e-4, `F of ${w.term}`);
      closeRel(r[4] as number, w.DenDF, 1e-4, `DenDF of ${w.term}`);
      closeRel(r[6] as number, w["Pr(>F)"], 1e-4, `p of ${w.term}`);
    });
    const emm = readJson<{ cases: { name: string; results: { satterthwaite: { emmeans: { levels: Record<string, string>; estimate: number; SE: number; "lower.CL": number; "upper.CL": number }[]; pairs: { tukey: { estimate: number; "p.value": number }[] } } } }[] }>("test/fixtures/emmeans.json").cases;
    const m0 = at(/^Estimated marginal means of treat at time = 202\.4/);
    assert.deepEqual(out.summary[m0 + 1].slice(0, 6), ["treat", "emmean", "SE", "df", "lower.CL", "upper.CL"]);
    emm.find((c) => c.name === "sitka_treat")!.results.satterthwaite.emmeans.forEach((w, i) => {
      const r = out.summary[m0 + 2 + i];
      assert.equal(r[0], w.levels.treat);
      closeRel(r[1] as number, w.estimate, 1e-4, `emmean of ${w.levels.treat}`);
      closeRel(r[5] as number, w["upper.CL"], 1e-4, `upper.CL of ${w.levels.treat}`);
    });
    const p0 = at(/^Pairwise comparisons of treat \(Tukey adjustment\)$/);
    assert.deepEqual(out.summary[p0 + 1].slice(0, 6), ["contrast", "estimate", "SE", "df", "t.ratio", "p.value"]);
    closeRel(out.summary[p0 + 2][5] as number, emm.find((c) => c.name === "sitka_treat")!.results.satterthwaite.pairs.tukey[0]["p.value"], 1e-4, "Tukey p");
    assert.equal(shownAt(out, p0 + 2, 5), "0.159");
    assert.ok(at(/^Estimated marginal means of treat over time/) > p0);
    const mc = out.charts.find((c) => c.name === "LMM means treat over time")!;
    assert.equal(mc.title, "Estimated marginal means of size by treat over time");
    assert.deepEqual(mc.axes, { x: "time", y: "size (mean, 95 % CI)" });
    assert.deepEqual(mc.series.map((x) => x.name), ["control", "control 95 % CI", "ozone", "ozone 95 % CI"]);
    assert.deepEqual(mc.legendShown, [0, 2], "the legend names the treatments, not their interval series");
    assert.equal(mc.displayBlanksAs, "NotPlotted", "the interval series breaks between the bars");
    assert.equal(cellIndex(mc.position!.from)[0], m0, "the chart sits beside the means tables");
    const shotDir = path.join(ROOT_DIR, process.env.LMM_UPDATE_SCREENSHOT ? "docs" : path.join("test", "out"));
    fs.mkdirSync(shotDir, { recursive: true });
    // the pane after a fit as the user sees it: the results on screen, the action bar below them
    await page.evaluate(() => {
      const r = document.getElementById("results")!.getBoundingClientRect();
      const bar = document.getElementById("actionbar")!.getBoundingClientRect();
      window.scrollBy(0, r.bottom - bar.top + 8);
    });
    await page.screenshot({ path: path.join(shotDir, "taskpane.png") });
    await page.screenshot({ path: path.join(ROOT_DIR, "test", "out", "taskpane-full.png"), fullPage: true });
    // the summary sheet and the chart as Excel would draw them from what was written
    const render = await page.context().browser()!.newPage();
    await render.setViewportSize({ width: 1000, height: 740 });
    await render.setContent(sheetHtml("LMM 1", out.summary, out.info, out.detail, { nrows: 39, ncols: 11 }));
    await render.screenshot({ path: path.join(shotDir, "summary-sheet.png"), fullPage: true });
    await render.setViewportSize({ width: 680, height: 440 });
    await render.setContent(chartHtml(chart, out.detail, 680, 440));
    await render.screenshot({ path: path.join(shotDir, "chart.png") });
    await render.setContent(chartHtml(mc, out.summary, 680, 440));
    await render.screenshot({ path: path.join(shotDir, "means.png") });
    // the means section of the summary sheet, tables and chart together
    await render.setViewportSize({ width: 1100, height: 740 });
    await render.setContent(sheetHtml("LMM 1", out.summary, out.info, out.detail, { nrows: at(/^The same model in R/), ncols: 14 }));
    await render.screenshot({ path: path.join(ROOT_DIR, "test", "out", "summary-sheet-full.png"), fullPage: true });
    await render.close();

    // A fit that fails: the status does not stay "Fitting…"; the error sits under the spec, alone
    await page.fill("#spec", "treat ~ time + (1|tree)");
    await page.waitForTimeout(400);
    await page.click("#fit");
    await page.waitForFunction(() => document.getElementById("spec-err")!.textContent !== "");
    await page.waitForFunction(() => !/Fitting/.test(document.getElementById("status")!.textContent || ""));
    assert.match((await page.textContent("#status"))!, /^Not fitted: see the message under Model spec/);
    assert.equal(await page.isVisible("#spec-state"), false, "no 'the choices now match it' beside an error");
    await page.fill("#spec", "size ~ time*treat + (1|tree)");
    await page.waitForTimeout(400);

    // Copy as R code (the clipboard may be refused in a headless page: the textarea then has it)
    await page.click("#rcode");
    await page.waitForFunction(() => (document.getElementById("rcode-text") as HTMLTextAreaElement).value !== "");
    const code = await page.inputValue("#rcode-text");
    assert.match(code, /library\(lmerTest\)/);
    assert.match(code, /fit <- lmer\(size ~ time\*treat \+ \(1\|tree\), data = data, REML = TRUE\)/);
    assert.match(code, /confint\(fit, parm = "theta_"/);
    assert.match(code, /qt\(0\.975, fx\[, "df"\]\)/);

    // A typo in the spec: the error sits under the spec, pointing at the place; the R code of the old spec goes
    await page.fill("#spec", "size ~ time*treat + (1|tree");
    await page.waitForFunction(() => document.getElementById("spec-err")!.textContent !== "");
    assert.equal(await page.isVisible("#rcode-text"), false, "the R code of the previous spec is not left standing");
    assert.match((await page.textContent("#spec-err"))!, /^Missing '\)'/);
    assert.equal(await page.getAttribute("#spec", "aria-invalid"), "true");
    assert.equal(await page.textContent("#spec-err mark"), " ");
    // changing a control rebuilds the spec from the controls, and offers the typed one back
    await page.check("#slope");
    assert.equal(await page.inputValue("#spec"), "size ~ time*treat + (time|tree)");
    assert.equal(await page.textContent("#spec-err"), "");
    await page.click("#restore");
    assert.equal(await page.inputValue("#spec"), "size ~ time*treat + (1|tree");
    await page.uncheck("#slope");

    // Live formulas instead of values
    await page.fill("#spec", "size ~ time*treat + (1|tree)");
    await page.click("#options-card > summary");
    await page.check("#live");
    await page.click("#fit");
    await settled(page, /Written to 'LMM 2'/);
    const live = await snap(page, "LMM 2", "LMM 2 data");
    assert.deepEqual(Object.values(live.formulas), ["=LMM.FIT(Sheet1!$A$1:$D$396,$B$5,$B$6)", "=LMM.VARCOMP(Sheet1!$A$1:$D$396,$B$5,$B$6,$B$7)", "=LMM.ANOVA(Sheet1!$A$1:$D$396,$B$5,3,,$B$6)"]);
    // live: the chart at the left under the spill, not at column R
    assert.match(live.charts[0].position!.from, /^A\d+$/);
    await page.uncheck("#live");
    await page.uncheck("#chart");

    // Cancel: an unstructured residual covariance takes a second or more; Cancel stops the worker
    // at once, and nothing is written
    await page.fill("#spec", "size ~ time*treat + (1|tree) ; UN(time | tree)");
    const sheetsBefore = (await snap(page, "none", "none")).names;
    await page.click("#fit");
    await page.click("#cancel");
    await settled(page, /cancelled/);
    assert.equal(await page.textContent("#status"), "The fit was cancelled.");
    assert.deepEqual((await snap(page, "none", "none")).names, sheetsBefore);
    assert.equal(await page.isEnabled("#fit"), true);

    // Compare: the lecture's mm1 (random intercept) and mm2 (random slope), REML
    for (const spec of ["size ~ time + (1|tree)", "size ~ time + (time|tree)"]) {
      await page.fill("#spec", spec);
      await page.click("#fit");
      await settled(page, new RegExp(`Written to 'LMM ${spec.includes("time|") ? 4 : 3}'`));
      assert.deepEqual(await errorsShown(page), []);
    }
    await page.click("#compare-card > summary");
    const boxes = await page.$$("#models input[type=checkbox]");
    assert.equal(boxes.length, 4, "the refit of the first spec (live) is kept beside it");
    await page.check("#models li:nth-child(1) input");
    await page.check("#models li:nth-child(2) input");
    await page.click("#compare");
    await settled(page, /Likelihood-ratio test written/);
    const status = (await page.textContent("#compare-status"))!;
    assert.doesNotMatch((await page.textContent("#status"))!, /Likelihood-ratio/, "compare results in the Compare card, not the Fit bar");
    // lecture: L.Ratio 39.80992; chi-bar-square p 1.273288e-09
    assert.match(status, /'LMM compare 1' \(=LMM\.LRT\): 1 vs 2: L\.Ratio 39\.81, df 2, p .* \(chi-bar-square p 1\.3e-9\)/);
    const cmp = await snap(page, "LMM compare 1", "none");
    assert.deepEqual(Object.values(cmp.formulas), ["=LMM.LRT(Sheet1!$A$1:$D$396,$B$9:$B$10,$B$5)"]);
    assert.equal(cmp.overwrites, 0);
    // The Diagnostics sheet: native charts of the residuals, their QQ plot, the BLUPs' QQ plot and
    // the caterpillar plot, each with a title, axis titles and bounds from the data
    await page.fill("#spec", "size ~ time*treat + (1|tree)");
    await page.check("#diagnostics");
    await page.click("#fit");
    await settled(page, /Diagnostics \(residual|No diagnostics/);
    assert.match((await page.textContent("#status"))!, /Diagnostics \(residual, QQ, caterpillar and Cook's distance charts\) on 'Diagnostics 1'\. Cook's distance by group: largest tree \d+ \(/);
    const dg = await page.evaluate(() => {
      const f = (window as unknown as { __fakeExcel: any }).__fakeExcel; // eslint-disable-line @typescript-eslint/no-explicit-any
      return { info: f.sheetInfo("Diagnostics 1"), cells: f.snapshot("Diagnostics 1") as unknown[][] };
    });
    const dcharts = dg.info.charts as (ChartInfo & { legendPosition: string })[];
    assert.deepEqual(dcharts.map((c) => c.title), [
      "Residuals vs fitted values",
      "Normal QQ plot: residuals",
      "Normal QQ plot: BLUPs of tree: (Intercept)",
      "Caterpillar plot: tree: (Intercept), sorted",
      "Cook's distance by tree: the fit without each tree, largest first",
    ]);
    for (const c of dcharts) {
      assert.ok(c.axes.x !== "" && c.axes.y !== "", `axis titles of '${c.title}'`);
      // A column chart's category axis (the trees) has no numeric bounds in Excel.
      assert.ok((c.type === "ColumnClustered" || c.bounds.x.min !== null) && c.bounds.y.min !== null, `bounds of '${c.title}' from the data`);
      assert.equal(c.legend, c.series.length > 1 && c.title !== "Residuals vs fitted values", `legend of '${c.title}'`);
      for (const sr of c.series as { ySheet?: string }[]) assert.equal(sr.ySheet, "Diagnostics 1", "the chart data are on the Diagnostics sheet");
    }
    // 395 residual points, 79 BLUPs; the caterpillar's 79 intervals as segments broken by blanks
    const yCells = (c: ChartInfo, k: number) => { const m = /([A-Z]+)(\d+):[A-Z]+(\d+)/.exec(c.series[k].y)!; return Number(m[3]) - Number(m[2]) + 1; };
    assert.equal(yCells(dcharts[0], 0), 395);
    assert.equal(yCells(dcharts[2], 0), 79);
    assert.equal(yCells(dcharts[3], 0), 3 * 79);
    assert.equal((dcharts[3] as ChartInfo & { displayBlanksAs: string }).displayBlanksAs, "NotPlotted");
    // Cook's distance by tree: 79 bars, largest first, the numbers lme4's influence(fit, groups = "tree")
    {
      const cook = dcharts[4];
      assert.equal(cook.type, "ColumnClustered");
      assert.equal(yCells(cook, 0), 79);
      const gfx = readJson<{ groups: { name: string; levels: string[]; cooks: number[] }[] }>("test/fixtures/influence.json").groups.find((g) => g.name === "sitka_tree")!;
      const at = (a: string) => { const m = /([A-Z]+)(\d+):[A-Z]+(\d+)/.exec(a)!; let c = 0; for (const ch of m[1]) c = c * 26 + ch.charCodeAt(0) - 64; return Array.from({ length: Number(m[3]) - Number(m[2]) + 1 }, (_, i) => dg.cells[Number(m[2]) - 1 + i][c - 1]); };
      const labels = at(cook.series[0].x), values = at(cook.series[0].y) as number[];
      labels.forEach((l, i) => closeRel(values[i], gfx.cooks[gfx.levels.indexOf(String(l))], 1e-4, `Cook's distance of tree ${String(l)}`));
      assert.equal(labels[0], gfx.levels[gfx.cooks.indexOf(Math.max(...gfx.cooks))], "the largest first");
      assert.equal(cook.bounds.y.min, 0);
      assert.ok(cook.bounds.y.max! >= values[0]);
    }
    {
      const grid = await page.context().browser()!.newPage();
      await grid.setViewportSize({ width: 1000, height: 1050 });
      const body = (html: string) => html.replace(/^[\s\S]*<body>|<\/body>[\s\S]*$/g, "");
      // The Cook's-distance chart spans the grid's width, as on the sheet.
      const svgs = dcharts.map((c) => (c.type === "ColumnClustered" ? `<div style="grid-column:1 / span 2">${body(chartHtml(c, dg.cells, 1000, 350))}</div>` : body(chartHtml(c, dg.cells, 500, 350))));
      await grid.setContent(`<!doctype html><html><body style="margin:0;display:grid;grid-template-columns:500px 500px;background:#fff">${svgs.join("")}</body></html>`);
      await grid.screenshot({ path: path.join(shotDir, "diagnostics.png") });
      await grid.close();
    }
    await page.uncheck("#diagnostics");
    // Kenward-Roger under Output options: refused beside Fit for an ML fit, in words; by REML it
    // reaches the Type III table (pbkrtest's KRmodcomp via lmerTest)
    await page.selectOption("#ddf", "kr");
    await page.check("#ml");
    await page.click("#fit");
    await page.waitForFunction(() => document.getElementById("fit-err")!.textContent !== "");
    assert.match((await page.textContent("#fit-err"))!, /^Kenward-Roger df need a REML fit .*choose REML under Estimation, or Satterthwaite df under Output options\.$/);
    await page.check("#reml");
    await page.click("#fit");
    await settled(page, /Written to 'LMM \d+'/);
    assert.deepEqual(await errorsShown(page), []);
    const krSheet = /Written to '(LMM \d+)'/.exec((await page.textContent("#status"))!)![1];
    const kr = await snap(page, krSheet, "none");
    const k0 = kr.summary.findIndex((r) => r[0] === "Type III tests of the fixed effects (F, Kenward-Roger df)");
    assert.ok(k0 > 0, "the Type III table says its df");
    const krFx = readJson<{ fixtures: { name: string; anova_kr: Record<string, { term: string; DenDF: number; "F value": number }[]> }[] }>("test/fixtures/anova.json").fixtures.find((f) => f.name === "sitka_ri")!.anova_kr["3"];
    krFx.forEach((w, i) => {
      closeRel(kr.summary[k0 + 2 + i][4] as number, w.DenDF, 1e-4, `KR DenDF of ${w.term}`);
      closeRel(kr.summary[k0 + 2 + i][5] as number, w["F value"], 1e-4, `KR F of ${w.term}`);
    });
    assert.ok(kr.summary.some((r) => /^Estimated marginal means of treat .*\(Kenward-Roger df, 95 % CI\)$/.test(String(r[0]))));
    await page.selectOption("#ddf", "satterthwaite");
    // The lecture's shrinkage figure on its own sheet: per tree, the fixed-effects-only line
    // (dashed) and the random-intercept line (solid) in one colour, a three-entry legend
    await page.fill("#spec", "size ~ time + (1|tree)");
    await page.check("#shrinkage");
    await page.click("#fit");
    await settled(page, /Shrinkage chart \(|No shrinkage chart/);
    assert.match((await page.textContent("#status"))!, /Shrinkage chart \(size ~ factor\(tree\) \+ time vs size ~ time \+ \(1\|tree\)\) on 'Shrinkage 1'\./);
    {
      const sh = await page.evaluate(() => {
        const f = (window as unknown as { __fakeExcel: any }).__fakeExcel; // eslint-disable-line @typescript-eslint/no-explicit-any
        return { info: f.sheetInfo("Shrinkage 1"), cells: f.snapshot("Shrinkage 1") as unknown[][], overwrites: f.log.filter((e: { op: string }) => e.op === "OVERWRITE").length };
      });
      assert.equal(sh.overwrites, 0);
      const c = sh.info.charts[0] as ChartInfo;
      assert.equal(c.series.length, 27, "8 trees x 3, the population line, two legend entries");
      assert.deepEqual(c.legendShown.map((i) => c.series[i].name), ["population line (X beta)", "fixed tree effects (factor(tree))", "random intercept (1|tree)"]);
      for (let k = 0; k < 8; k++) {
        const [dashed, solid] = [c.series[2 + 3 * k], c.series[3 + 3 * k]];
        assert.equal(dashed.line.color, solid.line.color, "a tree's two lines in one colour");
        assert.deepEqual([dashed.line.lineStyle, solid.line.lineStyle], ["Dash", "Continuous"]);
      }
      assert.ok(c.bounds.y.min! > 0 && c.bounds.x.min! >= 150, "axes from the data");
      assert.ok(sh.cells.flat().some((v) => typeof v === "string" && v.includes('=LMM.FITTED(Sheet1!$A$1:$D$396, "size ~ factor(tree) + time")')), "the sheet says how to rebuild it");
      const r = await page.context().browser()!.newPage();
      await r.setViewportSize({ width: 900, height: 560 });
      await r.setContent(chartHtml(c, sh.cells, 900, 560));
      await r.screenshot({ path: path.join(shotDir, "shrinkage.png") });
      await r.close();
    }
    await page.uncheck("#shrinkage");
    // "Which structure?": the lecture's GLS ladder, ranked in the worker, on a new sheet
    await page.fill("#spec", "size ~ time*treat ; AR1(time | tree)");
    await page.waitForTimeout(400);
    await page.click("#structures");
    await settled(page, /Structures ranked|Structures not ranked|Which structure\? failed/, 120000);
    assert.match((await page.textContent("#status"))!, /^Structures ranked on 'LMM structures 1' \(\d+ fitted by REML\): best by AIC UN/);
    {
      const st = await page.evaluate(() => {
        const f = (window as unknown as { __fakeExcel: any }).__fakeExcel; // eslint-disable-line @typescript-eslint/no-explicit-any
        return { info: f.sheetInfo("LMM structures 1"), cells: f.snapshot("LMM structures 1") as unknown[][] };
      });
      const ll = (s: string) => st.cells.find((r) => r[0] === s)![4] as number;
      [["independence", -394.2299], ["AR1", -34.9311], ["ARH1", -15.7839], ["UN", 21.5648]].forEach(([s, x]) => closeAbs(ll(s as string), x as number, 5e-5, `${s} logLik`));
      const r = await page.context().browser()!.newPage();
      await r.setViewportSize({ width: 1100, height: 420 });
      await r.setContent(sheetHtml("LMM structures 1", st.cells, st.info, null, { nrows: 20, ncols: 9 }));
      await r.screenshot({ path: path.join(shotDir, "structures-sheet.png"), fullPage: true });
      await r.close();
    }
    // 270 px (a Mac's narrowest pane): no select cuts its text
    await page.setViewportSize({ width: 270, height: 800 });
    const cut = await page.evaluate(() => {
      const ctx = document.createElement("canvas").getContext("2d")!;
      const out: string[] = [];
      for (const s of Array.from(document.querySelectorAll<HTMLSelectElement>("select"))) {
        if (!s.offsetParent || s.selectedIndex < 0) continue;
        const cs = getComputedStyle(s);
        ctx.font = `${cs.fontWeight} ${cs.fontSize} ${cs.fontFamily}`;
        const text = s.options[s.selectedIndex].text;
        const room = s.clientWidth - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight) - 20;
        if (ctx.measureText(text).width > room) out.push(`#${s.id}: '${text}' (${Math.round(ctx.measureText(text).width)} > ${Math.round(room)} px)`);
      }
      return out;
    });
    assert.deepEqual(cut, [], "selects whose text is cut at 270 px");
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: path.join(ROOT_DIR, "test", "out", "taskpane-270.png") });
    assert.deepEqual(h.errors, [], "no uncaught errors in the page");
  } finally {
    await h.close();
  }
});
