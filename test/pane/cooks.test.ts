// Cook's distance by group on the Diagnostics sheet (src/taskpane/cooks.ts, cooks-io.ts): the
// plan's column chart and its table against the engine's group deletion, which is itself tested
// against lme4's influence(fit, groups =) (test/fixtures/influence.json): here the sheet's numbers
// are also checked against R's directly, to the 1e-4. Then the pane end to end in Node
// (controller, the real Office.js writer over the scripted workbook, the engine as the worker):
// the chart lands on the Diagnostics sheet with a title, axis titles and a value axis from 0 to
// above the largest distance, its bars sorted; a model with a residual structure gets the
// reason in the chart's place; a refusal for cost is said on the sheet.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as path from "node:path";
import { compareModels, fitModel, influenceModel, tableFromRows } from "../../src/engine";
import type { FitResultWithRows, LrtResult, Method } from "../../src/engine/types";
import type { InfluenceResult } from "../../src/engine/inference/influence";
import { diagnostics } from "../../src/engine/inference/diagnostics";
import { DiagnosticsPlan, diagnosticsPlan } from "../../src/taskpane/diagnostics";
import { MAX_BARS, addCooks, cooksInput } from "../../src/taskpane/cooks";
import { PaneController, PaneView } from "../../src/taskpane/controller";
import { ExcelWorkbook } from "../../src/taskpane/excel-io";
import type { FitData, FitRequest, Fitter } from "../../src/taskpane/ports";
import { tableFromCellColumns } from "../../src/engine/data/cell-columns";
import { emptyChoices } from "../../src/taskpane/spec-builder";
import { ROOT, closeRel, csvRows, loadTable, readJson } from "../helpers/fixtures";

// eslint-disable-next-line @typescript-eslint/no-var-requires
require(path.join(ROOT, "test", "pane", "fake-office.js"));
interface FakeChart { type: string; title: string; axes: { x: string; y: string }; bounds: { y: { min: number | null; max: number | null } }; series: { x: string; y: string; xSheet: string; ySheet: string; fill: string | null }[] }
const fake = (globalThis as unknown as { __fakeExcel: { seed(n: string, rows: unknown[][]): void; reset(): void; snapshot(n: string): unknown[][] | null; sheetInfo(n: string): { charts: FakeChart[] } | null; sheetNames(): string[] } }).__fakeExcel;

interface GroupFx { name: string; data: string; spec: string; method: Method; group: string; levels: string[]; cooks: number[] }
const FX = readJson<{ groups: GroupFx[] }>("test/fixtures/influence.json").groups;

/** Cells of a one-column range "T5:T22" on a sheet's snapshot. */
function cellsOf(range: string, rows: unknown[][]): unknown[] {
  const m = /^([A-Z]+)(\d+):([A-Z]+)(\d+)$/.exec(range.replace(/\$/g, "").split("!").pop()!)!;
  let c = 0;
  for (const ch of m[1]) c = c * 26 + ch.charCodeAt(0) - 64;
  const out: unknown[] = [];
  for (let r = Number(m[2]); r <= Number(m[4]); r++) out.push(rows[r - 1]?.[c - 1] ?? "");
  return out;
}

/** The plan's blocks drawn into a grid, as the sheet will hold them. */
function gridOf(blocks: { row: number; col: number; values: unknown[][] }[]): unknown[][] {
  const g: unknown[][] = [];
  for (const b of blocks) b.values.forEach((r, i) => r.forEach((v, j) => ((g[b.row + i] ??= [])[b.col + j] = v)));
  return g;
}

test("Cook's distance by Subject: a column chart, bars sorted from the largest, the numbers lme4's", () => {
  const fx = FX.find((f) => f.name === "sleepstudy_subject")!;
  const table = loadTable(fx.data);
  const fit = fitModel(table, fx.spec, { fitted: true, ci: "none" });
  const inf = influenceModel(table, fx.spec, { groups: [fx.group], rows: false });
  assert.deepEqual(inf.hat, [], "rows: false gives the deletions only");
  const plan = diagnosticsPlan(diagnostics(fit), "Reaction", fit.spec);
  const before = plan.charts.length;
  const said = addCooks(plan, { influence: inf });
  assert.equal(plan.charts.length, before + 1);
  const c = plan.charts[before];
  assert.equal(c.kind, "column");
  assert.equal(c.title, "Cook's distance by Subject: the fit without each Subject, largest first");
  assert.equal(c.xTitle, "Subject (sorted by Cook's distance)");
  assert.equal(c.yTitle, "Cook's distance");
  const grid = gridOf(plan.blocks);
  const labels = cellsOf(c.series[0].x, grid), values = cellsOf(c.series[0].y, grid) as number[];
  assert.equal(labels.length, 18);
  for (let i = 1; i < values.length; i++) assert.ok(values[i - 1] >= values[i], "sorted from the largest");
  labels.forEach((l, i) => {
    assert.equal(typeof l, "string", "labels as text: Excel's categories");
    const j = fx.levels.indexOf(String(l));
    assert.ok(j >= 0, `level ${String(l)}`);
    closeRel(values[i], fx.cooks[j], 1e-4, `Cook's distance without Subject ${String(l)} vs lme4`);
    closeRel(values[i], inf.groups.Subject.cooks[inf.groups.Subject.levels.indexOf(String(l))], 1e-12, "the engine's number, unrounded");
  });
  assert.equal(c.y.min, 0);
  assert.ok(c.y.max >= values[0] && c.y.max < 1.5 * values[0] + c.y.major, `value axis ${c.y.min}-${c.y.max} fits the largest ${values[0]}`);
  // full width, below the other charts, not over them
  const rowOf = (a: string) => Number(/\d+/.exec(a)![0]);
  assert.ok(plan.charts.slice(0, before).every((o) => rowOf(o.anchor.to) < rowOf(c.anchor.from)), "below the other charts");
  assert.match(c.anchor.from, /^A\d+$/);
  const largest = fx.levels[fx.cooks.indexOf(Math.max(...fx.cooks))];
  assert.equal(labels[0], largest, "the first bar is lme4's largest");
  assert.ok(said.startsWith(` Cook's distance by group: largest Subject ${largest} (`), `the status names the largest: ${said}`);
});

