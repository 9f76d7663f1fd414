// The pure parts of writing: sheet names, addresses, row blocks, the header row, number formats,
// the layout of the summary, detail and comparison sheets, and the spaghetti plot's data.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { compareModels, fitModel, parseCsv } from "../../src/engine";
import type { FitResultWithRows } from "../../src/engine/types";
import { absoluteRef, cleanSheetName, columnLetters, rangeAddress, uniqueSheetName, uniqueSheetNames, quoteSheet } from "../../src/taskpane/naming";
import { blockRows, forEachBlock, isPayloadError, planBlocks } from "../../src/taskpane/blocks";
import { findHeader, usedLength } from "../../src/taskpane/header";
import * as F from "../../src/taskpane/formats";
import { ciLabels, comparisonPlan, detailPlan, fixefTable, modelItems, residualText, sdLabels, summaryPlan, uniqueHeaders, varcompRows } from "../../src/taskpane/layout";
import { evenlySpaced, spaghettiData } from "../../src/taskpane/chart";
import { ROOT, closeAbs, readJson, EngineFx } from "../helpers/fixtures";

const sitkaTable = () => parseCsv(fs.readFileSync(path.join(ROOT, "assets/examples/sitka.csv"), "utf8"));
let sitkaFit: FitResultWithRows | null = null;
const fitSitka = () => (sitkaFit ??= fitModel(sitkaTable(), "size ~ time*treat + (1|tree)", { fitted: true, ci: "wald" }));

test("sheet names: 'LMM 1', then the next free number, case-insensitively, pairs share the number", () => {
  assert.equal(uniqueSheetName(["Sheet1"], "LMM"), "LMM 1");
  assert.equal(uniqueSheetName(["Sheet1", "LMM 1", "lmm 2"], "LMM"), "LMM 3");
  assert.deepEqual(uniqueSheetNames(["LMM 1"], "LMM", ["", " data"]), ["LMM 2", "LMM 2 data"]);
  assert.deepEqual(uniqueSheetNames(["LMM 2 data"], "LMM", ["", " data"]), ["LMM 1", "LMM 1 data"]);
  assert.deepEqual(uniqueSheetNames(["LMM 1 DATA"], "LMM", ["", " data"]), ["LMM 2", "LMM 2 data"]);
  assert.equal(uniqueSheetName(["LMM compare 1"], "LMM compare"), "LMM compare 2");
  // Excel's rules: at most 31 characters, none of \ / ? * [ ] :
  assert.equal(cleanSheetName("a/b:c?[d]"), "a b c d");
  const long = uniqueSheetNames([], "A very long model name that goes on", ["", " data"]);
  assert.ok(long.every((n) => n.length <= 31), JSON.stringify(long));
  assert.notEqual(long[0], long[1]);
});

test("addresses", () => {
  assert.equal(columnLetters(0), "A");
  assert.equal(columnLetters(25), "Z");
  assert.equal(columnLetters(26), "AA");
  assert.equal(columnLetters(16383), "XFD");
  assert.equal(rangeAddress(0, 0, 396, 4), "A1:D396");
  assert.equal(rangeAddress(4, 9, 1, 1), "J5");
  assert.equal(absoluteRef("Sheet1!A1:D396"), "Sheet1!$A$1:$D$396");
  assert.equal(absoluteRef("'My data'!B2:C9"), "'My data'!$B$2:$C$9");
  assert.equal(absoluteRef("'It''s'!A1"), "'It''s'!$A$1");
  assert.equal(quoteSheet("LMM 1"), "'LMM 1'");
  assert.equal(quoteSheet("A1"), "'A1'");
  assert.equal(quoteSheet("Sitka"), "Sitka");
});

