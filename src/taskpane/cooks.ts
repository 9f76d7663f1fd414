// Cook's distance by group on the Diagnostics sheet: the model refitted without each level of a
// grouping factor (lme4's influence(fit, groups =), computed by engine/inference/influence.ts in
// the worker; nothing here is a statistic). One native column chart per grouping factor, the
// bars sorted from the largest, so the group that moves the fixed effects most stands first and
// keeps its label (Excel thins crowded category labels from the first one on). Past MAX_BARS
// groups the largest are drawn and the title says so; the table beside the charts lists every
// group. When the deletions were not made (too costly, a residual structure, no random effects),
// the chart's place on the sheet says what was skipped and why.
import type { InfluenceResult } from "../engine/inference/influence";
import type { FitResultWithRows } from "../engine/types";
import type { Cell, CellBlock } from "./layout";
import type { FitData, Fitter } from "./ports";
import { DiagChart, DiagnosticsPlan, anchor, GRID_TOP } from "./diagnostics";
import { niceBounds } from "./chart";
import { rangeAddress } from "./naming";

/** Bars drawn at most per chart. */
export const MAX_BARS = 80;
/** Grouping factors charted at most (the rest are said in a note). */
export const MAX_FACTORS = 2;

const BLUE = "#0072B2";

/** What the worker answered: the deletions, or why there are none. */
export type CooksInput = { influence: InfluenceResult } | { skipped: string };

/**
 * The controller's step before the Diagnostics sheet: group deletion for every grouping factor
 * of the fit, in the worker. Never throws: a refusal (cost, residual structure) or a failure
 * becomes the reason the sheet shows.
 */
export async function cooksInput(fitter: Fitter, data: FitData, result: FitResultWithRows, specText: string): Promise<CooksInput> {
  const groups = Object.keys(result.groups);
  if (groups.length === 0) return { skipped: "the model has no random effects, so there are no groups to delete" };
  if (!fitter.influence) return { skipped: "this host's worker cannot refit the model without each group" };
  try {
    return { influence: await fitter.influence(data, specText, { method: result.method, groups: groups.slice(0, MAX_FACTORS) }) };
  } catch (e) {
    if ((e as { name?: string }).name === "CancelledError") throw e;
    return { skipped: (e as Error).message ?? String(e) };
  }
}

/** The grid slot of a full-width chart: the next row of the grid. */
function fullRow(k: number): { slot: number; from: string; to: string } {
  const slot = k % 2 === 0 ? k : k + 1;
  const a = anchor(slot, GRID_TOP), b = anchor(slot + 1, GRID_TOP);
  return { slot, from: a.from, to: b.to };
}

/** A sentence's first letter in capitals. */
const cap = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

/**
 * Adds the Cook's-distance charts (or the reason there are none) to a Diagnostics plan: the
 * tables from plan.next.col on, the charts from plan.next.chart on, each a full row of the grid.
 * Returns the sentence for the status line.
 */
