// The Office.js side of the pane against office-addin-mock: reading in row blocks (with
// progress and cancel), finding the header, and writing only to new, uniquely named sheets
// ("LMM 1" exists -> "LMM 2"), with Excel tables, number formats, live formulas and the chart.
import { cellValue } from "../../src/engine/data/cell-columns";
import { dataFromRows } from "../../src/worker/data";
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { OfficeMockObject } from "office-addin-mock";
import { compareModels, fitModel, fitSummary, parseCsv, tableFromRows } from "../../src/engine";
import type { FitResultWithRows } from "../../src/engine/types";
import { ExcelWorkbook, writeTall } from "../../src/taskpane/excel-io";
import { PaneController, PaneOptions } from "../../src/taskpane/controller";
import { comparisonPlan } from "../../src/taskpane/layout";
import { PVALUE, TEXT, estimateFormat } from "../../src/taskpane/formats";
import { emptyChoices } from "../../src/taskpane/spec-builder";
import { parseSpec } from "../../src/engine";
import type { DataSet } from "../../src/taskpane/ports";
import { mockBook } from "./mock-excel";
import { ROOT, closeAbs, closeRel, csvRows, readJson, EngineFx } from "../helpers/fixtures";

(globalThis as unknown as { Office: unknown }).Office = new OfficeMockObject({ context: { requirements: { isSetSupported: function () { return true; } } } });

const sitkaRows = () => csvRows("assets/examples/sitka.csv");
const want = readJson<EngineFx[]>("test/fixtures/engine.json").find((f) => f.name === "sitka_ri_reml")!;
let fitCache: FitResultWithRows | null = null;
const sitkaFit = () => (fitCache ??= fitModel(parseCsv(fs.readFileSync(path.join(ROOT, "assets/examples/sitka.csv"), "utf8")), "size ~ time*treat + (1|tree)", { fitted: true, ci: "wald" }));

test("reads a large selection in row blocks of at most 20,000 rows, with progress", async () => {
  const big: unknown[][] = [["y", "x", "g"]];
  for (let i = 0; i < 45000; i++) big.push([i % 7, i, `g${i % 100}`]);
  const book = mockBook({ sheets: { Big: big }, selection: { sheet: "Big", row: 0, col: 0, rows: 45001, cols: 3 } });
  const labels: string[] = [];
  const shares: number[] = [];
  const d = await new ExcelWorkbook(book.run).read({ kind: "selection" }, (l, s) => (labels.push(l), shares.push(s!)), { cancelled: false });
  assert.equal(d.nrow, 45000);
  assert.deepEqual(d.header, ["y", "x", "g"]);
  const cols = d.data.cells.columns;
  assert.deepEqual(cols.map((c) => cellValue(c, 44999)), [44999 % 7, 44999, "g99"], "the last row, from the typed columns");
  assert.deepEqual(cols.map((c) => cellValue(c, 20000)), [20000 % 7, 20000, "g0"], "the first row of the second block");
  assert.equal(d.data.key, dataFromRows(big).key, "blocks or one range: the same key, so the pane and the functions share a fit");
  assert.equal(d.sample.length, 20001, "the header and 20,000 rows kept as read, to describe the columns");
  assert.deepEqual(book.byIndexes.map((b) => [b.box.row, b.box.rows]), [[0, 20000], [20000, 20000], [40000, 5001], [1, 1]], "three blocks, then the first data row's number formats");
  assert.deepEqual(labels, ["Reading rows 1–20,000 of 45,001", "Reading rows 20,001–40,000 of 45,001", "Reading rows 40,001–45,001 of 45,001"]);
  assert.deepEqual(shares.map((s) => s.toFixed(2)), ["0.44", "0.89", "1.00"]);
  assert.equal(d.address, "Big!A1:C45001");
  assert.equal(d.ref, "Big!$A$1:$C$45001");
  assert.equal(d.headerRow, 1);
});

