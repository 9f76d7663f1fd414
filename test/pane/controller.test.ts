// The pane's behaviour end to end in Node: the controller with a recording view, the real
// Office.js writer over the scripted workbook (fake-office.js), and the engine as the fitter.
// Fit the lecture's model, write it, compare the lecture's two ML fits (anova(m1, mm1)), route
// errors to the control that caused them, cancel, and copy the R code.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as path from "node:path";
import { compareModels, fitModel, tableFromRows } from "../../src/engine";
import type { FitResultWithRows, LrtResult, Method } from "../../src/engine/types";
import { Field, PaneController, PaneOptions, PaneView, Task, routeError } from "../../src/taskpane/controller";
import { ExcelWorkbook } from "../../src/taskpane/excel-io";
import type { ClipboardPort, DataSource, FitData, FitRequest, Fitter } from "../../src/taskpane/ports";
import { tableFromCellColumns } from "../../src/engine/data/cell-columns";
import { BuildError, ColumnInfo, ModelChoices, emptyChoices } from "../../src/taskpane/spec-builder";
import type { SavedModel } from "../../src/taskpane/store";
import { ClientFitter } from "../../src/taskpane/worker-fitter";
import { ROOT, closeAbs, csvRows, readJson, EngineFx } from "../helpers/fixtures";

// eslint-disable-next-line @typescript-eslint/no-var-requires
require(path.join(ROOT, "test", "pane", "fake-office.js"));
interface FakeExcel {
  seed(name: string, rows: unknown[][], at?: string): unknown;
  reset(): void;
  log: { op: string; sheet?: string }[];
  snapshot(name: string): unknown[][] | null;
  sheetInfo(name: string): { formulas: Record<string, string>; charts: { series: unknown[]; title: string }[]; tables: unknown[] } | null;
  sheetNames(): string[];
  workbook: { settingsMap: Map<string, unknown> };
}
const fake = (globalThis as unknown as { __fakeExcel: FakeExcel }).__fakeExcel;

class RecordingView implements PaneView {
  src: DataSource = { kind: "selection" };
  c: ModelChoices = emptyChoices();
  spec = "";
  opts: PaneOptions = { method: "REML", level: 0.95, ci: "wald", live: false, chart: true, chartFactor: null };
  picked: string[] = [];
  errors = new Map<Field, { message: string; span?: { start: number; end: number } }>();
  status = "";
  statusKind = "";
  progress: string[] = [];
  busy: (Task | null)[] = [];
  notes: string[] = [];
  models: SavedModel[] = [];
  rcode = "";
  tables: string[] = [];
  cols: ColumnInfo[] = [];
  info = "";
  specState = "";

  source() { return this.src; }
  choices() { return this.c; }
  specText() { return this.spec; }
  options() { return this.opts; }
  pickedModels() { return this.picked; }
  setTables(n: string[]) { this.tables = n; }
  setColumns(c: ColumnInfo[]) { this.cols = c; }
  setDataInfo(t: string) { this.info = t; }
  setChoices(c: ModelChoices) { this.c = c; }
  setChartFactor(n: string | null) { this.opts = { ...this.opts, chartFactor: n }; }
  setSpecText(t: string) { this.spec = t; }
  setSpecState(s: "built" | "synced" | "custom") { this.specState = s; }
  restore: string | null = null;
  setRestore(t: string | null) { this.restore = t; }
  setError(f: Field, m: string | null, span?: { start: number; end: number }) {
    if (m) this.errors.set(f, { message: m, span });
    else this.errors.delete(f);
  }
  setBusy(t: Task | null) { this.busy.push(t); }
  setProgress(l: string | null) { if (l) this.progress.push(l); }
  compareStatus = "";
  warnings = new Map<string, string>();
  results: FitResultWithRows | null = null;
  setStatus(t: string, k = "info", where: "fit" | "compare" = "fit") {
    if (where === "compare") this.compareStatus = t;
    else (this.status = t), (this.statusKind = k);
  }
  setWarning(f: "fixed", m: string | null) {
    if (m) this.warnings.set(f, m);
    else this.warnings.delete(f);
  }
  showResults(r: FitResultWithRows | null) { this.results = r; }
  setNotes(l: string[]) { this.notes = l; }
  setModels(m: SavedModel[]) { this.models = m; }
  showRCode(c: string | null) { this.rcode = c ?? ""; }
}

const tableOf = (d: FitData) => (Array.isArray(d) ? tableFromRows(d) : tableFromCellColumns(d.cells));

