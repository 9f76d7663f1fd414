// Result objects -> the 2-D tables Excel spills, with R's labels. Formatting only: nothing here
// computes a statistic. Every number carries the number format it should be shown with (a Num;
// number-formats.ts has the codes); cell-values.ts turns Nums into Excel's formatted-number
// values where the host supports them, and the plain tables (fitTable, ...) drop the formats for
// the pane. Other cells are strings or booleans; blanks are "" (a null in a returned array would
// show as 0), and every table is rectangular.
import type { FitResult, FitResultWithRows, LrtResult, RlrtResult } from "../engine/types";
import { FittedType, InputError } from "./inputs";
import * as NF from "./number-formats";

export type Cell = number | string | boolean;
export type { FittedType };

/** A number and the Excel number format to show it with. */
export class Num {
  constructor(
    readonly value: number,
    readonly format: string,
  ) {}
}

/** A table cell before it reaches Excel: a formatted number, a string or a boolean. */
export type Rich = Num | string | boolean;

/** A number with its format, or "" for missing/non-finite. */
const n = (x: number | null | undefined, format: string): Rich => (x === null || x === undefined || !Number.isFinite(x) ? "" : new Num(x, format));

/** The table without its formats: numbers, strings and booleans (the pane's tables). */
export function plain(rows: Rich[][]): Cell[][] {
  return rows.map((r) => r.map((c) => (c instanceof Num ? c.value : c)));
}

/** Pad every row with "" to the widest one. */
export function rect<C extends Rich>(rows: C[][]): (C | "")[][] {
  const w = Math.max(1, ...rows.map((r) => r.length));
  return rows.map((r) => (r.length === w ? r : [...r, ...new Array<"">(w - r.length).fill("")]));
}

/** A level as Excel should show it: numeric levels (tree 1, 2, ...) as numbers, so lookups match the data. */
function levelCell(level: string): Rich {
  if (level.trim() === "") return level;
  const x = Number(level);
  return Number.isFinite(x) && String(x) === level ? new Num(x, "General") : level;
}

/**
 * The residual structure's parameters as rows: the name, then its value(s) as numbers (or
 * texts, e.g. varIdent's levels), so they can be referenced; a matrix takes one row per row,
 * with one format for all its entries (the UN correlations: 1.000 beside 0.926).
 */
function paramRows(params: Record<string, number | number[] | number[][] | string[]>): Rich[][] {
  const rows: Rich[][] = [];
  const formatOf = (xs: number[]) => {
    const finite = xs.filter((x) => Number.isFinite(x) && x !== 0);
    if (finite.length > 0 && finite.every((x) => Math.abs(x) <= 1)) return NF.PROPORTION;
    const small = finite.reduce((m, x) => Math.min(m, Math.abs(x)), Infinity);
    return small === Infinity ? NF.INTEGER : NF.significant(small, 4);
  };
  for (const [name, x] of Object.entries(params)) {
    if (!Array.isArray(x)) rows.push([name, n(x, formatOf([x]))]);
    else if (x.length > 0 && Array.isArray(x[0])) {
      const m = x as number[][];
      const f = formatOf(m.flat());
      m.forEach((r, i) => rows.push([`${name} row ${i + 1}`, ...r.map((c) => n(c, f))]));
    } else {
      const nums = (x as (number | string)[]).filter((c): c is number => typeof c === "number");
      const f = formatOf(nums);
      rows.push([name, ...(x as (number | string)[]).map((c) => (typeof c === "string" ? c : n(c, f)))]);
    }
  }
  return rows;
}

/** The residual structure in words: "AR1 within tree over time". */
function residualWords(r: NonNullable<FitResult["residual"]>): string {
  return `${r.type}${r.group ? ` within ${r.group}` : ""}${r.time ? ` over ${r.time}` : ""}`;
}

/**
 * LMM.FIT: the fixed-effects table as lmerTest prints it (Estimate, Std. Error, df, t value,
 * Pr(>|t|)) with the confidence interval; a blank row; then a block of label / value rows under
 * the term names (fit statistics, status, the residual structure and its parameters), then one
 * "note" row per message (dropped rows, singular fit, convergence warnings). `notes` are extra
 * notes from the adapter.
 */
