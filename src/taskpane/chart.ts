// The spaghetti plot's data, as in the lecture: the response against time, one line per group,
// with the fitted population line (X beta) for each level of a chosen factor. Laid out wide for
// an Excel XY chart: a time column, then one column per group and one per population line,
// blanks where a group has no observation at a time (the chart joins over them). Too many
// groups make an unreadable plot, so past `maxGroups` an evenly spread subset is drawn (in the
// order of the factor's levels, so every level keeps its share) and the note says so.
import type { Cell } from "./layout";

export const MAX_GROUPS = 60;

export interface SpaghettiInput {
  time: ArrayLike<number>;
  y: ArrayLike<number>;
  group: string[];
  /** Fitted population values (X beta) per row, or null for no population lines. */
  marginal: ArrayLike<number> | null;
  /** Level of the chosen factor per row, or null for one population line. */
  factor: string[] | null;
  groupName: string;
  factorName?: string | null;
  maxGroups?: number;
}

export interface SpaghettiData {
  /** Distinct times of the rows drawn, ascending (the x column). */
  times: number[];
  /** Groups drawn, in drawing order. */
  groups: string[];
  /** The factor level of each drawn group (its first row's; "all" without a factor). */
  groupLevels: string[];
  totalGroups: number;
  /** Population lines: one per factor level ("all" without a factor). */
  levels: string[];
  /** Header + one row per time: [time, y per group..., population per level...]; "" = no value. */
  rows: Cell[][];
  /** Said in the chart title when only a subset is drawn. */
  note: string | null;
}

/** A label with its numeric value (NaN for text), so sorting parses each label once. */
interface Keyed {
  s: string;
  n: number;
}

function keyed(s: string): Keyed {
  const x = s.trim() === "" ? NaN : Number(s);
  return { s, n: Number.isFinite(x) ? x : NaN };
}

function keyedCompare(a: Keyed, b: Keyed): number {
  const na = !Number.isNaN(a.n), nb = !Number.isNaN(b.n);
  if (na && nb) return a.n - b.n;
  if (na !== nb) return na ? -1 : 1;
  return a.s < b.s ? -1 : a.s > b.s ? 1 : 0;
}

/** Natural order: numbers by value, then text. */
export function naturalCompare(a: string, b: string): number {
  return keyedCompare(keyed(a), keyed(b));
}

/** `k` indices spread evenly over 0..n-1 (first and last included). */
export function evenlySpaced(n: number, k: number): number[] {
  if (k >= n) return Array.from({ length: n }, (_, i) => i);
  if (k <= 1) return [0];
  return Array.from({ length: k }, (_, i) => Math.round((i * (n - 1)) / (k - 1)));
}

/** Rows handled between two pauses when the work is spread over several tasks. */
const CHUNK = 100000;

/**
 * The work of spaghettiData as steps: it pauses (yields) after every CHUNK rows of the long
 * loops, so a caller on the page's thread can let the page breathe between them.
 */
export function* spaghettiSteps(input: SpaghettiInput): Generator<void, SpaghettiData> {
  const n = input.group.length;
  const maxGroups = input.maxGroups ?? MAX_GROUPS;
  // Rows of each group; the factor level of its first row.
  const rowsOf = new Map<string, number[]>();
  const levelSet = new Set<string>();
  for (let i = 0; i < n; i++) {
    if (i > 0 && i % CHUNK === 0) yield;
    if (input.factor) levelSet.add(input.factor[i]);
    if (!Number.isFinite(input.time[i]) || !Number.isFinite(input.y[i])) continue;
    const g = input.group[i];
    let list = rowsOf.get(g);
    if (!list) rowsOf.set(g, (list = []));
    list.push(i);
  }
  const sortable = Array.from(rowsOf.keys(), (g) => ({ g: keyed(g), level: keyed(input.factor ? input.factor[rowsOf.get(g)![0]] : "") }));
  sortable.sort((a, b) => keyedCompare(a.level, b.level) || keyedCompare(a.g, b.g));
  const all = sortable.map((x) => x.g.s);
  const levelOf = new Map(sortable.map((x) => [x.g.s, input.factor ? x.level.s : "all"]));
  yield;
  const groups = evenlySpaced(all.length, maxGroups).map((i) => all[i]);
  const groupLevels = groups.map((g) => levelOf.get(g)!);
  // x values: the distinct times of the rows drawn.
  const timeSet = new Set<number>();
  for (const g of groups) for (const i of rowsOf.get(g)!) timeSet.add(input.time[i]);
  const times = Array.from(timeSet).sort((a, b) => a - b);
  const at = new Map(times.map((t, k) => [t, k]));
  const levels = input.marginal ? (input.factor ? Array.from(levelSet, keyed).sort(keyedCompare).map((k) => k.s) : ["all"]) : [];
  const width = 1 + groups.length + levels.length;
  const sum: number[][] = times.map(() => new Array<number>(width).fill(0));
  const cnt: number[][] = times.map(() => new Array<number>(width).fill(0));
  groups.forEach((g, j) => {
    for (const i of rowsOf.get(g)!) {
      const k = at.get(input.time[i])!;
      sum[k][1 + j] += input.y[i];
      cnt[k][1 + j]++;
    }
  });
  if (input.marginal) {
    // The population lines: the mean of X beta at each time, per level, over all rows.
    const li = new Map(levels.map((l, j) => [l, j]));
    for (let i = 0; i < n; i++) {
      if (i > 0 && i % CHUNK === 0) yield;
      const k = at.get(input.time[i]);
      const m = input.marginal[i];
      if (k === undefined || !Number.isFinite(m)) continue;
      const j = 1 + groups.length + li.get(input.factor ? input.factor[i] : "all")!;
      sum[k][j] += m;
      cnt[k][j]++;
    }
  }
  const header: Cell[] = ["time", ...groups, ...levels.map((l) => (input.factor ? `fitted: ${l}` : "fitted (population)"))];
  const rows: Cell[][] = [header];
  times.forEach((t, k) => {
    const r: Cell[] = [t];
    for (let j = 1; j < width; j++) r.push(cnt[k][j] > 0 ? sum[k][j] / cnt[k][j] : "");
    rows.push(r);
  });
  const note = all.length > groups.length ? `${groups.length} of ${all.length} ${input.groupName} groups shown, evenly spread` : null;
  return { times, groups, groupLevels, totalGroups: all.length, levels, rows, note };
}

