// The summary sheet's tests and means, end to end in Node: the controller with a recording view,
// the worker client's summary job (in-process runner), the Office.js writer over the scripted
// workbook. The Type III table, the means, the Tukey pairs and the charts' series are checked
// against R (lmerTest's anova, emmeans, pairs: test/fixtures/anova.json, emmeans.json made by
// make-fixtures-11.R and make-fixtures-emmeans.R), under Satterthwaite and Kenward-Roger df.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as path from "node:path";
import { Field, KR_NEEDS_REML, PaneController, PaneOptions, PaneView } from "../../src/taskpane/controller";
import { ExcelWorkbook } from "../../src/taskpane/excel-io";
import type { ClipboardPort, DataSource } from "../../src/taskpane/ports";
import { ColumnInfo, ModelChoices, emptyChoices } from "../../src/taskpane/spec-builder";
import { ClientFitter } from "../../src/taskpane/worker-fitter";
import { LmmClient } from "../../src/worker/client";
import { InProcessRunner } from "../../src/worker/inprocess";
import { covariateValues, roundGrid } from "../../src/engine/inference/summary";
import { formatValue } from "../../src/taskpane/numfmt";
import { meansSection } from "../../src/taskpane/means";
import type { FitResultWithRows } from "../../src/engine/types";
import { fitSummary, tableFromRows } from "../../src/engine";
import { ROOT, closeAbs, closeRel, csvRows, loadTable, readJson } from "../helpers/fixtures";

// eslint-disable-next-line @typescript-eslint/no-var-requires
require(path.join(ROOT, "test", "pane", "fake-office.js"));
interface ChartRec {
  name: string;
  title: string;
  axes: { x: string; y: string };
  bounds: { x: { min: number | null; max: number | null }; y: { min: number | null; max: number | null } };
  xTickLabels: boolean;
  legend: boolean;
  legendShown: number[];
  displayBlanksAs: string;
  position: { from: string; to: string };
  series: { name: string; x: string; y: string; ySheet: string; line: { lineStyle?: string; color?: string }; marker: { style?: string } | null; dataLabels: { showSeriesName: boolean } | null }[];
}
interface FakeExcel {
  seed(name: string, rows: unknown[][], at?: string): unknown;
  reset(): void;
  log: { op: string }[];
  snapshot(name: string): unknown[][] | null;
  sheetInfo(name: string): { formats: Record<string, string>; charts: ChartRec[] } | null;
  sheetNames(): string[];
}
const fake = (globalThis as unknown as { __fakeExcel: FakeExcel }).__fakeExcel;

class View implements PaneView {
  c: ModelChoices = emptyChoices();
  spec = "";
  opts: PaneOptions = { method: "REML", level: 0.95, ci: "wald", live: false, chart: true, chartFactor: null };
  errors = new Map<Field, string>();
  status = "";
  source(): DataSource { return { kind: "selection" }; }
  choices() { return this.c; }
  specText() { return this.spec; }
  options() { return this.opts; }
  pickedModels() { return []; }
  setTables() {}
  setColumns(_c: ColumnInfo[]) {}
  setDataInfo() {}
  setChoices(c: ModelChoices) { this.c = c; }
  setChartFactor(n: string | null) { this.opts = { ...this.opts, chartFactor: n }; }
  setSpecText(t: string) { this.spec = t; }
  setSpecState() {}
  setRestore() {}
  setError(f: Field, m: string | null) { if (m) this.errors.set(f, m); else this.errors.delete(f); }
  setBusy() {}
  setProgress() {}
  setStatus(t: string) { this.status = t; }
  setWarning() {}
  setNotes() {}
  setModels() {}
  showRCode() {}
  showResults(_r: FitResultWithRows | null) {}
}

const clipboard: ClipboardPort = { copy: async () => "clipboard" };

async function fitOnSheet(csv: string, spec: string, time: string | null, opts: Partial<PaneOptions> = {}) {
  fake.reset();
  fake.seed("Sheet1", csvRows(csv));
  const view = new View();
  const pane = new PaneController(view, new ExcelWorkbook(), new ClientFitter(new LmmClient(new InProcessRunner())), clipboard);
  await pane.useData();
  view.c = { ...view.c, time };
  view.spec = spec;
  view.opts = { ...view.opts, ...opts };
  pane.specEdited();
  await pane.fit();
  return { view, sheet: fake.snapshot("LMM 1"), info: fake.sheetInfo("LMM 1") };
}

