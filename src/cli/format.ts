// Readable tables for the terminal, laid out as R prints them. Formatting only: every number
// comes from the engine's result objects.
import type { FitResult, LrtResult, RlrtResult } from "../engine/types";
import { anovaColumn, anovaPvalues, formatColumn } from "./rformat";

/** R-like number: `digits` significant digits, no trailing exponent noise. */
export function num(v: number | null | undefined, digits = 5): string {
  if (v === null || v === undefined || Number.isNaN(v)) return "";
  if (!Number.isFinite(v)) return v > 0 ? "Inf" : "-Inf";
  if (v === 0) return "0";
  const a = Math.abs(v);
  if (a >= 1e-4 && a < 1e9) {
    const decimals = Math.max(0, digits - 1 - Math.floor(Math.log10(a)));
    return v.toFixed(Math.min(decimals, 10));
  }
  return v.toExponential(digits - 1);
}

/** p-value as R's format.pval: "< 2.2e-16" at the floor. */
export function pval(p: number | null | undefined): string {
  if (p === null || p === undefined || Number.isNaN(p)) return "";
  if (p < 2.2e-16) return "< 2.2e-16";
  return p < 1e-4 ? p.toExponential(3) : p.toFixed(4);
}

/** Columns padded to their widths: the first column left-aligned, the rest right-aligned. */
export function table(header: string[], rows: string[][], indent = ""): string {
  const all = [header, ...rows];
  const widths = header.map((_, j) => Math.max(...all.map((r) => (r[j] ?? "").length)));
  return all
    .map((r) => indent + r.map((cell, j) => (j === 0 ? (cell ?? "").padEnd(widths[j]) : (cell ?? "").padStart(widths[j]))).join("  ").trimEnd())
    .join("\n");
}

/** What the model is, as R would title it: lme4's mixed model, nlme's gls, or a plain linear model. */
export function modelTitle(fit: FitResult): string {
  const by = fit.method === "REML" ? "REML" : "maximum likelihood";
  if (Object.keys(fit.groups).length > 0) return `Linear mixed model fit by ${by}`;
  if (fit.residual) return `Generalized least squares fit by ${by}`;
  return `Linear model (no random effects) fit by ${by}`;
}

export function formatFit(fit: FitResult, dataName = "", level = 0.95): string {
  // Interval bounds named as R names them: 2.5 % and 97.5 % for level 0.95.
  const pct = (x: number) => String(Number((x * 100).toPrecision(4)));
  const lo = pct((1 - level) / 2), hi = pct((1 + level) / 2);
  const out: string[] = [];
  const mixed = Object.keys(fit.groups).length > 0;
  out.push(modelTitle(fit));
  out.push(`Model: ${fit.spec}`);
  out.push(`Data: ${dataName ? dataName + ", " : ""}${fit.n} rows used${fit.n_dropped ? `, ${fit.n_dropped} dropped for missing values` : ""}`);
  out.push("");
  out.push(table(["", "AIC", "BIC", "logLik", "df"], [["", num(fit.AIC, 7), num(fit.BIC, 7), num(fit.logLik, 7), String(fit.df)]]));
  out.push("");
  if (fit.residual) {
    out.push(`Residual structure: ${fit.residual.type}${fit.residual.group ? ` within ${fit.residual.group}` : ""}${fit.residual.time ? ` over ${fit.residual.time}` : ""}`);
    for (const [k, v] of Object.entries(fit.residual.params)) out.push(`  ${k}:${formatParam(v)}`);
    const iv = fit.residual.intervals ?? [];
    if (iv.length > 0) {
      // nlme's intervals() layout: the parameter, lower, est., upper.
      out.push(`  Approximate ${pct(fit.residual.intervals_level ?? level)}% intervals (nlme's intervals()):`);
      const ivRows = iv.map((r) => [`    ${r.part === "corStruct" ? "correlation" : "variance"} ${r.name}`, num(r.lower, 5), num(r.estimate, 5), num(r.upper, 5)]);
      out.push(table(["", "lower", "est.", "upper"], ivRows, " "));
    }
    out.push("");
  }
  if (mixed) {
    out.push("Random effects:");
    const vcRows = fit.varcomp.map((r) => [
      r.group,
      r.effect2 ? `${r.effect} ~ ${r.effect2}` : r.effect ?? "",
      r.effect2 ? "" : num(r.variance, 5),
      r.effect2 ? `corr ${num(r.corr, 3)}` : num(r.sd, 4),
      num(r.sd_lower, 4),
      num(r.sd_upper, 4),
      r.var_prop === null ? "" : r.var_prop.toFixed(3),
    ]);
    out.push(table(["Groups", "Name", "Variance", "Std.Dev.", `sd_${lo}`, `sd_${hi}`, "var_prop"], vcRows, " "));
    const groups = Object.entries(fit.groups).map(([g, k]) => `${g}, ${k}`).join("; ");
    out.push(`Number of obs: ${fit.n}, groups: ${groups}`);
    // Structured terms (cs, ar1, ...): their own parameters, which the rows above expand.
    for (const st of fit.re_structures ?? []) {
      const parts = Object.entries(st.params).map(([k, v]) => {
        const a = st.lower?.[k], b = st.upper?.[k];
        return `${k} ${num(v, 4)}${a != null && b != null ? ` [${num(a, 4)}, ${num(b, 4)}]` : ""}`;
      });
      out.push(`Structure ${st.term}: ${parts.join(", ")}`);
    }
    if (fit.icc != null) out.push(`Intra-class correlation: ${fit.icc.toFixed(3)}`);
  } else {
    // No random effects: the residual is the only variance, printed as lm and gls print it.
    const res = fit.varcomp.find((r) => r.group === "Residual");
    const ci = res && res.sd_lower !== null && res.sd_upper !== null ? `; ${pct(level)}% CI of the SD ${num(res.sd_lower, 4)} to ${num(res.sd_upper, 4)}` : "";
    out.push(`Residual standard error: ${num(fit.sigma, 5)}${res ? ` (variance ${num(res.variance, 5)}${ci})` : ""}`);
  }
  out.push("");
  out.push(fit.ddf ? `Fixed effects (${fit.ddf} df):` : "Fixed effects:");
  const fxRows = fit.fixef.map((r) => [r.term, num(r.estimate, 7), num(r.se, 7), num(r.df, 6), num(r.t, 4), pval(r.p), num(r.lower, 5), num(r.upper, 5)]);
  out.push(table(["", "Estimate", "Std. Error", "df", "t value", "Pr(>|t|)", `${lo} %`, `${hi} %`], fxRows));
  const flags: string[] = [];
  flags.push(fit.converged ? "converged" : "NOT CONVERGED");
  if (fit.singular) flags.push("singular (boundary) fit");
  if (fit.r2 && Number.isFinite(fit.r2.marginal)) {
    out.push("");
    out.push(`R²: marginal ${fit.r2.marginal.toFixed(3)}, conditional ${fit.r2.conditional.toFixed(3)} (Nakagawa & Schielzeth, as performance::r2_nakagawa)`);
  }
  out.push("");
  out.push(`Status: ${flags.join(", ")}`);
  for (const m of fit.messages) out.push(`Note: ${m}`);
  return out.join("\n");
}

