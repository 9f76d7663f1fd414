// What the pane writes, as plain data: blocks of cells at fixed places with their number
// formats, which blocks become Excel tables, where live formulas spill, tall tables written in
// row blocks, and the chart's series. No Office.js here; excel-io.ts carries these plans out.
//
// Summary sheet ("LMM k"): title and spec, the model summary, the fixed effects (R's labels), the
// variance components (the lecture's Table 1) and the R call -- or, live, the spec and method in
// cells and =LMM.FIT / =LMM.VARCOMP over the data. Detail sheet ("LMM k data"): BLUPs per
// grouping factor with conditional SDs, fitted values and residuals per data row, and the
// chart's data. Comparison sheet ("LMM compare k"): the specs and =LMM.LRT.
import type { AnovaResult, FitResultWithRows, LrtResult, Method, ResidualResult } from "../engine/types";
import { anovaTable as liveAnovaTable } from "../functions/anova-format";
import { blupHeader, blupRow, ciLabels, fitTable, lrtTable, sdLabels, varcompTable } from "../functions/format";
import * as F from "./formats";
import { absoluteRef, cellAddress, rangeAddress } from "./naming";
import { AxisBounds, SpaghettiData, chartTitle, niceBounds, seriesStyle } from "./chart";
import type { FactorMeans } from "../engine/inference/summary";
import { MeansChart, meansSection } from "./means";

export type Cell = string | number | boolean;
export type Style = "title" | "subtitle" | "heading" | "note" | "code" | "label" | "header";

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
  /**
   * The first row is a column header: bold with a rule under it, right-aligned above the
   * number columns (those from `textColumns` on). A plain block reads better than an Excel
   * table for a few rows: no filter buttons over the headers.
   */
  header?: { textColumns: number };
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
  /** Where a chart may go: top-left and bottom-right cells (on screen: left of column J, near the top). */
  chartAnchor: { from: string; to: string };
  /** Charts of the marginal means, their data on the same sheet (means.ts). */
  meansCharts?: MeansChart[];
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
  /** A line above the header saying what the table is (row - 1). */
  label?: string;
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
  /** Line colour "#RRGGBB", weight in points, Excel's line style ("Continuous", "Dash", ...). */
  color: string;
  weight: number;
  dash: string;
}

export interface ChartPlan {
  title: string;
  xTitle: string;
  yTitle: string;
  series: ChartSeries[];
  /** Axis bounds from the data (Excel would start an axis at 0). */
  x: AxisBounds;
  y: AxisBounds;
  /** Series (by index) that the legend names: the population lines; none = no legend. */
  legend: number[];
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
    ["data", dataLabel, F.TEXT],
    ["method", fit.method, F.TEXT],
    ["observations used", fit.n, F.INTEGER],
    ["rows dropped (missing)", fit.n_dropped, F.INTEGER],
  ];
  for (const [g, k] of Object.entries(fit.groups)) items.push([`groups: ${g}`, k, F.INTEGER]);
  items.push(
    [fit.method === "REML" ? "logLik (REML)" : "logLik", num(fit.logLik), F.CRITERION],
    ["df (parameters)", fit.df, F.INTEGER],
    ["AIC", num(fit.AIC), F.CRITERION],
    ["BIC", num(fit.BIC), F.CRITERION],
    ["sigma (residual SD)", num(fit.sigma), F.sigFormat(fit.sigma)],
  );
  const r2 = r2Of(fit);
  if (r2) items.push(["R² marginal (fixed)", num(r2.marginal), F.fixed(3)], ["R² conditional", num(r2.conditional), F.fixed(3)]);
  if (fit.icc !== undefined && fit.icc !== null) items.push(["intra-class correlation", num(fit.icc), F.fixed(3)]);
  items.push(
    ["converged", fit.converged ? "yes" : "NO: see the notes", F.TEXT],
    ["singular (boundary) fit", fit.singular ? "yes: see the variance components" : "no", F.TEXT],
  );
  return items;
}

/** Long lines that belong under the tables, not beside the chart: the residual structure, the notes. */
export function noteItems(fit: FitResultWithRows): [string, string][] {
  const out: [string, string][] = [];
  if (fit.residual) for (const line of residualText(fit.residual)) out.push(["residual structure", line]);
  for (const m of fit.messages) out.push(["note", m]);
  return out;
}

