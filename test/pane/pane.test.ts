// The task pane's logic without Excel: the model builder, the R code, sheet naming, row blocks,
// the layout of what is written, and the Office.js reads and writes against a scripted workbook
// (reads in blocks, writes only to new sheets, formats, tables, chart calls). office-addin-mock
// checks that reads load and sync before they use values.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as path from "node:path";
import { OfficeMockObject } from "office-addin-mock";
import { fitModel } from "../../src/engine";
import { buildSpec, rCode, ModelChoices } from "../../src/taskpane/spec-builder";
import { rowBlocks, spaghetti, summaryTables, uniqueSheetName } from "../../src/taskpane/layout";
import { BLOCK_ROWS, a1 } from "../../src/taskpane/excel-io";
import { ROOT, closeAbs, csvRows, loadTable } from "../helpers/fixtures";

// eslint-disable-next-line @typescript-eslint/no-var-requires
require(path.join(ROOT, "test", "pane", "fake-office.js"));
interface Fake {
  log: { op: string; sheet?: string; rows?: number; address?: string; formula?: string; type?: string }[];
  seed(name: string, rows: unknown[][]): unknown;
  snapshot(name: string): unknown[][] | null;
  charts(name: string): { type: string; title: { text: string }; seriesList: { name: string; x: string; y: string }[] }[];
  workbook: { sheets: { name: string; formats: Map<string, string> }[] };
}
const fake = (globalThis as unknown as { __fakeExcel: Fake }).__fakeExcel;
// eslint-disable-next-line @typescript-eslint/no-var-requires
const io = require("../../src/taskpane/excel-io") as typeof import("../../src/taskpane/excel-io");

const base: ModelChoices = { response: "size", fixed: ["time", "treat"], interaction: true, groups: ["tree"], nesting: "nested", time: "time", randomSlope: false, residual: "none", varIdent: null };

test("the model builder writes the lecture's specs", () => {
  assert.equal(buildSpec(base), "size ~ time*treat + (1 | tree)");
  assert.equal(buildSpec({ ...base, fixed: ["time"], randomSlope: true }), "size ~ time + (time | tree)");
  assert.equal(buildSpec({ ...base, interaction: false }), "size ~ time + treat + (1 | tree)");
  assert.equal(buildSpec({ ...base, groups: [], residual: "AR1" }), "size ~ time*treat ; AR1(time)");
  assert.equal(buildSpec({ ...base, residual: "UN", varIdent: "treat" }), "size ~ time*treat + (1 | tree) ; UN(time | tree) ; varIdent(treat)");
  assert.equal(buildSpec({ ...base, groups: ["batch", "cask"], fixed: [], time: null }), "size ~ 1 + (1 | batch/cask)");
  assert.equal(buildSpec({ ...base, groups: ["plate", "sample"], nesting: "crossed", fixed: [] }), "size ~ 1 + (1 | plate) + (1 | sample)");
  assert.equal(buildSpec({ ...base, residual: "CS" }), "size ~ time*treat + (1 | tree) ; CS(1 | tree)");
  assert.throws(() => buildSpec({ ...base, time: null, residual: "AR1" }), /AR1 needs a time column/);
});