test("row blocks: 20,000 rows to start, fewer for wide ranges, halved when Excel says the payload is too large", async () => {
  assert.equal(blockRows(4), 20000);
  assert.equal(blockRows(40), 5000);
  assert.equal(blockRows(16384), 50);
  assert.deepEqual(planBlocks(45000, 20000), [[0, 20000], [20000, 40000], [40000, 45000]]);
  assert.deepEqual(planBlocks(0, 20000), []);
  // a block that fails for its size is retried at half the size, and the rest keep that size
  const done: [number, number][] = [];
  const r = await forEachBlock(50000, 20000, async (s, e) => {
    if (e - s > 12000) throw Object.assign(new Error("too big"), { code: "ResponsePayloadSizeLimitExceeded" });
    done.push([s, e]);
  });
  assert.deepEqual(done, [[0, 10000], [10000, 20000], [20000, 30000], [30000, 40000], [40000, 50000]]);
  assert.equal(r.finalSize, 10000);
  // other errors are not retried; a cancel stops before the next block
  await assert.rejects(forEachBlock(10, 5, async () => { throw new Error("boom"); }), /boom/);
  const signal = { cancelled: false };
  let blocks = 0;
  await assert.rejects(forEachBlock(100, 10, async () => { if (++blocks === 3) signal.cancelled = true; }, { signal, what: "reading the data" }), (e: Error) => e.name === "CancelledError" && /reading the data was cancelled/.test(e.message));
  assert.equal(blocks, 3);
  assert.ok(isPayloadError({ code: "RequestPayloadSizeLimitExceeded" }));
  assert.ok(!isPayloadError(new Error("InvalidArgument")));
});

test("the header row: a title above the column names is skipped; data without names are left to the engine", () => {
  assert.deepEqual(findHeader([["size", "time"], [1, 2]]), { index: 0, skipped: 0, note: null });
  const titled = [["Sitka spruce growth", "", ""], ["", "", ""], ["size", "time", "tree"], [4.5, 152, 1]];
  assert.equal(findHeader(titled).index, 2);
  assert.match(findHeader(titled).note!, /2 rows above the column names skipped/);
  // a first row of numbers: no header found, the first row stays (the engine names the problem)
  assert.equal(findHeader([[1, 2], [3, 4]]).index, 0);
  // a header with a blank name is not skipped past
  assert.equal(findHeader([["size", "", "tree"], ["a", "b", "c"], [1, 2, 3]]).index, 0);
  // trailing blank columns do not hide the header
  assert.equal(findHeader([["Title", "", ""], ["y", "g", ""], [1, "a", ""]]).index, 1);
  assert.equal(usedLength([["y"], [1], [""], [null]]), 2);
});

test("number formats: one significant-digit rule", () => {
  // an estimate to 3 significant digits of its SE (R prints an estimate to its SE's precision)
  assert.equal(F.estimateFormat(2.121718, 0.1543922), "0.000");
  assert.equal(F.estimateFormat(0.014147, 0.000711), "0.000000");
  assert.equal(F.estimateFormat(-31.2, 15.3), "0.0");
  assert.equal(F.estimateFormat(1234.5, 250), "0");
  assert.equal(F.estimateFormat(3e-7, 2e-8), "0.000E+00");
  // an SE, a variance, an SD: 4 significant digits of itself
  assert.equal(F.sigFormat(0.1543922), "0.0000");
  assert.equal(F.sigFormat(0.04012), "0.00000");
  assert.equal(F.sigFormat(12.5), "0.00");
  assert.equal(F.sigFormat(3e-9), "0.000E+00");
  assert.equal(F.sigFormat(null), "General");
  // a column of fitted values: the median magnitude's 4 digits; whole numbers stay whole
  assert.equal(F.typicalFormat([4.51, 5.02, 6.3, 0.0001]), "0.000");
  assert.equal(F.typicalFormat([395, 79]), "0");
  assert.equal(F.typicalFormat(["a", null]), "General");
  assert.equal(F.PVALUE, '[<0.001]"< .001";0.000');
  assert.equal(F.dataFormat(["0.00", null], 0), "0.00");
  assert.equal(F.dataFormat(["0.00", null], 1), "General");
  assert.equal(F.fixed(3), "0.000");
  assert.deepEqual(F.tableFormats([["term", "Estimate"], ["time", 0.01]], [F.TEXT, "0.0000"]), [["@", "@"], ["@", "0.0000"]]);
});