/** The table under the heading matching `title`: header row and data rows up to the first blank row. */
function tableUnder(sheet: unknown[][], title: RegExp): { head: unknown[]; rows: unknown[][]; at: number } {
  const at = sheet.findIndex((r) => title.test(String(r[0])));
  assert.ok(at >= 0, `a heading matching ${title}`);
  const rows: unknown[][] = [];
  // Snapshots are rectangular: the tables' own cells end before the first blank of the header.
  const width = sheet[at + 1].findIndex((v) => v === "" || v === undefined);
  const cut = (r: unknown[]) => (width < 0 ? r : r.slice(0, width));
  // A note under the table (emmeans's) fills its first cell only.
  for (let i = at + 2; i < sheet.length && sheet[i] && sheet[i][0] !== "" && sheet[i][0] !== undefined && sheet[i][1] !== ""; i++) rows.push(cut(sheet[i]));
  return { head: cut(sheet[at + 1]), rows, at };
}

interface AnovaFx { name: string; anova: Record<string, Record<string, unknown>[]>; anova_kr: Record<string, Record<string, unknown>[]> }
interface EmmFx { name: string; results: Record<string, { emmeans: { levels: Record<string, string>; estimate: number; SE: number; df: number; "lower.CL": number; "upper.CL": number }[]; pairs: Record<string, { contrast: string; by: Record<string, string>; estimate: number; SE: number; df: number; "t.ratio": number; "p.value": number }[]> }> }
const anovaFx = (name: string) => readJson<{ fixtures: AnovaFx[] }>("test/fixtures/anova.json").fixtures.find((f) => f.name === name)!;
const emmFx = (name: string) => readJson<{ cases: EmmFx[] }>("test/fixtures/emmeans.json").cases.find((f) => f.name === name)!;

function checkAnova(sheet: unknown[][], want: Record<string, unknown>[], ddf: string) {
  const t = tableUnder(sheet, new RegExp(`^Type III tests of the fixed effects \\(F, ${ddf} df\\)$`));
  assert.deepEqual(t.head, ["term", "Sum Sq", "Mean Sq", "NumDF", "DenDF", "F value", "Pr(>F)"]);
  assert.deepEqual(t.rows.map((r) => r[0]), want.map((w) => w.term));
  t.rows.forEach((r, i) => {
    const w = want[i];
    for (const [j, k] of ["Sum Sq", "Mean Sq", "NumDF", "DenDF", "F value"].entries()) closeRel(r[j + 1] as number, w[k] as number, 1e-4, `${w.term} ${k}`);
    closeRel(r[6] as number, w["Pr(>F)"] as number, 1e-4, `${w.term} p`, 1e-6);
  });
}

function checkMeans(rows: unknown[][], want: EmmFx["results"][string]["emmeans"], lead: (w: EmmFx["results"][string]["emmeans"][number]) => unknown[]) {
  for (const w of want) {
    const key = lead(w);
    const r = rows.find((x) => key.every((k, j) => x[j] === k));
    assert.ok(r, `a row for ${key.join(" ")}`);
    const o = key.length;
    closeRel(r![o] as number, w.estimate, 1e-4, `emmean ${key}`);
    closeRel(r![o + 1] as number, w.SE, 1e-4, `SE ${key}`);
    closeRel(r![o + 2] as number, w.df, 1e-4, `df ${key}`);
    closeRel(r![o + 3] as number, w["lower.CL"], 1e-4, `lower.CL ${key}`);
    closeRel(r![o + 4] as number, w["upper.CL"], 1e-4, `upper.CL ${key}`);
  }
}

