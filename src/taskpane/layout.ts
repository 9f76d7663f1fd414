// What the pane writes, as plain 2-D arrays and plans: sheet names that never collide, row blocks
// for large ranges, the summary sheet's tables, and the per-level / per-row output. No Office.js
// here, so all of it is tested in Node.
import type { FitResultWithRows } from "../engine/types";
import { Cell, fitTable, varcompTable } from "../functions/format";

/** "LMM 1", "LMM 2", ...: the first name not taken (Excel compares sheet names case-insensitively). */
export function uniqueSheetName(existing: string[], base: string): string {
  const taken = new Set(existing.map((s) => s.toLowerCase()));
  for (let k = 1; ; k++) {
    const name = `${base} ${k}`.slice(0, 31);
    if (!taken.has(name.toLowerCase())) return name;
  }
}

/** Row blocks [start, end) of at most `size` rows. */
export function rowBlocks(n: number, size: number): [number, number][] {
  const out: [number, number][] = [];
  for (let s = 0; s < n; s += size) out.push([s, Math.min(n, s + size)]);
  return out;
}

export interface SheetTable {
  /** Title written above the table. */
  title: string;
  rows: Cell[][];
  /** Excel number format per column (null = General). */
  formats: (string | null)[];
}

const EST = "0.000000", P = "0.0000E+00", FIX = "0.0000";

/** The summary sheet: model summary, fixed effects, variance components. */
export function summaryTables(fit: FitResultWithRows, dataAddress: string): SheetTable[] {
  const groups = Object.entries(fit.groups).map(([g, k]) => `${g} (${k})`).join(", ") || "none";
  const summary: Cell[][] = [
    ["item", "value"],
    ["model", fit.spec],
    ["data", dataAddress],
    ["method", fit.method],
    ["rows used", fit.n],
    ["rows dropped", fit.n_dropped],
    ["groups", groups],
    ["logLik", fit.logLik],
    ["AIC", fit.AIC],
    ["BIC", fit.BIC],
    ["df", fit.df],
    ["converged", fit.converged ? "yes" : "NO"],
    ["singular", fit.singular ? "yes (boundary fit)" : "no"],
    ...fit.messages.map((m): Cell[] => ["note", m]),
  ];
  const fx = fitTable(fit);
  const fixef = fx.slice(0, fit.fixef.length + 1).map((r, i) => (i === 0 ? ["term", ...r.slice(1)] : r));
  return [
    { title: "Model", rows: summary, formats: [null, null] },
    { title: "Fixed effects", rows: fixef, formats: [null, EST, EST, "0.00", "0.000", P, EST, EST] },
    { title: "Variance components", rows: varcompTable(fit), formats: [null, null, EST, EST, EST, EST, "0.000", FIX] },
  ];
}

/** BLUPs of every grouping factor, one table each. */
export function blupTables(fit: FitResultWithRows): SheetTable[] {
  return Object.entries(fit.blups).map(([g, t]) => {
    const head: Cell[] = [g];
    for (const e of t.effects) head.push(e, `cond. SD ${e}`);
    const rows: Cell[][] = [head, ...t.levels.map((lev, i) => {
      const r: Cell[] = [lev];
      t.effects.forEach((_, j) => r.push(t.values[i][j], t.se[i][j]));
      return r;
    })];
    return { title: `BLUPs: ${g}`, rows, formats: [null, ...t.effects.flatMap(() => [EST, EST])] };
  });
}

/** Per-row output: data row number, fitted (conditional, marginal), residual. */
export function fittedRows(fit: FitResultWithRows, firstDataRow: number): Cell[][] {
  const f = fit.fitted!;
  const rows: Cell[][] = [["row", "fitted", "fitted (marginal)", "residual"]];
  for (let i = 0; i < f.rows.length; i++) rows.push([firstDataRow + f.rows[i], f.conditional[i], f.marginal[i], f.residual[i]]);
  return rows;
}

/** Live version of the summary: formulas over the data range instead of values. */
export function liveFormulas(dataAddress: string, spec: string, method: string): { title: string; formula: string }[] {
  const s = spec.replace(/"/g, '""');
  return [
    { title: "Fixed effects (live)", formula: `=LMM.FIT(${dataAddress},"${s}","${method}")` },
    { title: "Variance components (live)", formula: `=LMM.VARCOMP(${dataAddress},"${s}","${method}")` },
  ];
}

/**
 * Series for the spaghetti plot: response over time, one series per group (at most `maxGroups`,
 * spread evenly over the groups so the picture stays representative), plus the fitted population
 * line(s) per level of an optional factor.
 */
export function spaghetti(
  time: number[], y: number[], group: string[], marginal: number[] | null, factor: string[] | null, maxGroups = 40,
): { series: { name: string; x: number[]; y: number[]; population: boolean }[]; note: string | null } {
  const byGroup = new Map<string, number[]>();
  group.forEach((g, i) => {
    if (!byGroup.has(g)) byGroup.set(g, []);
    byGroup.get(g)!.push(i);
  });
  const names = Array.from(byGroup.keys());
  const step = names.length > maxGroups ? names.length / maxGroups : 1;
  const chosen = names.length > maxGroups ? Array.from({ length: maxGroups }, (_, k) => names[Math.floor(k * step)]) : names;
  const sortIdx = (idx: number[]) => idx.slice().sort((a, b) => time[a] - time[b]);
  const series = chosen.map((g) => {
    const idx = sortIdx(byGroup.get(g)!);
    return { name: g, x: idx.map((i) => time[i]), y: idx.map((i) => y[i]), population: false };
  });
  if (marginal) {
    const levels = factor ? Array.from(new Set(factor)) : ["all"];
    for (const lev of levels) {
      const idx = sortIdx(time.map((_, i) => i).filter((i) => !factor || factor[i] === lev));
      const seen = new Map<number, number>();
      for (const i of idx) if (!seen.has(time[i])) seen.set(time[i], marginal[i]);
      series.push({ name: `fitted: ${lev}`, x: Array.from(seen.keys()), y: Array.from(seen.values()), population: true });
    }
  }
  const note = names.length > maxGroups ? `${maxGroups} of ${names.length} groups shown, evenly spaced` : null;
  return { series, note };
}
