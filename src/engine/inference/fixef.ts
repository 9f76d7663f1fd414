// Fixed-effect t tests with Satterthwaite denominator df, as lmerTest computes them:
// varpar = (lme4's theta, sigma); A = 2 H^{-1} with H the Hessian of the deviance in varpar with
// sigma NOT profiled; for each coefficient, g = d Var(beta_i) / d varpar, and
// df = 2 Var(beta_i)^2 / (g' A g).
import { EigenvalueDecomposition, Matrix } from "ml-matrix";
import type { FixefRow } from "../types";
import { LmmFit, estimatedMs } from "../model/prepared";
import { unscaledVcov } from "../model/solve";
import { varparTheta, workingFromLme4 } from "../model/theta";
import { hessian, jacobian } from "./numderiv";
import { rememberVarparHessian } from "./shared-hessian";
import { varparHessian } from "./varpar-hessian";
import { pT2, qT } from "./dist";

/**
 * The deviance with sigma not profiled (lmerTest's devfun_vp) in varpar = (lme4's theta, the
 * residual-structure parameters, sigma).
 */
export function devianceVarpar(fit: LmmFit, at = factoredAt(fit)): (vp: Float64Array) => number {
  const reml = fit.method === "REML";
  const n = fit.design.n, p = fit.design.p;
  const nth = fit.theta.length, ne = fit.eta.length;
  return (vp) => {
    const f = at(vp);
    const sigma = vp[nth + ne];
    if (!f || !(sigma > 0)) return Infinity;
    const s2 = sigma * sigma;
    const base = f.ldL2 + f.logdet + f.pwrss / s2;
    return reml ? base + f.ldRX2 + (n - p) * Math.log(2 * Math.PI * s2) : base + n * Math.log(2 * Math.PI * s2);
  };
}

/** What a factorization at (theta, eta) yields for the deviance and vcov(beta) / sigma^2. */
export interface Factored {
  ldL2: number;
  ldRX2: number;
  pwrss: number;
  logdet: number;
  vdiag: Float64Array;
  /** The full (X'V^{-1}X)^{-1} / sigma^2, row-major p x p (for multi-df tests). */
  vc: Float64Array;
}

/**
 * The factorization's results at varpar's (theta, eta), remembered: sigma enters the unprofiled
 * deviance in closed form, so the Hessian's and Jacobian's points that move only sigma, or
 * revisit a theta, cost no new factorization (on a large crossed model each one is ~0.1 s).
 */
export function factoredAt(fit: LmmFit, seed?: { vp: Float64Array; f: Factored }): (vp: Float64Array) => Factored | null {
  const { model } = fit;
  const nth = fit.theta.length, ne = fit.eta.length;
  const memo = new Map<string, Factored | null>();
  const keyOf = (vp: Float64Array) => Array.prototype.join.call(vp.subarray(0, nth + ne), ",");
  if (seed) memo.set(keyOf(seed.vp), seed.f);
  return (vp) => {
    const key = keyOf(vp);
    const hit = memo.get(key);
    if (hit !== undefined) return hit;
    const logdet = fit.residual ? fit.residual.apply(vp.subarray(nth, nth + ne)) : 0;
    const th = workingFromLme4(model.remats, vp.subarray(0, nth));
    const out = Number.isFinite(logdet) && model.factorObjective(th) ? factoredNow(fit, logdet) : null;
    memo.set(key, out);
    return out;
  };
}

/** The Factored of the model's current factorization (`logdet`: the whitening's, 0 without a residual structure). */
export function factoredNow(fit: LmmFit, logdet: number): Factored {
  const { model } = fit;
  const p = fit.design.p;
  const vc = unscaledVcov(model);
  const vdiag = new Float64Array(p);
  for (let i = 0; i < p; i++) vdiag[i] = vc[i * p + i];
  return { ldL2: model.ldL2, ldRX2: model.ldRX2, pwrss: model.pwrss, logdet, vdiag, vc };
}

