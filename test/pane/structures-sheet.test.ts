// The pane's "Which structure?" button (src/taskpane/structures-sheet.ts): the spec the ranking
// starts from; through the controller on the scripted workbook, the ranked table on a new sheet
// with the lecture's ladder values (independence, AR1, ARH1, UN logLik -394.23, -34.93, -15.78,
// 21.56, as nlme; test/structures-props.test.ts checks the engine's table the same way), sorted
// by AIC, the likelihood-ratio test between nested neighbours, the number formats of
// =LMM.STRUCTURES, nothing overwritten; and a clear message without a time column.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as path from "node:path";
import { compareModels, compareStructures, fitModel, parseSpec, tableFromRows } from "../../src/engine";
import type { FitResultWithRows, LrtResult, Method } from "../../src/engine/types";
import type { StructuresResult } from "../../src/engine/inference/structures";
import { ladderSpec } from "../../src/taskpane/structures-sheet";
import { confoundedNote } from "../../src/engine/inference/structures";
import { PaneController, PaneView } from "../../src/taskpane/controller";
import { ExcelWorkbook } from "../../src/taskpane/excel-io";
import type { FitData, FitRequest, Fitter } from "../../src/taskpane/ports";
import { tableFromCellColumns } from "../../src/engine/data/cell-columns";
import { emptyChoices } from "../../src/taskpane/spec-builder";
import { formatValue } from "../../src/taskpane/numfmt";
import { ROOT, closeAbs, csvRows } from "../helpers/fixtures";

// eslint-disable-next-line @typescript-eslint/no-var-requires
require(path.join(ROOT, "test", "pane", "fake-office.js"));
const fake = (globalThis as unknown as { __fakeExcel: { seed(n: string, rows: unknown[][]): void; reset(): void; snapshot(n: string): unknown[][] | null; sheetInfo(n: string): { formats: Record<string, string> } | null; sheetNames(): string[]; log: { op: string }[] } }).__fakeExcel;

test("which structure: the model's own structure, or AR1 over the pane's time and group", () => {
  const l = (s: string, time: string | null = "time", group: string | null = "tree") => ladderSpec(parseSpec(s), s, time, group);
  assert.equal(l("size ~ time*treat ; AR1(time | tree)"), "size ~ time*treat ; AR1(time | tree)");
  assert.equal(l("size ~ time*treat + (1|tree)"), "size ~ time*treat + (1|tree) ; AR1(time | tree)");
  assert.equal(l("size ~ time*treat + (1|tree) ; CS(1 | tree) ; varIdent(treat)"), "size ~ time*treat + (1|tree) ; AR1(time | tree) ; varIdent(treat)");
  assert.throws(() => l("size ~ treat + (1|tree)", null), /choose the time column and the grouping column/);
  // A random intercept for the residual group: CS, TOEP and UN are said to be confounded with it.
  assert.match(confoundedNote(parseSpec(l("size ~ time*treat + (1|tree)")))!, /CS, TOEP and UN already contain a constant covariance within tree/);
  assert.equal(confoundedNote(parseSpec("size ~ time*treat ; AR1(time | tree)")), null);
});

const tableOf = (d: FitData) => (Array.isArray(d) ? tableFromRows(d) : tableFromCellColumns(d.cells));
class EngineFitter implements Fitter {
  async fit(data: FitData, spec: string, opts: FitRequest): Promise<FitResultWithRows> {
    return fitModel(tableOf(data), spec, opts);
  }
  async lrt(data: FitData, specs: string[], opts: { method: Method }): Promise<LrtResult> {
    return compareModels(tableOf(data), specs, opts);
  }
  async structures(data: FitData, spec: string): Promise<StructuresResult> {
    return compareStructures(tableOf(data), spec);
  }
  cancel() {}
}