test("summary sheet: the model, the fixed effects with R's labels, the lecture's Table 1", () => {
  const fit = fitSitka();
  const want = readJson<EngineFx[]>("test/fixtures/engine.json").find((f) => f.name === "sitka_ri_reml")!;
  const fx = fixefTable(fit, 0.95);
  assert.deepEqual(fx.rows[0], ["term", "Estimate", "Std. Error", "df", "t value", "Pr(>|t|)", "2.5 %", "97.5 %"]);
  assert.deepEqual(fx.formats[0], fx.rows[0].map(() => F.TEXT));
  const fxRow = (term: string) => fx.formats[fx.rows.findIndex((r) => r[0] === term)];
  // Estimate and CI to the SE's precision; SE 4 digits; df 0.0; t 0.00; p "< .001" or 0.000
  assert.deepEqual(fxRow("(Intercept)"), [F.TEXT, "0.000", "0.0000", "0.0", "0.00", F.PVALUE, "0.000", "0.000"]);
  for (const r of want.fixef) closeAbs(fx.rows.find((x) => x[0] === r.term)![1] as number, r.estimate, 1e-4 * r.se, r.term);
  const vc = varcompRows(fit, 0.95);
  assert.deepEqual(vc.rows[0], ["group", "effect", "variance", "sd", "sd_2.5", "sd_97.5", "var_prop"]);
  assert.equal(vc.rows[1][0], "tree");
  assert.equal(vc.rows[2][0], "Residual");
  closeAbs(vc.rows[1][6] as number, 0.908, 5e-4, "var_prop of tree (lecture: 0.908)");
  assert.deepEqual(ciLabels(0.9), ["5 %", "95 %"]);
  assert.deepEqual(sdLabels(0.99), ["sd_0.5", "sd_99.5"]);
  // The pane and =LMM.VARCOMP share one table: the bounds are named for the level asked.
  assert.deepEqual(varcompRows(fit, 0.9).rows[0].slice(4, 6), ["sd_5", "sd_95"]);
  const items = modelItems(fit, "Sheet1!A1:D396");
  assert.deepEqual(items.find((i) => i[0] === "groups: tree")!.slice(0, 2), ["groups: tree", 79]);
  closeAbs(items.find((i) => i[0] === "logLik (REML)")![1] as number, want.logLik, 1e-4, "logLik");

  const plan = summaryPlan(fit, { dataLabel: "Sheet1!A1:D396", dataRef: "Sheet1!$A$1:$D$396", live: false, level: 0.95, method: "REML", rCode: "library(lme4)" });
  assert.equal(plan.blocks.filter((b) => b.table).length, 0, "plain formatted blocks: no Excel tables, no filter buttons over short tables");
  const heading = (t: string) => plan.blocks.find((b) => b.values[0][0] === t)!.row;
  assert.equal(heading("Fixed effects"), 3);
  assert.ok(heading("Variance components") < 15, "the variance components are on the first screen");
  assert.ok(heading("Model") > heading("Variance components"));
  assert.ok(plan.blocks.filter((b) => b.header).length >= 2, "headers bold, over the number columns right-aligned");
  // the chart beside the model block, from column E (about 490 px from the left), not at J
  assert.match(plan.chartAnchor.from, /^E\d+$/);
  assert.equal(Number(plan.chartAnchor.from.slice(1)), heading("Model") + 1);
  for (const b of plan.blocks) {
    assert.ok(b.values.every((r) => r.length === b.values[0].length), "rectangular");
    if (b.formats) assert.deepEqual([b.formats.length, b.formats[0].length], [b.values.length, b.values[0].length], "a format per cell");
  }
  // blocks never overlap
  const cells = new Set<string>();
  for (const b of plan.blocks) b.values.forEach((r, i) => r.forEach((_, j) => {
    const k = `${b.row + i},${b.col + j}`;
    assert.ok(!cells.has(k), `cell ${k} written twice`);
    cells.add(k);
  }));
});

test("live summary: =LMM.FIT and =LMM.VARCOMP over the data, spec and method from cells, room kept for the spills", () => {
  const fit = fitSitka();
  const plan = summaryPlan(fit, { dataLabel: "Sheet1!A1:D396", dataRef: "Sheet1!$A$1:$D$396", live: true, level: 0.95, method: "REML", rCode: null });
  const formulas = plan.blocks.filter((b) => b.formulas).map((b) => String(b.values[0][0]));
  assert.deepEqual(formulas, ["=LMM.FIT(Sheet1!$A$1:$D$396,$B$5,$B$6)", "=LMM.VARCOMP(Sheet1!$A$1:$D$396,$B$5,$B$6,$B$7)"]);
  // $B$5 holds the spec, $B$6 the method, $B$7 the level
  const inputs = plan.blocks.find((b) => b.row === 4 && b.col === 0)!;
  assert.deepEqual(inputs.values.slice(0, 3).map((r) => r[1]), [fit.spec, "REML", 0.95]);
  assert.equal(plan.blocks.filter((b) => b.table).length, 0, "a spill cannot sit in an Excel table");
  // nothing written where the formulas spill, and the two spills do not meet
  const [a, b] = plan.reserved;
  assert.ok(a.col + a.ncol < b.col);
  for (const blk of plan.blocks) {
    if (blk.formulas) continue;
    for (const r of plan.reserved) {
      const overlap = blk.row <= r.row + r.nrow - 1 && r.row <= blk.row + blk.values.length - 1 && blk.col <= r.col + r.ncol - 1 && r.col <= blk.col + blk.values[0].length - 1;
      assert.ok(!overlap, `block at ${blk.row},${blk.col} is in the spill of ${r.what}`);
    }
  }
});

