// Result objects -> the 2-D tables Excel spills, with R's labels. Formatting only: no statistics.
// Every cell is a number, a string or a boolean; blanks are "" (null would show as 0).
import type { FitResult, FitResultWithRows, LrtResult } from "../engine/types";

export type Cell = number | string | boolean;

const v = (x: number | null | undefined): Cell => (x === null || x === undefined || !Number.isFinite(x) ? "" : x);

/** Pad every row to the widest one. */
export function rect(rows: Cell[][]): Cell[][] {
  const w = Math.max(...rows.map((r) => r.length));
  return rows.map((r) => (r.length === w ? r : [...r, ...new Array<Cell>(w - r.length).fill("")]));
}

/** LMM.FIT: the fixed-effects table, then the fit statistics and status, then any notes. */
export function fitTable(fit: FitResult): Cell[][] {
  const rows: Cell[][] = [["", "Estimate", "Std. Error", "df", "t value", "Pr(>|t|)", "2.5 %", "97.5 %"]];
  for (const r of fit.fixef) rows.push([r.term, v(r.estimate), v(r.se), v(r.df), v(r.t), v(r.p), v(r.lower), v(r.upper)]);
  rows.push([""]);
  rows.push([fit.method === "REML" ? "REML criterion (logLik)" : "logLik", v(fit.logLik), "df", fit.df, "AIC", v(fit.AIC), "BIC", v(fit.BIC)]);
  rows.push(["n", fit.n, "dropped", fit.n_dropped, "sigma", v(fit.sigma), "method", fit.method]);
  const groups = Object.entries(fit.groups).map(([g, k]) => `${g}: ${k}`).join(", ");
  rows.push(["groups", groups || "none", "converged", fit.converged, "singular", fit.singular]);
  if (fit.residual) {
    const params = Object.entries(fit.residual.params)
      .map(([k, x]) => `${k} = ${Array.isArray(x) ? JSON.stringify(x) : x}`)
      .join("; ");
    rows.push(["residual", `${fit.residual.type}${fit.residual.group ? ` within ${fit.residual.group}` : ""}`, params]);
  }
  for (const m of fit.messages) rows.push(["note", m]);
  return rect(rows);
}

/** LMM.VARCOMP: the lecture's Table 1 (group, effect, variance, sd, sd_2.5, sd_97.5, var_prop). */
export function varcompTable(fit: FitResult): Cell[][] {
  const hasCorr = fit.varcomp.some((r) => r.effect2 !== null);
  const head: Cell[] = ["group", "effect", "variance", "sd", "sd_2.5", "sd_97.5", "var_prop"];
  if (hasCorr) head.push("corr");
  const rows: Cell[][] = [head];
  for (const r of fit.varcomp) {
    if (r.effect2 === null) {
      const row: Cell[] = [r.group, r.effect ?? "", v(r.variance), v(r.sd), v(r.sd_lower), v(r.sd_upper), v(r.var_prop)];
      if (hasCorr) row.push("");
      rows.push(row);
    } else {
      rows.push([r.group, `${r.effect}, ${r.effect2}`, "", "", v(r.sd_lower), v(r.sd_upper), "", v(r.corr)]);
    }
  }
  return rect(rows);
}

/** LMM.LRT: nlme's anova layout, with the chi-bar-square p where the null is on the boundary. */
export function lrtTable(res: LrtResult): Cell[][] {
  const rows: Cell[][] = [["Model", "df", "AIC", "BIC", "logLik", "Test", "L.Ratio", "p-value", "p (chi-bar-square)"]];
  res.models.forEach((m, i) => {
    const t = res.tests.find((x) => x.to === i + 1);
    rows.push([m.spec, m.df, v(m.AIC), v(m.BIC), v(m.logLik), t ? `${t.from} vs ${t.to}` : "", t ? v(t["L.Ratio"]) : "", t ? v(t.p) : "", t ? v(t.p_mixture) : ""]);
  });
  rows.push(["method", res.method]);
  for (const t of res.tests) if (t.mixture) rows.push(["note", `${t.from} vs ${t.to}: ${t.mixture}`]);
  for (const m of res.messages) rows.push(["note", m]);
  return rect(rows);
}

/** LMM.BLUP: one row per level, each effect followed by its conditional SD. */
export function blupTable(fit: FitResult, group: string | null): Cell[][] {
  const names = Object.keys(fit.blups);
  const g = group ?? names[0];
  const t = fit.blups[g];
  if (!t) throw new Error(`no random effect is grouped by '${g}'; the model's grouping factors are: ${names.join(", ") || "none"}`);
  const head: Cell[] = [g];
  for (const e of t.effects) head.push(e, `cond. SD ${e}`);
  const rows: Cell[][] = [head];
  t.levels.forEach((lev, i) => {
    const row: Cell[] = [lev];
    t.effects.forEach((_, j) => row.push(v(t.values[i][j]), v(t.se[i][j])));
    rows.push(row);
  });
  return rows;
}

export type FittedType = "conditional" | "marginal" | "residual";

/**
 * LMM.FITTED: one column as tall as the data range (header row included), so it lines up with
 * the data when entered beside it; dropped rows are "".
 */
export function fittedColumn(fit: FitResultWithRows, type: FittedType, height: number): Cell[][] {
  const out: Cell[][] = [[type === "residual" ? "residual" : type === "marginal" ? "fitted (marginal)" : "fitted"]];
  for (let i = 1; i < height; i++) out.push([""]);
  const f = fit.fitted;
  if (!f) return out;
  const vals = type === "residual" ? f.residual : type === "marginal" ? f.marginal : f.conditional;
  f.rows.forEach((r, i) => {
    if (r + 1 < height) out[r + 1] = [vals[i]];
  });
  return out;
}
