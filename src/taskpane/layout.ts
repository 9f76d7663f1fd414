// What the pane writes, as plain data: blocks of cells at fixed places with their number
// formats, which blocks become Excel tables, where live formulas spill, tall tables written in
// row blocks, and the chart's series. No Office.js here; excel-io.ts carries these plans out.
//
// Summary sheet ("LMM k"): title and spec, the model summary, the fixed effects (R's labels), the
// variance components (the lecture's Table 1) and the R call -- or, live, the spec and method in
// cells and =LMM.FIT / =LMM.VARCOMP over the data. Detail sheet ("LMM k data"): BLUPs per
// grouping factor with conditional SDs, fitted values and residuals per data row, and the
// chart's data. Comparison sheet ("LMM compare k"): the specs and =LMM.LRT.
import type { FitResultWithRows, LrtResult, Method, ResidualResult } from "../engine/types";
import { blupHeader, blupRow, ciLabels, fitTable, lrtTable, sdLabels, varcompTable } from "../functions/format";
import * as F from "./formats";
import { absoluteRef, cellAddress, rangeAddress } from "./naming";
import { SpaghettiData, chartTitle } from "./chart";

export type Cell = string | number | boolean;
export type Style = "title" | "subtitle" | "heading" | "note" | "code" | "label";

/** A rectangle of cells. */
export interface CellBlock {
  /** 0-based top-left cell. */
  row: number;
  col: number;
  values: Cell[][];
  /** Number formats, same shape as values. */
  formats?: string[][];
  /** Make the block an Excel table (its first row holds the headers). */
  table?: boolean;
  /** The values are formulas. */
  formulas?: boolean;
  style?: Style;
}

/** Room kept free for a formula's spill. */
export interface Reserved {
  row: number;
  col: number;
  nrow: number;
  ncol: number;
  what: string;
}

export interface SheetPlan {
  blocks: CellBlock[];
  reserved: Reserved[];
  /** Column widths in points, by 0-based column. */
  widths: Record<number, number>;
  /** Where a chart may go: top-left and bottom-right cells. */
  chartAnchor: { from: string; to: string };
}

/** A table too tall for one request: written in row blocks. */
export interface TallTable {
  what: string;
  /** 0-based row of the header and column of the first column. */
  row: number;
  col: number;
  header: string[];
  nrows: number;
  /** Number format per column. */
  formats: string[];
  /** Data rows [start, end). */
  slice(start: number, end: number): Cell[][];
  /** Make it an Excel table. */
  table: boolean;
}

export interface DetailPlan {
  tables: TallTable[];
  widths: Record<number, number>;
  freezeRows: number;
}

export interface ChartSeries {
  name: string;
  /** Ranges on the detail sheet (no sheet name). */
  x: string;
  y: string;
  kind: "group" | "population";
}

export interface ChartPlan {
  title: string;
  xTitle: string;
  yTitle: string;
  series: ChartSeries[];
  note: string | null;
}

/** The detail sheet's part of a fit's output. */
export interface DetailOutput {
  detail: DetailPlan;
  chart: ChartPlan | null;
  /** Why there is no chart when one was asked for. */
  chartSkipped?: string | null;
}

export interface FitOutput extends DetailOutput {
  /** Stem of the sheet names: "LMM" -> "LMM 1" and "LMM 1 data". */
  base: string;
  summary: SheetPlan;
}

/**
 * The same, with the detail planned only once the summary is written: on a million rows the
 * chart data and the detail plan take a moment, and the estimates should not wait for them.
 */
export interface StagedFitOutput {
  base: string;
  summary: SheetPlan;
  details(): Promise<DetailOutput>;
}

const POINTS_PER_CHAR = 7;

/** Excel table headers must be distinct non-blank text; make them so ("x", "x (2)"). */
export function uniqueHeaders(names: string[]): string[] {
  const seen = new Set<string>();
  return names.map((raw, j) => {
    const base = String(raw).trim() || `column ${j + 1}`;
    let name = base;
    for (let k = 2; seen.has(name.toLowerCase()); k++) name = `${base} (${k})`;
    seen.add(name.toLowerCase());
    return name;
  });
}