/** The cells of a one-column range on a snapshot. */
function cells(sheet: unknown[][], address: string): unknown[] {
  const m = /^([A-Z]+)(\d+)(?::[A-Z]+(\d+))?$/.exec(address.replace(/\$/g, "").split("!").pop()!)!;
  let c = 0;
  for (const ch of m[1]) c = c * 26 + ch.charCodeAt(0) - 64;
  const r0 = Number(m[2]) - 1, r1 = Number(m[3] ?? m[2]) - 1;
  return Array.from({ length: r1 - r0 + 1 }, (_, i) => sheet[r0 + i]?.[c - 1] ?? "");
}

test("Sitka, time*treat: the Type III table, the means at the mean time and over time, Tukey pairs and the lines chart, as lmerTest and emmeans", async () => {
  const { view, sheet, info } = await fitOnSheet("assets/examples/sitka.csv", "size ~ time*treat + (1|tree)", "time");
  assert.deepEqual([...view.errors.values()], []);
  assert.match(view.status, /Type III tests and the means of treat with pairwise comparisons on the summary sheet\.$/);
  const s = sheet!;
  checkAnova(s, anovaFx("sitka_ri").anova["3"], "Satterthwaite");
  // the means at the mean time (emmeans's default reference grid)
  const fx = emmFx("sitka_treat").results.satterthwaite;
  const m = tableUnder(s, /^Estimated marginal means of treat at time = 202\.4 \(Satterthwaite df, 95 % CI\)$/);
  assert.deepEqual(m.head, ["treat", "emmean", "SE", "df", "lower.CL", "upper.CL"]);
  checkMeans(m.rows, fx.emmeans, (w) => [w.levels.treat]);
  // emmeans's note, as R prints it for ~ treat when time*treat is in the model: below the chart, not under it
  const noteRow = s.findIndex((r) => /^Note \(treat\): Results may be misleading due to involvement in interactions$/.test(String(r[0])));
  assert.ok(noteRow >= m.at + 18, `the note (row ${noteRow + 1}) sits below the chart (from row ${m.at + 1}, 18 rows)`);
  const p = tableUnder(s, /^Pairwise comparisons of treat \(Tukey adjustment\)$/);
  assert.deepEqual(p.head, ["contrast", "estimate", "SE", "df", "t.ratio", "p.value"]);
  const wp = fx.pairs.tukey[0];
  assert.equal(p.rows[0][0], wp.contrast);
  for (const [j, k] of (["estimate", "SE", "df", "t.ratio", "p.value"] as const).entries()) closeRel(p.rows[0][j + 1] as number, wp[k], 1e-4, `pair ${k}`);
  // the slope of time per treatment (emtrends) and their difference (the time:treat test)
  const tfx = emmFx("sitka_trend").results.satterthwaite;
  const tr = tableUnder(s, /^Slopes of size per unit of time, by treat \(emtrends; Satterthwaite df, 95 % CI\)$/);
  assert.deepEqual(tr.head, ["treat", "time.trend", "SE", "df", "lower.CL", "upper.CL"]);
  checkMeans(tr.rows, tfx.emmeans, (w) => [w.levels.treat]);
  const tp = tableUnder(s, /^Pairwise comparisons of the slopes \(Tukey adjustment\)$/);
  closeRel(tp.rows[0][1] as number, tfx.pairs.tukey[0].estimate, 1e-4, "slope difference");
  closeRel(tp.rows[0][5] as number, tfx.pairs.tukey[0]["p.value"], 1e-4, "slope difference p");
  // over time: at the five measurement occasions (the fixture has three of them)
  const byTime = emmFx("sitka_treat_by_time").results.satterthwaite;
  const o = tableUnder(s, /^Estimated marginal means of treat over time/);
  assert.deepEqual(o.head, ["treat", "time", "emmean", "SE", "df", "lower.CL", "upper.CL"]);
  assert.deepEqual(Array.from(new Set(o.rows.map((r) => r[1]))), [152, 174, 201, 227, 258]);
  checkMeans(o.rows, byTime.emmeans, (w) => [w.levels.treat, Number(w.levels.time)]);
  const op = tableUnder(s, /^Pairwise comparisons of treat at each time \(Tukey adjustment\)$/);
  for (const w of byTime.pairs.tukey) {
    const r = op.rows.find((x) => x[1] === Number(w.by.time))!;
    assert.equal(r[0], w.contrast);
    closeRel(r[2] as number, w.estimate, 1e-4, `pair at ${w.by.time}`);
    closeRel(r[6] as number, w["p.value"], 1e-4, `p at ${w.by.time}`);
  }
  // formats: emmean to its SE's precision, df one decimal, p three decimals
  const shown = (row: number, col: number) => formatValue(s[row][col], info!.formats[`${row},${col}`]);
  // one format per column: three digits of the smallest SE (0.0836), so the column lines up
  assert.deepEqual([1, 2, 3, 4, 5].map((c) => shown(m.at + 2, c)), ["4.9851", "0.1229", "77.0", "4.7405", "5.2298"]);
  assert.deepEqual([1, 2, 3, 4, 5].map((c) => shown(m.at + 3, c)), ["4.7740", "0.0836", "77.0", "4.6075", "4.9404"]);
  assert.deepEqual([1, 2, 3, 4, 5].map((c) => shown(p.at + 2, c)), ["0.211", "0.149", "77.0", "1.42", "0.159"]);
  // the chart: one line per treatment over time, its 95 % intervals as segments, beside the tables
  const charts = info!.charts.filter((c) => /^LMM means/.test(c.name));
  assert.equal(charts.length, 1);
  const ch = charts[0];
  assert.equal(ch.title, "Estimated marginal means of size by treat over time");
  assert.deepEqual(ch.axes, { x: "time", y: "size (mean, 95 % CI)" });
  assert.equal(ch.displayBlanksAs, "NotPlotted");
  assert.deepEqual(ch.series.map((x) => x.name), ["control", "control 95 % CI", "ozone", "ozone 95 % CI"]);
  assert.deepEqual(ch.legendShown.map((i) => ch.series[i].name), ["control", "ozone"]);
  for (const x of ch.series) assert.equal(x.ySheet, "LMM 1", "the chart data are on the summary sheet");
  const line = ch.series[0], bars = ch.series[1];
  assert.equal(line.marker?.style, "Circle");
  assert.equal(bars.marker?.style, "None");
  assert.notEqual(line.line.color, ch.series[2].line.color);
  const means = cells(s, line.y) as number[];
  const limits = cells(s, bars.y);
  const ctrl = o.rows.filter((r) => r[0] === "control");
  ctrl.forEach((r, t) => {
    assert.equal(means[t], r[2], "the line goes through the means of the table");
    assert.deepEqual(limits.slice(3 * t, 3 * t + 3), [r[5], r[6], ""], "each bar runs from lower.CL to upper.CL, then a blank");
  });
  const xs = cells(s, line.x) as number[];
  xs.forEach((x, t) => assert.ok(Math.abs(x - [152, 174, 201, 227, 258][t]) < 2, "x at the occasions, nudged a little"));
  assert.ok(ch.bounds.x.min! <= 152 && ch.bounds.x.max! >= 258);
  assert.ok(ch.bounds.y.min! <= Math.min(...o.rows.map((r) => r[5] as number)) && ch.bounds.y.max! >= Math.max(...o.rows.map((r) => r[6] as number)));
  // the chart sits beside the means tables, right of the widest of them (columns A-G)
  assert.equal(ch.position.from, `I${m.at + 1}`);
  assert.equal(fake.log.filter((e) => e.op === "OVERWRITE").length, 0, "nothing written over a filled cell");
});

