// The lecture's shrinkage figure: per group, the fitted lines of the fixed-effects-only model
// `y ~ factor(g) + <the model's fixed effects>` (dashed) beside those of the random-intercept
// model itself (solid), over a time covariate, with the group's observations as points. The
// random-intercept lines are pulled toward the population line, the more so the further a group
// lies from it: that pull is the shrinkage. Both sets of lines are fitted values (=LMM.FITTED of
// each spec), so the figure can be rebuilt with two formulas; the sheet says which.
//
// Offered for a model with exactly one random-effects term, an intercept `(1|g)`, and a numeric
// time covariate among its fixed effects, without a residual structure, variance function or
// weights (the fixed-effects-only model would need them too). A chart of 79 trees' pairs of
// lines is unreadable, so MAX_GROUPS groups are drawn, evenly spread from the lowest to the
// highest line (the extremes, where the pull is largest, included); each pair shares a colour,
// and the legend has two entries, for the two kinds of line.
import type { FitResultWithRows, ModelSpec } from "../engine/types";
import { cellNumber, cellValue } from "../engine/data/cell-columns";
import type { Cell, CellBlock } from "./layout";
import type { DataSet, Fitter, WorkbookPort } from "./ports";
import type { DiagChart, DiagSeries, DiagnosticsPlan } from "./diagnostics";
import { evenlySpaced, naturalCompare, niceBounds, tint } from "./chart";
import { rangeAddress } from "./naming";

/** Groups drawn at most. */
export const MAX_GROUPS = 8;

/** One colour per drawn group (Okabe-Ito, yellow swapped for purple: it vanishes on white). */
export const GROUP_COLORS = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#D55E00", "#56B4E9", "#000000", "#6A3D9A"];
const KEY = "#404040";

export interface ShrinkageModels {
  response: string;
  group: string;
  time: string;
  /** The fixed-effects-only spec: response ~ factor(group) + the fixed terms. */
  fixedSpec: string;
  mixedSpec: string;
}

/**
 * The two models of the figure, or why the model has none. `time`: the pane's time column (or
 * null: the first numeric-looking main effect is not guessed; the time control must be set, or
 * the residual structure's time).
 */
export function shrinkageModels(spec: ModelSpec, specText: string, time: string | null): ShrinkageModels | { why: string } {
  const need = "the shrinkage chart needs a model with one random intercept (1|group) and a time covariate among the fixed effects";
  const random = spec.formula.random;
  if (random.length !== 1 || random[0].group.length !== 1 || !random[0].intercept || random[0].terms.length > 0) return { why: `${need}; this model has ${random.length === 0 ? "no random effects" : `the random effects ${random.map((r) => `(${r.text})`).join(" + ")}`}` };
  if (spec.residual || spec.varIdent || spec.weights || (spec.varFuncs && spec.varFuncs.length > 0)) return { why: `${need}, without a residual structure, variance function or weights` };
  const labels = spec.formula.fixed.map((t) => t.label);
  if (!time || !labels.includes(time)) return { why: `${need}: choose the time column in the model${time ? ` ('${time}' is not a fixed effect of this model)` : ""}` };
  const group = random[0].group[0];
  const response = specText.split("~")[0].trim();
  const fixed = [`factor(${group})`, ...labels.filter((l) => l !== group)];
  return { response, group, time, fixedSpec: `${response} ~ ${fixed.join(" + ")}`, mixedSpec: specText.split(";")[0].trim() };
}

/** The rows both fits used, with what the figure draws. */
export interface ShrinkageRows {
  group: string[];
  time: ArrayLike<number>;
  y: ArrayLike<number>;
  fixed: ArrayLike<number>;
  mixed: ArrayLike<number>;
  /** The mixed model's population values (X beta), for the order of the groups. */
  marginal: ArrayLike<number>;
}

export interface ShrinkageContext {
  models: ShrinkageModels;
  /** The data's absolute reference, for the formulas that rebuild the figure ("Sheet1!$A$1:$D$396"). */
  dataRef: string;
  /** Said under the title (aliased columns of the fixed-effects-only model, ...). */
  notes: string[];
  maxGroups?: number;
}

/** Where the chart sits; the data table starts at column L. */
const DATA_COL = 11;
const TOP = 4;