/** The engine on this thread (the add-in uses the Web Worker client; see ClientFitter below). */
class EngineFitter implements Fitter {
  calls = 0;
  async fit(data: FitData, spec: string, opts: FitRequest): Promise<FitResultWithRows> {
    this.calls++;
    return fitModel(tableOf(data), spec, opts);
  }
  async lrt(data: FitData, specs: string[], opts: { method: Method }): Promise<LrtResult> {
    return compareModels(tableOf(data), specs, opts);
  }
  cancel() {}
}

const clipboard: ClipboardPort & { copied: string[] } = { copied: [], copy: async (t: string) => (clipboard.copied.push(t), "clipboard") };

function setup(fitter: Fitter = new EngineFitter()) {
  fake.reset();
  fake.seed("Sheet1", csvRows("assets/examples/sitka.csv"));
  const view = new RecordingView();
  const pane = new PaneController(view, new ExcelWorkbook(), fitter, clipboard);
  return { view, pane };
}

test("read, build, fit, write: the lecture's model lands on new sheets with lme4's numbers", async () => {
  const { view, pane } = setup();
  await pane.start();
  await pane.useData();
  assert.match(view.info, /^Sheet1!A1:D396: 395 rows, columns size, time, tree, treat$/);
  assert.equal(view.spec, "size ~ time + treat + (1|tree)", "a first guess from the columns");
  assert.equal(view.opts.chartFactor, "treat", "population lines per treatment");
  view.c = { ...view.c, interaction: true };
  pane.rebuildSpec();
  assert.equal(view.spec, "size ~ time*treat + (1|tree)");
  await pane.fit();
  assert.deepEqual([...view.errors.keys()], []);
  assert.match(view.status, /^Fitted by REML in \d+\.\d s: logLik -81\.7585, AIC 175\.52, BIC 199\.33; converged\. Written to 'LMM 1' and 'LMM 1 data'\.$/, "the subset drawn is said in the chart's title, not here");
  assert.deepEqual(view.busy, ["read", null, "fit", "write", null]);
  assert.deepEqual(fake.sheetNames(), ["Sheet1", "LMM 1", "LMM 1 data"]);
  assert.equal(fake.log.filter((e) => e.op === "OVERWRITE").length, 0, "no write onto the user's sheet or onto a filled cell");
  const order = fake.log.map((e) => `${e.op} ${e.sheet ?? ""}`);
  assert.ok(order.indexOf("activate LMM 1") >= 0 && order.indexOf("activate LMM 1") < order.indexOf("values LMM 1 data"), "the estimates are shown before the detail sheet is written");
  const want = readJson<EngineFx[]>("test/fixtures/engine.json").find((f) => f.name === "sitka_ri_reml")!;
  const s = fake.snapshot("LMM 1")!;
  closeAbs(s.find((r) => r[0] === "logLik (REML)")![1] as number, want.logLik, 1e-4, "logLik");
  for (const fx of want.fixef) closeAbs(s.find((r) => r[0] === fx.term)![1] as number, fx.estimate, 1e-4 * fx.se, fx.term);
  const info = fake.sheetInfo("LMM 1")!;
  assert.equal(info.charts.length, 1);
  assert.equal(info.charts[0].series.length, 62);
  assert.equal(fake.sheetInfo("LMM 1 data")!.tables.length, 2);
  // the model is listed and saved with the workbook
  assert.equal(view.models.length, 1);
  assert.equal(view.models[0].sheet, "LMM 1");
  assert.match(String(fake.workbook.settingsMap.get("lmm.models.v1")), /size ~ time\*treat/);
  // a second fit never touches the first one's sheets
  await pane.fit();
  assert.deepEqual(fake.sheetNames(), ["Sheet1", "LMM 1", "LMM 1 data", "LMM 2", "LMM 2 data"]);
  assert.equal(fake.log.filter((e) => e.op === "OVERWRITE").length, 0);
  assert.equal(view.models.length, 2, "a refit of the same spec is kept beside the earlier one (each names its sheet)");
  assert.deepEqual(view.models.map((m) => m.sheet), ["LMM 1", "LMM 2"]);
  // without a time column there is no spaghetti plot, and the status says why
  view.c = { ...view.c, time: null };
  view.spec = "size ~ treat + (1|tree)";
  await pane.fit();
  assert.match(view.status, /Written to 'LMM 3' and 'LMM 3 data'\. No chart: the spaghetti plot needs a time column and a grouping column/);
  // a new pane on the same workbook finds the saved models
  const view2 = new RecordingView();
  await new PaneController(view2, new ExcelWorkbook(), new EngineFitter(), clipboard).start();
  assert.deepEqual(view2.models.map((m) => m.spec), ["size ~ time*treat + (1|tree)", "size ~ time*treat + (1|tree)", "size ~ treat + (1|tree)"]);
});