test("detail sheet: BLUPs with conditional SDs, fitted values per data row, chart series", () => {
  const fit = fitSitka();
  const rows = fs.readFileSync(path.join(ROOT, "assets/examples/sitka.csv"), "utf8").trim().split(/\n/).slice(1).map((l) => l.split(","));
  const f = fit.fitted!;
  const data = spaghettiData({
    time: Array.from(f.rows, (r) => Number(rows[r][1])),
    y: Array.from(f.conditional, (c, i) => c + f.residual[i]),
    group: Array.from(f.rows, (r) => rows[r][2]),
    marginal: f.marginal,
    factor: Array.from(f.rows, (r) => rows[r][3].replace(/"/g, "")),
    groupName: "tree",
  });
  const { plan, chart } = detailPlan(fit, { response: "size", responseFormat: "0.00", firstDataRow: 2, extras: [{ name: "tree", value: (r) => Number(rows[r][2]), format: F.TEXT }], chart: { data, response: "size", time: "time", timeFormat: "General", group: "tree", factor: "treat" } });
  const [blups, fitted, chartData] = plan.tables;
  assert.deepEqual(blups.header, ["tree", "(Intercept)", "cond. SD (Intercept)"]);
  assert.equal(blups.nrows, 79);
  assert.deepEqual(fitted.header, ["data row", "tree", "size", "fitted", "fitted (population)", "residual"]);
  assert.equal(fitted.nrows, 395);
  const first = fitted.slice(0, 1)[0];
  assert.equal(first[0], 2, "sheet row of the first data row");
  closeAbs(first[2] as number, 4.51, 1e-9, "response = fitted + residual");
  assert.equal(fitted.slice(390, 395).length, 5);
  assert.ok(blups.col + blups.header.length < fitted.col && fitted.col + fitted.header.length < chartData.col, "side by side with a gap");
  assert.equal(chartData.table, false);
  // 79 trees > 60: 60 drawn, said in the title; two population lines (control, ozone)
  assert.ok(chart);
  assert.equal(chart.series.filter((s) => s.kind === "group").length, 60);
  assert.deepEqual(chart.series.filter((s) => s.kind === "population").map((s) => s.name), ["control (fitted)", "ozone (fitted)"]);
  assert.equal(chart.title, "size over time by tree (60 of 79 shown)");
  assert.ok(chart.title.length < 60, "a short title");
  assert.equal(chart.series[0].x, rangeAddress(2, chartData.col, 5, 1));
  // the data keep their formats: the observed size as in the data, the fitted values 4 digits
  assert.equal(fitted.formats[2], "0.00");
  assert.equal(fitted.formats[3], "0.000");
  assert.equal(chartData.formats[0], "General");
  assert.ok(fitted.label && chartData.label && /Chart data/.test(chartData.label), "each table says what it is");
  assert.equal(plan.freezeRows, 2);
  // the legend names the two population lines; the axes hug the data (days 152-258, size)
  assert.deepEqual(chart.legend.map((k) => chart.series[k].name), ["control (fitted)", "ozone (fitted)"]);
  assert.deepEqual([chart.x.min, chart.x.max], [150, 260]);
  assert.ok(chart.y.min > 1 && chart.y.min <= Math.min(...data.rows.slice(1).flatMap((r) => r.slice(1).filter((v): v is number => typeof v === "number"))));
  // each group's line in a tint of its treatment's colour; the population lines differ in dash too
  const pop = chart.series.filter((s) => s.kind === "population");
  assert.notEqual(pop[0].dash, pop[1].dash);
  const ozoneTree = chart.series.findIndex((s, k) => s.kind === "group" && data.groupLevels[k] === "ozone");
  const controlTree = chart.series.findIndex((s, k) => s.kind === "group" && data.groupLevels[k] === "control");
  assert.notEqual(chart.series[ozoneTree].color, chart.series[controlTree].color);
  assert.notEqual(chart.series[ozoneTree].color, pop[1].color, "a lighter tint, not the same colour");
});

test("spaghetti data: all groups up to the limit, an even spread beyond it, population means per level and time", () => {
  assert.deepEqual(evenlySpaced(5, 10), [0, 1, 2, 3, 4]);
  assert.deepEqual(evenlySpaced(10, 3), [0, 5, 9]);
  const n = 200;
  const time = Array.from({ length: n }, (_, i) => i % 4);
  const group = Array.from({ length: n }, (_, i) => `g${Math.floor(i / 4)}`);
  const factor = group.map((g) => (Number(g.slice(1)) < 25 ? "a" : "b"));
  const d = spaghettiData({ time, y: time.map((t) => 2 * t), group, marginal: time.map((t, i) => t + (factor[i] === "a" ? 0 : 10)), factor, groupName: "g", maxGroups: 10 });
  assert.equal(d.groups.length, 10);
  assert.equal(d.totalGroups, 50);
  // both levels are represented in proportion
  assert.equal(d.groups.filter((g) => Number(g.slice(1)) < 25).length, 5);
  assert.deepEqual(d.times, [0, 1, 2, 3]);
  assert.deepEqual(d.rows[0].slice(-2), ["fitted: a", "fitted: b"]);
  assert.deepEqual(d.rows.slice(1).map((r) => r.slice(-2)), [[0, 10], [1, 11], [2, 12], [3, 13]]);
  assert.match(d.note!, /10 of 50 g groups shown/);
  const small = spaghettiData({ time, y: time, group, marginal: null, factor: null, groupName: "g" });
  assert.equal(small.note, null);
  assert.equal(small.groups.length, 50);
  assert.deepEqual(small.levels, []);
});

test("comparison sheet: the specs in cells and =LMM.LRT over them", () => {
  const specs = ["size ~ time + (1|tree)", "size ~ time + (time|tree)"];
  const res = compareModels(sitkaTable(), specs, { method: "REML" });
  const plan = comparisonPlan(specs, res, { dataLabel: "Sheet1!A1:D396", dataRef: "Sheet1!$A$1:$D$396", method: "REML" });
  const f = plan.blocks.find((b) => b.formulas)!;
  assert.equal(f.values[0][0], "=LMM.LRT(Sheet1!$A$1:$D$396,$B$9:$B$10,$B$5)");
  const specBlock = plan.blocks.find((b) => b.header)!;
  assert.deepEqual(specBlock.values.slice(1).map((r) => r[1]), specs);
  assert.equal(specBlock.row + 1, 8, "specs in B9:B10");
  assert.equal(plan.blocks.find((b) => b.row === 3)!.values[1][1], "REML", "method in B5");
  // a test refitted by ML says so beside the method
  const refit = comparisonPlan(specs, res, { dataLabel: "d", dataRef: "d", method: "REML", refitML: true });
  assert.match(String(refit.blocks.find((b) => b.row === 3)!.values[1][2]), /refitted the models by ML/);
  assert.equal(plan.reserved[0].nrow >= 3, true);
});

test("table headers are distinct; residual parameters in words", () => {
  assert.deepEqual(uniqueHeaders(["a", "A", "", "b"]), ["a", "A (2)", "column 3", "b"]);
  const [line] = residualText({ type: "AR1", group: "tree", time: "time", params: { phi: 0.84112, varIdent: [1, 1.0746], varIdent_levels: ["control", "ozone"] } });
  assert.equal(line, "AR1 within tree by time: phi = 0.8411; SD ratios control: 1, ozone: 1.075");
});

test("a Type III table when the engine adds one (the layout leaves room; the numbers are the engine's)", () => {
  const fit = fitSitka();
  const withAnova = { ...fit, anova: { type: 3, ddf: "Satterthwaite", rows: [{ term: "time", "Sum Sq": 35.2, "Mean Sq": 35.2, NumDF: 1, DenDF: 314, "F value": 937.9, "Pr(>F)": 1e-90 }] } };
  const plan = summaryPlan(withAnova, { dataLabel: "d", dataRef: "d", live: false, level: 0.95, method: "REML", rCode: null });
  const head = plan.blocks.find((b) => /^Type III tests/.test(String(b.values[0][0])))!;
  assert.ok(head, "a Type III heading");
  const t = plan.blocks.find((b) => b.row === head.row + 1)!;
  assert.deepEqual(t.values[0], ["term", "Sum Sq", "Mean Sq", "NumDF", "DenDF", "F value", "Pr(>F)"]);
  assert.equal(t.formats![1][6], F.PVALUE);
  assert.equal(summaryPlan(fit, { dataLabel: "d", dataRef: "d", live: false, level: 0.95, method: "REML", rCode: null }).blocks.some((b) => /^Type (3|III)/.test(String(b.values[0][0]))), false);
});