test("a wide range reads in smaller blocks; cancel stops between blocks", async () => {
  const wide: unknown[][] = [Array.from({ length: 40 }, (_, j) => `c${j}`)];
  for (let i = 0; i < 12000; i++) wide.push(Array.from({ length: 40 }, (_, j) => i + j));
  const book = mockBook({ sheets: { Wide: wide }, selection: { sheet: "Wide", row: 0, col: 0, rows: 12001, cols: 40 } });
  const signal = { cancelled: false };
  let blocks = 0;
  await assert.rejects(
    new ExcelWorkbook(book.run).read({ kind: "selection" }, () => {
      if (++blocks === 2) signal.cancelled = true;
    }, signal),
    (e: Error) => e.name === "CancelledError",
  );
  assert.deepEqual(book.byIndexes.map((b) => b.box.rows), [5000, 5000], "5,000 rows x 40 columns per block; the third block never read");
});

test("one selected cell reads the region around it; a title above the header is skipped", async () => {
  const rows = [["Sitka spruce, log size", "", "", ""], ["", "", "", ""], ...sitkaRows()];
  const book = mockBook({ sheets: { Data: rows }, selection: { sheet: "Data", row: 5, col: 1, rows: 1, cols: 1 } });
  const d = await new ExcelWorkbook(book.run).read({ kind: "selection" }, () => undefined, { cancelled: false });
  assert.deepEqual(d.header, ["size", "time", "tree", "treat"]);
  assert.equal(d.nrow, 395);
  assert.equal(d.data.key, dataFromRows(sitkaRows()).key, "the title rows are not data");
  assert.equal(d.headerRow, 3);
  assert.equal(d.address, "Data!A3:D398");
  assert.match(d.note!, /one cell was selected[\s\S]*2 rows above the column names skipped/);
});

test("an Excel table is read by name and referenced as Table[[#Headers],[#Data]]", async () => {
  const book = mockBook({ sheets: { Sitka: sitkaRows() }, selection: { sheet: "Sitka", row: 0, col: 0, rows: 1, cols: 1 }, tables: { SitkaData: { sheet: "Sitka", row: 0, col: 0, rows: 396, cols: 4 } } });
  const wb = new ExcelWorkbook(book.run);
  assert.deepEqual(await wb.tables(), ["SitkaData"]);
  const d = await wb.read({ kind: "table", name: "SitkaData" }, () => undefined, { cancelled: false });
  assert.equal(d.ref, "SitkaData[[#Headers],[#Data]]");
  assert.equal(d.table, "SitkaData");
  assert.equal(d.nrow, 395);
});

/** The pane's write of the Sitka fit, planned by the controller's pure part. */
async function sitkaOutput(data: DataSet, opts: Partial<PaneOptions> = {}) {
  const o: PaneOptions = { method: "REML", level: 0.95, ci: "wald", live: false, chart: true, chartFactor: "treat", ...opts };
  const pc = new PaneController(null as never, null as never, null as never, null as never);
  const spec = "size ~ time*treat + (1|tree)";
  return pc.output(sitkaFit(), data, parseSpec(spec), spec, o, { ...emptyChoices(), response: "size", fixed: ["time", "treat"], interaction: true, groups: ["tree"], time: "time" });
}

const sitkaData = (): DataSet => {
  const rows = sitkaRows();
  return { source: { kind: "selection" }, address: "Sheet1!A1:D396", ref: "Sheet1!$A$1:$D$396", table: null, headerRow: 1, header: rows[0], nrow: rows.length - 1, sample: rows, data: dataFromRows(rows), note: null };
};