test("compare: the lecture's anova(m1, mm1) by ML, written as =LMM.LRT on a new sheet", async () => {
  const { view, pane } = setup();
  await pane.useData();
  view.opts = { ...view.opts, method: "ML", chart: false };
  for (const spec of ["size ~ time*treat + (1|tree)", "size ~ time + (1|tree)"]) {
    view.spec = spec;
    await pane.fit();
    assert.deepEqual([...view.errors.keys()], []);
  }
  view.picked = [];
  await pane.compare();
  assert.match(view.errors.get("compare")!.message, /tick two or more/i);
  view.picked = view.models.map((m) => m.id);
  await pane.compare();
  assert.deepEqual([...view.errors.keys()], []);
  // lecture: L.Ratio 16.45623, p = 3e-04 (models ordered simplest first)
  // the result is said in the Compare card, not beside Fit
  assert.match(view.compareStatus, /^Likelihood-ratio test written to 'LMM compare 1' \(=LMM\.LRT\): 1 vs 2: L\.Ratio 16\.46, df 2, p 0\.0003/);
  assert.doesNotMatch(view.status, /Likelihood-ratio/);
  const f = Object.values(fake.sheetInfo("LMM compare 1")!.formulas);
  assert.deepEqual(f, ["=LMM.LRT(Sheet1!$A$1:$D$396,$B$9:$B$10,$B$5)"]);
  const sheet = fake.snapshot("LMM compare 1")!;
  assert.deepEqual([sheet[8][1], sheet[9][1]], ["size ~ time + (1|tree)", "size ~ time*treat + (1|tree)"]);
  assert.equal(sheet[4][1], "ML");
});

test("errors appear next to the control that caused them", async () => {
  const { view, pane } = setup();
  await pane.fit();
  // Fit before the data: said beside the Fit button, where the user is looking
  assert.match(view.errors.get("fit")!.message, /Choose the data first/);
  assert.equal(view.errors.has("source"), false);
  await pane.useData();
  assert.equal(view.errors.has("fit"), false, "gone once the data are read");
  view.spec = "size ~ time + (1|tree";
  await pane.fit();
  assert.match(view.status, /^Not fitted: see the message under Model spec/, "the status beside Fit points to the message");
  const e = view.errors.get("spec")!;
  assert.match(e.message, /^Missing '\)'/);
  assert.deepEqual(e.span, { start: 21, end: 22 });
  view.spec = "size ~ tme + (1|tree)";
  await pane.fit();
  assert.match(view.errors.get("spec")!.message, /No column named 'tme' in the data; the columns are: size, time, tree, treat/);
  view.spec = "treat ~ time + (1|tree)";
  await pane.fit();
  assert.match(view.errors.get("spec")!.message, /The response 'treat' has text/);
  assert.doesNotMatch(view.status, /Fitting/, "a failed fit does not stay 'Fitting…'");
  assert.equal(fake.sheetNames().length, 1, "failed fits write nothing");
  // the builder names the control
  view.c = { ...view.c, time: null, residual: "AR1" };
  pane.rebuildSpec();
  assert.match(view.errors.get("time")!.message, /AR1 needs a time column/);
  assert.deepEqual(routeError(new BuildError("varIdent", "x"), "fit").field, "varIdent");
  // the region around an empty cell far from the data
  (fake as unknown as { select(s: string, a: string): void }).select("Sheet1", "H20");
  view.src = { kind: "region" };
  await pane.useData();
  assert.match(view.errors.get("source")!.message, /^There are no data around Sheet1!H20: click a cell inside the data/);
  view.src = { kind: "selection" };
  // a range without a header row is refused at Use data, under the data picker
  fake.seed("NoHeader", [[1, 2], [3, 4], [5, 6]]);
  await pane.useData();
  assert.match(view.errors.get("source")!.message, /looks like data: the first row of the data must hold the column names/);
  assert.deepEqual(routeError(Object.assign(new Error("the header of column B is the number 3"), { name: "DataError" }), "fit").field, "source");
  assert.deepEqual(routeError(new Error("worker died"), "fit").field, "fit");
});