const num = (x: number | null | undefined): Cell => (x === null || x === undefined || !Number.isFinite(x) ? "" : x);

export { ciLabels, sdLabels };

function sig(x: number, digits = 4): string {
  if (!Number.isFinite(x)) return String(x);
  return Number(x.toPrecision(digits)).toString();
}

/** The residual structure's parameters in words: "AR1 within tree by time: phi = 0.8411". */
export function residualText(r: ResidualResult): string[] {
  const out: string[] = [];
  const head = `${r.type}${r.group ? ` within ${r.group}` : ""}${r.time ? ` by ${r.time}` : ""}`;
  const parts: string[] = [];
  const p = r.params;
  const levels = Array.isArray(p.varIdent_levels) ? (p.varIdent_levels as string[]) : null;
  for (const [k, v] of Object.entries(p)) {
    if (k === "varIdent_levels") continue;
    if (typeof v === "number") parts.push(`${k} = ${sig(v)}`);
    else if (Array.isArray(v) && v.every((x) => typeof x === "number")) {
      const xs = v as number[];
      if (k === "varIdent" && levels) parts.push(`SD ratios ${levels.map((l, i) => `${l}: ${sig(xs[i])}`).join(", ")}`);
      else parts.push(`${k} = ${xs.map((x) => sig(x)).join(", ")}`);
    } else if (Array.isArray(v) && v.every((x) => Array.isArray(x))) {
      parts.push(`${k} = [${(v as number[][]).map((row) => row.map((x) => sig(x, 3)).join(" ")).join("; ")}]`);
    }
  }
  out.push(parts.length ? `${head}: ${parts.join("; ")}` : head);
  return out;
}

/** The model summary as [item, value, number format] rows. */
export function modelItems(fit: FitResultWithRows, dataLabel: string): [string, Cell, string][] {
  const items: [string, Cell, string][] = [
    ["spec", fit.spec, F.TEXT],
    ["data", dataLabel, F.TEXT],
    ["method", fit.method, F.TEXT],
    ["observations used", fit.n, F.INTEGER],
    ["rows dropped (missing values)", fit.n_dropped, F.INTEGER],
  ];
  for (const [g, k] of Object.entries(fit.groups)) items.push([`groups: ${g}`, k, F.INTEGER]);
  items.push(
    [fit.method === "REML" ? "logLik (REML)" : "logLik", num(fit.logLik), F.fixed(4)],
    ["df (parameters)", fit.df, F.INTEGER],
    ["AIC", num(fit.AIC), F.fixed(4)],
    ["BIC", num(fit.BIC), F.fixed(4)],
    ["sigma (residual SD)", num(fit.sigma), F.numberFormatFor([fit.sigma])],
    ["converged", fit.converged ? "yes" : "NO: see the notes", F.TEXT],
    ["singular (boundary) fit", fit.singular ? "yes: see the variance components" : "no", F.TEXT],
  );
  if (fit.residual) for (const line of residualText(fit.residual)) items.push(["residual structure", line, F.TEXT]);
  if (fit.icc !== undefined && fit.icc !== null) items.push(["intra-class correlation", num(fit.icc), F.fixed(4)]);
  for (const m of fit.messages) items.push(["note", m, F.TEXT]);
  return items;
}

/** The fixed-effects table with R's labels (lmerTest's summary plus confint). */
export function fixefTable(fit: FitResultWithRows, level: number): { rows: Cell[][]; formats: string[] } {
  const [lo, hi] = ciLabels(level);
  const rows: Cell[][] = [["term", "Estimate", "Std. Error", "df", "t value", "Pr(>|t|)", lo, hi]];
  for (const r of fit.fixef) rows.push([r.term, num(r.estimate), num(r.se), num(r.df), num(r.t), num(r.p), num(r.lower), num(r.upper)]);
  const est = F.numberFormatFor(fit.fixef.flatMap((r) => [r.estimate, r.lower, r.upper]));
  const se = F.numberFormatFor(fit.fixef.map((r) => r.se));
  return { rows, formats: [F.TEXT, est, se, F.fixed(1), F.fixed(3), F.PVALUE, est, est] };
}