export function addCooks(plan: DiagnosticsPlan, input: CooksInput): string {
  const next = plan.next ?? { col: 19, chart: plan.charts.length };
  let col = next.col, k = next.chart;
  const say = (row: number, c: number, text: string, style: CellBlock["style"] = "subtitle") => plan.blocks.push({ row, col: c, values: [[text]], style });
  if ("skipped" in input) {
    const at = fullRow(k);
    const r = GRID_TOP + Math.floor(at.slot / 2) * 21;
    say(r, 0, "Cook's distance by group: not computed.");
    say(r + 1, 0, `${cap(input.skipped.replace(/\.$/, ""))}.`, undefined);
    plan.next = { col, chart: at.slot + 2 };
    return ` Cook's distance by group skipped: ${input.skipped.replace(/\.$/, "")}.`;
  }
  const inf = input.influence;
  const asked = Object.keys(inf.groups);
  const said: string[] = [];
  // The engine's notes on the deletions (a refusal for cost names its factor): shown on the sheet.
  const deletionNotes = inf.notes.filter((n) => /per-group influence|without |refits without/.test(n));
  for (const g of asked.slice(0, MAX_FACTORS)) {
    const gi = inf.groups[g];
    const order = gi.levels.map((_, i) => i).sort((a, b) => {
      const x = gi.cooks[a], y = gi.cooks[b];
      const fx = Number.isFinite(x), fy = Number.isFinite(y);
      if (fx !== fy) return fx ? -1 : 1;
      return fx ? y - x : 0;
    });
    const G = order.length;
    const shown = Math.min(G, MAX_BARS);
    const cells: Cell[][] = [[g, "Cook's distance", "refit converged"]];
    for (const i of order) cells.push([gi.levels[i], Number.isFinite(gi.cooks[i]) ? gi.cooks[i] : "", gi.converged[i] ? "yes" : "no"]);
    plan.blocks.push({ row: 2, col, values: [[`Cook's distance by ${g} (the model refitted without each ${g}, lme4's influence(fit, groups = "${g}"))`]], style: "subtitle" });
    plan.blocks.push({ row: 3, col, values: cells, formats: cells.map((r, i) => r.map((v, j) => (i === 0 || j !== 1 ? "@" : "0.0000"))) });
    const cats = rangeAddress(4, col, shown, 1), vals = rangeAddress(4, col + 1, shown, 1);
    col += 4;
    const top = order.length > 0 && Number.isFinite(gi.cooks[order[0]]) ? gi.cooks[order[0]] : 0;
    // A little room above the tallest bar, so it does not touch the frame.
    const y = niceBounds(0, top > 0 ? top * 1.05 : 1);
    const at = fullRow(k);
    k = at.slot + 2;
    const chart: DiagChart = {
      kind: "column",
      name: `LMM Cook's distance ${g}`,
      title: `Cook's distance by ${g}: the fit without each ${g}, largest first${shown < G ? ` (the ${shown} largest of ${G})` : ""}`,
      xTitle: `${g} (sorted by Cook's distance)`,
      yTitle: "Cook's distance",
      series: [{ name: "Cook's distance", x: cats, y: vals, markers: false, line: false, color: BLUE, dash: "Continuous" }],
      x: { min: 0, max: shown, major: 1 },
      y: { min: 0, max: y.max, major: y.major },
      legend: false,
      anchor: { from: at.from, to: at.to },
    };
    plan.charts.push(chart);
    const missing = gi.cooks.filter((c) => !Number.isFinite(c)).length;
    if (missing > 0) plan.notes.push(`${missing} ${g} level${missing === 1 ? " has" : "s have"} no Cook's distance (see the table)`);
    if (top > 0) said.push(`largest ${g} ${gi.levels[order[0]]} (${top.toPrecision(3)})`);
  }
  const skippedFactors = deletionNotes.filter((n) => /was skipped/.test(n));
  if (skippedFactors.length > 0 || deletionNotes.length > 0) {
    const at = fullRow(k);
    const r = GRID_TOP + Math.floor(at.slot / 2) * 21;
    if (skippedFactors.length > 0) say(r, 0, "Cook's distance by group: not computed for every grouping factor.");
    deletionNotes.forEach((n, i) => say(r + 1 + i, 0, `${cap(n)}.`, undefined));
    k = at.slot + 2;
  }
  if (asked.length > MAX_FACTORS) plan.notes.push(`Cook's distances for the first ${MAX_FACTORS} grouping factors`);
  plan.next = { col, chart: k };
  const skipNote = skippedFactors.length > 0 ? ` Cook's distance by group skipped: ${skippedFactors.map((n) => n.replace(/^per-group influence for /, "")).join("; ")}.` : "";
  return said.length > 0 ? ` Cook's distance by group: ${said.join(", ")}.${skipNote}` : skipNote;
}