function view(spec: string, time: string | null): PaneView & { status: string; errors: Map<string, string> } {
  const v = {
    status: "",
    errors: new Map<string, string>(),
    source: () => ({ kind: "selection" as const }),
    choices: () => ({ ...emptyChoices(), response: "size", groups: ["tree"], time }),
    specText: () => spec,
    options: () => ({ method: "REML" as const, level: 0.95, ci: "none" as const, live: false, chart: false, chartFactor: null }),
    pickedModels: () => [],
    setStatus(t: string) { v.status = t; },
    setError(f: string, m: string | null) { if (m) v.errors.set(f, m); else v.errors.delete(f); },
  };
  const noop = () => undefined;
  return new Proxy(v, { get: (t, k) => (k in t ? (t as Record<string | symbol, unknown>)[k] : noop) }) as unknown as PaneView & { status: string; errors: Map<string, string> };
}

test("Which structure? in the pane: the lecture's ladder ranked on a new sheet, formatted as =LMM.STRUCTURES", async () => {
  fake.reset();
  const data = csvRows("assets/examples/sitka.csv");
  fake.seed("Sheet1", data);
  const v = view("size ~ time*treat ; AR1(time | tree)", "time");
  const pane = new PaneController(v, new ExcelWorkbook(), new EngineFitter(), { copy: async () => "clipboard" });
  await pane.useData();
  await pane.whichStructure();
  assert.deepEqual([...v.errors.keys()], []);
  assert.match(v.status, /^Structures ranked on 'LMM structures 1' \(13 fitted by REML\): best by AIC \w+ \(AIC -?\d+\.\d\d\), by BIC \w+\.$/);
  assert.deepEqual(fake.snapshot("Sheet1"), data);
  assert.equal(fake.log.filter((e) => e.op === "OVERWRITE").length, 0);
  const cells = fake.snapshot("LMM structures 1")!;
  assert.match(String(cells[0][0]), /^Which structure\? size ~ time\*treat$/);
  assert.ok(String(cells[2][0]).includes('=LMM.STRUCTURES(Sheet1!$A$1:$D$396, "size ~ time*treat ; AR1(time | tree)")'));
  const head = cells[4];
  assert.deepEqual(head.slice(0, 9), ["Structure", "df", "AIC", "BIC", "logLik", "Test", "L.Ratio", "p-value", "spec"]);
  const rows = cells.slice(5).filter((r) => ["independence", "CS", "AR1", "ARH1", "CSH", "TOEP", "UN"].includes(String(r[0])));
  assert.equal(rows.length, 7);
  const ll = (s: string) => rows.find((r) => r[0] === s)![4] as number;
  [["independence", -394.2299], ["AR1", -34.9311], ["ARH1", -15.7839], ["UN", 21.5648]].forEach(([s, x]) => closeAbs(ll(s as string), x as number, 5e-5, `${s} logLik`));
  for (let i = 1; i < rows.length; i++) assert.ok((rows[i][2] as number) >= (rows[i - 1][2] as number), "ranked by AIC");
  const arh1 = rows.find((r) => r[0] === "ARH1")!;
  assert.equal(arh1[5], "AR1 vs ARH1");
  closeAbs(arh1[6] as number, 2 * (ll("ARH1") - ll("AR1")), 1e-9, "L.Ratio");
  // As Excel shows them: logLik to 4 decimals, p-values as R's.
  const info = fake.sheetInfo("LMM structures 1")!;
  const r = cells.findIndex((x) => x[0] === "AR1");
  assert.equal(formatValue(cells[r][4], info.formats[`${r},4`]), "-34.9311");
});

test("Which structure? without a time column: the message is under the time control, nothing written", async () => {
  fake.reset();
  fake.seed("Sheet1", csvRows("assets/examples/sitka.csv"));
  const v = view("size ~ treat + (1|tree)", null);
  const pane = new PaneController(v, new ExcelWorkbook(), new EngineFitter(), { copy: async () => "clipboard" });
  await pane.useData();
  const before = fake.sheetNames();
  await pane.whichStructure();
  assert.match(v.errors.get("time")!, /choose the time column and the grouping column/);
  assert.match(v.status, /^Structures not ranked: see the message under Time column/);
  assert.deepEqual(fake.sheetNames(), before);
});
