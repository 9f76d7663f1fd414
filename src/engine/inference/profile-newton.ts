// Profile-likelihood ends by Newton's method on the whole profile system, the fast path of
// varcomp.ts's profile intervals. An end of parameter j is the point where the other parameters
// minimize the deviance (their gradient is 0) and the signed root zeta = sign(x - x^) sqrt(D - D^)
// equals the target +-z: k equations in the k parameters, solved together by Newton from the
// quadratic model's (Wald) end, with the gradient by central differences (2k + 1 deviances per
// iteration) and the Hessian of the estimate updated by BFGS along the way. Typically 3-5
// iterations per end, against tens of inner optimizations of tens of deviances each for a walk
// along the profile: on InstEval's size (a deviance ~50 ms) that is the difference between half a
// minute and several minutes.
//
// The parameters are worked on in eta: log for SDs, atanh of the range mapped to (-1, 1) for
// bounded ones, where the profile is close to linear (varcomp.ts uses this path for SDs only:
// with correlations the inner problem can have stationary points that are not its minimum). Anything unusual, an
// estimate on its boundary, a deviance that cannot be evaluated, a profile that flattens before
// reaching the target (an SD whose lower end is 0), no convergence in MAX_ITER, returns undefined
// for that end, and the caller walks the profile there instead (exact, slower).
import type { PreparedModel } from "../model/prepared";
import { evaluationMs, fitCost } from "../model/cost";

/** A parameter's range, as varcomp.ts's Par. */
export interface Range {
  lo: number;
  hi: number;
}

const MAX_ITER = 12;
/** Difference step of the gradient, in eta: large enough that the deviance's rounding (~1e-7 at InstEval's size, where 1e-4 left the steps at that noise) stays below the iteration's stopping size, small enough that the central difference's error (h^2 / 6 of the third derivative) does too. */
const GRAD_STEP = 3e-4;
/** Step of the starting Hessian's second differences, in eta. */
const HESS_STEP = 0.02;

/** The iteration stops where what is left moves the end by less than this (eta units: relative, for an SD). */
const STOP = 5e-7;
/** Typical Newton iterations per end (for the cost estimate): 2-5 (InstEval: 24 for its 8 ends). */
const TYPICAL_ITER = 3;

/**
 * Estimated ms of profile intervals of k parameters by this path: the starting Hessian
 * (1 + 2k + k(k - 1) deviances), per end TYPICAL_ITER iterations of 2k + 1, and the ML refit of a
 * REML fit (a fit's typical cost, cost.ts). Measured on InstEval: 249 deviances, the refit's 35
 * included (this counts 237 and the refit's typical 118).
 */
export function newtonProfileMs(prep: PreparedModel, k: number, refit: boolean): number {
  const evals = 1 + 2 * k + k * (k - 1) + 2 * k * TYPICAL_ITER * (2 * k + 1);
  const fit = refit ? fitCost(prep).typicalMs : 0;
  return evals * evaluationMs(prep) + fit;
}

function isLog(r: Range): boolean {
  return r.lo >= 0 && r.lo < 1e-6 && r.hi === Infinity;
}

function isBounded(r: Range): boolean {
  return Number.isFinite(r.lo) && Number.isFinite(r.hi);
}

/** A parameter's eta (log, atanh or itself); not finite on the parameter's boundary. */
export function etaOf(x: number, r: Range): number {
  return toEta(x, r);
}

function toEta(x: number, r: Range): number {
  if (isLog(r)) return Math.log(x);
  if (isBounded(r)) return Math.atanh((2 * (x - r.lo)) / (r.hi - r.lo) - 1);
  return x;
}

function fromEta(e: number, r: Range): number {
  if (isLog(r)) return Math.exp(e);
  if (isBounded(r)) return r.lo + ((r.hi - r.lo) * (Math.tanh(e) + 1)) / 2;
  return e;
}

/** Solve A x = b (n x n, row-major, copied) by Gaussian elimination with partial pivoting; null if singular. */
function solve(A0: Float64Array, b0: Float64Array, n: number): Float64Array | null {
  const A = Float64Array.from(A0), b = Float64Array.from(b0);
  for (let c = 0; c < n; c++) {
    let piv = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(A[r * n + c]) > Math.abs(A[piv * n + c])) piv = r;
    if (!(Math.abs(A[piv * n + c]) > 0)) return null;
    if (piv !== c) {
      for (let j = 0; j < n; j++) [A[c * n + j], A[piv * n + j]] = [A[piv * n + j], A[c * n + j]];
      [b[c], b[piv]] = [b[piv], b[c]];
    }
    for (let r = c + 1; r < n; r++) {
      const f = A[r * n + c] / A[c * n + c];
      if (f === 0) continue;
      for (let j = c; j < n; j++) A[r * n + j] -= f * A[c * n + j];
      b[r] -= f * b[c];
    }
  }
  const x = new Float64Array(n);
  for (let r = n - 1; r >= 0; r--) {
    let s = b[r];
    for (let j = r + 1; j < n; j++) s -= A[r * n + j] * x[j];
    x[r] = s / A[r * n + r];
  }
  return x.every(Number.isFinite) ? x : null;
}