/** The spaghetti plot's data, in one go. */
export function spaghettiData(input: SpaghettiInput): SpaghettiData {
  const it = spaghettiSteps(input);
  let r = it.next();
  while (!r.done) r = it.next();
  return r.value;
}

/** The same, pausing between steps (the page stays responsive on a million rows). */
export async function spaghettiDataAsync(input: SpaghettiInput, pause: () => Promise<void>): Promise<SpaghettiData> {
  const it = spaghettiSteps(input);
  let r = it.next();
  while (!r.done) {
    await pause();
    r = it.next();
  }
  return r.value;
}

/** The chart title: short (what is drawn); the subset in brackets when only some groups are drawn. */
export function chartTitle(response: string, time: string, d: SpaghettiData, groupName: string): string {
  return `${response} over ${time} by ${groupName}${d.note ? ` (${d.groups.length} of ${d.totalGroups} shown)` : ""}`;
}

export interface AxisBounds {
  min: number;
  max: number;
  /** Distance between labelled ticks. */
  major: number;
}

/**
 * Axis bounds that hug the data, at round numbers (152-258 -> 150-260): Excel's own bounds
 * start at 0 when the minimum is below 5/6 of the maximum, which squeezes the lines into a band.
 */
export function niceBounds(lo: number, hi: number): AxisBounds {
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return { min: 0, max: 1, major: 0.2 };
  if (hi < lo) [lo, hi] = [hi, lo];
  const span = hi - lo || Math.abs(hi) || 1;
  const clean = (x: number) => Number(x.toPrecision(12));
  // Round steps (1, 2, 2.5, 5 x 10^k) giving 4 to 11 intervals; the one that wastes least room.
  let best: AxisBounds | null = null;
  const top = Math.floor(Math.log10(span));
  for (let e = top - 2; e <= top; e++) {
    for (const k of [1, 2, 2.5, 5]) {
      const step = k * Math.pow(10, e);
      const min = clean(Math.floor(lo / step) * step);
      let max = clean(Math.ceil(hi / step) * step);
      if (max === min) max = clean(min + step);
      const intervals = Math.round((max - min) / step);
      if (intervals < 4 || intervals > 11) continue;
      if (!best || max - min < best.max - best.min - 1e-12 * span) best = { min, max, major: clean(step) };
    }
  }
  return best ?? { min: lo, max: hi + (span === 0 ? 1 : 0), major: span / 5 };
}

/**
 * Colours of the population lines (Okabe-Ito): blue and orange first, which differ in lightness
 * as well as hue (they stay apart for colour-blind readers and in grey print); the lines also
 * differ in dash. Each group's thin line takes its level's colour, lightened.
 */
export const POPULATION_COLORS = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#D55E00", "#56B4E9", "#000000", "#F0E442"];
export const POPULATION_DASH = ["Continuous", "Dash", "RoundDot", "DashDot", "LongDash", "Continuous", "Dash", "RoundDot"];
const GROUP_GREY = "#A6A6A6";

/** A colour mixed with white: share 0 = itself, 1 = white. */
export function tint(hex: string, share: number): string {
  const n = parseInt(hex.slice(1), 16);
  const mix = (c: number) => Math.round(c + (255 - c) * share);
  const r = mix((n >> 16) & 255), g = mix((n >> 8) & 255), b = mix(n & 255);
  return `#${((1 << 24) | (r << 16) | (g << 8) | b).toString(16).slice(1).toUpperCase()}`;
}

/** Line style of a series: population lines thick, in their level's colour and dash; group lines thin, in its tint (grey with one line). */
export function seriesStyle(kind: "group" | "population", level: number, byFactor: boolean): { color: string; weight: number; dash: string } {
  const k = level % POPULATION_COLORS.length;
  if (kind === "population") return { color: POPULATION_COLORS[k], weight: 3, dash: POPULATION_DASH[k] };
  return { color: byFactor ? tint(POPULATION_COLORS[k], 0.55) : GROUP_GREY, weight: 0.75, dash: "Continuous" };
}
