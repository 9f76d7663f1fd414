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
  yield;
  const groups = evenlySpaced(all.length, maxGroups).map((i) => all[i]);
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
  return { times, groups, totalGroups: all.length, levels, rows, note };
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

/** The chart title: what is drawn, and the subset note when there is one. */
export function chartTitle(response: string, time: string, d: SpaghettiData, groupName: string, factorName: string | null): string {
  const lines = d.levels.length === 0 ? "" : factorName ? `; thick: fitted population line per ${factorName}` : "; thick: fitted population line";
  return `${response} by ${time}, one line per ${groupName}${lines}${d.note ? ` (${d.note})` : ""}`;
}
