// The lecture's shrinkage chart (src/taskpane/shrinkage.ts): which models it is offered for and
// the fixed-effects-only spec it derives; its chart data against R (lm's fitted values of
// size ~ factor(tree) + time and lme4's of size ~ time + (1|tree), test/fixtures/shrinkage.json,
// 1e-6 relative); the chart as a person reads it (a colour per group shared by its dashed and
// solid line, three legend entries, axes from the data); through the pane on the scripted
// workbook, a new sheet that never overwrites one; and the two =LMM.FITTED formulas the sheet
// names rebuild its columns.
import "../addin/shim";
import { test } from "node:test";
import assert from "node:assert/strict";
import * as path from "node:path";
import { compareModels, fitModel, parseSpec, tableFromRows } from "../../src/engine";
import type { FitResultWithRows, LrtResult, Method } from "../../src/engine/types";
import { GROUP_COLORS, MAX_GROUPS, shrinkageModels, shrinkagePlan } from "../../src/taskpane/shrinkage";
import type { DiagnosticsPlan } from "../../src/taskpane/diagnostics";
import { PaneController, PaneView } from "../../src/taskpane/controller";
import { ExcelWorkbook } from "../../src/taskpane/excel-io";
import type { FitData, FitRequest, Fitter } from "../../src/taskpane/ports";
import { tableFromCellColumns } from "../../src/engine/data/cell-columns";
import { emptyChoices } from "../../src/taskpane/spec-builder";
import { fitted } from "../../src/functions/functions";
import { invocation } from "../addin/shim";
import { ROOT, closeRel, csvRows, loadTable, readJson } from "../helpers/fixtures";

// eslint-disable-next-line @typescript-eslint/no-var-requires
require(path.join(ROOT, "test", "pane", "fake-office.js"));
interface FakeSeries { name: string; x: string; y: string; xSheet: string; line: { color?: string; lineStyle?: string }; marker: { style?: string; color?: string } | null }
interface FakeChart { type: string; title: string; legend: boolean; legendShown: number[]; axes: { x: string; y: string }; bounds: { x: { min: number; max: number }; y: { min: number; max: number } }; series: FakeSeries[]; position: { from: string; to: string } }
const fake = (globalThis as unknown as { __fakeExcel: { seed(n: string, rows: unknown[][]): void; reset(): void; snapshot(n: string): unknown[][] | null; sheetInfo(n: string): { charts: FakeChart[] } | null; sheetNames(): string[]; log: { op: string }[] } }).__fakeExcel;

interface Fx { name: string; fixed_spec: string; mixed_spec: string; fixed: number[]; mixed: number[]; marginal: number[] }
const FX = readJson<Fx[]>("test/fixtures/shrinkage.json");
const SITKA = "assets/examples/sitka.csv";