test("writes to new sheets only: with 'LMM 1' taken the fit goes to 'LMM 2' and 'LMM 2 data'; existing cells untouched", async () => {
  const before = [["keep me", 1, 2], ["and me", 3, 4]];
  const book = mockBook({ sheets: { Sheet1: sitkaRows(), "LMM 1": before }, selection: { sheet: "Sheet1", row: 0, col: 0, rows: 396, cols: 4 } });
  const progress: string[] = [];
  const w = await new ExcelWorkbook(book.run).writeFit(await sitkaOutput(sitkaData()), (l) => progress.push(l), { cancelled: false });
  assert.deepEqual([w.summarySheet, w.detailSheet], ["LMM 2", "LMM 2 data"]);
  assert.deepEqual(book.added, ["LMM 2", "LMM 2 data"]);
  assert.deepEqual(book.touched, [], "no range was asked of a sheet that existed before");
  assert.deepEqual(book.written("LMM 1"), before);
  assert.deepEqual(book.written("Sheet1"), sitkaRows());
  assert.ok(book.ranges.every((r) => !book.existing.has(r.sheet) || (r.mock.numberFormat === undefined && r.mock.formulas === undefined && (r.mock.values === r.seeded || !Array.isArray(r.mock.values)))), "nothing set on a range of an old sheet");
  // the summary's numbers are the fit's (vs lme4)
  const s = book.written("LMM 2");
  const row = (label: string) => s.find((r) => r[0] === label)!;
  closeAbs(row("logLik (REML)")[1] as number, want.logLik, 1e-4, "logLik");
  closeAbs(row("AIC")[1] as number, want.AIC, 2e-4, "AIC");
  for (const fx of want.fixef) {
    closeAbs(row(fx.term)[1] as number, fx.estimate, 1e-4 * fx.se, fx.term);
    closeRel(row(fx.term)[2] as number, fx.se, 1e-4, `SE of ${fx.term}`);
  }
  closeRel(s.find((r) => r[0] === "tree" && r[1] === "(Intercept)")![2] as number, want.varcomp[0].variance!, 1e-4, "tree variance");
  assert.deepEqual(s.find((r) => r[0] === "term"), ["term", "Estimate", "Std. Error", "df", "t value", "Pr(>|t|)", "2.5 %", "97.5 %"]);
  assert.deepEqual(s.find((r) => r[0] === "group")!.slice(0, 7), ["group", "effect", "variance", "sd", "sd_2.5", "sd_97.5", "var_prop"]);
  // number formats: an estimate to its SE's precision, p-values "< .001" or 0.000, labels as text
  const fmts = book.formats("LMM 2");
  const at = (label: string, col: number) => fmts.get(`${s.findIndex((r) => r[0] === label)},${col}`);
  assert.equal(at("time:treatozone", 1), estimateFormat(row("time:treatozone")[1] as number, row("time:treatozone")[2] as number));
  assert.equal(at("(Intercept)", 1), "0.000", "2.1217 (SE 0.154) shows as 2.122");
  assert.equal(at("time:treatozone", 5), PVALUE);
  assert.equal(at("time:treatozone", 0), TEXT);
  assert.equal(at("term", 1), TEXT, "headers stay text");
  // Excel tables only for the long BLUP and fitted-value tables; the summary's blocks are plain
  assert.deepEqual(book.tables.map((t) => t.sheet), ["LMM 2 data", "LMM 2 data"]);
  // detail sheet: a label row, then 79 BLUP rows, 395 fitted rows
  const d = book.written("LMM 2 data");
  assert.match(String(d[0][0]), /^Random effects \(BLUPs\) of tree/);
  assert.deepEqual(d[1].slice(0, 3), ["tree", "(Intercept)", "cond. SD (Intercept)"]);
  assert.equal(d.slice(2).filter((r) => r[0] !== "").length, 79);
  const fittedCol = d[1].indexOf("fitted");
  assert.equal(d.slice(2).filter((r) => typeof r[fittedCol] === "number").length, 395);
  assert.ok(progress.some((p) => /Writing fitted values: 395 of 395 rows/.test(p)));
});