export function fitCells(fit: FitResult, notes: string[] = []): Rich[][] {
  const rows: Rich[][] = [["", "Estimate", "Std. Error", "df", "t value", "Pr(>|t|)", "2.5 %", "97.5 %"]];
  for (const r of fit.fixef) {
    const f = NF.bySE(r.se, r.estimate);
    rows.push([r.term, n(r.estimate, f), n(r.se, f), n(r.df, NF.DF), n(r.t, NF.T_VALUE), n(r.p, NF.P_VALUE), n(r.lower, f), n(r.upper, f)]);
  }
  rows.push([""]);
  const groups = Object.entries(fit.groups)
    .map(([g, k]) => `${g}: ${k}`)
    .join(", ");
  rows.push(["logLik", n(fit.logLik, NF.LIKELIHOOD)]);
  rows.push(["AIC", n(fit.AIC, NF.LIKELIHOOD)]);
  rows.push(["BIC", n(fit.BIC, NF.LIKELIHOOD)]);
  rows.push(["parameters (df)", n(fit.df, NF.INTEGER)]);
  rows.push(["sigma", n(fit.sigma, NF.significant(fit.sigma, 4))]);
  rows.push(["method", fit.method]);
  rows.push(["n", n(fit.n, NF.INTEGER)]);
  rows.push(["dropped", n(fit.n_dropped, NF.INTEGER)]);
  rows.push(["groups", groups || "none"]);
  if (fit.r2 && Number.isFinite(fit.r2.marginal)) {
    // The definition is a note of its own: packages differ (performance, MuMIn, SAS give others).
    rows.push(["R² marginal", n(fit.r2.marginal, NF.PROPORTION)]);
    rows.push(["R² conditional", n(fit.r2.conditional, NF.PROPORTION)]);
  }
  if (fit.icc !== undefined && fit.icc !== null && Number.isFinite(fit.icc)) rows.push(["ICC", n(fit.icc, NF.PROPORTION)]);
  if (fit.ddf) rows.push(["df method", fit.ddf]);
  rows.push(["converged", fit.converged ? "yes" : "NO: see the notes"]);
  rows.push(["singular", fit.singular ? "yes: a variance is on its boundary (see the notes)" : "no"]);
  if (fit.residual) {
    rows.push(["residual", residualWords(fit.residual)]);
    rows.push(...paramRows(fit.residual.params));
  }
  // Structured random terms: the term, then one row per parameter (value, interval ends).
  for (const st of fit.re_structures ?? []) {
    rows.push(["random structure", st.term]);
    for (const [k, v] of Object.entries(st.params)) {
      const f = k.startsWith("rho") ? NF.PROPORTION : NF.significant(v, 4);
      rows.push([`${st.group} ${k}`, n(v, f), n(st.lower?.[k] ?? null, f), n(st.upper?.[k] ?? null, f)]);
    }
  }
  const r2note = fit.r2 && Number.isFinite(fit.r2.marginal) ? [`R²: ${fit.r2.definition}`] : [];
  for (const m of [...fit.messages, ...notes, ...r2note]) rows.push(["note", m]);
  return rect(rows);
}

/** LMM.FIT's table without formats (the pane sizes its =LMM.FIT block by it). */
export function fitTable(fit: FitResult, notes: string[] = []): Cell[][] {
  return plain(fitCells(fit, notes));
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
 * var_prop), with a corr column when the model has correlations. Variances to four significant
 * digits; an SD's interval on the SD's decimals.
 */
export function varcompCells(fit: FitResult, level = 0.95): Rich[][] {
  const hasCorr = fit.varcomp.some((r) => r.effect2 !== null);
  // A residual structure's parameters (nlme's intervals()) follow, with their estimate last.
  const structure = fit.residual?.intervals ?? [];
  const head: Rich[] = ["group", "effect", "variance", "sd", ...sdLabels(level), "var_prop"];
  if (hasCorr) head.push("corr");
  if (structure.length > 0) head.push("estimate");
  const rows: Rich[][] = [head];
  for (const r of fit.varcomp) {
    if (r.effect2 === null) {
      const sd = NF.bySE(r.sd, r.sd);
      const row: Rich[] = [r.group, r.effect ?? "", n(r.variance, NF.bySE(r.variance, r.variance)), n(r.sd, sd), n(r.sd_lower, sd), n(r.sd_upper, sd), n(r.var_prop, NF.PROPORTION)];
      if (hasCorr) row.push("");
      rows.push(row);
    } else {
      // A correlation row: its interval (lme4's confint) sits under sd_2.5 / sd_97.5.
      rows.push([r.group, `${r.effect ?? ""}, ${r.effect2}`, "", "", n(r.sd_lower, NF.PROPORTION), n(r.sd_upper, NF.PROPORTION), "", n(r.corr, NF.PROPORTION)]);
    }
  }
  for (const p of structure) {
    const f = NF.bySE(p.estimate, p.estimate);
    const row: Rich[] = [`${fit.residual!.type} ${p.part === "corStruct" ? "correlation" : "variance"}`, p.name, "", "", n(p.lower, f), n(p.upper, f), ""];
    if (hasCorr) row.push("");
    row.push(n(p.estimate, f));
    rows.push(row);
  }
  return rect(rows);
}

export function varcompTable(fit: FitResult, level = 0.95): Cell[][] {
  return plain(varcompCells(fit, level));
}

/**
 * LMM.LRT: R's anova layout (the spec as the row label, then Model, df, AIC, BIC, logLik, Test,
 * L.Ratio, p-value) plus the chi-bar-square p where the null puts a variance on the boundary.
 */
