// The objective as an explicit function of one scalar term's theta when that term is the last,
// small part of the dense block (InstEval's 14 departments after its 1,128 lecturers): the
// optimizer can then search the other parameters with this one profiled out, since for those
// fixed the profile costs one factorization and its minimum in t is free.
//
// With t the tail term's template value and every other parameter fixed, eliminating all rows
// but the tail's and the fixed block's leaves (BlockedModel.tailPieces)
//   [ I + t^2 B_tt    t B_tF ]
//   [ t B_Ft          B_FF   ]
// where the B's do not depend on t (the tail's rows scale by t, its diagonal gains the identity).
// With B_tt = Q diag(lambda) Q' and C = B_Ft Q:
//   log|L|^2 = log|L_rest|^2 + sum_i log(1 + t^2 lambda_i),
//   the fixed block's Schur complement = B_FF - sum_i t^2 / (1 + t^2 lambda_i) C_i C_i',
// whose Cholesky factor gives ldRX2 and the penalized residual sum of squares as in finish().
// So each value of t costs O(tail x pp^2): the minimum over t is found by a scan and a golden
// refinement, exactly enough that the outer search sees a smooth function.

import { jacobiSweep } from "../linalg/jacobi";

export interface TailPieces {
  /** log|L|^2 of everything eliminated before the tail (first factor and the dense prefix). */
  ldRest: number;
  /** Eigenvalues of B_tt. */
  lam: Float64Array;
  /** pp x nt: B_Ft Q. */
  C: Float64Array;
  /** pp x pp lower triangle. */
  BFF: Float64Array;
  pp: number;
  p: number;
  n: number;
  reml: boolean;
  /** 2 log|T| of the fixed-effect basis map (finish()'s ldRX2 correction), 0 without one. */
  logDetT2: number;
}

/** The objective at template value t (Infinity if the fixed block is not positive definite). */
export function tailObjective(P: TailPieces, t: number, S: Float64Array): number {
  const { lam, C, BFF, pp, p, n, reml } = P;
  const nt = lam.length, t2 = t * t;
  S.set(BFF);
  let ld = P.ldRest;
  for (let i = 0; i < nt; i++) {
    const d = 1 + t2 * lam[i];
    if (!(d > 0)) return Infinity;
    ld += Math.log(d);
    const w = t2 / d;
    for (let f = 0; f < pp; f++) {
      const cf = w * C[f * nt + i];
      for (let g = 0; g <= f; g++) S[f * pp + g] -= cf * C[g * nt + i];
    }
  }
  let ldRX = 0;
  for (let f = 0; f < pp; f++) {
    for (let g = 0; g <= f; g++) {
      let s = S[f * pp + g];
      for (let k = 0; k < g; k++) s -= S[f * pp + k] * S[g * pp + k];
      if (g === f) {
        if (!(s > 0)) return Infinity;
        S[f * pp + f] = Math.sqrt(s);
      } else S[f * pp + g] = s / S[g * pp + g];
    }
    if (f < p) ldRX += 2 * Math.log(S[f * pp + f]);
  }
  const last = S[pp * pp - 1], pwrss = last * last;
  const dof = reml ? n - p : n;
  const crit = ld + (reml ? ldRX - P.logDetT2 : 0) + dof * (1 + Math.log((2 * Math.PI * pwrss) / dof));
  return Number.isFinite(crit) ? crit : Infinity;
}

/** Scan points in t (log-spaced) before the golden refinement, and the range they cover. */
const SCAN = 160;
const T_MIN = 1e-6;
const T_MAX = 1e4;

/**
 * The minimum over t >= 0 of the tail objective: t = 0 and a log-spaced scan, then golden
 * section between the best point's neighbours down to a relative width of 1e-12.
 */
export function minimizeTail(P: TailPieces, S: Float64Array = new Float64Array(P.pp * P.pp)): { t: number; f: number } {
  const f = (t: number) => tailObjective(P, t, S);
  let bestT = 0, bestF = f(0), bestK = -1;
  const step = Math.log(T_MAX / T_MIN) / (SCAN - 1);
  const at = (k: number) => (k < 0 ? 0 : T_MIN * Math.exp(k * step));
  for (let k = 0; k < SCAN; k++) {
    const v = f(at(k));
    if (v < bestF) {
      bestF = v;
      bestT = at(k);
      bestK = k;
    }
  }
  if (bestK < 0) return { t: 0, f: bestF };
  let a = at(bestK - 1), b = at(Math.min(bestK + 1, SCAN - 1));
  const g = (Math.sqrt(5) - 1) / 2;
  let x1 = b - g * (b - a), x2 = a + g * (b - a);
  let f1 = f(x1), f2 = f(x2);
  while (b - a > 1e-12 * Math.max(b, 1e-300)) {
    if (f1 <= f2) {
      b = x2;
      x2 = x1;
      f2 = f1;
      x1 = b - g * (b - a);
      f1 = f(x1);
    } else {
      a = x1;
      x1 = x2;
      f1 = f2;
      x2 = a + g * (b - a);
      f2 = f(x2);
    }
  }
  const t = f1 <= f2 ? x1 : x2, ft = Math.min(f1, f2);
  return ft < bestF ? { t, f: ft } : { t: bestT, f: bestF };
}

/**
 * Eigenvalues (into lam) and vectors (columns of v) of a symmetric n x n held in a (full
 * storage, overwritten), by cyclic Jacobi.
 */
export function symmetricEigen(a: Float64Array, n: number, lam: Float64Array, v: Float64Array): void {
  v.fill(0);
  for (let i = 0; i < n; i++) v[i * n + i] = 1;
  for (let sweep = 0; sweep < 60; sweep++) {
    let off = 0, diag = 0;
    for (let i = 0; i < n; i++) {
      diag += a[i * n + i] ** 2;
      for (let j = 0; j < i; j++) off += a[i * n + j] ** 2;
    }
    if (off <= 1e-30 * diag || off === 0) break;
    jacobiSweep(a, v, n);
  }
  for (let i = 0; i < n; i++) lam[i] = a[i * n + i];
}

/** The buffers of one tail profile (allocated once per model). */
export class TailWork {
  readonly Btt: Float64Array;
  readonly BFt: Float64Array;
  readonly V: Float64Array;
  readonly S: Float64Array;
  readonly pieces: TailPieces;

  constructor(nt: number, pp: number, p: number, n: number) {
    this.Btt = new Float64Array(nt * nt);
    this.BFt = new Float64Array(pp * nt);
    this.V = new Float64Array(nt * nt);
    this.S = new Float64Array(pp * pp);
    this.pieces = { ldRest: 0, lam: new Float64Array(nt), C: new Float64Array(pp * nt), BFF: new Float64Array(pp * pp), pp, p, n, reml: true, logDetT2: 0 };
  }
}