test("Oats, N*Variety: a means table, Tukey pairs and a chart of level means with CI bars per factor, as emmeans", async () => {
  const { sheet, info } = await fitOnSheet("test/data/oats.csv", "yield ~ N*Variety + (1|Block/Variety)", null);
  const s = sheet!;
  checkAnova(s, anovaFx("oats_factorial").anova["3"], "Satterthwaite");
  for (const [factor, name] of [["N", "oats_N"], ["Variety", "oats_variety"]] as const) {
    const fx = emmFx(name).results.satterthwaite;
    const m = tableUnder(s, new RegExp(`^Estimated marginal means of ${factor} \\(Satterthwaite df, 95 % CI\\)$`));
    assert.deepEqual(m.rows.map((r) => r[0]), fx.emmeans.map((w) => w.levels[factor]));
    checkMeans(m.rows, fx.emmeans, (w) => [w.levels[factor]]);
    const p = tableUnder(s, new RegExp(`^Pairwise comparisons of ${factor} \\(Tukey adjustment\\)$`));
    assert.deepEqual(p.rows.map((r) => r[0]), fx.pairs.tukey.map((w) => w.contrast));
    p.rows.forEach((r, i) => {
      closeRel(r[1] as number, fx.pairs.tukey[i].estimate, 1e-4, `${factor} pair estimate`);
      closeRel(r[5] as number, fx.pairs.tukey[i]["p.value"], 1e-4, `${factor} Tukey p`, 1e-6);
    });
    const ch = info!.charts.find((c) => c.name === `LMM means ${factor}`)!;
    assert.ok(ch, `a means chart for ${factor}`);
    assert.equal(ch.title, `Estimated marginal means of yield by ${factor}`);
    assert.deepEqual(ch.axes, { x: factor, y: "yield (mean, 95 % CI)" });
    assert.equal(ch.xTickLabels, false, "the level positions are not numbered: each point carries its level's name");
    assert.equal(ch.legend, false);
    const levels = fx.emmeans.map((w) => w.levels[factor]);
    assert.deepEqual(ch.series.filter((_, k) => k % 2 === 0).map((x) => x.name), levels);
    levels.forEach((lev, i) => {
      const pt = ch.series[2 * i], bar = ch.series[2 * i + 1];
      assert.equal(pt.dataLabels?.showSeriesName, true);
      assert.deepEqual(cells(s, pt.x), [i + 1]);
      closeRel(cells(s, pt.y)[0] as number, fx.emmeans[i].estimate, 1e-4, `${lev} point`);
      assert.deepEqual(cells(s, bar.x), [i + 1, i + 1]);
      const [lo, hi] = cells(s, bar.y) as number[];
      closeRel(lo, fx.emmeans[i]["lower.CL"], 1e-4, `${lev} bar from lower.CL`);
      closeRel(hi, fx.emmeans[i]["upper.CL"], 1e-4, `${lev} bar to upper.CL`);
    });
    assert.deepEqual([ch.bounds.x.min, ch.bounds.x.max], [0.5, levels.length + 0.5]);
  }
  // the two charts do not overlap: each sits beside its own factor's tables
  const [a, b] = ["N", "Variety"].map((f) => Number(/\d+/.exec(info!.charts.find((c) => c.name === `LMM means ${f}`)!.position.from)![0]));
  assert.ok(b - a >= 18, `the Variety chart starts ${b - a} rows below the N chart`);
});