/**
 * The ends (parameter j: [lower, upper]) for the parameters `which`: a number, or undefined where
 * this path gives up (the caller walks the profile there). `dev` is the deviance in the parameters'
 * own scale, minimal (devMin) at phiHat.
 */
export function newtonProfileEnds(dev: (phi: Float64Array) => number, phiHat: Float64Array, ranges: Range[], which: number[], z: number, devMin: number): (number | undefined)[][] {
  const k = phiHat.length;
  const out: (number | undefined)[][] = ranges.map(() => [undefined, undefined]);
  // An estimate on its boundary (an SD of 0, a correlation of +-1) has no eta: walk instead.
  const etaHat = Float64Array.from(phiHat, (v, i) => toEta(v, ranges[i]));
  if (!etaHat.every(Number.isFinite) || !Number.isFinite(devMin)) return out;
  const phi = new Float64Array(k);
  const devEta = (e: Float64Array): number => {
    for (let i = 0; i < k; i++) phi[i] = fromEta(e[i], ranges[i]);
    const d = dev(phi);
    return Number.isFinite(d) ? d : NaN;
  };
  const H0 = startHessian(devEta, etaHat, devMin);
  if (!H0) return out;
  const Hinv = new Float64Array(k * k);
  for (let j = 0; j < k; j++) {
    const e = new Float64Array(k);
    e[j] = 1;
    const col = solve(H0, e, k);
    if (!col) return out;
    for (let i = 0; i < k; i++) Hinv[i * k + j] = col[i];
  }
  for (const j of which) {
    if (!(Hinv[j * k + j] > 0)) continue;
    for (const [side, dir] of [[0, -1], [1, 1]] as const) {
      const e = newtonEnd(devEta, etaHat, devMin, H0, Hinv, j, dir * z, k, dir < 0 && isLog(ranges[j]));
      if (e !== undefined) out[j][side] = fromEta(e, ranges[j]);
    }
  }
  return out;
}

/** The Hessian of the deviance at the estimate by second differences (shared stencil); null unless positive definite. */
function startHessian(f: (e: Float64Array) => number, e0: Float64Array, f0: number): Float64Array | null {
  const k = e0.length, h = HESS_STEP;
  const x = Float64Array.from(e0);
  const at = (i: number, si: number, j: number, sj: number): number => {
    x[i] += si * h;
    if (j >= 0) x[j] += sj * h;
    const v = f(x);
    x.set(e0);
    return v;
  };
  const plus = new Float64Array(k), minus = new Float64Array(k);
  const H = new Float64Array(k * k);
  for (let i = 0; i < k; i++) {
    plus[i] = at(i, 1, -1, 0);
    minus[i] = at(i, -1, -1, 0);
    H[i * k + i] = (plus[i] - 2 * f0 + minus[i]) / (h * h);
  }
  for (let i = 0; i < k; i++) {
    for (let j = 0; j < i; j++) {
      const v = (at(i, 1, j, 1) + at(i, -1, j, -1) - plus[i] - minus[i] - plus[j] - minus[j] + 2 * f0) / (2 * h * h);
      H[i * k + j] = H[j * k + i] = v;
    }
  }
  if (!H.every(Number.isFinite)) return null;
  // Positive definite: a Cholesky factor exists.
  const L = Float64Array.from(H);
  for (let c = 0; c < k; c++) {
    let d = L[c * k + c];
    for (let m = 0; m < c; m++) d -= L[c * k + m] * L[c * k + m];
    if (!(d > 0)) return null;
    const s = Math.sqrt(d);
    L[c * k + c] = s;
    for (let r = c + 1; r < k; r++) {
      let v = L[r * k + c];
      for (let m = 0; m < c; m++) v -= L[r * k + m] * L[c * k + m];
      L[r * k + c] = v / s;
    }
  }
  return H;
}