test("the chart: a native XY chart on the summary sheet, one series per group (60 of 79) plus population lines", async () => {
  const book = mockBook({ sheets: { Sheet1: sitkaRows() }, selection: { sheet: "Sheet1", row: 0, col: 0, rows: 396, cols: 4 } });
  const w = await new ExcelWorkbook(book.run).writeFit(await sitkaOutput(sitkaData()), () => undefined, { cancelled: false });
  assert.equal(book.charts.length, 1);
  const c = book.charts[0];
  assert.equal(c.host, "LMM 1");
  assert.equal(c.type, "XYScatterLinesNoMarkers");
  assert.equal(c.seriesBy, "Columns");
  assert.equal(c.list.length, 62);
  assert.ok(c.list.every((s) => s.x && s.y && s.x.startsWith("'LMM 1 data'!") && s.y.startsWith("'LMM 1 data'!")), "every series has x and y on the data sheet");
  assert.deepEqual(c.list.slice(-2).map((s) => [s.name, s.line.weight]), [["control (fitted)", 3], ["ozone (fitted)", 3]]);
  assert.equal(c.list[0].line.weight, 0.75);
  assert.equal(c.title.text, "size over time by tree (60 of 79 shown)");
  // the legend names the two population lines only
  assert.equal(c.legend.visible, true);
  assert.equal(c.legend.position, "Bottom");
  assert.deepEqual(c.list.map((_, i) => i).filter((i) => !c.legend.hidden.has(i)), [60, 61]);
  assert.equal(c.displayBlanksAs, "Interplotted");
  assert.deepEqual([c.axes.categoryAxis.title.text, c.axes.valueAxis.title.text], ["time", "size"]);
  assert.deepEqual([c.axes.categoryAxis.minimum, c.axes.categoryAxis.maximum], [150, 260], "days 152-258, not from 0");
  assert.ok((c.axes.valueAxis.minimum as number) > 0, "size does not start at 0");
  assert.match(c.position![0], /^E\d+$/);
  assert.match(w.chartNote!, /60 of 79/);
  // a host that refuses a chart over another sheet's data gets it beside the data
  const strict = mockBook({ sheets: { Sheet1: sitkaRows() }, selection: { sheet: "Sheet1", row: 0, col: 0, rows: 396, cols: 4 } });
  strict.crossSheetCharts = false;
  const w2 = await new ExcelWorkbook(strict.run).writeFit(await sitkaOutput(sitkaData()), () => undefined, { cancelled: false });
  assert.equal(strict.charts.length, 1);
  assert.equal(strict.charts[0].host, "LMM 1 data");
  assert.match(w2.chartNote!, /the chart is on the data sheet/);
});

test("live formulas instead of values; the comparison sheet with =LMM.LRT", async () => {
  const book = mockBook({ sheets: { Sheet1: sitkaRows() }, selection: { sheet: "Sheet1", row: 0, col: 0, rows: 396, cols: 4 } });
  const wb = new ExcelWorkbook(book.run);
  await wb.writeFit(await sitkaOutput(sitkaData(), { live: true, chart: false }), () => undefined, { cancelled: false });
  assert.deepEqual(book.formulas("LMM 1").map((f) => f.formula), ["=LMM.FIT(Sheet1!$A$1:$D$396,$B$5,$B$6)", "=LMM.VARCOMP(Sheet1!$A$1:$D$396,$B$5,$B$6,$B$7)"]);
  assert.equal(book.written("LMM 1")[4][1], "size ~ time*treat + (1|tree)", "B5 holds the spec");
  assert.equal(book.tables.filter((t) => t.sheet === "LMM 1").length, 0);
  assert.equal(book.charts.length, 0);
  const specs = ["size ~ time + (1|tree)", "size ~ time + (time|tree)"];
  const res = compareModels(parseCsv(fs.readFileSync(path.join(ROOT, "assets/examples/sitka.csv"), "utf8")), specs, { method: "REML" });
  const name = await wb.writeComparison(comparisonPlan(specs, res, { dataLabel: "Sheet1!A1:D396", dataRef: "Sheet1!$A$1:$D$396", method: "REML" }), "LMM compare");
  assert.equal(name, "LMM compare 1");
  assert.deepEqual(book.formulas("LMM compare 1").map((f) => f.formula), ["=LMM.LRT(Sheet1!$A$1:$D$396,$B$9:$B$10,$B$5)"]);
  assert.deepEqual(book.written("LMM compare 1").slice(8, 10).map((r) => r[1]), specs);
});

test("tall tables are written in row blocks, each its own request", async () => {
  const book = mockBook({ sheets: {}, selection: { sheet: "x", row: 0, col: 0, rows: 1, cols: 1 } });
  await book.run(async (ctx) => {
    const sheet = ctx.workbook.worksheets.add("Out");
    const syncsBefore = book.syncs;
    await writeTall(ctx, sheet, { what: "rows", row: 0, col: 2, header: ["a", "b", "c", "d"], nrows: 30000, formats: ["0", "0.00", "@", "0"], table: true, slice: (s, e) => Array.from({ length: e - s }, (_, i) => [s + i, (s + i) / 3, `r${s + i}`, 1]) }, { cancelled: false }, () => undefined);
    assert.ok(book.syncs - syncsBefore >= 2);
  });
  const writes = book.ranges.filter((r) => r.sheet === "Out" && Array.isArray(r.mock.values) && r.box.rows > 1);
  assert.deepEqual(writes.map((r) => [r.box.row, r.box.rows]), [[1, 20000], [20001, 10000]]);
  assert.deepEqual(book.tables, [{ sheet: "Out", address: "Out!C1:F30001" }]);
  assert.equal(book.written("Out")[30000][4], "r29999");
});