/** R² (Nakagawa) when the engine reports it (another part adds `r2` to the result). */
export function r2Of(fit: object): { marginal: number; conditional: number } | null {
  const r2 = (fit as { r2?: { marginal?: unknown; conditional?: unknown } | null }).r2;
  return r2 && typeof r2.marginal === "number" && typeof r2.conditional === "number" ? { marginal: r2.marginal, conditional: r2.conditional } : null;
}

/** Cell formats of a table: header text, then per row (the estimate's decimals come from its own SE). */
export interface CellTable {
  rows: Cell[][];
  formats: string[][];
}

/** The fixed-effects table with R's labels (lmerTest's summary plus confint). */
export function fixefTable(fit: FitResultWithRows, level: number): CellTable {
  const [lo, hi] = ciLabels(level);
  const rows: Cell[][] = [["term", "Estimate", "Std. Error", "df", "t value", "Pr(>|t|)", lo, hi]];
  const formats: string[][] = [rows[0].map(() => F.TEXT)];
  for (const r of fit.fixef) {
    const row: Cell[] = [r.term, num(r.estimate), num(r.se), num(r.df), num(r.t), num(r.p), num(r.lower), num(r.upper)];
    const est = F.estimateFormat(r.estimate, r.se);
    rows.push(row);
    formats.push(row.map((v, j) => F.cellFormat(v, [F.TEXT, est, F.sigFormat(r.se), F.DF, F.TSTAT, F.PVALUE, est, est][j])));
  }
  return { rows, formats };
}

/** The variance components as the lecture's Table 1 (+ corr when the model has correlations). */
export function varcompRows(fit: FitResultWithRows, level: number): CellTable {
  const rows = varcompTable(fit, level);
  const hasCorr = rows[0].length > 7;
  const formats: string[][] = [rows[0].map(() => F.TEXT)];
  rows.slice(1).forEach((row, i) => {
    const r = fit.varcomp[i];
    // An SD and its interval to the SD's precision; a correlation row's interval to 3 decimals.
    const sd = r && r.effect2 === null ? F.sigFormat(r.sd) : F.fixed(3);
    const fm = [F.TEXT, F.TEXT, F.sigFormat(r?.variance), sd, sd, sd, F.fixed(3)];
    if (hasCorr) fm.push(F.fixed(3));
    formats.push(row.map((v, j) => F.cellFormat(v, fm[j])));
  });
  return { rows, formats };
}