test("Kenward-Roger under More options flows to the t tests, the F tests and the means (pbkrtest, emmeans); with ML it is refused plainly", async () => {
  const { view, sheet } = await fitOnSheet("assets/examples/sitka.csv", "size ~ time*treat + (1|tree)", "time", { ddf: "kr" });
  assert.deepEqual([...view.errors.values()], []);
  const s = sheet!;
  checkAnova(s, anovaFx("sitka_ri").anova_kr["3"], "Kenward-Roger");
  const m = tableUnder(s, /^Estimated marginal means of treat at time = 202\.4 \(Kenward-Roger df, 95 % CI\)$/);
  checkMeans(m.rows, emmFx("sitka_treat").results["kenward-roger"].emmeans, (w) => [w.levels.treat]);
  const ml = await fitOnSheet("assets/examples/sitka.csv", "size ~ time*treat + (1|tree)", "time", { ddf: "kr", method: "ML" });
  assert.equal(ml.view.errors.get("fit"), KR_NEEDS_REML);
  assert.deepEqual(fake.sheetNames(), ["Sheet1"], "nothing is fitted or written");
});

test("no factor, no means: sleepstudy gets its Type III table only; a model with only an intercept gets neither", async () => {
  const { sheet, info } = await fitOnSheet("assets/examples/sleepstudy.csv", "Reaction ~ Days + (Days|Subject)", "Days");
  checkAnova(sheet!, anovaFx("sleep_slope").anova["3"], "Satterthwaite");
  assert.equal(sheet!.findIndex((r) => /^Estimated marginal means/.test(String(r[0]))), -1);
  assert.equal(info!.charts.filter((c) => /^LMM means/.test(c.name)).length, 0);
  const r = fitSummary(loadTable("assets/examples/sleepstudy.csv"), "Reaction ~ 1 + (1|Subject)", {}, {});
  assert.equal(r.anova, null);
  assert.deepEqual(r.means, []);
});