/** The variance components as the lecture's Table 1 (+ corr when the model has correlations). */
export function varcompRows(fit: FitResultWithRows, level: number): { rows: Cell[][]; formats: string[] } {
  const rows = varcompTable(fit, level);
  const hasCorr = rows[0].length > 7;
  const v = F.numberFormatFor(fit.varcomp.map((r) => r.variance));
  const s = F.numberFormatFor(fit.varcomp.flatMap((r) => (r.effect2 === null ? [r.sd, r.sd_lower, r.sd_upper] : [])));
  const formats = [F.TEXT, F.TEXT, v, s, s, s, F.fixed(3)];
  if (hasCorr) formats.push(F.fixed(3));
  return { rows, formats };
}

export interface SummaryContext {
  /** The data as the user sees it ("Sheet1!A1:D396"). */
  dataLabel: string;
  /** What formulas use for the data: an absolute address or a table reference. */
  dataRef: string;
  live: boolean;
  level: number;
  method: Method;
  rCode: string | null;
}

function block(row: number, col: number, values: Cell[][], opts: Partial<CellBlock> = {}): CellBlock {
  return { row, col, values, ...opts };
}

function tableBlock(row: number, col: number, rows: Cell[][], columnFormats: string[]): CellBlock {
  return { row, col, values: rows, formats: F.tableFormats(rows, columnFormats), table: true };
}

/** Live formulas over the data: the spec and the method come from cells on the sheet. */
export function liveFormula(fn: "FIT" | "VARCOMP", dataRef: string, specCell: string, methodCell: string, levelCell?: string): string {
  const args = [dataRef, specCell, methodCell];
  if (fn === "VARCOMP" && levelCell) args.push(levelCell);
  return `=LMM.${fn}(${args.join(",")})`;
}

export function summaryPlan(fit: FitResultWithRows, ctx: SummaryContext): SheetPlan {
  const blocks: CellBlock[] = [];
  const reserved: Reserved[] = [];
  blocks.push(block(0, 0, [["Linear mixed model"]], { style: "title", formats: [[F.TEXT]] }));
  blocks.push(block(1, 0, [[fit.spec]], { style: "subtitle", formats: [[F.TEXT]] }));
  const widths: Record<number, number> = { 0: 26 * POINTS_PER_CHAR };
  for (let c = 1; c <= 17; c++) widths[c] = 12 * POINTS_PER_CHAR;
  if (!ctx.live) {
    let row = 3;
    const items = modelItems(fit, ctx.dataLabel);
    blocks.push(block(row, 0, [["Model"]], { style: "heading" }));
    const modelRows: Cell[][] = [["item", "value"], ...items.map(([k, v]) => [k, v])];
    blocks.push({ row: row + 1, col: 0, values: modelRows, formats: [[F.TEXT, F.TEXT], ...items.map(([, , f]) => [F.TEXT, f])], table: true });
    row += 1 + modelRows.length + 1;
    const fx = fixefTable(fit, ctx.level);
    blocks.push(block(row, 0, [["Fixed effects"]], { style: "heading" }));
    blocks.push(tableBlock(row + 1, 0, fx.rows, fx.formats));
    row += 1 + fx.rows.length + 1;
    const vc = varcompRows(fit, ctx.level);
    blocks.push(block(row, 0, [["Variance components"]], { style: "heading" }));
    blocks.push(tableBlock(row + 1, 0, vc.rows, vc.formats));
    row += 1 + vc.rows.length + 1;
    if (ctx.rCode) {
      const lines = ctx.rCode.split("\n");
      blocks.push(block(row, 0, [["The same model in R"]], { style: "heading" }));
      blocks.push(block(row + 1, 0, lines.map((l) => [l]), { style: "code", formats: lines.map(() => [F.TEXT]) }));
    }
    return { blocks, reserved, widths, chartAnchor: { from: "J4", to: "T28" } };
  }
  // Live: the inputs in cells, the tables as formulas that recalculate when the data change.
  const inputs: [string, Cell, string][] = [
    ["spec", fit.spec, F.TEXT],
    ["method", ctx.method, F.TEXT],
    ["level", ctx.level, F.fixed(2)],
    ["data", ctx.dataLabel, F.TEXT],
  ];
  blocks.push(block(3, 0, [["Inputs (edit the spec or the method: the tables below recalculate)"]], { style: "heading" }));
  blocks.push(block(4, 0, inputs.map(([k, v]) => [k, v]), { formats: inputs.map(([, , f]) => [F.TEXT, f]), style: "label" }));
  const specCell = "$B$5", methodCell = "$B$6", levelCell = "$B$7";
  const top = 4 + inputs.length + 1;
  const fitDims = fitTable(fit);
  const vcDims = varcompTable(fit);
  const vcCol = fitDims[0].length + 1;
  blocks.push(block(top, 0, [["Fixed effects and fit (=LMM.FIT)"]], { style: "heading" }));
  blocks.push(block(top + 1, 0, [[liveFormula("FIT", ctx.dataRef, specCell, methodCell)]], { formulas: true }));
  reserved.push({ row: top + 1, col: 0, nrow: fitDims.length, ncol: fitDims[0].length, what: "LMM.FIT" });
  blocks.push(block(top, vcCol, [["Variance components (=LMM.VARCOMP)"]], { style: "heading" }));
  blocks.push(block(top + 1, vcCol, [[liveFormula("VARCOMP", ctx.dataRef, specCell, methodCell, levelCell)]], { formulas: true }));
  reserved.push({ row: top + 1, col: vcCol, nrow: vcDims.length, ncol: vcDims[0].length, what: "LMM.VARCOMP" });
  const chartCol = vcCol + vcDims[0].length + 1;
  return { blocks, reserved, widths, chartAnchor: { from: cellAddress(3, chartCol), to: cellAddress(27, chartCol + 10) } };
}