export function shrinkagePlan(rows: ShrinkageRows, ctx: ShrinkageContext): DiagnosticsPlan {
  const { models: m } = ctx;
  const maxGroups = ctx.maxGroups ?? MAX_GROUPS;
  const byGroup = new Map<string, number[]>();
  for (let i = 0; i < rows.group.length; i++) {
    if (![rows.time[i], rows.y[i], rows.fixed[i], rows.mixed[i]].every(Number.isFinite)) continue;
    const g = rows.group[i];
    let list = byGroup.get(g);
    if (!list) byGroup.set(g, (list = []));
    list.push(i);
  }
  // Order the groups by how far the fixed-effects-only line lies from the population line.
  const level = (idx: number[]) => idx.reduce((s, i) => s + rows.fixed[i] - rows.marginal[i], 0) / idx.length;
  const order = Array.from(byGroup.keys()).map((g) => ({ g, at: level(byGroup.get(g)!) }));
  order.sort((a, b) => a.at - b.at || naturalCompare(a.g, b.g));
  const drawn = evenlySpaced(order.length, Math.min(maxGroups, order.length)).map((k) => order[k].g);
  const blocks: CellBlock[] = [];
  blocks.push({ row: 0, col: 0, values: [[`Shrinkage: ${m.fixedSpec} (dashed) vs ${m.mixedSpec} (solid)`]], style: "title" });
  blocks.push({ row: 1, col: 0, values: [[`Each ${m.group}'s fitted line with its own fixed effect (dashed) and with a random intercept (solid): the solid lines are pulled toward the population line, the more the further the ${m.group} lies from it.`]], style: "subtitle" });
  blocks.push({ row: 2, col: 0, values: [[`Rebuild it with two columns beside the data: =LMM.FITTED(${ctx.dataRef}, "${m.fixedSpec}") and =LMM.FITTED(${ctx.dataRef}, "${m.mixedSpec}")`]], style: "subtitle" });
  // The long table: one block of rows per drawn group, sorted by time.
  const header = [m.group, m.time, m.response, `fitted: ${m.fixedSpec}`, `fitted: ${m.mixedSpec}`];
  const values: Cell[][] = [header];
  const spans: { g: string; r0: number; n: number }[] = [];
  for (const g of drawn) {
    const idx = byGroup.get(g)!.slice().sort((a, b) => rows.time[a] - rows.time[b]);
    spans.push({ g, r0: TOP + values.length, n: idx.length });
    for (const i of idx) values.push([g, rows.time[i], rows.y[i], rows.fixed[i], rows.mixed[i]]);
  }
  blocks.push({ row: TOP - 1, col: DATA_COL, values: [[`Chart data: the ${drawn.length} ${m.group} groups drawn`]], style: "subtitle" });
  blocks.push({ row: TOP, col: DATA_COL, values, formats: values.map((r, i) => r.map((v, j) => (i === 0 || j === 0 ? "@" : j === 1 ? "General" : "0.000"))), header: { textColumns: 1 } });
  const col = (j: number, s: { r0: number; n: number }) => rangeAddress(s.r0, DATA_COL + j, s.n, 1);
  const series: DiagSeries[] = [];
  spans.forEach((s, k) => {
    const c = GROUP_COLORS[k % GROUP_COLORS.length];
    series.push({ name: `${m.group} ${s.g}: data`, x: col(1, s), y: col(2, s), markers: true, line: false, color: tint(c, 0.2), dash: "Continuous" });
    series.push({ name: `${m.group} ${s.g}: fixed effects only`, x: col(1, s), y: col(3, s), markers: false, line: true, color: c, dash: "Dash" });
    series.push({ name: `${m.group} ${s.g}: random intercept`, x: col(1, s), y: col(4, s), markers: false, line: true, color: c, dash: "Continuous" });
  });
  // The population line the random intercepts are pulled toward: the mean of X beta at each
  // time over all rows (one line even when other fixed effects vary between groups).
  const sum = new Map<number, { s: number; n: number }>();
  for (const idx of byGroup.values()) {
    for (const i of idx) {
      const e = sum.get(rows.time[i]) ?? { s: 0, n: 0 };
      e.s += rows.marginal[i];
      e.n++;
      sum.set(rows.time[i], e);
    }
  }
  const popTimes = Array.from(sum.keys()).sort((a, b) => a - b);
  const popRow = TOP + values.length + 1;
  const popValues: Cell[][] = [[m.time, "population (mean of X beta)"], ...popTimes.map((t) => [t, sum.get(t)!.s / sum.get(t)!.n])];
  blocks.push({ row: popRow, col: DATA_COL, values: popValues, formats: popValues.map((r, i) => r.map((_, j) => (i === 0 ? "@" : j === 0 ? "General" : "0.000"))), header: { textColumns: 1 } });
  const popX = rangeAddress(popRow + 1, DATA_COL, popTimes.length, 1), popY = rangeAddress(popRow + 1, DATA_COL + 1, popTimes.length, 1);
  // First, so the groups' lines are drawn over it.
  series.unshift({ name: "population line (X beta)", x: popX, y: popY, markers: false, line: true, color: "#7F7F7F", dash: "RoundDot" });
  // The legend's two entries: series without points, in a neutral colour, one per kind of line.
  const keyRow = popRow + popValues.length + 1;
  blocks.push({ row: keyRow - 1, col: DATA_COL, values: [["Legend entries (no points)"]], style: "subtitle" });
  const key = rangeAddress(keyRow, DATA_COL, 1, 1);
  series.push({ name: `fixed ${m.group} effects (factor(${m.group}))`, x: key, y: key, markers: false, line: true, color: KEY, dash: "Dash" });
  series.push({ name: `random intercept (1|${m.group})`, x: key, y: key, markers: false, line: true, color: KEY, dash: "Continuous" });
  const drawnRows = spans.flatMap((s) => byGroup.get(s.g)!);
  const ext = (f: (i: number) => number) => {
    let lo = Infinity, hi = -Infinity;
    for (const i of drawnRows) {
      const v = f(i);
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    return niceBounds(lo, hi);
  };
  const x = ext((i) => rows.time[i]);
  const yb = niceBounds(Math.min(ext((i) => rows.y[i]).min, ext((i) => rows.fixed[i]).min, ext((i) => rows.mixed[i]).min), Math.max(ext((i) => rows.y[i]).max, ext((i) => rows.fixed[i]).max, ext((i) => rows.mixed[i]).max));
  const subset = drawn.length < order.length ? `, ${drawn.length} of ${order.length} ${m.group}s` : "";
  const chart: DiagChart = {
    name: "LMM shrinkage",
    title: `${m.response} over ${m.time}: fixed ${m.group} effects (dashed) vs random intercepts (solid)${subset}`,
    xTitle: m.time,
    yTitle: m.response,
    series,
    x,
    y: yb,
    legend: true,
    legendEntries: [0, series.length - 2, series.length - 1],
    anchor: { from: "A5", to: "K34" },
  };
  const notes = [...ctx.notes];
  if (drawn.length < order.length) notes.push(`${drawn.length} of ${order.length} ${m.group} groups drawn, evenly spread from the lowest line to the highest`);
  notes.forEach((n, i) => blocks.push({ row: 35 + i, col: 0, values: [[`Note: ${n}`]] }));
  return { blocks, charts: [chart], notes };
}

/**
 * The controller's step: fit the fixed-effects-only model in the worker, line its rows up with
 * the mixed fit's, plan and write the sheet. Returns the status line's sentence; never throws
 * (the fit's own sheets are written already), except for a cancel.
 */
export async function writeShrinkage(workbook: WorkbookPort, fitter: Fitter, data: DataSet, result: FitResultWithRows, spec: ModelSpec, specText: string, time: string | null): Promise<string> {
  const models = shrinkageModels(spec, specText, time);
  if ("why" in models) return ` No shrinkage chart: ${models.why}.`;
  if (!workbook.writeChartSheet) return " No shrinkage chart: this host cannot write one.";
  const mixed = result.fitted;
  if (!mixed) return " No shrinkage chart: the fit has no fitted values.";
  try {
    const fixed = await fitter.fit(data.data, models.fixedSpec, { method: result.method, level: 0.95, ci: "none", fitted: true });
    const f = fixed.fitted;
    if (!f) return " No shrinkage chart: the fixed-effects-only fit has no fitted values.";
    const header = data.header.map((h) => String(h).trim());
    const gi = header.indexOf(models.group), ti = header.indexOf(models.time);
    if (gi < 0 || ti < 0) return ` No shrinkage chart: no column '${gi < 0 ? models.group : models.time}' in the data.`;
    const at = new Map<number, number>();
    for (let i = 0; i < f.rows.length; i++) at.set(f.rows[i], i);
    const cols = data.data.cells.columns;
    const n = mixed.rows.length;
    const rows: ShrinkageRows = { group: [], time: new Float64Array(n), y: new Float64Array(n), fixed: new Float64Array(n).fill(NaN), mixed: new Float64Array(n), marginal: new Float64Array(n) };
    for (let i = 0; i < n; i++) {
      const r = mixed.rows[i];
      rows.group.push(String(cellValue(cols[gi], r)));
      (rows.time as Float64Array)[i] = cellNumber(cols[ti], r);
      (rows.y as Float64Array)[i] = mixed.conditional[i] + mixed.residual[i];
      (rows.mixed as Float64Array)[i] = mixed.conditional[i];
      (rows.marginal as Float64Array)[i] = mixed.marginal[i];
      const j = at.get(r);
      if (j !== undefined) (rows.fixed as Float64Array)[i] = f.conditional[j];
    }
    const plan = shrinkagePlan(rows, { models, dataRef: data.ref, notes: fixed.messages.map((x) => `the fixed-effects-only fit: ${x}`) });
    const name = await workbook.writeChartSheet("Shrinkage", plan);
    return ` Shrinkage chart (${models.fixedSpec} vs ${models.mixedSpec}) on '${name}'.`;
  } catch (e) {
    if ((e as { name?: string }).name === "CancelledError") throw e;
    return ` No shrinkage chart: ${(e as Error).message ?? String(e)}.`;
  }
}