export function lrtCells(res: LrtResult): Rich[][] {
  const rows: Rich[][] = [["", "Model", "df", "AIC", "BIC", "logLik", "Test", "L.Ratio", "p-value", "p (chi-bar-square)"]];
  res.models.forEach((m, i) => {
    const t = res.tests.find((x) => x.to === i + 1);
    const L = NF.LIKELIHOOD;
    rows.push([m.spec, n(i + 1, NF.INTEGER), n(m.df, NF.INTEGER), n(m.AIC, L), n(m.BIC, L), n(m.logLik, L), t ? `${t.from} vs ${t.to}` : "", t ? n(t["L.Ratio"], L) : "", t ? n(t.p, NF.P_VALUE) : "", t ? n(t.p_mixture, NF.P_VALUE) : ""]);
  });
  rows.push(["method", res.refit_ml ? "ML (REML fits refitted by ML: their fixed effects differ)" : res.method]);
  for (const t of res.tests) if (t.mixture) rows.push(["note", `${t.from} vs ${t.to}: ${t.mixture}`]);
  for (const m of res.messages) rows.push(["note", m]);
  return rect(rows);
}

export function lrtTable(res: LrtResult): Cell[][] {
  return plain(lrtCells(res));
}

/** LMM.BLUP: one row per level of `group` (default: the first grouping factor), each effect followed by its conditional SD. */
export function blupCells(fit: FitResult, group: string | null): Rich[][] {
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
  const rows: Rich[][] = [blupHeader(g, t)];
  for (let i = 0; i < t.levels.length; i++) rows.push(blupRowCells(t, i));
  return rows;
}

export function blupTable(fit: FitResult, group: string | null): Cell[][] {
  return plain(blupCells(fit, group));
}

type BlupSet = FitResult["blups"][string];

/** The BLUP table's header (LMM.BLUP and the pane): the group, then each effect and its conditional SD. */
export function blupHeader(group: string, t: BlupSet): string[] {
  return [group, ...t.effects.flatMap((e) => [e, `cond. SD ${e}`])];
}

/** Row i of the BLUP table: the level, then each effect's BLUP and conditional SD (on the SD's decimals). */
function blupRowCells(t: BlupSet, i: number): Rich[] {
  const row: Rich[] = [levelCell(t.levels[i])];
  for (let j = 0; j < t.effects.length; j++) {
    const f = NF.bySE(t.se[i][j], t.values[i][j]);
    row.push(n(t.values[i][j], f), n(t.se[i][j], f));
  }
  return row;
}

/** Row i of the BLUP table without formats (the pane writes its BLUP sheet in blocks of rows). */
export function blupRow(t: BlupSet, i: number): Cell[] {
  return plain([blupRowCells(t, i)])[0];
}

/** LMM.RLRT: the exact restricted likelihood-ratio test of one variance component (RLRsim). */
export function rlrtCells(res: RlrtResult): Rich[][] {
  const rows: Rich[][] = [
    ["RLRT", "p-value", "nsim"],
    [n(res.statistic, NF.LIKELIHOOD), n(res.p, NF.P_SIMULATED), n(res.nsim, NF.INTEGER)],
  ];
  if (res.p === 0) rows.push(["note", `p-value < ${1 / res.nsim}: none of the ${res.nsim} simulated statistics reached the observed one`]);
  return rect(rows);
}

export function rlrtTable(res: RlrtResult): Cell[][] {
  return plain(rlrtCells(res));
}

/**
 * LMM.FITTED: one column as tall as the data range (header row included), so it lines up with
 * the data when entered beside the header; rows the model did not use are "". Values to about
 * four significant digits of the residual SD.
 */
export function fittedCells(fit: FitResultWithRows, type: FittedType, height: number): Rich[][] {
  const label = type === "residual" ? "residual" : type === "marginal" ? "fitted (marginal)" : type === "pearson" ? "Pearson residual" : type === "normalized" ? "normalized residual" : "fitted";
  const out: Rich[][] = [[label]];
  for (let i = 1; i < height; i++) out.push([""]);
  const f = fit.fitted;
  if (!f) return out;
  const vals = type === "residual" ? f.residual : type === "marginal" ? f.marginal : type === "pearson" ? f.pearson : type === "normalized" ? f.normalized : f.conditional;
  if (!vals) return out;
  // Standardized residuals are on the scale of 1, not of sigma.
  const fmt = NF.bySE(type === "pearson" || type === "normalized" ? 1 : fit.sigma, null);
  for (let i = 0; i < f.rows.length; i++) {
    const r = f.rows[i] + 1;
    if (r < height) out[r] = [n(vals[i], fmt)];
  }
  return out;
}

export function fittedColumn(fit: FitResultWithRows, type: FittedType, height: number): Cell[][] {
  return plain(fittedCells(fit, type, height));
}