test("Copy as R code: lme4 for random effects, nlme for residual structures", () => {
  assert.equal(rCode("size ~ time*treat + (1 | tree)", "REML"), "library(lme4)\nfit <- lmer(size ~ time*treat + (1 | tree), data = data, REML = TRUE)\nsummary(fit)");
  const gls = rCode("size ~ time*treat ; AR1(time | tree)", "REML");
  assert.match(gls, /gls\(size ~ time\*treat,\s+correlation = corAR1\(form = ~ 1 \| tree\),\s+data = data, method = "REML"\)/);
  const lme = rCode("size ~ time*treat + (1 | tree) ; ARH1(time | tree)", "ML");
  assert.match(lme, /lme\(size ~ time\*treat,\s+random = ~ 1 \| tree,\s+correlation = corAR1\(form = ~ 1 \| tree\),\s+weights = varIdent\(form = ~ 1 \| factor\(time\)\)/);
  assert.match(rCode("y ~ x ; varIdent(g)", "REML"), /gls\(y ~ x,\s+weights = varIdent\(form = ~ 1 \| g\)/);
});

test("sheet names never collide; blocks cover every row", () => {
  assert.equal(uniqueSheetName(["Sheet1"], "LMM"), "LMM 1");
  assert.equal(uniqueSheetName(["Sheet1", "LMM 1", "lmm 2"], "LMM"), "LMM 3");
  assert.deepEqual(rowBlocks(45000, 20000), [[0, 20000], [20000, 40000], [40000, 45000]]);
  assert.equal(a1(0, 0, 396, 4), "A1:D396");
  assert.equal(a1(1, 26, 2, 2), "AA2:AB3");
});

test("spaghetti: every group up to the limit, an even subset beyond it, population lines per level", () => {
  const n = 100;
  const time = Array.from({ length: n }, (_, i) => i % 5);
  const group = Array.from({ length: n }, (_, i) => `g${Math.floor(i / 5)}`);
  const y = time.map((t) => t * 2);
  const factor = group.map((g) => (Number(g.slice(1)) % 2 ? "a" : "b"));
  const sp = spaghetti(time, y, group, y, factor, 8);
  assert.equal(sp.series.filter((s) => !s.population).length, 8);
  assert.deepEqual(sp.series.filter((s) => s.population).map((s) => s.name), ["fitted: b", "fitted: a"]);
  assert.match(sp.note!, /8 of 20 groups shown/);
  assert.equal(spaghetti(time, y, group, null, null, 40).note, null);
});

test("the summary layout carries the fit's numbers", () => {
  const fit = fitModel(loadTable("assets/examples/sitka.csv"), "size ~ time*treat + (1|tree)", { fitted: true });
  const [model, fixef, vc] = summaryTables(fit, "Sheet1!A1:D396");
  assert.equal(model.rows.find((r) => r[0] === "logLik")![1], fit.logLik);
  assert.deepEqual(fixef.rows[0], ["term", "Estimate", "Std. Error", "df", "t value", "Pr(>|t|)", "2.5 %", "97.5 %"]);
  assert.equal(vc.rows[0][0], "group");
  assert.equal(fixef.formats.length, fixef.rows[0].length);
});

test("readData reads a large range in blocks of at most 20,000 rows", async () => {
  const big: unknown[][] = [["y", "x", "g"]];
  for (let i = 0; i < 45000; i++) big.push([i % 7, i, `g${i % 100}`]);
  fake.seed("Big", big);
  const before = fake.log.length;
  const shares: number[] = [];
  const d = await io.readData("selection", (s) => shares.push(s), { cancelled: false });
  assert.equal(d.rows.length, 45001);
  assert.deepEqual(d.rows[45000], [44999 % 7, 44999, "g99"]);
  const blocks = fake.log.slice(before).filter((e) => e.op === "read-block");
  assert.equal(blocks.length, 3);
  assert.ok(blocks.every((b) => b.rows! <= BLOCK_ROWS));
  assert.deepEqual(shares.map((s) => s.toFixed(2)), ["0.44", "0.89", "1.00"]);
  await assert.rejects(io.readData("selection", () => undefined, { cancelled: true }), /cancelled/);
});

test("office-addin-mock: a read loads and syncs before it uses the values", async () => {
  const values = csvRows("assets/examples/sitka.csv").slice(0, 6);
  const mock = new OfficeMockObject({
    context: {
      workbook: {
        range: { address: "Sheet1!A1:D6", rowCount: 6, columnCount: 4, rowIndex: 0, columnIndex: 0, worksheet: { block: { values }, getRangeByIndexes: function (this: { block: unknown }) {
          return this.block;
        } } },
        getSelectedRange: function (this: { range: unknown }) {
          return this.range;
        },
      },
    },
    run: async function (this: { context: unknown }, cb: (ctx: unknown) => Promise<unknown>) {
      return cb(this.context);
    },
  });
  const g = globalThis as unknown as { Excel: unknown };
  const saved = g.Excel;
  g.Excel = mock;
  try {
    const d = await io.readData("selection", () => undefined, { cancelled: false });
    assert.equal(d.address, "Sheet1!A1:D6");
    assert.equal(d.rows.length, 6);
    assert.equal(d.headerRow, 1);
  } finally {
    g.Excel = saved;
  }
});

test("writeResults: new uniquely named sheets only, Excel tables, number formats, live formulas, a chart", async () => {
  const rows = csvRows("assets/examples/sitka.csv");
  fake.seed("Sitka", rows);
  const d = await io.readData("selection", () => undefined, { cancelled: false });
  const fit = fitModel(loadTable("assets/examples/sitka.csv"), "size ~ time*treat + (1|tree)", { fitted: true });
  const before = fake.log.length;
  const w = await io.writeResults(fit, d, { live: false, method: "REML", chart: { time: "time", group: "tree", factor: "treat" } });
  assert.equal(w.summarySheet, "LMM 1");
  assert.equal(w.detailSheet, "LMM data 1");
  const ops = fake.log.slice(before);
  assert.ok(!ops.some((e) => e.op === "OVERWRITE"), "no write touched a user's sheet");
  assert.ok(ops.filter((e) => e.op === "write").every((e) => e.sheet === "LMM 1" || e.sheet === "LMM data 1"));
  assert.ok(ops.filter((e) => e.op === "table").length >= 4, "summary, fixed effects, variance components, BLUPs, fitted are tables");
  const sheet = fake.snapshot("LMM 1")!;
  const ll = sheet.find((r) => r[0] === "logLik")!;
  closeAbs(ll[1] as number, -81.75852, 5e-6, "logLik written");
  const est = sheet.find((r) => r[0] === "time:treatozone")!;
  closeAbs(est[1] as number, -0.00213851, 1e-8, "estimate written");
  const fmt = fake.workbook.sheets.find((s) => s.name === "LMM 1")!.formats;
  assert.ok([...fmt.values()].includes("0.000000"), "estimates get a number format");
  const charts = fake.charts("LMM data 1");
  assert.equal(charts.length, 1);
  assert.equal(charts[0].type, "XYScatterLinesNoMarkers");
  assert.match(charts[0].title.text, /40 of 79 groups shown/);
  assert.ok(charts[0].seriesList.some((s) => s.name === "fitted: ozone"));
  // A second fit goes to the next names; live mode writes formulas.
  const w2 = await io.writeResults(fit, d, { live: true, method: "REML", chart: null });
  assert.equal(w2.summarySheet, "LMM 2");
  const f = fake.log.filter((e) => e.op === "formula" && e.sheet === "LMM 2");
  assert.equal(f[0].formula, `=LMM.FIT(${d.address},"size ~ time*treat + (1|tree)","REML")`);
  assert.match(f[1].formula!, /^=LMM.VARCOMP\(/);
  const cmp = await io.writeComparison(["size ~ time + (1|tree)", "size ~ time + (time|tree)"], d.address, "REML");
  assert.equal(cmp, "LMM compare 1");
  assert.match(fake.log.filter((e) => e.op === "formula").pop()!.formula!, /^=LMM.LRT\(Sitka!A1:D396,\$A\$3:\$A\$4,"REML"\)$/);
});