test("a typed spec moves the controls, or says it is beyond them", async () => {
  const { view, pane } = setup();
  await pane.useData();
  view.spec = "size ~ time*treat + (time|tree) ; AR1(time) ; varIdent(treat)";
  pane.specEdited();
  assert.equal(view.specState, "synced");
  assert.deepEqual([view.c.randomSlope, view.c.residual, view.c.varIdent, view.c.interaction], [true, "AR1", "treat", true]);
  view.spec = "log(size) ~ time + (1|tree)";
  pane.specEdited();
  assert.equal(view.specState, "custom");
  assert.equal(view.errors.size, 0);
  // a control changed afterwards rebuilds the spec, and offers the typed one back
  view.c = { ...view.c, randomSlope: false };
  pane.rebuildSpec();
  assert.equal(view.spec, "size ~ time*treat + (1|tree) ; AR1(time | tree) ; varIdent(treat)");
  assert.equal(view.restore, "log(size) ~ time + (1|tree)");
  pane.restoreSpec(view.restore!);
  assert.equal(view.spec, "log(size) ~ time + (1|tree)");
  assert.equal(view.restore, null);
  // the R code of one spec is not left standing beside another
  await pane.copyR();
  assert.match(view.rcode, /log\(size\)/);
  view.spec = "size ~ time + (1|tree)";
  pane.specEdited();
  assert.equal(view.rcode, "", "the R code box empties when the spec changes");
  // an ID column ticked as a fixed effect is warned about, not silently fitted as a covariate
  view.c = { ...view.c, fixed: ["time", "tree"] };
  pane.rebuildSpec();
  assert.match(view.warnings.get("fixed")!, /'tree' looks like ID numbers/);
  view.c = { ...view.c, fixed: ["time"] };
  pane.rebuildSpec();
  assert.equal(view.warnings.has("fixed"), false);
});

test("cancel stops a running fit; nothing is written", async () => {
  let release: (() => void) | null = null;
  const hanging: Fitter = {
    fit: () => new Promise((_, reject) => (release = () => reject(Object.assign(new Error("cancelled"), { name: "CancelledError" })))),
    lrt: () => Promise.reject(new Error("unused")),
    cancel: () => release?.(),
  };
  const { view, pane } = setup(hanging);
  await pane.useData();
  const running = pane.fit();
  await new Promise((r) => setTimeout(r, 10));
  assert.ok(pane.busy);
  pane.cancel();
  await running;
  assert.equal(pane.busy, false);
  assert.match(view.status, /cancelled/);
  assert.deepEqual(fake.sheetNames(), ["Sheet1"]);
});

test("Copy as R code: the lme4/nlme call, to the clipboard", async () => {
  const { view, pane } = setup();
  await pane.useData();
  view.spec = "size ~ time*treat + (1|tree) ; AR1(time | tree)";
  await pane.copyR();
  assert.match(view.rcode, /library\(nlme\)[\s\S]*lme\(size ~ time\*treat,\n\s+random = ~ 1 \| tree,\n\s+correlation = corAR1\(form = ~ occasion \| tree\)/);
  assert.equal(clipboard.copied.pop(), view.rcode);
  assert.match(view.status, /copied/);
  view.spec = "size ~";
  await pane.copyR();
  assert.ok(view.errors.get("spec"));
});

test("the worker client adapter: results pass through, Cancel releases the job and settles at once", async () => {
  const hooks: (() => void)[] = [];
  let resolveFit: ((r: FitResultWithRows) => void) | null = null;
  const client = {
    fit: (_r: FitData, _s: string, _o: FitRequest, onCancel?: (h: () => void) => void) => {
      onCancel?.(() => hooks.push(() => undefined));
      return new Promise<FitResultWithRows>((res) => (resolveFit = res));
    },
    lrt: () => Promise.resolve({ method: "ML", refit_ml: false, models: [], tests: [], messages: [] } as LrtResult),
  };
  const f = new ClientFitter(client);
  const p1 = f.fit([["y"], [1]], "y ~ 1", { method: "REML", level: 0.95, ci: "none", fitted: true });
  resolveFit!({ logLik: 1 } as FitResultWithRows);
  assert.equal((await p1).logLik, 1);
  const p2 = f.fit([["y"], [1]], "y ~ 1", { method: "REML", level: 0.95, ci: "none", fitted: true });
  f.cancel();
  await assert.rejects(p2, (e: Error) => e.name === "CancelledError");
  assert.equal(hooks.length, 1, "the client's cancel hook was called");
  resolveFit!({ logLik: 2 } as FitResultWithRows); // a late result is ignored
  assert.equal((await f.lrt([["y"], [1]], ["a", "b"], { method: "ML" })).method, "ML");
});