test("where means are drawn over a covariate: its occasions when few, else round values inside its range", () => {
  assert.deepEqual(roundGrid(0, 9), [0, 2, 4, 6, 8]);
  assert.deepEqual(roundGrid(152, 258), [160, 180, 200, 220, 240]);
  assert.deepEqual(roundGrid(0.013, 0.97), [0.2, 0.4, 0.6, 0.8]);
  for (const [lo, hi] of [[-3.7, 12.2], [1e-3, 2e-3], [1000, 1e6]]) {
    const g = roundGrid(lo, hi);
    assert.ok(g.length >= 3 && g.length <= 8 && g.every((x) => x >= lo && x <= hi), `${lo}..${hi}: ${g}`);
  }
  const t = loadTable("assets/examples/sleepstudy.csv");
  // sleepstudy's Days has 10 values: more than the seven drawn as they are
  const fit = { design: { rows: Array.from({ length: t.nrow }, (_, i) => i) } } as unknown as Parameters<typeof covariateValues>[0];
  assert.deepEqual(covariateValues(fit, t, "Days"), [0, 2, 4, 6, 8]);
});

test("invariance: permuting the rows changes no cell of the means section; shifting y shifts the means and no contrast", () => {
  const rows = csvRows("test/data/oats.csv");
  const spec = "yield ~ N*Variety + (1|Block/Variety)";
  const a = meansSection(fitSummary(tableFromRows(rows), spec, {}, {}).means, 10, "yield");
  const perm = [rows[0], ...rows.slice(1).map((r, i) => ({ r, k: (i * 37) % (rows.length - 1) })).sort((x, y) => x.k - y.k).map((x) => x.r)];
  const b = meansSection(fitSummary(tableFromRows(perm), spec, {}, {}).means, 10, "yield");
  const y = rows[0].indexOf("yield");
  const shifted = [rows[0], ...rows.slice(1).map((r) => r.map((v, j) => (j === y ? (v as number) + 1000 : v)))];
  const c = fitSummary(tableFromRows(shifted), spec, {}, {}).means;
  const a0 = fitSummary(tableFromRows(rows), spec, {}, {}).means;
  assert.equal(a.blocks.length, b.blocks.length);
  a.blocks.forEach((blk, i) => blk.values.forEach((row, r) => row.forEach((v, k) => {
    const w = b.blocks[i].values[r][k];
    if (typeof v === "number") closeAbs(w as number, v, 1e-6 * Math.max(1, Math.abs(v)), `cell ${i},${r},${k}`);
    else assert.equal(w, v);
  })));
  a0.forEach((m, i) => {
    m.means.emmeans.forEach((e, j) => closeAbs(c[i].means.emmeans[j].estimate, e.estimate! + 1000, 1e-6, "shifted mean"));
    m.means.contrasts.forEach((e, j) => {
      closeAbs(c[i].means.contrasts[j].estimate, e.estimate!, 1e-6, "contrast");
      closeRel(c[i].means.contrasts[j]["p.value"], e["p.value"]!, 1e-5, "p", 1e-9);
    });
  });
});

test("live formulas: =LMM.ANOVA beside the fit, and Kenward-Roger chosen in the pane reaches =LMM.FIT and =LMM.ANOVA", async () => {
  const { view } = await fitOnSheet("assets/examples/sitka.csv", "size ~ time*treat + (1|tree)", "time", { live: true, ddf: "kr" });
  assert.deepEqual([...view.errors.values()], []);
  const info = fake.sheetInfo("LMM 1") as unknown as { formulas: Record<string, string> };
  assert.deepEqual(Object.values(info.formulas), ["=LMM.FIT(Sheet1!$A$1:$D$396,$B$5,$B$6,\"kr\")", "=LMM.VARCOMP(Sheet1!$A$1:$D$396,$B$5,$B$6,$B$7)", "=LMM.ANOVA(Sheet1!$A$1:$D$396,$B$5,3,\"kr\",$B$6)"]);
  const s = fake.snapshot("LMM 1")!;
  assert.equal(s.findIndex((r) => /^Estimated marginal means/.test(String(r[0]))), -1, "the means are written as values only, not in the live sheet");
  assert.equal(fake.log.filter((e) => e.op === "OVERWRITE").length, 0);
});

