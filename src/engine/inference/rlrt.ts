// Exact restricted likelihood-ratio test for one variance component (Crainiceanu & Ruppert 2004;
// R's RLRsim::exactRLRT): the null distribution of the RLRT statistic is simulated from its
// spectral representation, which needs only the eigenvalues mu_s of Z'P0 Z (P0 = I - X(X'X)^-1 X').
// Those come from the cross-product blocks already formed for the fit, never from the rows.
import { EigenvalueDecomposition, Matrix } from "ml-matrix";
import type { DataTable, RlrtResult } from "../types";
import { DataError } from "../errors";
import { fitPrepared, prepareFit } from "../model/prepared";
import { invFromChol, cholLower } from "../linalg/dense";
import { Rng } from "./rng";
import { checkRlrtArgs } from "../options";
import { checkIdentifiable } from "../model/confounding";

/** The largest number of levels whose K x K eigenproblem we solve. */
const MAX_LEVELS = 3000;

/** Grid points of the simulation (RLRsim's). */
const GRID = 200;
/**
 * Work (multiply-adds) allowed for the eigenproblem and the simulation together: about 3 s. The
 * simulation costs at most nsim x K x GRID (each draw walks the grid until the first decrease),
 * the symmetric eigenproblem about 10 K^3. Deterministic: the same request is refused everywhere.
 */
const MAX_WORK = 1.5e9;

export function exactRlrt(table: DataTable, spec: string, opts: { nsim?: number; seed?: number } = {}): RlrtResult {
  checkRlrtArgs(table, spec, opts);
  const nsim = opts.nsim ?? 10000;
  if (!Number.isInteger(nsim) || nsim < 1) throw new DataError(`nsim must be a positive whole number, not ${nsim}`);
  const prep = prepareFit(table, spec);
  checkIdentifiable(prep);
  const { model, design } = prep;
  if (model.remats.length !== 1 || model.remats[0].q !== 1) {
    throw new DataError("the exact RLRT tests one variance component: the spec must have exactly one random-effect term with one effect, such as (1 | tree)");
  }
  const K = model.remats[0].ell;
  if (K > MAX_LEVELS) throw new DataError(`the exact RLRT supports up to ${MAX_LEVELS} levels of the grouping factor (this one has ${K}); use the likelihood-ratio test instead`);
  const eigenWork = 10 * K * K * K;
  const maxNsim = Math.floor((MAX_WORK - eigenWork) / (K * GRID));
  if (maxNsim < 1000) {
    throw new DataError(`the exact RLRT with ${K} levels of ${model.remats[0].group} would take too long (its ${K} x ${K} eigenproblem and simulation); use the likelihood-ratio test (lmm lrt) instead`);
  }
  if (nsim > maxNsim) {
    throw new DataError(`nsim = ${nsim} simulations with ${K} levels of ${model.remats[0].group} would take too long; use nsim up to ${maxNsim} (10000 gives the p-value to about ±0.005)`);
  }
  const fit = fitPrepared(prep, "REML");
  const n = design.n, p = design.p;
  const nullCrit = model.evaluate(new Float64Array([0]), true);
  if (!Number.isFinite(nullCrit)) {
    throw new DataError("the model without the random effect cannot be fitted (its REML criterion is not finite: do the fixed effects explain the response exactly?), so there is nothing to test");
  }
  const statistic = Math.max(0, nullCrit + (prep.weightLogdet ?? 0) - fit.objective);
  model.factor(fit.theta);
  const mu = eigenZtP0Z(model.Ajj[0], model.AFj[0], model.AFF, K, p);
  const sample = simulate(mu, n - p, nsim, opts.seed ?? 1);
  let above = 0;
  for (let i = 0; i < nsim; i++) if (sample[i] >= statistic) above++;
  return { statistic, p: above / nsim, nsim };
}

/** Eigenvalues of Z'Z - Z'X (X'X)^-1 X'Z, normalized by the largest (q = 1, one level per row). */
function eigenZtP0Z(Ajj: Float64Array, AFj: Float64Array, AFF: Float64Array, K: number, p: number): number[] {
  const pp = p + 1;
  const XtX = new Float64Array(p * p);
  for (let i = 0; i < p; i++) for (let j = 0; j <= i; j++) XtX[i * p + j] = AFF[i * pp + j];
  if (!cholLower(XtX, p)) throw new DataError("the fixed-effects design is singular");
  const inv = invFromChol(XtX, p);
  const M = new Matrix(K, K);
  const zx = (c: number, f: number) => AFj[c * pp + f];
  for (let a = 0; a < K; a++) {
    for (let b = 0; b <= a; b++) {
      let s = 0;
      for (let i = 0; i < p; i++) {
        let t = 0;
        for (let j = 0; j < p; j++) t += inv[i * p + j] * zx(b, j);
        s += zx(a, i) * t;
      }
      const v = (a === b ? Ajj[a] : 0) - s;
      M.set(a, b, v);
      M.set(b, a, v);
    }
  }
  const ev = new EigenvalueDecomposition(M, { assumeSymmetric: true }).realEigenvalues;
  const max = Math.max(...ev);
  return ev.map((v) => Math.max(v, 0) / max);
}

/**
 * Draws of sup_lambda { (n-p) log(1 + N(lambda)/D(lambda)) - sum log(1 + lambda mu_s) } on
 * RLRsim's grid (0 and 199 log-spaced values from e^-10 to e^8), stopping at the first decrease.
 */
function simulate(mu: number[], nMinusP: number, nsim: number, seed: number): Float64Array {
  const K = mu.length;
  const G = GRID;
  const grid = new Float64Array(G);
  for (let g = 1; g < G; g++) grid[g] = Math.exp(-10 + (18 * (g - 1)) / (G - 2));
  const num = new Float64Array(G * K), den = new Float64Array(G * K), logs = new Float64Array(G);
  for (let g = 0; g < G; g++) {
    let s = 0;
    for (let k = 0; k < K; k++) {
      const lm = grid[g] * mu[k];
      num[g * K + k] = lm / (1 + lm);
      den[g * K + k] = 1 / (1 + lm);
      s += Math.log(1 + lm);
    }
    logs[g] = s;
  }
  const rng = new Rng(seed);
  const rest = nMinusP - K;
  const w = new Float64Array(K);
  const out = new Float64Array(nsim);
  for (let i = 0; i < nsim; i++) {
    for (let k = 0; k < K; k++) {
      const z = rng.normal();
      w[k] = z * z;
    }
    const wRest = rest > 0 ? rng.chisq(rest) : 0;
    let best = 0, prev = 0; // the value at lambda = 0
    for (let g = 1; g < G; g++) {
      let N = 0, D = wRest;
      const o = g * K;
      for (let k = 0; k < K; k++) {
        N += num[o + k] * w[k];
        D += den[o + k] * w[k];
      }
      const v = nMinusP * Math.log(1 + N / D) - logs[g];
      if (v < prev) break;
      prev = v;
      if (v > best) best = v;
    }
    out[i] = best;
  }
  return out;
}
