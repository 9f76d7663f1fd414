// Result objects -> the 2-D tables Excel spills, with R's labels. Formatting only: nothing here
// computes a statistic. Every cell is a number, a string or a boolean; blanks are "" (a null in
// a returned array would show as 0), and every table is rectangular.
import type { FitResult, FitResultWithRows, LrtResult, RlrtResult } from "../engine/types";
import { FittedType, InputError } from "./inputs";

export type Cell = number | string | boolean;
export type { FittedType };

/** A number, or "" for missing/non-finite. */
const v = (x: number | null | undefined): Cell => (x === null || x === undefined || !Number.isFinite(x) ? "" : x);

/** Pad every row with "" to the widest one. */
export function rect(rows: Cell[][]): Cell[][] {
  const w = Math.max(1, ...rows.map((r) => r.length));
  return rows.map((r) => (r.length === w ? r : [...r, ...new Array<Cell>(w - r.length).fill("")]));
}

/** A level as Excel should show it: numeric levels (tree 1, 2, ...) as numbers, so lookups match the data. */
function levelCell(level: string): Cell {
  if (level.trim() === "") return level;
  const x = Number(level);
  return Number.isFinite(x) && String(x) === level ? x : level;
}

/**
 * The residual structure's parameters as rows of cells: a name, then its value(s) as numbers
 * (or texts, e.g. varIdent's levels), so they can be referenced; a matrix takes one row per row.
 */
function paramRows(params: Record<string, number | number[] | number[][] | string[]>): Cell[][] {
  const rows: Cell[][] = [];
  for (const [name, x] of Object.entries(params)) {
    if (!Array.isArray(x)) rows.push(["", name, v(x)]);
    else if (x.length > 0 && Array.isArray(x[0])) (x as number[][]).forEach((r, i) => rows.push(["", `${name} row ${i + 1}`, ...r.map(v)]));
    else rows.push(["", name, ...(x as (number | string)[]).map((c) => (typeof c === "string" ? c : v(c)))]);
  }
  return rows;
}

/**
 * LMM.FIT: the fixed-effects table as lmerTest prints it (Estimate, Std. Error, df, t value,
 * Pr(>|t|)) with the confidence interval, a blank row, the fit statistics and status, the
 * residual structure and its parameters if any, then one "note" row per message (dropped rows, singular fit,
 * convergence warnings). `notes` are extra notes from the adapter.
 */
export function fitTable(fit: FitResult, notes: string[] = []): Cell[][] {
  const rows: Cell[][] = [["", "Estimate", "Std. Error", "df", "t value", "Pr(>|t|)", "2.5 %", "97.5 %"]];
  for (const r of fit.fixef) rows.push([r.term, v(r.estimate), v(r.se), v(r.df), v(r.t), v(r.p), v(r.lower), v(r.upper)]);
  rows.push([""]);
  rows.push([fit.method === "REML" ? "REML criterion (logLik)" : "logLik", v(fit.logLik), "df", fit.df, "AIC", v(fit.AIC), "BIC", v(fit.BIC)]);
  rows.push(["n", fit.n, "dropped", fit.n_dropped, "sigma", v(fit.sigma), "method", fit.method]);
  const groups = Object.entries(fit.groups)
    .map(([g, k]) => `${g}: ${k}`)
    .join(", ");
  const status: Cell[] = ["groups", groups || "none", "converged", fit.converged, "singular", fit.singular];
  if (fit.icc !== undefined && fit.icc !== null && Number.isFinite(fit.icc)) status.push("ICC", fit.icc);
  rows.push(status);
  if (fit.residual) {
    const where = `${fit.residual.type}${fit.residual.group ? ` within ${fit.residual.group}` : ""}${fit.residual.time ? ` over ${fit.residual.time}` : ""}`;
    rows.push(["residual", where]);
    rows.push(...paramRows(fit.residual.params));
  }
  for (const m of [...fit.messages, ...notes]) rows.push(["note", m]);
  return rect(rows);
}

/** R's names of the interval bounds at `level` (confint's "2.5 %" / "97.5 %"). */
export function ciLabels(level: number): [string, string] {
  const lo = ((1 - level) / 2) * 100;
  const fmt = (p: number) => String(Number(p.toFixed(4)));
  return [`${fmt(lo)} %`, `${fmt(100 - lo)} %`];
}

/** The lecture's names of the SD interval bounds at `level` (sd_2.5 / sd_97.5). */
export function sdLabels(level: number): [string, string] {
  const [a, b] = ciLabels(level);
  return [`sd_${a.replace(" %", "")}`, `sd_${b.replace(" %", "")}`];
}

/**
 * LMM.VARCOMP and the pane: the lecture's Table 1 (group, effect, variance, sd, sd_2.5, sd_97.5,
 * var_prop), with a corr column when the model has correlations.
 */