test("shrinkage: offered for one random intercept and a time covariate; the fixed-effects-only spec", () => {
  const m = (s: string, time: string | null = "time") => shrinkageModels(parseSpec(s), s, time);
  assert.deepEqual(m("size ~ time + (1|tree)"), { response: "size", group: "tree", time: "time", fixedSpec: "size ~ factor(tree) + time", mixedSpec: "size ~ time + (1|tree)" });
  assert.equal((m("size ~ time*treat + (1|tree)") as { fixedSpec: string }).fixedSpec, "size ~ factor(tree) + time + treat + time:treat");
  assert.equal((m("log(size) ~ time + (1|tree)") as { fixedSpec: string }).fixedSpec, "log(size) ~ factor(tree) + time");
  for (const [s, why] of [
    ["size ~ time + (time|tree)", /one random intercept \(1\|group\).*this model has the random effects \(1 \+ time \| tree\)/],
    ["size ~ time + (1|tree) + (1|treat)", /this model has the random effects/],
    ["size ~ time ; AR1(time | tree)", /no random effects/],
    ["size ~ time + (1|tree) ; AR1(time | tree)", /without a residual structure/],
    ["size ~ treat + (1|tree)", /choose the time column in the model \('time' is not a fixed effect/],
  ] as const) assert.match((m(s) as { why: string }).why, why, s);
  assert.match((m("size ~ time + (1|tree)", null) as { why: string }).why, /choose the time column/);
});

/** The plan's cells as a grid. */
function gridOf(plan: DiagnosticsPlan): unknown[][] {
  const g: unknown[][] = [];
  for (const b of plan.blocks) b.values.forEach((r, i) => r.forEach((v, j) => ((g[b.row + i] ??= [])[b.col + j] = v)));
  return g;
}

/** A one-column range of a grid ("L6:L10"). */
function cellsOf(range: string, g: unknown[][]): unknown[] {
  const m = /^([A-Z]+)(\d+)(?::([A-Z]+)(\d+))?$/.exec(range.replace(/\$/g, "").split("!").pop()!)!;
  let c = 0;
  for (const ch of m[1]) c = c * 26 + ch.charCodeAt(0) - 64;
  const out: unknown[] = [];
  for (let r = Number(m[2]); r <= Number(m[4] ?? m[2]); r++) out.push(g[r - 1]?.[c - 1] ?? "");
  return out;
}

for (const fx of FX) {
  test(`shrinkage plan: the chart data are R's fitted values, the chart reads at a glance (${fx.name})`, () => {
    const table = loadTable(SITKA);
    const rows = csvRows(SITKA);
    const mixed = fitModel(table, fx.mixed_spec, { fitted: true, ci: "none" });
    const fixed = fitModel(table, fx.fixed_spec, { fitted: true, ci: "none" });
    const models = shrinkageModels(parseSpec(fx.mixed_spec), fx.mixed_spec, "time");
    assert.ok(!("why" in models));
    assert.equal(models.fixedSpec, fx.fixed_spec);
    const f = mixed.fitted!, g = fixed.fitted!;
    const plan = shrinkagePlan(
      { group: Array.from(f.rows, (r) => String(rows[r + 1][2])), time: Array.from(f.rows, (r) => rows[r + 1][1] as number), y: Array.from(f.rows, (r) => rows[r + 1][0] as number), fixed: g.conditional, mixed: f.conditional, marginal: f.marginal },
      { models, dataRef: "Sheet1!$A$1:$D$396", notes: [] },
    );
    const grid = gridOf(plan);
    const [chart] = plan.charts;
    // 8 trees x (points, dashed, solid) + the population line + the two legend entries
    assert.equal(chart.series.length, 3 * MAX_GROUPS + 3);
    assert.equal(chart.title, `size over time: fixed tree effects (dashed) vs random intercepts (solid), ${MAX_GROUPS} of 79 trees`);
    assert.deepEqual([chart.xTitle, chart.yTitle], ["time", "size"]);
    assert.deepEqual(chart.legendEntries!.map((k) => chart.series[k].name), ["population line (X beta)", "fixed tree effects (factor(tree))", "random intercept (1|tree)"]);
    assert.equal(chart.series[chart.series.length - 2].dash, "Dash");
    assert.equal(chart.series[chart.series.length - 1].dash, "Continuous");
    const colours = new Set<string>();
    const drawnAt: number[] = [];
    for (let k = 0; k < MAX_GROUPS; k++) {
      const [pts, dashed, solid] = chart.series.slice(1 + 3 * k, 4 + 3 * k);
      assert.equal(dashed.color, solid.color, "a group's two lines share a colour");
      assert.equal(dashed.color, GROUP_COLORS[k]);
      assert.deepEqual([dashed.dash, solid.dash, pts.markers, pts.line], ["Dash", "Continuous", true, false]);
      colours.add(solid.color);
      // The numbers: R's fitted values of the rows of this tree.
      const trees = cellsOf(pts.x.replace(/^[A-Z]+/, "L"), grid).map(String);
      const times = cellsOf(pts.x, grid) as number[], ys = cellsOf(pts.y, grid) as number[];
      const fixedFit = cellsOf(dashed.y, grid) as number[], mixedFit = cellsOf(solid.y, grid) as number[];
      assert.equal(new Set(trees).size, 1, "one tree per series");
      for (let i = 1; i < times.length; i++) assert.ok(times[i] > times[i - 1], "sorted by time");
      times.forEach((t, i) => {
        const r = rows.findIndex((row, j) => j > 0 && String(row[2]) === trees[0] && row[1] === t) - 1;
        assert.equal(ys[i], rows[r + 1][0]);
        closeRel(fixedFit[i], fx.fixed[r], 1e-6, `lm fitted, tree ${trees[0]} at ${t}`);
        closeRel(mixedFit[i], fx.mixed[r], 1e-6, `lmer fitted, tree ${trees[0]} at ${t}`);
        drawnAt.push(r);
      });
      for (const v of [...ys, ...fixedFit, ...mixedFit]) assert.ok(v >= chart.y.min && v <= chart.y.max, "inside the y axis");
      for (const t of times) assert.ok(t >= chart.x.min && t <= chart.x.max, "inside the x axis");
    }
    assert.equal(colours.size, MAX_GROUPS, "a colour per group");
    // The extremes are drawn: the lowest and the highest fixed-effects-only lines.
    const dev = (r: number) => fx.fixed[r] - fx.marginal[r];
    const all = fx.fixed.map((_, r) => dev(r));
    assert.ok(Math.abs(Math.min(...drawnAt.map(dev)) - Math.min(...all)) < 1e-6 && Math.abs(Math.max(...drawnAt.map(dev)) - Math.max(...all)) < 1e-6, "the lowest and highest trees drawn");
    // The axis hugs the data: no wide empty band (the y span at most 1.5 x the data's).
    const drawnY = drawnAt.flatMap((r) => [fx.fixed[r], fx.mixed[r], rows[r + 1][0] as number]);
    assert.ok(chart.y.max - chart.y.min <= 1.5 * (Math.max(...drawnY) - Math.min(...drawnY)));
    // The sheet says how to rebuild the two columns.
    const text = plan.blocks.map((b) => String(b.values[0][0])).join("\n");
    assert.ok(text.includes(`=LMM.FITTED(Sheet1!$A$1:$D$396, "${fx.fixed_spec}") and =LMM.FITTED(Sheet1!$A$1:$D$396, "${fx.mixed_spec}")`));
    if (fx.name === "sitka_treat") assert.ok(plan.notes.length >= 1);
  });
}

const tableOf = (d: FitData) => (Array.isArray(d) ? tableFromRows(d) : tableFromCellColumns(d.cells));
class EngineFitter implements Fitter {
  specs: string[] = [];
  async fit(data: FitData, spec: string, opts: FitRequest): Promise<FitResultWithRows> {
    this.specs.push(spec);
    return fitModel(tableOf(data), spec, opts);
  }
  async lrt(data: FitData, specs: string[], opts: { method: Method }): Promise<LrtResult> {
    return compareModels(tableOf(data), specs, opts);
  }
  cancel() {}
}

function view(spec: string, time: string | null = "time"): PaneView & { status: string } {
  const v = {
    status: "",
    source: () => ({ kind: "selection" as const }),
    choices: () => ({ ...emptyChoices(), response: "size", groups: ["tree"], time }),
    specText: () => spec,
    options: () => ({ method: "REML" as const, level: 0.95, ci: "none" as const, live: false, chart: false, chartFactor: null, shrinkage: true }),
    pickedModels: () => [],
    setStatus(t: string) { v.status = t; },
    setError(_f: string, m: string | null) { if (m) v.status += ` [error: ${m}]`; },
  };
  const noop = () => undefined;
  return new Proxy(v, { get: (t, k) => (k in t ? (t as Record<string | symbol, unknown>)[k] : noop) }) as unknown as PaneView & { status: string };
}

test("the pane writes the shrinkage chart on a new sheet; the two =LMM.FITTED formulas rebuild its columns", async () => {
  fake.reset();
  const data = csvRows(SITKA);
  fake.seed("Shrinkage 1", [["the user's own sheet"]]);
  fake.seed("Sheet1", data);
  const v = view("size ~ time + (1|tree)");
  const fitter = new EngineFitter();
  const pane = new PaneController(v, new ExcelWorkbook(), fitter, { copy: async () => "clipboard" });
  await pane.useData();
  await pane.fit();
  assert.match(v.status, /Shrinkage chart \(size ~ factor\(tree\) \+ time vs size ~ time \+ \(1\|tree\)\) on 'Shrinkage 2'\./);
  assert.deepEqual(fitter.specs, ["size ~ time + (1|tree)", "size ~ factor(tree) + time"], "the fixed-effects-only model fitted in the worker");
  assert.deepEqual(fake.snapshot("Shrinkage 1"), [["the user's own sheet"]], "an existing sheet is never written to");
  assert.deepEqual(fake.snapshot("Sheet1"), data);
  assert.equal(fake.log.filter((e) => e.op === "OVERWRITE").length, 0);
  const [chart] = fake.sheetInfo("Shrinkage 2")!.charts;
  assert.equal(chart.series.length, 3 * MAX_GROUPS + 3);
  assert.equal(chart.legend, true);
  assert.deepEqual(chart.legendShown.map((k) => chart.series[k].name), ["population line (X beta)", "fixed tree effects (factor(tree))", "random intercept (1|tree)"]);
  assert.deepEqual([chart.axes.x, chart.axes.y], ["time", "size"]);
  assert.ok(chart.bounds.y.min > 0, "the size axis from the data, not from 0");
  const cells = fake.snapshot("Shrinkage 2")!;
  // =LMM.FITTED of the two specs, as the sheet names them, equal the chart's columns.
  const fixedCol = await fitted(data, "size ~ factor(tree) + time", null, null, invocation());
  const mixedCol = await fitted(data, "size ~ time + (1|tree)", null, null, invocation());
  const val = (c: unknown) => (typeof c === "number" ? c : (c as { basicValue: number }).basicValue);
  const s = chart.series[1 + 1], m = chart.series[1 + 2];
  const times = cellsOf(s.x, cells) as number[], fx = cellsOf(s.y, cells) as number[], mx = cellsOf(m.y, cells) as number[];
  const tree = String(cellsOf(s.x.split("!").pop()!.replace(/^[A-Z]+/, "L"), cells)[0]);
  times.forEach((t, i) => {
    const r = data.findIndex((row, j) => j > 0 && String(row[2]) === tree && row[1] === t);
    assert.equal(val(fixedCol[r][0]), fx[i], `=LMM.FITTED fixed-effects-only, tree ${tree} at ${t}`);
    assert.equal(val(mixedCol[r][0]), mx[i], `=LMM.FITTED random intercept, tree ${tree} at ${t}`);
  });
  // A model the chart does not fit: said, and nothing written.
  const v2 = view("size ~ time + (time|tree)");
  const pane2 = new PaneController(v2, new ExcelWorkbook(), new EngineFitter(), { copy: async () => "clipboard" });
  await pane2.useData();
  const before = fake.sheetNames().length;
  await pane2.fit();
  assert.match(v2.status, /No shrinkage chart: the shrinkage chart needs a model with one random intercept \(1\|group\)/);
  assert.equal(fake.sheetNames().length, before + 2, "only the fit's two sheets");
});