test("a cell without data (Oats, one N x Variety cell missing): the mean is NA with emmeans's note, the chart leaves it out and says so", async () => {
  const { sheet, info } = await fitOnSheet("test/data/oats_missing_cell.csv", "yield ~ N*Variety + (1|Block/Variety)", null);
  const s = sheet!;
  const fx = emmFx("oats_missing_cell_N").results.satterthwaite;
  const m = tableUnder(s, /^Estimated marginal means of N \(Satterthwaite df, 95 % CI\)$/);
  checkMeans(m.rows, fx.emmeans.filter((w) => w.estimate !== null), (w) => [w.levels.N]);
  assert.deepEqual(m.rows.find((r) => r[0] === "N0.6")!.slice(1), ["NA", "", "", "", ""]);
  assert.ok(s.some((r) => /^Note \(N\): not estimable \(NA\): N0\.6/.test(String(r[0]))));
  const ch = info!.charts.find((c) => c.name === "LMM means N")!;
  assert.equal(ch.title, "Estimated marginal means of yield by N (not estimable: N0.6)");
  assert.deepEqual(ch.series.filter((_, k) => k % 2 === 0).map((x) => x.name), ["N0.0", "N0.2", "N0.4"]);
  assert.deepEqual([ch.bounds.x.min, ch.bounds.x.max], [0.5, 3.5]);
});

test("the summary job: defaults spelled out in its key, shared by identical requests, the fitted values packed as typed arrays", async () => {
  const { canonicalJob, jobKey } = await import("../../src/worker/client");
  const rows = csvRows("assets/examples/sitka.csv");
  const a = canonicalJob({ kind: "summary", rows, spec: " size ~ time*treat + (1|tree) ", options: { tests: {} } });
  const b = canonicalJob({ kind: "summary", rows, spec: "size ~ time*treat + (1|tree)", options: { method: "REML", level: 0.95, ci: "auto", ddf: "satterthwaite", tests: { anova: 3, means: true, covariate: null } } });
  assert.equal(jobKey(a), jobKey(b), "an omitted option and its default are one job");
  const kr = canonicalJob({ kind: "summary", rows, spec: "size ~ time*treat + (1|tree)", options: { ddf: "kr", tests: {} } });
  assert.notEqual(jobKey(kr), jobKey(a));
  assert.notEqual(jobKey(a), jobKey(canonicalJob({ kind: "fit", rows, spec: "size ~ time*treat + (1|tree)", options: {} })), "a summary is not a plain fit");
  const runner = new InProcessRunner();
  const client = new LmmClient(runner);
  const [r1, r2] = await Promise.all([client.summary(rows, "size ~ time*treat + (1|tree)", { tests: { covariate: "time" } }), client.summary(rows, "size ~ time*treat + (1|tree)", { tests: { covariate: "time" } })]);
  assert.equal(runner.calls, 1, "one job for two identical requests");
  assert.equal(r1, r2);
  assert.ok(r1.fitted && r1.fitted.conditional instanceof Float64Array, "fitted values as typed arrays, as from the worker");
  assert.equal(r1.anova!.rows.length, 3);
  assert.deepEqual(r1.means.map((m) => [m.factor, m.over?.covariate]), [["treat", "time"]]);
});

test("Kenward-Roger refused by the engine (too large to compute) is said beside Fit, pointing at the df choice", async () => {
  const { routeError } = await import("../../src/taskpane/controller");
  const r = routeError(Object.assign(new Error("Kenward-Roger would take too long here: the rows form one linked block of 90000 rows and 3000 random effects (crossed factors link them); use ddf satterthwaite"), { name: "DataError" }), "fit");
  assert.equal(r.field, "fit");
  assert.match(r.message, /^Kenward-Roger would take too long here.*\(the df choice is under Output options\)$/);
});