/** One end: eta_j at which zeta = target, or undefined. */
function newtonEnd(f: (e: Float64Array) => number, etaHat: Float64Array, devMin: number, H0: Float64Array, Hinv: Float64Array, j: number, target: number, k: number, toZero: boolean): number | undefined {
  const dir = Math.sign(target);
  // The quadratic model's end: eta_j moves by a, the others along their conditional optimum.
  const a = target * Math.sqrt(2 * Hinv[j * k + j]);
  const eta = Float64Array.from(etaHat, (v, i) => v + (Hinv[i * k + j] / Hinv[j * k + j]) * a);
  const H = Float64Array.from(H0);
  const x = new Float64Array(k);
  const G = new Float64Array(k);
  let prevEta: Float64Array | null = null, prevG: Float64Array | null = null;
  for (let it = 0; it < MAX_ITER; it++) {
    const D = f(eta);
    if (!Number.isFinite(D)) return undefined;
    for (let i = 0; i < k; i++) {
      x.set(eta);
      x[i] = eta[i] + GRAD_STEP;
      const fp = f(x);
      x[i] = eta[i] - GRAD_STEP;
      const fm = f(x);
      if (!Number.isFinite(fp) || !Number.isFinite(fm)) return undefined;
      G[i] = (fp - fm) / (2 * GRAD_STEP);
    }
    // BFGS update of the model Hessian from the last step (skipped unless curvature is positive).
    if (prevEta && prevG) {
      const s = Float64Array.from(eta, (v, i) => v - prevEta![i]);
      const y = Float64Array.from(G, (v, i) => v - prevG![i]);
      bfgs(H, s, y, k);
    }
    prevEta = Float64Array.from(eta);
    prevG = Float64Array.from(G);
    const side = eta[j] - etaHat[j];
    if (Math.sign(side) !== dir) return undefined;
    const zeta = dir * Math.sqrt(Math.max(D - devMin, 0));
    // Rows i != j: the others' gradient vanishes; row j: zeta + (G . step) / (2 zeta) = target.
    const A = Float64Array.from(H);
    const b = new Float64Array(k);
    for (let i = 0; i < k; i++) b[i] = -G[i];
    for (let l = 0; l < k; l++) A[j * k + l] = G[l];
    b[j] = 2 * zeta * (target - zeta);
    if (zeta === 0) return undefined;
    const step = solve(A, b, k);
    if (!step) return undefined;
    let big = 0, dec = 0;
    for (let i = 0; i < k; i++) {
      big = Math.max(big, Math.abs(step[i]));
      if (i !== j) dec -= 0.5 * G[i] * step[i];
    }
    // Converged when what is left moves the end by less than STOP in eta (relative, for an SD):
    // its own step, and the others' (their deviance decrease `dec` moves zeta by dec / (2 zeta),
    // i.e. the end by dec / G_j). A central-difference step: its own error is a few per cent of it.
    if (Math.abs(step[j]) < STOP && Math.abs(dec) < STOP * Math.abs(G[j])) return eta[j] + step[j];
    // At most one unit of eta per iteration (a factor e in an SD).
    const shrink = big > 1 ? 1 / big : 1;
    for (let i = 0; i < k; i++) eta[i] += shrink * step[i];
    // A profile that flattens towards an SD of 0: if it stays short of the target there, the
    // lower end is 0 (eta -Infinity); otherwise the walk finds the crossing.
    if (toZero && eta[j] < etaHat[j] - 3) return zetaAtZero(f, eta, H, j, k, devMin) > target ? -Infinity : undefined;
    if (Math.abs(eta[j] - etaHat[j]) > 8) return undefined;
  }
  return undefined;
}

/** zeta with parameter j at 0 (eta -Infinity), the others re-optimized by Newton from `start`; NaN if that fails. */
function zetaAtZero(f: (e: Float64Array) => number, start: Float64Array, H: Float64Array, j: number, k: number, devMin: number): number {
  const eta = Float64Array.from(start);
  eta[j] = -Infinity;
  const x = new Float64Array(k);
  const G = new Float64Array(k);
  for (let it = 0; it < MAX_ITER; it++) {
    const D = f(eta);
    if (!Number.isFinite(D)) return NaN;
    for (let i = 0; i < k; i++) {
      if (i === j) continue;
      x.set(eta);
      x[i] = eta[i] + GRAD_STEP;
      const fp = f(x);
      x[i] = eta[i] - GRAD_STEP;
      const fm = f(x);
      if (!Number.isFinite(fp) || !Number.isFinite(fm)) return NaN;
      G[i] = (fp - fm) / (2 * GRAD_STEP);
    }
    // Rows i != j of the model Hessian; row j pins the parameter.
    const A = Float64Array.from(H);
    const b = Float64Array.from(G, (v) => -v);
    for (let l = 0; l < k; l++) A[j * k + l] = l === j ? 1 : 0;
    b[j] = 0;
    const step = solve(A, b, k);
    if (!step) return NaN;
    let big = 0;
    for (let i = 0; i < k; i++) if (i !== j) big = Math.max(big, Math.abs(step[i]));
    if (big < 1e-7) return -Math.sqrt(Math.max(D - devMin, 0));
    const shrink = big > 1 ? 1 / big : 1;
    for (let i = 0; i < k; i++) if (i !== j) eta[i] += shrink * step[i];
  }
  return NaN;
}

/** H <- H - (H s)(H s)' / (s' H s) + y y' / (y' s), when y' s > 0. */
function bfgs(H: Float64Array, s: Float64Array, y: Float64Array, k: number): void {
  let ys = 0;
  for (let i = 0; i < k; i++) ys += y[i] * s[i];
  const Hs = new Float64Array(k);
  let sHs = 0;
  for (let i = 0; i < k; i++) {
    let v = 0;
    for (let l = 0; l < k; l++) v += H[i * k + l] * s[l];
    Hs[i] = v;
    sHs += s[i] * v;
  }
  if (!(ys > 1e-12 * Math.sqrt(sHs * sHs + 1e-300)) || !(sHs > 0)) return;
  for (let i = 0; i < k; i++) for (let l = 0; l < k; l++) H[i * k + l] += (y[i] * y[l]) / ys - (Hs[i] * Hs[l]) / sHs;
}
