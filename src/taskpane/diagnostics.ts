// The Diagnostics sheet's plan: the chart data (computed by engine/inference/diagnostics.ts;
// nothing here is a statistic, only layout) in columns at the right of the sheet, and native
// Excel XY charts in a grid on the left:
//   residuals vs fitted; a normal QQ plot of the residuals with qqline's reference line; per
//   random effect, a QQ plot of its BLUPs and a caterpillar plot (BLUPs sorted, with their 95 %
//   intervals as horizontal segments: one line series whose segments are separated by blanks).
// A scatter of a million points is unreadable and slow, so past MAX_POINTS an evenly spread
// subset of the rows (of the sorted values, for the QQ plots) is drawn, and the title says so.
import { Diagnostics, diagnostics } from "../engine/inference/diagnostics";
import type { FitResultWithRows } from "../engine/types";
import type { WorkbookPort } from "./ports";
import type { Cell, CellBlock } from "./layout";
import { AxisBounds, evenlySpaced, niceBounds } from "./chart";
import { rangeAddress, cellAddress } from "./naming";
import { CooksInput, addCooks } from "./cooks";

export const MAX_POINTS = 5000;
/** Random effects drawn (QQ and caterpillar each); the rest are said in a note. */
export const MAX_EFFECTS = 4;
/** Column of the first chart-data table (0-based; T): the charts sit in A:R. */
export const DATA_COL = 19;
/** Row of the charts' grid (0-based). */
export const GRID_TOP = 3;

export interface DiagSeries {
  name: string;
  /** Ranges on the Diagnostics sheet (no sheet name). */
  x: string;
  y: string;
  markers: boolean;
  line: boolean;
  color: string;
  dash: "Continuous" | "Dash" | "RoundDot";
}

export interface DiagChart {
  /** "xy" (the default): an XY scatter; "column": bars over the categories in the first series' x range (cooks.ts). */
  kind?: "xy" | "column";
  name: string;
  title: string;
  xTitle: string;
  yTitle: string;
  series: DiagSeries[];
  x: AxisBounds;
  y: AxisBounds;
  legend: boolean;
  /** With a legend: the series whose entries show (all when omitted). */
  legendEntries?: number[];
  anchor: { from: string; to: string };
}

export interface DiagnosticsPlan {
  blocks: CellBlock[];
  charts: DiagChart[];
  notes: string[];
  /** Column widths in points, by 0-based column (default widths elsewhere). */
  widths?: Record<number, number>;
  /** Where more can go: the next free data column and the next grid slot (cooks.ts adds there). */
  next?: { col: number; chart: number };
}

const BLUE = "#0072B2", ORANGE = "#D55E00", GREY = "#7F7F7F";
const NUM = "0.000";

/** Evenly spread indices when there are too many points. */
function pick(n: number): number[] {
  return evenlySpaced(n, Math.min(n, MAX_POINTS));
}