/**
 * A residual parameter after its name: a number, a row of texts or numbers (one number of
 * decimals for the row, as R formats a vector), or a matrix on lines of its own with one number
 * of decimals for all its entries (the UN correlations: 1.000 beside 0.926, not 1.00).
 */
function formatParam(v: number | number[] | number[][] | string[]): string {
  if (typeof v === "number") return ` ${num(v, 5)}`;
  if (v.length > 0 && typeof v[0] === "string") return ` ${(v as string[]).join("  ")}`;
  if (v.length > 0 && Array.isArray(v[0])) {
    const m = v as number[][];
    const cells = formatColumn(m.flat(), 3);
    const width = Math.max(...cells.map((c) => c.length));
    const k = m[0].length;
    return m.map((r, i) => "\n    " + r.map((_, j) => cells[i * k + j].padStart(width)).join("  ")).join("");
  }
  return ` ${formatColumn(v as number[], 5).join("  ")}`;
}

export function formatLrt(res: LrtResult): string {
  const out: string[] = [];
  for (const m of res.messages) out.push(m);
  // Column by column, as nlme's print.anova.lme: R's formatting of the whole column.
  const test = res.models.map((_, i) => res.tests.find((x) => x.to === i + 1) ?? null);
  const AIC = anovaColumn(res.models.map((m) => m.AIC));
  const BIC = anovaColumn(res.models.map((m) => m.BIC));
  const logLik = anovaColumn(res.models.map((m) => m.logLik));
  const ratio = anovaColumn(test.map((t) => (t ? t["L.Ratio"] : null)));
  const p = anovaPvalues(test.map((t) => (t ? t.p : null)));
  const pMix = formatColumn(test.map((t) => (t && t.p_mixture !== null ? t.p_mixture : null)));
  const rows = res.models.map((m, i) => {
    const t = test[i];
    return [`m${i + 1}`, String(i + 1), String(m.df), AIC[i], BIC[i], logLik[i], t ? `${t.from} vs ${t.to}` : "", ratio[i], p[i], pMix[i]];
  });
  out.push(table(["", "Model", "df", "AIC", "BIC", "logLik", "Test", "L.Ratio", "p-value", "p (mixture)"], rows));
  res.models.forEach((m, i) => out.push(`m${i + 1}: ${m.spec}`));
  for (const t of res.tests) if (t.mixture) out.push(`${t.from} vs ${t.to}: ${t.mixture}`);
  return out.join("\n");
}

export function formatRlrt(res: RlrtResult, spec: string): string {
  return [
    "Exact restricted likelihood ratio test (Crainiceanu & Ruppert 2004), simulated",
    `Model: ${spec}`,
    `RLRT = ${num(res.statistic, 6)}, p-value ${res.p === 0 ? `< ${1 / res.nsim} (no simulated value reached the statistic)` : `= ${pval(res.p)}`} (${res.nsim} simulated values)`,
  ].join("\n");
}