/**
 * The model at the fit's optimum for what needs only the objective's pieces (ldL2, ldRX2, pwrss,
 * L_FF: beta and its covariance): factorObjective, which with level classes skips the blocks that
 * the modes and conditional variances need (restore forms those, at about three times the cost on
 * a large crossed model). Returns the whitening's log-determinant (0 without a residual structure).
 */
export function restoreObjective(fit: LmmFit): number {
  const logdet = fit.residual ? fit.residual.apply(fit.eta) : 0;
  fit.model.factorObjective(fit.theta);
  return logdet;
}

/**
 * varpar at the optimum: lme4's theta, the residual parameters and sigma; the model is left
 * factored there (objective only). `factored`: it already is (restoreObjective was the last
 * factorization), which saves one on a large model.
 */
export function varparHat(fit: LmmFit, factored = false): Float64Array {
  const { model, design } = fit;
  if (!factored) restoreObjective(fit);
  const dof = fit.method === "REML" ? design.n - design.p : design.n;
  const thetaO = varparTheta(model.remats, fit.theta, model.T);
  return Float64Array.from([...thetaO, ...fit.eta, Math.sqrt(model.pwrss / dof)]);
}

/**
 * The natural size of each varpar entry, for derivative steps (numderiv.ts): an entry of lme4's
 * theta in row a of a term's factor scales as effect a does, i.e. as row a of the conditioning
 * transform C (b = C b_work, remat.ts), so it is that row's norm (1 for an intercept on its own,
 * 1/1000 for a slope on time in milli-days). The residual parameters are unconstrained (scale 1);
 * sigma is positive and its step is relative.
 */
export function varparScales(fit: LmmFit, vp: Float64Array): Float64Array {
  const out = new Float64Array(vp.length).fill(1);
  let k = 0;
  for (const r of fit.model.remats) {
    const q = r.q;
    // A structure's parameters (relative SDs of unconditioned columns, transformed correlations) are of size 1.
    if (r.structure.type !== "us") {
      k += r.structure.nPar;
      continue;
    }
    for (let j = 0; j < q; j++) {
      for (let i = j; i < q; i++) {
        let s = 0;
        for (let g = 0; g < q; g++) s += r.C[i * q + g] * r.C[i * q + g];
        out[k++] = Math.sqrt(s);
      }
    }
  }
  out[vp.length - 1] = vp[vp.length - 1];
  return out;
}

/** Put the model back at the fit's optimum (whitening and factor). */
export function restore(fit: LmmFit): void {
  if (fit.residual) fit.residual.apply(fit.eta);
  fit.model.factor(fit.theta);
}

/**
 * Moore–Penrose inverse of a symmetric matrix, dropping eigenvalues <= tol (as lmerTest). A
 * matrix with a non-finite entry (a Hessian that stepped where the likelihood is undefined) has
 * no inverse: all NaN, which the callers report as not computed.
 */
export function pinvSym(H: Float64Array, n: number, tol = 1e-8): Float64Array {
  if (!H.every(Number.isFinite)) return new Float64Array(n * n).fill(NaN);
  const e = new EigenvalueDecomposition(new Matrix(Array.from({ length: n }, (_, i) => Array.from(H.subarray(i * n, i * n + n)))), { assumeSymmetric: true });
  const vals = e.realEigenvalues;
  const V = e.eigenvectorMatrix;
  const out = new Float64Array(n * n);
  for (let k = 0; k < n; k++) {
    if (!(vals[k] > tol)) continue;
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) out[i * n + j] += (V.get(i, k) * V.get(j, k)) / vals[k];
  }
  return out;
}