function bounds(values: number[]): AxisBounds {
  let lo = Infinity, hi = -Infinity;
  for (const v of values) {
    if (!Number.isFinite(v)) continue;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return niceBounds(lo, hi);
}

/** Where the k-th chart goes: two per row of the grid, each 9 columns by 20 rows. */
export function anchor(k: number, top: number): { from: string; to: string } {
  const r = top + Math.floor(k / 2) * 21, c = (k % 2) * 9;
  return { from: cellAddress(r, c), to: cellAddress(r + 20, c + 8) };
}

export function diagnosticsPlan(d: Diagnostics, response: string, spec: string): DiagnosticsPlan {
  const blocks: CellBlock[] = [];
  const charts: DiagChart[] = [];
  const notes: string[] = [];
  let col = DATA_COL;
  const TOP = GRID_TOP;
  blocks.push({ row: 0, col: 0, values: [[`Diagnostics of ${spec}`]], style: "title" });
  blocks.push({ row: 1, col: 0, values: [["Conditional residuals (y minus the fitted values with the BLUPs); the chart data are in the columns from T on."]], style: "subtitle" });
  /** A table of columns at the data area; returns the ranges of its data columns. */
  const table = (header: string[], cols: Cell[][], title: string): string[] => {
    const n = cols[0].length;
    blocks.push({ row: 2, col, values: [[title]], style: "subtitle" });
    const values: Cell[][] = [header, ...Array.from({ length: n }, (_, i) => cols.map((c) => c[i]))];
    blocks.push({ row: 3, col, values, formats: values.map((r, i) => r.map((v) => (i === 0 || typeof v === "string" ? "@" : NUM))) });
    const ranges = header.map((_, j) => rangeAddress(4, col + j, n, 1));
    col += header.length + 1;
    return ranges;
  };
  const subset = (what: string, n: number, idx: number[]) => (idx.length < n ? ` (${idx.length} of ${n} ${what} shown)` : "");

  // Residuals vs fitted.
  const n = d.fitted.length;
  const rows = pick(n);
  const [fx, ry] = table(["fitted", "residual"], [rows.map((i) => d.fitted[i]), rows.map((i) => d.residual[i])], "Residuals vs fitted");
  const zero = table(["x", "zero"], [[bounds(d.fitted).min, bounds(d.fitted).max], [0, 0]], "Zero line");
  charts.push({
    name: "LMM residuals vs fitted", title: `Residuals vs fitted values${subset("rows", n, rows)}`, xTitle: `Fitted ${response}`, yTitle: "Residual",
    series: [
      { name: "residual", x: fx, y: ry, markers: true, line: false, color: BLUE, dash: "Continuous" },
      { name: "zero", x: zero[0], y: zero[1], markers: false, line: true, color: GREY, dash: "Dash" },
    ],
    x: bounds(d.fitted), y: bounds(d.residual), legend: false, anchor: anchor(0, TOP),
  });

  // QQ plots: the residuals, then each effect's BLUPs.
  const qqChart = (k: number, what: string, unit: string, qq: Diagnostics["residualQQ"]) => {
    const m = qq.sample.length;
    const idx = pick(m);
    const [tx, sy] = table(["normal quantile", what], [idx.map((i) => qq.theoretical[i]), idx.map((i) => qq.sample[i])], `Normal QQ: ${what}`);
    const xb = bounds(qq.theoretical);
    const lineX = [xb.min, xb.max];
    const ref = table(["x", "qqline"], [lineX, lineX.map((x) => qq.intercept + qq.slope * x)], `Reference line (qqline): ${what}`);
    charts.push({
      name: `LMM QQ ${what}`, title: `Normal QQ plot: ${what}${subset("values", m, idx)}`, xTitle: "Normal quantile", yTitle: unit,
      series: [
        { name: what.startsWith("BLUPs") ? "BLUPs" : what, x: tx, y: sy, markers: true, line: false, color: BLUE, dash: "Continuous" },
        { name: "reference line (quartiles)", x: ref[0], y: ref[1], markers: false, line: true, color: ORANGE, dash: "Continuous" },
      ],
      x: xb, y: bounds([...qq.sample, qq.intercept + qq.slope * xb.min, qq.intercept + qq.slope * xb.max]), legend: true, anchor: anchor(k, TOP),
    });
  };
  qqChart(1, "residuals", "Residual", d.residualQQ);
  const effects = d.effects.slice(0, MAX_EFFECTS);
  if (d.effects.length > effects.length) notes.push(`the charts show the first ${MAX_EFFECTS} of ${d.effects.length} random effects`);
  let k = 2;
  for (const e of effects) {
    const label = `${e.group}: ${e.effect}`;
    qqChart(k++, `BLUPs of ${label}`, `BLUP of ${e.effect}`, e.qq);
    // Caterpillar: points at (value, rank), intervals as segments (lower, rank)-(upper, rank).
    const c = e.caterpillar;
    const ranks = c.map((_, i) => i + 1);
    const [vx, ry2, lv] = table(["BLUP", "rank", e.group], [c.map((r) => r.value), ranks, c.map((r) => r.level)], `Caterpillar: ${label}`);
    void lv;
    const segX: Cell[] = [], segY: Cell[] = [];
    c.forEach((r, i) => {
      segX.push(r.lower, r.upper, "");
      segY.push(i + 1, i + 1, "");
    });
    const seg = table(["interval x", "interval rank"], [segX, segY], `95 % intervals: ${label}`);
    charts.push({
      name: `LMM caterpillar ${label}`, title: `Caterpillar plot: ${label}, sorted`, xTitle: `BLUP of ${e.effect} ± 1.96 conditional SD`, yTitle: `${e.group} (rank of the BLUP)`,
      series: [
        { name: "95 % interval", x: seg[0], y: seg[1], markers: false, line: true, color: GREY, dash: "Continuous" },
        { name: "BLUP", x: vx, y: ry2, markers: true, line: false, color: BLUE, dash: "Continuous" },
      ],
      x: bounds(c.flatMap((r) => [r.lower, r.upper])), y: { min: 0, max: c.length + 1, major: niceBounds(0, c.length + 1).major }, legend: true, anchor: anchor(k++, TOP),
    });
  }
  return { blocks, charts, notes, next: { col, chart: k } };
}

/**
 * The controller's hook: plans and writes the Diagnostics sheet for a fit; returns the sentence
 * for the status line (" Diagnostics on 'Diagnostics 1'." or why there is none). `cooks`: the
 * group deletions for the Cook's-distance charts (cooks.ts), or why there are none. Never throws:
 * the fit's own sheets are written already.
 */
export async function writeDiagnostics(workbook: WorkbookPort, result: FitResultWithRows, specText: string, cooks?: CooksInput): Promise<string> {
  if (!workbook.writeDiagnostics) return " No diagnostics sheet: this host cannot write one.";
  if (!result.fitted) return " No diagnostics sheet: the fit has no fitted values.";
  try {
    const response = specText.split("~")[0].trim() || "response";
    const plan = diagnosticsPlan(diagnostics(result), response, specText);
    const said = cooks ? addCooks(plan, cooks) : "";
    const drawn = plan.charts.some((c) => c.kind === "column") ? "residual, QQ, caterpillar and Cook's distance charts" : "residual, QQ and caterpillar charts";
    const name = await workbook.writeDiagnostics(plan);
    return ` Diagnostics (${drawn}) on '${name}'${plan.notes.length ? ` (${plan.notes.join("; ")})` : ""}.${said}`;
  } catch (e) {
    return ` No diagnostics sheet: ${(e as Error).message ?? String(e)}.`;
  }
}