// ---------------------------------------------------------------------------------------------
// Detail sheet

export interface DetailContext {
  /** Label of the response column in the fitted table. */
  response: string;
  /** 1-based sheet row of the first data row (the header row + 1). */
  firstDataRow: number;
  /** Columns of the data copied beside the fitted values (e.g. the group and the time). */
  extras: { name: string; value: (dataRow: number) => Cell; format: string }[];
  chart: { data: SpaghettiData; response: string; time: string; group: string; factor: string | null } | null;
}

export function detailPlan(fit: FitResultWithRows, ctx: DetailContext): { plan: DetailPlan; chart: ChartPlan | null } {
  const tables: TallTable[] = [];
  const widths: Record<number, number> = {};
  let col = 0;
  for (const [g, t] of Object.entries(fit.blups)) {
    const header = uniqueHeaders(blupHeader(g, t));
    const formats = [F.TEXT, ...t.effects.flatMap((_, j) => [F.numberFormatFor(t.values.map((r) => r[j])), F.numberFormatFor(t.se.map((r) => r[j]))])];
    tables.push({
      what: `BLUPs of ${g}`,
      row: 0,
      col,
      header,
      nrows: t.levels.length,
      formats,
      table: true,
      slice: (s, e) => {
        const out: Cell[][] = [];
        for (let i = s; i < e; i++) out.push(blupRow(t, i));
        return out;
      },
    });
    header.forEach((_, j) => (widths[col + j] = (j === 0 ? 12 : 14) * POINTS_PER_CHAR));
    col += header.length + 1;
  }
  let chart: ChartPlan | null = null;
  const f = fit.fitted;
  if (f) {
    const header = uniqueHeaders(["data row", ...ctx.extras.map((x) => x.name), ctx.response, "fitted", "fitted (population)", "residual"]);
    const y = new Float64Array(f.rows.length);
    for (let i = 0; i < y.length; i++) y[i] = f.conditional[i] + f.residual[i];
    const yFmt = F.numberFormatFor(y.subarray(0, 5000));
    const formats = [F.INTEGER, ...ctx.extras.map((x) => x.format), yFmt, yFmt, yFmt, F.numberFormatFor(f.residual.slice(0, 5000))];
    tables.push({
      what: "fitted values",
      row: 0,
      col,
      header,
      nrows: f.rows.length,
      formats,
      table: true,
      slice: (s, e) => {
        const out: Cell[][] = [];
        for (let i = s; i < e; i++) {
          const r = f.rows[i];
          out.push([ctx.firstDataRow + r, ...ctx.extras.map((x) => x.value(r)), num(y[i]), num(f.conditional[i]), num(f.marginal[i]), num(f.residual[i])]);
        }
        return out;
      },
    });
    header.forEach((_, j) => (widths[col + j] = 13 * POINTS_PER_CHAR));
    col += header.length + 1;
    if (ctx.chart) {
      const d = ctx.chart.data;
      const at = { row: 0, col };
      const width = d.rows[0].length;
      tables.push({
        what: "chart data",
        row: at.row,
        col: at.col,
        header: d.rows[0].map(String),
        nrows: d.rows.length - 1,
        formats: d.rows[0].map((_, j) => (j === 0 ? F.numberFormatFor(d.times) : yFmt)),
        table: false,
        slice: (s, e) => d.rows.slice(1 + s, 1 + e),
      });
      const nt = d.times.length;
      const series: ChartSeries[] = [];
      for (let j = 1; j < width; j++) {
        series.push({
          name: String(d.rows[0][j]),
          x: rangeAddress(at.row + 1, at.col, nt, 1),
          y: rangeAddress(at.row + 1, at.col + j, nt, 1),
          kind: j <= d.groups.length ? "group" : "population",
        });
      }
      chart = {
        title: chartTitle(ctx.chart.response, ctx.chart.time, d, ctx.chart.group, ctx.chart.factor),
        xTitle: ctx.chart.time,
        yTitle: ctx.chart.response,
        series,
        note: d.note,
      };
    }
  }
  return { plan: { tables, widths, freezeRows: 1 }, chart };
}