test("Cook's distance: past MAX_BARS groups the largest are drawn, the title says so; every group in the table", () => {
  const G = MAX_BARS + 20;
  const inf: InfluenceResult = {
    spec: "y ~ x + (1|g)", method: "REML", n: 0, rows: [], hat: [], cooks: [], fitted: [], residual: [], notes: [],
    groups: { g: { levels: Array.from({ length: G }, (_, i) => `g${i}`), cooks: Array.from({ length: G }, (_, i) => (i === 7 ? NaN : (i * 37) % G / G)), terms: ["(Intercept)", "x"], dfbeta: [], sigma: [], converged: Array.from({ length: G }, () => true) } },
  };
  const plan: DiagnosticsPlan = { blocks: [], charts: [], notes: [], next: { col: 19, chart: 0 } };
  addCooks(plan, { influence: inf });
  const c = plan.charts[0] as { title: string; series: { x: string; y: string }[] };
  assert.equal(c.title, `Cook's distance by g: the fit without each g, largest first (the ${MAX_BARS} largest of ${G})`);
  const grid = gridOf(plan.blocks);
  assert.equal(cellsOf(c.series[0].y, grid).length, MAX_BARS);
  const col = grid.map((r) => r?.[19]).filter((v) => v !== undefined);
  assert.equal(col.length, 1 + 1 + G, "title, header and every level");
  assert.equal(grid[4 + G - 1][20], "", "the level without a Cook's distance last, blank");
  assert.match(plan.notes.join(" "), /1 g level has no Cook's distance/);
});

test("Cook's distance not computed: the reason in the chart's place, said plainly", () => {
  const plan: DiagnosticsPlan = { blocks: [], charts: [], notes: [], next: { col: 25, chart: 4 } };
  const said = addCooks(plan, { skipped: "influence (leverages, Cook's distances, group deletion) is defined for models without a residual structure (as lme4's): fit 'y ~ x + (1|g)' for these diagnostics" });
  assert.equal(plan.charts.length, 0);
  const text = plan.blocks.map((b) => String(b.values[0][0]));
  assert.deepEqual(text[0], "Cook's distance by group: not computed.");
  assert.match(text[1], /^Influence \(leverages, Cook's distances, group deletion\) is defined for models without a residual structure/);
  assert.equal(plan.blocks[0].col, 0, "where the chart would be, at the left");
  assert.match(said, /^ Cook's distance by group skipped: influence/);
  // A refusal for cost: the engine's note on the sheet, and in the status.
  const refused: InfluenceResult = { spec: "", method: "REML", n: 0, rows: [], hat: [], cooks: [], fitted: [], residual: [], groups: {}, notes: ["per-group influence for 'g' was skipped: deleting each of its 50000 levels means 50000 refits of about 292 ms each, about 14620 s in all (the limit is 60 s); the leverages and per-observation Cook's distances are still given"] };
  const p2: DiagnosticsPlan = { blocks: [], charts: [], notes: [], next: { col: 25, chart: 4 } };
  const s2 = addCooks(p2, { influence: refused });
  assert.match(String(p2.blocks[0].values[0][0]), /not computed/);
  assert.match(String(p2.blocks[1].values[0][0]), /^Per-group influence for 'g' was skipped: deleting each of its 50000 levels means 50000 refits/);
  assert.match(s2, /Cook's distance by group skipped: 'g' was skipped: deleting each of its 50000 levels/);
});

const tableOf = (d: FitData) => (Array.isArray(d) ? tableFromRows(d) : tableFromCellColumns(d.cells));

/** The engine on this thread, with group deletion as the worker runs it. */
class EngineFitter implements Fitter {
  async fit(data: FitData, spec: string, opts: FitRequest): Promise<FitResultWithRows> {
    return fitModel(tableOf(data), spec, opts);
  }
  async lrt(data: FitData, specs: string[], opts: { method: Method }): Promise<LrtResult> {
    return compareModels(tableOf(data), specs, opts);
  }
  async influence(data: FitData, spec: string, opts: { method: Method; groups?: string[] }): Promise<InfluenceResult> {
    return influenceModel(tableOf(data), spec, { ...opts, rows: false });
  }
  cancel() {}
}

function view(spec: string): PaneView & { status: string } {
  const v = {
    status: "",
    source: () => ({ kind: "selection" as const }),
    choices: () => ({ ...emptyChoices(), response: "size", groups: ["tree"], time: "time" }),
    specText: () => spec,
    options: () => ({ method: "REML" as const, level: 0.95, ci: "none" as const, live: false, chart: false, chartFactor: null, diagnostics: true }),
    pickedModels: () => [],
    setStatus(t: string) { v.status = t; },
  };
  const noop = () => undefined;
  return new Proxy(v, { get: (t, k) => (k in t ? (t as Record<string | symbol, unknown>)[k] : noop) }) as unknown as PaneView & { status: string };
}

test("the pane writes Cook's distance by tree on the Diagnostics sheet, with the engine's numbers", async () => {
  const fx = FX.find((f) => f.name === "sitka_tree")!;
  fake.reset();
  fake.seed("Sheet1", csvRows("assets/examples/sitka.csv"));
  const v = view(fx.spec);
  const pane = new PaneController(v, new ExcelWorkbook(), new EngineFitter(), { copy: async () => "clipboard" });
  await pane.useData();
  await pane.fit();
  assert.match(v.status, /Diagnostics \(residual, QQ, caterpillar and Cook's distance charts\) on 'Diagnostics 1'\. Cook's distance by group: largest tree \d+ \(/);
  const info = fake.sheetInfo("Diagnostics 1")!;
  const bar = info.charts.find((c) => c.type === "ColumnClustered")!;
  assert.ok(bar, "a native column chart");
  assert.equal(bar.title, "Cook's distance by tree: the fit without each tree, largest first");
  assert.deepEqual(bar.axes, { x: "tree (sorted by Cook's distance)", y: "Cook's distance" });
  assert.equal(bar.series[0].xSheet, "Diagnostics 1");
  assert.ok(bar.series[0].fill, "the bars' colour is set");
  const cells = fake.snapshot("Diagnostics 1")!;
  const labels = cellsOf(bar.series[0].x, cells), values = cellsOf(bar.series[0].y, cells) as number[];
  assert.equal(labels.length, 79);
  assert.equal(bar.bounds.y.min, 0);
  assert.ok(bar.bounds.y.max! >= values[0]);
  labels.forEach((l, i) => closeRel(values[i], fx.cooks[fx.levels.indexOf(String(l))], 1e-4, `tree ${String(l)} vs lme4`));
});

test("the pane: a model with a residual structure gets its Diagnostics sheet, and the reason there is no Cook's chart", async () => {
  fake.reset();
  fake.seed("Sheet1", csvRows("assets/examples/sitka.csv"));
  const v = view("size ~ time + (1|tree) ; AR1(time | tree)");
  const pane = new PaneController(v, new ExcelWorkbook(), new EngineFitter(), { copy: async () => "clipboard" });
  await pane.useData();
  await pane.fit();
  assert.match(v.status, /Diagnostics \(residual, QQ and caterpillar charts\) on 'Diagnostics 1'\. Cook's distance by group skipped: influence .* is defined for models without a residual structure/);
  const cells = fake.snapshot("Diagnostics 1")!;
  const flat = cells.flat().map(String);
  assert.ok(flat.includes("Cook's distance by group: not computed."));
  assert.ok(flat.some((s) => /^Influence .* without a residual structure/.test(s)));
  assert.equal(fake.sheetInfo("Diagnostics 1")!.charts.filter((c) => c.type === "ColumnClustered").length, 0);
});

test("cooksInput: no random effects, no worker support: said, not thrown", async () => {
  const fit = fitModel(loadTable("test/data/sleepstudy.csv"), "Reaction ~ Days", { ci: "none" });
  const r = await cooksInput(new EngineFitter(), [["a"], [1]], fit as FitResultWithRows, "Reaction ~ Days");
  assert.deepEqual(r, { skipped: "the model has no random effects, so there are no groups to delete" });
  const fit2 = fitModel(loadTable("test/data/sleepstudy.csv"), "Reaction ~ Days + (1|Subject)", { ci: "none" });
  const plain: Fitter = { fit: async () => fit2, lrt: async () => { throw new Error(); }, cancel() {} };
  assert.match(JSON.stringify(await cooksInput(plain, [["a"], [1]], fit2, "x")), /cannot refit/);
});