/** `factored`: the model is factored at the optimum (restoreObjective or restore was the last factorization). */
export function fixefInference(fit: LmmFit, rows: FixefRow[], level: number, factored = false): string[] {
  const p = fit.design.p;
  if (p === 0) return [];
  const vp = varparHat(fit, factored);
  const k = vp.length;
  const nth = fit.theta.length, ne = fit.eta.length;
  // varparHat left the model factored at the optimum: that factorization is the Hessian's centre.
  const at = factoredAt(fit, { vp, f: factoredNow(fit, fit.residual ? fit.residual.apply(fit.eta) : 0) });
  const dev = devianceVarpar(fit, at);
  let dfs: number[];
  if (nth + ne === 0) {
    // No random effects: the ordinary linear model, df = n - p.
    dfs = rows.map(() => fit.design.n - p);
  } else {
    // Four Richardson levels as numDeriv; two when evaluations are slow (large data, where the
    // df are large and the p-values insensitive to them).
    const cost = estimatedMs(fit) * 10 * k * k;
    const levels = cost * 4 < 1500 ? 4 : cost * 2 < 3000 ? 2 : 1;
    const scales = varparScales(fit, vp);
    // Cut to fewer levels for cost, the cross derivatives share the diagonal's points too; the
    // analytic-gradient Hessian (varpar-hessian.ts) where the residual-gradient path applies.
    const H = varparHessian(fit, vp) ?? hessian(dev, vp, levels, scales, levels < 4);
    if (levels < 4 && ne === 0 && fit.opt.converged) rememberVarparHessian(fit, vp, H);
    const A = pinvSym(H, k).map((v) => 2 * v);
    const vcovAt = (x: Float64Array): Float64Array => {
      const f = at(x);
      const s2 = x[nth + ne] * x[nth + ne];
      const diag = new Float64Array(p);
      for (let i = 0; i < p; i++) diag[i] = f ? s2 * f.vdiag[i] : NaN;
      return diag;
    };
    const J = jacobian(vcovAt, vp, levels, scales);
    const v0 = vcovAt(vp);
    dfs = rows.map((_, i) => {
      let q = 0;
      for (let a = 0; a < k; a++) for (let b = 0; b < k; b++) q += J[a][i] * A[a * k + b] * J[b][i];
      return (2 * v0[i] * v0[i]) / q;
    });
  }
  restore(fit);
  return reportDf(rows, dfs, level);
}

/**
 * Below this Satterthwaite df a coefficient gets no t test or interval. Satterthwaite matches the
 * variance of the estimated Var(beta_i) to a scaled chi-square; df < 0.5 says the data carry less
 * than half of one group contrast's information about it (a variance component the likelihood
 * hardly determines): the t reference then has no usable quantiles (qt(0.975, 1e-7) is
 * astronomically large and p ~ 1 whatever t), so a number would look like a result and mean
 * nothing. df near 1 is a legitimate answer (a variance from two groups) and is kept.
 */
export const MIN_DF = 0.5;

/**
 * Fill df, p and the interval of each row; the notes say why any of them are missing. `method`
 * names the df in the notes (every ddf choice reports through here).
 */
export function reportDf(rows: FixefRow[], dfs: number[], level: number, method = "Satterthwaite"): string[] {
  const alpha = (1 - level) / 2;
  const low: string[] = [], bad: string[] = [];
  rows.forEach((r, i) => {
    const df = dfs[i];
    r.df = r.p = r.lower = r.upper = null;
    if (!Number.isFinite(df) || !Number.isFinite(r.t) || !(r.se > 0)) {
      bad.push(r.term);
      return;
    }
    if (df < MIN_DF) {
      low.push(`${r.term} (${df.toPrecision(2)})`);
      return;
    }
    const qt = qT(1 - alpha, df);
    if (!Number.isFinite(qt)) {
      bad.push(r.term);
      return;
    }
    r.df = df;
    r.p = pT2(r.t, df);
    r.lower = r.estimate - qt * r.se;
    r.upper = r.estimate + qt * r.se;
  });
  const notes: string[] = [];
  if (low.length > 0) {
    notes.push(`no df, p-value or interval for ${low.join(", ")}: the ${method} df ${low.length > 1 ? "are" : "is"} below ${MIN_DF}, so the data do not determine how uncertain the standard error is (too few groups at that level, or a variance the data cannot estimate); simplify the random effects or add groups`);
  }
  if (bad.length > 0) {
    notes.push(`no df, p-value or interval for ${bad.join(", ")}: the ${method} df could not be computed${method === "Satterthwaite" || method === "Kenward-Roger" ? " (the variance of the estimate does not change smoothly with the variance parameters at the optimum)" : ""}`);
  }
  return notes;
}