/** The Type III table when the engine adds one (`anova`: lmerTest's anova(fit, type = 3)), else null. */
export function anovaTable(fit: object): (CellTable & { title: string }) | null {
  const a = (fit as { anova?: { type?: number; ddf?: string; rows?: Record<string, unknown>[] } | null }).anova;
  if (!a || !Array.isArray(a.rows) || a.rows.length === 0) return null;
  const keys = ["Sum Sq", "Mean Sq", "NumDF", "DenDF", "F value", "Pr(>F)"];
  const rows: Cell[][] = [["term", ...keys]];
  const formats: string[][] = [rows[0].map(() => F.TEXT)];
  for (const r of a.rows) {
    const vals = keys.map((k) => (typeof r[k] === "number" ? num(r[k] as number) : ""));
    const row: Cell[] = [String(r.term ?? ""), ...vals];
    const fm = [F.TEXT, F.sigFormat(r["Sum Sq"] as number), F.sigFormat(r["Mean Sq"] as number), F.INTEGER, F.DF, F.TSTAT, F.PVALUE];
    rows.push(row);
    formats.push(row.map((v, j) => F.cellFormat(v, fm[j])));
  }
  const title = `Type ${["I", "II", "III"][(a.type ?? 3) - 1] ?? a.type} tests of the fixed effects (F, ${a.ddf ?? "Satterthwaite"} df)`;
  return { rows, formats, title };
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

function headed(row: number, col: number, t: CellTable, textColumns: number): CellBlock {
  return { row, col, values: t.rows, formats: t.formats, header: { textColumns } };
}

/** Live formulas over the data: the spec and the method come from cells on the sheet. */
export function liveFormula(fn: "FIT" | "VARCOMP", dataRef: string, specCell: string, methodCell: string, levelCell?: string): string {
  const args = [dataRef, specCell, methodCell];
  if (fn === "VARCOMP" && levelCell) args.push(levelCell);
  return `=LMM.${fn}(${args.join(",")})`;
}

/** Column widths of the summary sheet, in points: labels in A, numbers in B on. */
export const SUMMARY_WIDTHS = { label: 23 * POINTS_PER_CHAR, number: 10 * POINTS_PER_CHAR };
/**
 * Rows the chart spans, and its columns: E to I, so it starts about 490 px from the left and
 * ends before 960 px (on a laptop screen beside the task pane).
 */
const CHART_ROWS = 17;
const CHART_COL = 4;
const CHART_COLS = 5;

export function summaryPlan(fit: FitResultWithRows, ctx: SummaryContext): SheetPlan {
  const blocks: CellBlock[] = [];
  const reserved: Reserved[] = [];
  blocks.push(block(0, 0, [["Linear mixed model"]], { style: "title", formats: [[F.TEXT]] }));
  blocks.push(block(1, 0, [[fit.spec]], { style: "subtitle", formats: [[F.TEXT]] }));
  const longest = Math.max(0, ...fit.fixef.map((r) => r.term.length), ...fit.varcomp.map((r) => r.group.length));
  const widths: Record<number, number> = { 0: Math.max(SUMMARY_WIDTHS.label, Math.min(60, longest + 2) * POINTS_PER_CHAR) };
  for (let c = 1; c <= 12; c++) widths[c] = SUMMARY_WIDTHS.number;
  if (!ctx.live) {
    // What a reader looks for first, at the top: the estimates and tests, the variance
    // components; then the fit (logLik, AIC, ...) with the chart beside it; then the notes.
    let row = 3;
    const fx = fixefTable(fit, ctx.level);
    blocks.push(block(row, 0, [["Fixed effects"]], { style: "heading" }));
    blocks.push(headed(row + 1, 0, fx, 1));
    row += 1 + fx.rows.length + 1;
    const aov = anovaTable(fit);
    if (aov) {
      blocks.push(block(row, 0, [[aov.title]], { style: "heading" }));
      blocks.push(headed(row + 1, 0, aov, 1));
      row += 1 + aov.rows.length + 1;
    }
    const vc = varcompRows(fit, ctx.level);
    blocks.push(block(row, 0, [["Variance components"]], { style: "heading" }));
    blocks.push(headed(row + 1, 0, vc, 2));
    row += 1 + vc.rows.length + 1;
    const items = modelItems(fit, ctx.dataLabel);
    blocks.push(block(row, 0, [["Model"]], { style: "heading" }));
    const modelTop = row;
    blocks.push({ row: row + 1, col: 0, values: items.map(([k, v]) => [k, v]), formats: items.map(([, , f]) => [F.TEXT, f]), style: "label" });
    row += 1 + items.length + 1;
    const chartAnchor = { from: cellAddress(modelTop, CHART_COL), to: cellAddress(modelTop + CHART_ROWS - 1, CHART_COL + CHART_COLS - 1) };
    row = Math.max(row, modelTop + CHART_ROWS + 1);
    const notes = noteItems(fit);
    if (notes.length) {
      blocks.push(block(row, 0, [["Notes"]], { style: "heading" }));
      blocks.push({ row: row + 1, col: 0, values: notes, formats: notes.map(() => [F.TEXT, F.TEXT]), style: "label" });
      row += 1 + notes.length + 1;
    }
    // The means of the factors with their charts, when the worker computed them (a summary job: means.ts).
    const means = (fit as { means?: FactorMeans[] }).means;
    let meansCharts: MeansChart[] | undefined;
    if (means && means.length) {
      const sec = meansSection(means, row, fit.spec.split("~")[0].trim() || "response");
      blocks.push(...sec.blocks);
      Object.assign(widths, sec.widths);
      meansCharts = sec.charts;
      row = sec.nextRow;
    }
    if (ctx.rCode) {
      const lines = ctx.rCode.split("\n");
      blocks.push(block(row, 0, [["The same model in R (every number above)"]], { style: "heading" }));
      blocks.push(block(row + 1, 0, lines.map((l) => [l]), { style: "code", formats: lines.map(() => [F.TEXT]) }));
    }
    return { blocks, reserved, widths, chartAnchor, ...(meansCharts ? { meansCharts } : {}) };
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
  // Kenward-Roger chosen in the pane: the live formulas ask for it too.
  const kr = fit.ddf === "Kenward-Roger";
  const fitFormula = liveFormula("FIT", ctx.dataRef, specCell, methodCell);
  blocks.push(block(top, 0, [["Fixed effects and fit (=LMM.FIT)"]], { style: "heading" }));
  blocks.push(block(top + 1, 0, [[kr ? fitFormula.replace(/\)$/, ',"kr")') : fitFormula]], { formulas: true }));
  reserved.push({ row: top + 1, col: 0, nrow: fitDims.length, ncol: fitDims[0].length, what: "LMM.FIT" });
  blocks.push(block(top, vcCol, [["Variance components (=LMM.VARCOMP)"]], { style: "heading" }));
  blocks.push(block(top + 1, vcCol, [[liveFormula("VARCOMP", ctx.dataRef, specCell, methodCell, levelCell)]], { formulas: true }));
  reserved.push({ row: top + 1, col: vcCol, nrow: vcDims.length, ncol: vcDims[0].length, what: "LMM.VARCOMP" });
  // The Type III tests under the variance components, when the worker sized them (a summary job).
  const aov = (fit as { anova?: AnovaResult | null }).anova;
  if (aov) {
    const at = top + 1 + vcDims.length + 1;
    const dims = liveAnovaTable(aov);
    blocks.push(block(at, vcCol, [["Type III tests of the fixed effects (=LMM.ANOVA)"]], { style: "heading" }));
    blocks.push(block(at + 1, vcCol, [[`=LMM.ANOVA(${ctx.dataRef},${specCell},3,${kr ? '"kr"' : ""},${methodCell})`]], { formulas: true }));
    reserved.push({ row: at + 1, col: vcCol, nrow: dims.length, ncol: dims[0].length, what: "LMM.ANOVA" });
  }
  // Beside the inputs (rows 4-8, columns A-B) the chart would cover the spills: it goes under the fit's spill, at the left.
  const chartRow = top + 1 + fitDims.length + 1;
  return { blocks, reserved, widths, chartAnchor: { from: cellAddress(chartRow, 0), to: cellAddress(chartRow + CHART_ROWS - 1, CHART_COLS - 1) } };
}

// ---------------------------------------------------------------------------------------------
// Detail sheet

export interface DetailContext {
  /** Label of the response column in the fitted table. */
  response: string;
  /** The response column's number format in the data (the observed values keep it). */
  responseFormat: string;
  /** 1-based sheet row of the first data row (the header row + 1). */
  firstDataRow: number;
  /** Columns of the data copied beside the fitted values (e.g. the group and the time), with their data formats. */
  extras: { name: string; value: (dataRow: number) => Cell; format: string }[];
  chart: { data: SpaghettiData; response: string; time: string; timeFormat: string; group: string; factor: string | null } | null;
  /** The summary sheet's name, for the chart data's label. */
  summarySheet?: string;
}

/** A column wide enough for its header and the filter button beside it. */
const headerWidth = (h: string, min: number) => Math.max(min, Math.min(40, h.length + 4)) * POINTS_PER_CHAR;

export function detailPlan(fit: FitResultWithRows, ctx: DetailContext): { plan: DetailPlan; chart: ChartPlan | null } {
  const tables: TallTable[] = [];
  const widths: Record<number, number> = {};
  // Row 0 says what each table is; the tables' headers are in row 1 (both frozen).
  const top = 1;
  let col = 0;
  for (const [g, t] of Object.entries(fit.blups)) {
    const header = uniqueHeaders(blupHeader(g, t));
    const formats = [F.TEXT, ...t.effects.flatMap((_, j) => [F.typicalFormat(t.values.map((r) => r[j])), F.typicalFormat(t.se.map((r) => r[j]))])];
    tables.push({
      what: `BLUPs of ${g}`,
      label: `Random effects (BLUPs) of ${g}, with their conditional SDs`,
      row: top,
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
    header.forEach((h, j) => (widths[col + j] = headerWidth(h, j === 0 ? 10 : 12)));
    col += header.length + 1;
  }
  let chart: ChartPlan | null = null;
  const f = fit.fitted;
  if (f) {
    const header = uniqueHeaders(["data row", ...ctx.extras.map((x) => x.name), ctx.response, "fitted", "fitted (population)", "residual"]);
    const y = new Float64Array(f.rows.length);
    for (let i = 0; i < y.length; i++) y[i] = f.conditional[i] + f.residual[i];
    // Observed values keep the data's format; the fitted values and residuals share one, from the fitted values' magnitude.
    const fitFmt = F.typicalFormat(f.conditional);
    const formats = [F.INTEGER, ...ctx.extras.map((x) => x.format), ctx.responseFormat, fitFmt, fitFmt, fitFmt];
    tables.push({
      what: "fitted values",
      label: "Fitted values and residuals, one row per data row used",
      row: top,
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
    header.forEach((h) => (widths[col + header.indexOf(h)] = headerWidth(h, 10)));
    col += header.length + 1;
    if (ctx.chart) {
      const d = ctx.chart.data;
      const at = { row: top, col };
      const width = d.rows[0].length;
      const where = ctx.summarySheet ? ` on '${ctx.summarySheet}'` : "";
      tables.push({
        what: "chart data",
        label: `Chart data: the spaghetti plot${where} draws these columns (${ctx.chart.time}, then one column per ${ctx.chart.group}, then the fitted population lines)`,
        row: at.row,
        col: at.col,
        header: d.rows[0].map(String),
        nrows: d.rows.length - 1,
        formats: d.rows[0].map((_, j) => (j === 0 ? ctx.chart!.timeFormat : j <= d.groups.length ? ctx.responseFormat : fitFmt)),
        table: false,
        slice: (s, e) => d.rows.slice(1 + s, 1 + e),
      });
      const nt = d.times.length;
      const series: ChartSeries[] = [];
      const legend: number[] = [];
      let ylo = Infinity, yhi = -Infinity;
      for (let j = 1; j < width; j++) {
        const kind = j <= d.groups.length ? "group" : "population";
        const level = kind === "group" ? Math.max(0, d.levels.indexOf(d.groupLevels[j - 1])) : j - 1 - d.groups.length;
        for (let k = 1; k < d.rows.length; k++) {
          const v = d.rows[k][j];
          if (typeof v === "number" && Number.isFinite(v)) (ylo = Math.min(ylo, v)), (yhi = Math.max(yhi, v));
        }
        if (kind === "population") legend.push(series.length);
        series.push({
          name: kind === "group" ? String(d.rows[0][j]) : populationName(d.levels[level], ctx.chart.factor),
          x: rangeAddress(at.row + 1, at.col, nt, 1),
          y: rangeAddress(at.row + 1, at.col + j, nt, 1),
          kind,
          ...seriesStyle(kind, level, d.levels.length > 0 && kind === "group" && ctx.chart.factor !== null),
        });
      }
      chart = {
        title: chartTitle(ctx.chart.response, ctx.chart.time, d, ctx.chart.group),
        xTitle: ctx.chart.time,
        yTitle: ctx.chart.response,
        series,
        x: niceBounds(d.times[0], d.times[d.times.length - 1]),
        y: niceBounds(ylo, yhi),
        legend,
        note: d.note,
      };
    }
  }
  return { plan: { tables, widths, freezeRows: top + 1 }, chart };
}

/** A population line's legend entry: "control (fitted)", or "fitted (population)" for one line. */
function populationName(level: string | undefined, factor: string | null): string {
  return factor && level !== undefined ? `${level} (fitted)` : "fitted (population)";
}

// ---------------------------------------------------------------------------------------------
// Comparison sheet

export interface CompareContext {
  dataLabel: string;
  dataRef: string;
  method: Method;
  /** The engine refitted the models by ML (their fixed effects differ). */
  refitML?: boolean;
}

export function comparisonPlan(specs: string[], res: LrtResult, ctx: CompareContext): SheetPlan {
  const blocks: CellBlock[] = [];
  const reserved: Reserved[] = [];
  blocks.push(block(0, 0, [["Likelihood-ratio tests"]], { style: "title" }));
  blocks.push(block(1, 0, [["p (chi-bar-square): the mixture p-value where the null hypothesis puts a variance on the boundary (0)"]], { style: "note", formats: [[F.TEXT]] }));
  // B5 is what =LMM.LRT is given; C5 says what the test then did.
  const how = ctx.refitML ? (ctx.method === "REML" ? "the test refitted the models by ML, as their fixed effects differ" : "fitted by ML") : ctx.method === "REML" ? "the models have the same fixed effects: compared by REML" : "fitted by ML";
  blocks.push(block(3, 0, [["data", ctx.dataLabel, ""], ["method", ctx.method, how]], { formats: [[F.TEXT, F.TEXT, F.TEXT], [F.TEXT, F.TEXT, F.TEXT]], style: "label" }));
  blocks.push(block(6, 0, [["Models"]], { style: "heading" }));
  const specRows: Cell[][] = [["model", "spec"], ...specs.map((s, i) => [i + 1, s])];
  blocks.push({ row: 7, col: 0, values: specRows, formats: specRows.map((r, i) => (i === 0 ? [F.TEXT, F.TEXT] : [F.INTEGER, F.TEXT])), header: { textColumns: 2 } });
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
