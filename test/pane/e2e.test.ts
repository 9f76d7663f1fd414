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
import { EngineFx, closeAbs, closeRel, csvRows, readJson } from "../helpers/fixtures";

interface Snapshot {
  names: string[];
  summary: unknown[][];
  detail: unknown[][];
  sheet1: unknown[][];
  overwrites: number;
  charts: { series: { name: string; x: string; y: string }[]; title: string }[];
  formulas: Record<string, string>;
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
      } as Snapshot;
    },
    [summary, detail],
  );

/** Wait until the pane reports the end of a task: a final status or an error. */
async function settled(page: Page, done: RegExp, timeout = 90000): Promise<void> {
  await page.waitForFunction(
    (src) => {
      const status = document.getElementById("status")!.textContent || "";
      const errs = Array.from(document.querySelectorAll(".err")).some((e) => (e.textContent || "") !== "");
      return new RegExp(src).test(status) || errs;
    },
    done.source,
    { timeout },
  );
}

async function errorsShown(page: Page): Promise<string[]> {
  return page.evaluate(() => Array.from(document.querySelectorAll(".err")).map((e) => e.textContent || "").filter((t) => t !== ""));
}

test("the pane fits the lecture's model in Chromium and writes it to new sheets", { skip: fs.existsSync(CHROMIUM) ? false : `no Chromium at ${CHROMIUM}`, timeout: 240000 }, async () => {
  const rows = csvRows("assets/examples/sitka.csv");
  const want = readJson<EngineFx[]>("test/fixtures/engine.json").find((f) => f.name === "sitka_ri_reml")!;
  const h = await openPane(rows);
  const { page } = h;
  try {
    // 1. Data: the selection (the Sitka data on Sheet1)
    await page.click("#read");
    await page.waitForFunction(() => /395 rows/.test(document.getElementById("data-info")!.textContent || "") || document.getElementById("data-err")!.textContent !== "");
    assert.equal(await page.textContent("#data-info"), "Sheet1!A1:D396: 395 rows, columns size, time, tree, treat");
    // 2. Model: pick the columns as the lecture's model has them
    await page.selectOption("#response", "size");
    await page.selectOption("#group1", "tree");
    await page.selectOption("#time", "time");
    await page.check("#interaction");
    assert.equal(await page.inputValue("#spec"), "size ~ time*treat + (1|tree)");
    assert.equal(await page.inputValue("#chart-factor"), "treat", "population lines per treatment by default");
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
    // detail sheet: 79 BLUPs, 395 fitted rows; one chart with 60 of 79 trees and two population lines
    assert.equal(out.detail.filter((r) => r[0] !== "" && r[0] !== "tree").length, 79);
    const fittedCol = out.detail[0].indexOf("fitted");
    assert.equal(out.detail.slice(1).filter((r) => typeof r[fittedCol] === "number").length, 395);
    assert.equal(out.charts.length, 1);
    assert.equal(out.charts[0].series.length, 62);
    assert.match(out.charts[0].title, /60 of 79 tree groups shown/);
    const shotDir = path.join(ROOT_DIR, process.env.LMM_UPDATE_SCREENSHOT ? "docs" : path.join("test", "out"));
    fs.mkdirSync(shotDir, { recursive: true });
    await page.screenshot({ path: path.join(shotDir, "taskpane.png"), fullPage: true });

    // Copy as R code (the clipboard may be refused in a headless page: the textarea then has it)
    await page.click("#rcode");
    await page.waitForFunction(() => (document.getElementById("rcode-text") as HTMLTextAreaElement).value !== "");
    assert.match(await page.inputValue("#rcode-text"), /fit <- lmer\(size ~ time\*treat \+ \(1\|tree\), data = data, REML = TRUE\)/);

    // A typo in the spec: the error sits under the spec, pointing at the place
    await page.fill("#spec", "size ~ time*treat + (1|tree");
    await page.waitForFunction(() => document.getElementById("spec-err")!.textContent !== "");
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
    await page.check("#live");
    await page.uncheck("#chart");
    await page.click("#fit");
    await settled(page, /Written to 'LMM 2'/);
    const live = await snap(page, "LMM 2", "LMM 2 data");
    assert.deepEqual(Object.values(live.formulas), ["=LMM.FIT(Sheet1!$A$1:$D$396,$B$5,$B$6)", "=LMM.VARCOMP(Sheet1!$A$1:$D$396,$B$5,$B$6,$B$7)"]);
    await page.uncheck("#live");

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
    const boxes = await page.$$("#models input[type=checkbox]");
    assert.equal(boxes.length, 3);
    await page.check("#models li:nth-child(1) input");
    await page.check("#models li:nth-child(2) input");
    await page.click("#compare");
    await settled(page, /Likelihood-ratio test written/);
    const status = (await page.textContent("#status"))!;
    // lecture: L.Ratio 39.80992; chi-bar-square p 1.273288e-09
    assert.match(status, /'LMM compare 1' \(=LMM\.LRT\): 1 vs 2: L\.Ratio 39\.81, df 2, p .* \(chi-bar-square p 1\.3e-9\)/);
    const cmp = await snap(page, "LMM compare 1", "none");
    assert.deepEqual(Object.values(cmp.formulas), ["=LMM.LRT(Sheet1!$A$1:$D$396,$B$9:$B$10,$B$5)"]);
    assert.equal(cmp.overwrites, 0);
    assert.deepEqual(h.errors, [], "no uncaught errors in the page");
  } finally {
    await h.close();
  }
});