export function varcompTable(fit: FitResult, level = 0.95): Cell[][] {
  const hasCorr = fit.varcomp.some((r) => r.effect2 !== null);
  const head: Cell[] = ["group", "effect", "variance", "sd", ...sdLabels(level), "var_prop"];
  if (hasCorr) head.push("corr");
  const rows: Cell[][] = [head];
  for (const r of fit.varcomp) {
    if (r.effect2 === null) {
      const row: Cell[] = [r.group, r.effect ?? "", v(r.variance), v(r.sd), v(r.sd_lower), v(r.sd_upper), v(r.var_prop)];
      if (hasCorr) row.push("");
      rows.push(row);
    } else {
      // A correlation row: its interval (lme4's confint) sits under sd_2.5 / sd_97.5.
      rows.push([r.group, `${r.effect ?? ""}, ${r.effect2}`, "", "", v(r.sd_lower), v(r.sd_upper), "", v(r.corr)]);
    }
  }
  return rect(rows);
}

/**
 * LMM.LRT: R's anova layout (the spec as the row label, then Model, df, AIC, BIC, logLik, Test,
 * L.Ratio, p-value) plus the chi-bar-square p where the null puts a variance on the boundary.
 */
export function lrtTable(res: LrtResult): Cell[][] {
  const rows: Cell[][] = [["", "Model", "df", "AIC", "BIC", "logLik", "Test", "L.Ratio", "p-value", "p (chi-bar-square)"]];
  res.models.forEach((m, i) => {
    const t = res.tests.find((x) => x.to === i + 1);
    rows.push([m.spec, i + 1, m.df, v(m.AIC), v(m.BIC), v(m.logLik), t ? `${t.from} vs ${t.to}` : "", t ? v(t["L.Ratio"]) : "", t ? v(t.p) : "", t ? v(t.p_mixture) : ""]);
  });
  rows.push(["method", res.refit_ml ? "ML (REML fits refitted by ML: their fixed effects differ)" : res.method]);
  for (const t of res.tests) if (t.mixture) rows.push(["note", `${t.from} vs ${t.to}: ${t.mixture}`]);
  for (const m of res.messages) rows.push(["note", m]);
  return rect(rows);
}

/** LMM.BLUP: one row per level of `group` (default: the first grouping factor), each effect followed by its conditional SD. */
export function blupTable(fit: FitResult, group: string | null): Cell[][] {
  const names = Object.keys(fit.blups);
  const g = group ?? names[0];
  const t = g === undefined ? undefined : fit.blups[g];
  if (!t) {
    throw new InputError(
      names.length === 0
        ? "the model has no random effects, so there are no BLUPs: add a term such as (1|tree) to the spec"
        : `no random effect is grouped by '${g}'; the model's grouping factors are: ${names.join(", ")}`,
    );
  }
  const rows: Cell[][] = [blupHeader(g, t)];
  for (let i = 0; i < t.levels.length; i++) rows.push(blupRow(t, i));
  return rows;
}

type BlupSet = FitResult["blups"][string];

/** The BLUP table's header (LMM.BLUP and the pane): the group, then each effect and its conditional SD. */
export function blupHeader(group: string, t: BlupSet): string[] {
  return [group, ...t.effects.flatMap((e) => [e, `cond. SD ${e}`])];
}

/** Row i of the BLUP table: the level, then each effect's BLUP and conditional SD. */
export function blupRow(t: BlupSet, i: number): Cell[] {
  const row: Cell[] = [levelCell(t.levels[i])];
  for (let j = 0; j < t.effects.length; j++) row.push(v(t.values[i][j]), v(t.se[i][j]));
  return row;
}

/** LMM.RLRT: the exact restricted likelihood-ratio test of one variance component (RLRsim). */
export function rlrtTable(res: RlrtResult): Cell[][] {
  const rows: Cell[][] = [
    ["RLRT", "p-value", "nsim"],
    [v(res.statistic), v(res.p), res.nsim],
  ];
  if (res.p === 0) rows.push(["note", `p-value < ${1 / res.nsim}: none of the ${res.nsim} simulated statistics reached the observed one`]);
  return rect(rows);
}

/**
 * LMM.FITTED: one column as tall as the data range (header row included), so it lines up with
 * the data when entered beside the header; rows the model did not use are "".
 */
export function fittedColumn(fit: FitResultWithRows, type: FittedType, height: number): Cell[][] {
  const label = type === "residual" ? "residual" : type === "marginal" ? "fitted (marginal)" : "fitted";
  const out: Cell[][] = [[label]];
  for (let i = 1; i < height; i++) out.push([""]);
  const f = fit.fitted;
  if (!f) return out;
  const vals = type === "residual" ? f.residual : type === "marginal" ? f.marginal : f.conditional;
  for (let i = 0; i < f.rows.length; i++) {
    const r = f.rows[i] + 1;
    if (r < height) out[r] = [v(vals[i])];
  }
  return out;
}
