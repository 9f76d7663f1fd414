// A starting theta for one random-effects term from moments of per-group regressions, so the
// optimizer starts near the optimum instead of at the identity (at a million rows each
// evaluation costs milliseconds, and travelling from the identity is most of the run).
//
// With e = y - X beta_OLS, each level whose Z_c'Z_c = A_c is well conditioned gives
// b_c = A_c^{-1} Z_c'e_c, and E cov(b_c) ~ Sigma_b + sigma^2 mean(A_c^{-1}), sigma^2 from the
// within-group residual sum of squares. Everything comes from the cross-product blocks (A_c, A_Fc,
// A_FF), on the working scale of the term, so this costs O(levels q^3), not a pass over the rows.
// It is only a start: the caller keeps whichever start has the lower objective.
import { cholCopy, cholLower, solveLower, solveLowerT } from "../linalg/dense";
import { jacobiSweep } from "../linalg/jacobi";

export interface OneTermBlocks {
  n: number;
  p: number;
  q: number;
  ell: number;
  /** ell x q x q. */
  A: Float64Array;
  /** ell x pp x q ([X y]' Z_c per level). */
  AF: Float64Array;
  /** pp x pp, lower triangle. */
  AFF: Float64Array;
}

/** Smallest relative variance (eigenvalue of Sigma_b / sigma^2) a start is given. */
const FLOOR = 1e-2;

export function momentStart(b: OneTermBlocks): Float64Array | null {
  const { n, p, q, ell, A, AF, AFF } = b;
  const pp = p + 1, qq = q * q;
  const beta = olsBeta(AFF, p);
  if (!beta) return null;
  let rss = AFF[p * pp + p];
  for (let f = 0; f < p; f++) rss -= beta[f] * AFF[p * pp + f];
  const L = new Float64Array(qq), r = new Float64Array(q), x = new Float64Array(q);
  const sumB = new Float64Array(q), sumBB = new Float64Array(qq), sumAinv = new Float64Array(qq);
  let used = 0, explained = 0;
  for (let c = 0; c < ell; c++) {
    const o = c * qq;
    let dmax = 0;
    for (let a = 0; a < q; a++) dmax = Math.max(dmax, A[o + a * q + a]);
    for (let a = 0; a < qq; a++) L[a] = A[o + a];
    if (!(dmax > 0) || !cholLower(L, q)) continue;
    let ok = true;
    for (let a = 0; a < q; a++) if (L[a * q + a] * L[a * q + a] < 1e-8 * dmax) ok = false;
    if (!ok) continue;
    const of = c * pp * q;
    for (let a = 0; a < q; a++) {
      let s = AF[of + p * q + a];
      for (let f = 0; f < p; f++) s -= beta[f] * AF[of + f * q + a];
      r[a] = s;
    }
    x.set(r);
    cholSolve(L, q, x);
    used++;
    for (let a = 0; a < q; a++) {
      explained += r[a] * x[a];
      sumB[a] += x[a];
      for (let e = 0; e < q; e++) sumBB[a * q + e] += x[a] * x[e];
    }
    for (let e = 0; e < q; e++) {
      x.fill(0);
      x[e] = 1;
      cholSolve(L, q, x);
      for (let a = 0; a < q; a++) sumAinv[a * q + e] += x[a];
    }
  }
  const dfWithin = n - p - q * used;
  if (used < q + 2 || dfWithin < 1) return null;
  const sigma2 = (rss - explained) / dfWithin;
  if (!(sigma2 > 0)) return null;
  // Relative covariance Sigma_b / sigma^2, made positive definite by flooring its eigenvalues.
  const rel = new Float64Array(qq);
  for (let a = 0; a < q; a++) {
    for (let e = 0; e < q; e++) {
      const cov = (sumBB[a * q + e] - (sumB[a] * sumB[e]) / used) / (used - 1);
      rel[a * q + e] = cov / sigma2 - sumAinv[a * q + e] / used;
    }
  }
  const T = cholCopy(floorEigen(rel, q, FLOOR), q);
  if (!T) return null;
  const theta = new Float64Array((q * (q + 1)) / 2);
  let k = 0;
  for (let j = 0; j < q; j++) for (let i = j; i < q; i++) theta[k++] = T[i * q + j];
  return theta.every(Number.isFinite) ? theta : null;
}

function olsBeta(AFF: Float64Array, p: number): Float64Array | null {
  const pp = p + 1;
  const XtX = new Float64Array(p * p);
  for (let f = 0; f < p; f++) for (let g = 0; g <= f; g++) XtX[f * p + g] = XtX[g * p + f] = AFF[f * pp + g];
  if (p > 0 && !cholLower(XtX, p)) return null;
  const beta = new Float64Array(p);
  for (let f = 0; f < p; f++) beta[f] = AFF[p * pp + f];
  cholSolve(XtX, p, beta);
  return beta;
}

/** x <- (L L')^{-1} x for a lower-triangular L (n x n). */
function cholSolve(L: Float64Array, n: number, x: Float64Array): void {
  solveLower(L, n, 0, n, x);
  solveLowerT(L, n, 0, n, x);
}

/** S with its eigenvalues raised to at least `floor` (symmetric q x q; cyclic Jacobi). */
function floorEigen(S: Float64Array, q: number, floor: number): Float64Array {
  const a = Float64Array.from(S);
  const v = new Float64Array(q * q);
  for (let i = 0; i < q; i++) v[i * q + i] = 1;
  for (let sweep = 0; sweep < 50; sweep++) {
    let off = 0;
    for (let i = 0; i < q; i++) for (let j = 0; j < i; j++) off += a[i * q + j] ** 2;
    if (off < 1e-30) break;
    jacobiSweep(a, v, q);
  }
  const out = new Float64Array(q * q);
  for (let e = 0; e < q; e++) {
    const lam = Math.max(a[e * q + e], floor);
    for (let i = 0; i < q; i++) for (let j = 0; j < q; j++) out[i * q + j] += lam * v[i * q + e] * v[j * q + e];
  }
  return out;
}