test("fitted models are kept in the workbook's settings", async () => {
  const book = mockBook({ sheets: { Sheet1: [["y"]] }, selection: { sheet: "Sheet1", row: 0, col: 0, rows: 1, cols: 1 } });
  const wb = new ExcelWorkbook(book.run);
  assert.deepEqual(await wb.loadModels(), []);
  const m = { id: "a1", spec: "y ~ 1 + (1|g)", method: "REML" as const, dataRef: "Sheet1!$A$1:$B$9", dataLabel: "Sheet1!A1:B9", source: { kind: "address" as const, address: "Sheet1!A1:B9" }, n: 8, df: 3, logLik: -4.2, AIC: 14.4, BIC: 15, sheet: "LMM 1", at: "2026-01-01T00:00:00.000Z" };
  await wb.saveModels([m]);
  assert.deepEqual(await wb.loadModels(), [m]);
  book.settings.set("lmm.models.v1", "not json");
  assert.deepEqual(await wb.loadModels(), []);
});

test("the means charts (office-addin-mock): on the summary sheet beside their tables, data on the same sheet, marker and interval series, level labels", async () => {
  const oats = csvRows("test/data/oats.csv");
  const spec = "yield ~ N*Variety + (1|Block/Variety)";
  const fit = fitSummary(tableFromRows(oats), spec, { fitted: true }, {});
  const data: DataSet = { source: { kind: "selection" }, address: "Sheet1!A1:E73", ref: "Sheet1!$A$1:$E$73", table: null, headerRow: 1, header: oats[0], nrow: oats.length - 1, sample: oats, data: dataFromRows(oats), note: null };
  const pc = new PaneController(null as never, null as never, null as never, null as never);
  const o: PaneOptions = { method: "REML", level: 0.95, ci: "wald", live: false, chart: false, chartFactor: null };
  const out = await pc.output(fit, data, parseSpec(spec), spec, o, emptyChoices());
  const book = mockBook({ sheets: { Sheet1: oats }, selection: { sheet: "Sheet1", row: 0, col: 0, rows: 73, cols: 5 } });
  const w = await new ExcelWorkbook(book.run).writeFit(out, () => undefined, { cancelled: false });
  assert.equal(w.meansNote, undefined, "no chart refused");
  assert.deepEqual(book.charts.map((c) => c.name), ["LMM means N", "LMM means Variety"]);
  const s = book.written("LMM 1");
  for (const c of book.charts) {
    assert.equal(c.host, "LMM 1");
    assert.equal(c.displayBlanksAs, "NotPlotted");
    assert.equal(c.axes.categoryAxis.tickLabelPosition, "None", "the positions 1..k are not numbered");
    assert.equal(c.legend.visible, false);
    const levels = c.list.filter((_, k) => k % 2 === 0);
    levels.forEach((pt, i) => {
      assert.equal(pt.marker?.style, "Circle");
      assert.equal(pt.dataLabels?.showSeriesName, true, "each point carries its level's name");
      const bar = c.list[2 * i + 1];
      assert.equal(bar.marker?.style, "None");
      assert.equal(bar.line.lineStyle, "Continuous");
      assert.ok(pt.y!.startsWith("'LMM 1'!") && bar.y!.startsWith("'LMM 1'!") && bar.x!.startsWith("'LMM 1'!"), `the data are on the summary sheet (${pt.y})`);
    });
    // the first point's mean is the table's first emmean
    const head = s.findIndex((r) => r[0] === `Estimated marginal means of ${c.name.replace("LMM means ", "")} (Satterthwaite df, 95 % CI)`);
    const cellRef = levels[0].y!.split("!")[1];
    const [, r0] = /(\d+)/.exec(cellRef)!;
    const m = /^([A-Z]+)/.exec(cellRef)![1];
    const col = m.split("").reduce((k, ch) => k * 26 + ch.charCodeAt(0) - 64, 0) - 1;
    assert.equal(s[Number(r0) - 1][col], s[head + 2][1]);
    assert.equal(c.position![0], `I${head + 1}`);
  }
});