// ---------------------------------------------------------------------------------------------
// Comparison sheet

export interface CompareContext {
  dataLabel: string;
  dataRef: string;
  method: Method;
}

export function comparisonPlan(specs: string[], res: LrtResult, ctx: CompareContext): SheetPlan {
  const blocks: CellBlock[] = [];
  const reserved: Reserved[] = [];
  blocks.push(block(0, 0, [["Likelihood-ratio tests"]], { style: "title" }));
  blocks.push(block(1, 0, [["p (chi-bar-square): the mixture p-value where the null hypothesis puts a variance on the boundary (0)"]], { style: "note", formats: [[F.TEXT]] }));
  blocks.push(block(3, 0, [["data", ctx.dataLabel], ["method", ctx.method]], { formats: [[F.TEXT, F.TEXT], [F.TEXT, F.TEXT]], style: "label" }));
  blocks.push(block(6, 0, [["Models"]], { style: "heading" }));
  const specRows: Cell[][] = [["model", "spec"], ...specs.map((s, i) => [i + 1, s])];
  blocks.push({ row: 7, col: 0, values: specRows, formats: specRows.map((r, i) => (i === 0 ? [F.TEXT, F.TEXT] : [F.INTEGER, F.TEXT])), table: true });
  const specRange = absoluteRef(rangeAddress(8, 1, specs.length, 1));
  const top = 8 + specs.length + 1;
  blocks.push(block(top, 0, [["Test (=LMM.LRT)"]], { style: "heading" }));
  blocks.push(block(top + 1, 0, [[`=LMM.LRT(${ctx.dataRef},${specRange},$B$5)`]], { formulas: true }));
  const dims = lrtTable(res);
  reserved.push({ row: top + 1, col: 0, nrow: dims.length, ncol: dims[0].length, what: "LMM.LRT" });
  const widths: Record<number, number> = { 0: 40 * POINTS_PER_CHAR };
  for (let c = 1; c < 10; c++) widths[c] = 12 * POINTS_PER_CHAR;
  return { blocks, reserved, widths, chartAnchor: { from: "L2", to: "T20" } };
}

/** Absolute reference to the data for formulas: tables by name, ranges as $A$1 addresses. */
export function dataRefFor(address: string, table: string | null): string {
  return table ? `${table}[[#Headers],[#Data]]` : absoluteRef(address);
}
