// F tests of L beta = 0 with lmerTest's multi-df Satterthwaite denominator df (contestMD):
// eigen-decompose L C L' = P D P' (C = vcov(beta)); each eigen-direction m is a 1-df test with
// t_m^2 = (P'L beta)_m^2 / d_m and df nu_m = 2 d_m^2 / (g_m' A g_m), g_m = d (P'L C L'P)_mm / d varpar,
// A = 2 H^{-1} the covariance of varpar; F = sum t_m^2 / q, and the df combine as
// E = sum nu_m / (nu_m - 2), nu = 2E / (E - q) (2 when some nu_m <= 2; their mean when all agree).
// The derivatives of C come from one numerical Jacobian of the full p x p vcov in varpar.
import { EigenvalueDecomposition, Matrix } from "ml-matrix";
import type { LmmFit } from "../model/prepared";
import { estimatedMs } from "../model/prepared";
import { fixedEffects } from "../model/solve";
import { devianceVarpar, factoredAt, pinvSym, restore, varparHat } from "./fixef";
import { hessian, jacobian } from "./numderiv";
import { pFUpper } from "./dist";
import { varparHessian } from "./varpar-hessian";

/** What every F test of a fit needs: beta, vcov, and the varpar covariance and Jacobian. */
export interface TestContext {
  n: number;
  p: number;
  beta: Float64Array;
  /** vcov(beta) = sigma^2 (X'V^{-1}X)^{-1}, row-major p x p. */
  vcov: Float64Array;
  sigma: number;
  /** Number of variance parameters (theta, residual structure, sigma). */
  k: number;
  /** Covariance of varpar (k x k), null when the model has no variance parameters but sigma. */
  A: Float64Array | null;
  /** d vcov / d varpar_a, each row-major p x p. */
  J: Float64Array[] | null;
}

/** Beta and vcov at the optimum, with the Satterthwaite pieces when `satterthwaite`. */
export function testContext(fit: LmmFit, satterthwaite: boolean): TestContext {
  const { design, model } = fit;
  const n = design.n, p = design.p;
  restore(fit);
  const vp = varparHat(fit);
  const k = vp.length;
  const nth = fit.theta.length, ne = fit.eta.length;
  const beta = fixedEffects(model);
  const at = factoredAt(fit);
  const sigma = vp[k - 1];
  const f0 = at(vp)!;
  const vcov = f0.vc.map((v) => v * sigma * sigma);
  let A: Float64Array | null = null;
  let J: Float64Array[] | null = null;
  if (satterthwaite && nth + ne > 0) {
    // The same Richardson levels as the t tests (fixef.ts): four unless evaluations are slow.
    const cost = estimatedMs(fit) * 10 * k * k;
    const levels = cost * 4 < 1500 ? 4 : cost * 2 < 3000 ? 2 : 1;
    const H = varparHessian(fit, vp) ?? hessian(devianceVarpar(fit, at), vp, levels);
    A = pinvSym(H, k).map((v) => 2 * v);
    J = jacobian((x) => {
      const f = at(x);
      const s2 = x[nth + ne] * x[nth + ne];
      return f ? f.vc.map((v) => v * s2) : new Float64Array(p * p).fill(NaN);
    }, vp, levels);
  }
  restore(fit);
  return { n, p, beta, vcov, sigma, k, A, J };
}

/** One F test: lmerTest's columns (Sum Sq and Mean Sq are F sigma^2 times NumDF and 1). */
export interface FRow {
  "Sum Sq": number;
  "Mean Sq": number;
  NumDF: number;
  DenDF: number | null;
  "F value": number;
  "Pr(>F)": number | null;
}

const qform = (l: ArrayLike<number>, M: Float64Array, p: number): number => {
  let s = 0;
  for (let i = 0; i < p; i++) {
    if (l[i] === 0) continue;
    let r = 0;
    for (let j = 0; j < p; j++) r += M[i * p + j] * l[j];
    s += l[i] * r;
  }
  return s;
};

/** Satterthwaite df of one linear combination l'beta. */
export function satterthwaiteDf(ctx: TestContext, l: ArrayLike<number>): number {
  const { p, k, A, J } = ctx;
  if (!A || !J) return ctx.n - p;
  const v = qform(l, ctx.vcov, p);
  const g = J.map((Ja) => qform(l, Ja, p));
  const denom = qform(g, A, k);
  return (2 * v * v) / denom;
}

/** lmerTest's get_Fstat_ddf. */
function combinedDf(nu: number[]): number {
  if (nu.length === 1) return nu[0];
  if (nu.every((x) => Math.abs(x - nu[0]) < 1e-8)) return nu.reduce((s, x) => s + x, 0) / nu.length;
  if (nu.some((x) => x <= 2)) return 2;
  const E = nu.reduce((s, x) => s + x / (x - 2), 0);
  return (2 * E) / (E - nu.length);
}

/**
 * The F test of L beta = 0 (L: `rows` x p, row-major). `ddf` is "satterthwaite" or a fixed
 * denominator df (residual, containment). Directions of L C L' with eigenvalue below
 * sqrt(eps) times the largest are dropped (a rank-deficient L tests its rank). Returns null
 * when L tests nothing (all rows zero).
 */
export function contestMD(ctx: TestContext, L: Float64Array, rows: number, ddf: "satterthwaite" | number): FRow | null {
  const { p, beta, vcov } = ctx;
  if (rows === 0) return null;
  // L C L' (rows x rows).
  const LC = new Float64Array(rows * p);
  for (let r = 0; r < rows; r++) for (let j = 0; j < p; j++) {
    let s = 0;
    for (let i = 0; i < p; i++) s += L[r * p + i] * vcov[i * p + j];
    LC[r * p + j] = s;
  }
  const M = Array.from({ length: rows }, (_, a) => Array.from({ length: rows }, (_, b) => {
    let s = 0;
    for (let j = 0; j < p; j++) s += LC[a * p + j] * L[b * p + j];
    return s;
  }));
  const e = new EigenvalueDecomposition(new Matrix(M), { assumeSymmetric: true });
  const vals = e.realEigenvalues;
  const vecs = e.eigenvectorMatrix;
  const idx = vals.map((_, i) => i).sort((a, b) => vals[b] - vals[a]);
  const tol = Math.max(Math.sqrt(2.220446049250313e-16) * vals[idx[0]], 0);
  const keep = idx.filter((i) => vals[i] > tol);
  const q = keep.length;
  if (q === 0) return null;
  let t2 = 0;
  const nu: number[] = [];
  for (const m of keep) {
    // Row m of P'L.
    const l = new Float64Array(p);
    for (let r = 0; r < rows; r++) {
      const w = vecs.get(r, m);
      for (let j = 0; j < p; j++) l[j] += w * L[r * p + j];
    }
    let lb = 0;
    for (let j = 0; j < p; j++) lb += l[j] * beta[j];
    t2 += (lb * lb) / vals[m];
    if (ddf === "satterthwaite") nu.push(satterthwaiteDf(ctx, l));
  }
  const F = t2 / q;
  const dendf = ddf === "satterthwaite" ? combinedDf(nu) : ddf;
  const ok = Number.isFinite(dendf) && dendf > 0;
  const ms = F * ctx.sigma * ctx.sigma;
  return { "Sum Sq": ms * q, "Mean Sq": ms, NumDF: q, DenDF: ok ? dendf : null, "F value": F, "Pr(>F)": ok ? pFUpper(F, q, dendf) : null };
}
