// The fixed effects enter the blocked model in a well-conditioned basis, and the response as its
// OLS residual. Forming the cross-products A = [Z X y]'[Z X y] from raw columns cancels: with
// y = 1e6 + size (dates as serial numbers, prices, altitudes) y'y is 1e12 per row while what the
// likelihood needs (the residual sum of squares) is of order 1, so the objective carries
// rounding noise of ~1e-8 relative, the optimizer stops in that noise and a shift of y moves the
// fit. The model is unchanged by either substitution:
//   X~ = X T  (T upper triangular: X~ has orthonormal columns, to rounding),
//   y~ = y - X~ c  (c = X~'y, so y~ is y's OLS residual; X b = X~ (c + T^{-1} b) absorbs it).
// For every variance parameter the GLS fit of y~ on X~ gives beta~ = T^{-1} beta - c, so
//   beta = T (c + beta~),  vcov(beta) = T vcov(beta~) T',
//   log|X'V^{-1}X| = log|X~'V^{-1}X~| - 2 log|det T|   (REML's term, as R defines it).
// Whitening by a residual structure is linear in the columns, so it commutes with both. The
// variance parameters, the residual sum of squares and every test are then exactly invariant
// to shifts of y and to rescaling (or shifting, with an intercept) the covariates.

import { GRAM_CHUNK, addCrossRows, addGram, addGramRows, minusRows, timesUpper } from "../linalg/gram";
import { cholLower } from "../linalg/dense";

/** How the working fixed-effects basis maps back to the original coefficients. */
export interface FixedMap {
  p: number;
  /** p x p upper triangular, row-major: beta = T (c + beta~). */
  T: Float64Array;
  /** Coefficients of y on X~ (the OLS fit, b_ols = T c). */
  c: Float64Array;
  /** log|det T|. */
  logDetT: number;
}

export interface FixedBasis {
  /** Working X~ (n x p, row-major) and y~. */
  X: Float64Array;
  y: Float64Array;
  map: FixedMap;
}

/**
 * Upper-triangular R (p x p, row-major) with R'R = X'X, by Givens rotations over the rows (no copy
 * of X, O(n p^2)). Squares are rescaled where they would overflow or underflow.
 */
function triangularFactor(X: Float64Array, n: number, p: number): Float64Array {
  const R = new Float64Array(p * p);
  const w = new Float64Array(p);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < p; j++) w[j] = X[i * p + j];
    for (let k = 0; k < p; k++) {
      const b = w[k];
      if (b === 0) continue;
      const kk = k * p + k;
      const a = R[kk];
      let r = Math.sqrt(a * a + b * b);
      if (!(r < 1e150 && r > 1e-150)) {
        const m = Math.max(Math.abs(a), Math.abs(b));
        r = m * Math.sqrt((a / m) * (a / m) + (b / m) * (b / m));
      }
      const cs = a / r, sn = b / r;
      R[kk] = r;
      for (let j = k + 1; j < p; j++) {
        const rkj = R[k * p + j], wj = w[j];
        R[k * p + j] = cs * rkj + sn * wj;
        w[j] = cs * wj - sn * rkj;
      }
    }
  }
  return R;
}

/**
 * Upper-triangular R with R'R = Q'Q by Cholesky of the Gram matrix G = Q'Q (formed here unless
 * given, and then overwritten); null when a squared pivot is below `minRatio` of its column's
 * squared length (or not positive): too close to collinear for the Gram matrix to keep the digits.
 */
function gramFactor(Q: Float64Array, n: number, p: number, minRatio: number, G: Float64Array | null): Float64Array | null {
  if (!G) {
    G = new Float64Array(p * p);
    addGram(Q, p, null, n, G);
  }
  const diag = new Float64Array(p);
  for (let j = 0; j < p; j++) diag[j] = G[j * p + j];
  if (!cholLower(G, p)) return null;
  for (let j = 0; j < p; j++) if (!(G[j * p + j] * G[j * p + j] >= minRatio * diag[j]) || !Number.isFinite(diag[j])) return null;
  const R = new Float64Array(p * p);
  for (let i = 0; i < p; i++) for (let j = i; j < p; j++) R[i * p + j] = G[j * p + i];
  return R;
}

/** The inverse of an upper-triangular p x p matrix (row-major, nonzero diagonal), column by column. */
function upperInverse(R: Float64Array, p: number): Float64Array {
  const M = new Float64Array(p * p);
  for (let j = p - 1; j >= 0; j--) {
    M[j * p + j] = 1 / R[j * p + j];
    for (let i = j - 1; i >= 0; i--) {
      let s = 0;
      for (let k = i + 1; k <= j; k++) s += R[i * p + k] * M[k * p + j];
      M[i * p + j] = -s / R[i * p + i];
    }
  }
  return M;
}

/**
 * dst <- src R^{-1} (R upper triangular with a nonzero diagonal; dst may be src), in chunks of
 * GRAM_CHUNK rows. Each chunk's contribution to dst'dst is added into `gram` and to dst'y into
 * `dy` (when given) while the chunk is still in cache, instead of in passes of their own.
 */
function rdivUpper(src: Float64Array, dst: Float64Array, n: number, p: number, R: Float64Array, gram: Float64Array | null, y: Float64Array | null, dy: Float64Array | null): void {
  const M = upperInverse(R, p);
  for (let r0 = 0; r0 < n; r0 += GRAM_CHUNK) {
    const r1 = Math.min(n, r0 + GRAM_CHUNK);
    timesUpper(src, dst, p, M, r0, r1);
    if (gram) addGramRows(dst, p, null, r0, r1, gram);
    if (y && dy) addCrossRows(dst, p, y, r0, r1, dy);
  }
}

/**
 * The two projections of y on the orthonormal Q, given d = Q'y: y~ = y - Q d, then once more
 * y~ <- y~ - Q (Q'y~) (removing the first one's rounding); c += both coefficient vectors. The
 * second Q'y~ is summed chunk by chunk in the pass that forms y~: Q is read twice, not four times.
 */
function projectTwice(Q: Float64Array, n: number, p: number, y: Float64Array, d: Float64Array, yw: Float64Array, c: Float64Array): void {
  const d2 = new Float64Array(p);
  for (let r0 = 0; r0 < n; r0 += GRAM_CHUNK) {
    const r1 = Math.min(n, r0 + GRAM_CHUNK);
    minusRows(Q, p, d, y, yw, r0, r1);
    addCrossRows(Q, p, yw, r0, r1, d2);
  }
  minusRows(Q, p, d2, yw, yw, 0, n);
  for (let j = 0; j < p; j++) c[j] += d[j];
  for (let j = 0; j < p; j++) c[j] += d2[j];
}

/**
 * The working basis for X (n x p, full column rank: aliased columns are already dropped) and y.
 * Two passes of X R^{-1} (the second removes what the first leaves of X's conditioning) and two
 * projections of y (the second removes the rounding of the first). `xtx`: X'X when the caller
 * already has it (design.ts's rank check), saving its pass over the rows.
 */
export function fixedBasis(X: Float64Array, y: Float64Array, n: number, p: number, xtx: Float64Array | null = null): FixedBasis {
  const Q = new Float64Array(n * p);
  // Rows are read from X in the first pass and written to Q: X is never copied.
  let src = X;
  // Gram matrix of src when known (the first from the caller, the second summed while forming Q).
  let G: Float64Array | null = xtx ? Float64Array.from(xtx) : null;
  // d = Q'y, summed while the last pass forms Q.
  const d = new Float64Array(p);
  let haveD = false;
  // S = R2 R1 with X = Q S: beta~-space coefficients gamma = S beta.
  let S = new Float64Array(p * p);
  for (let j = 0; j < p; j++) S[j * p + j] = 1;
  for (let pass = 0; pass < 2; pass++) {
    // Cholesky QR twice (the Gram matrix is the fast pass at a million rows) where X's columns
    // are far from collinear, each keeping over 1e-3 of its length after the earlier ones are
    // projected out: the first Q is then orthonormal to ~1e-10 and the second pass to rounding.
    // Anything closer (an intercept beside time in serial dates, x + 1e6) takes rotations, stable
    // for any conditioning, in the first pass.
    const R = gramFactor(src, n, p, pass === 0 ? 1e-6 : 0.5, G) ?? triangularFactor(src, n, p);
    let ok = true;
    for (let j = 0; j < p; j++) if (!(Math.abs(R[j * p + j]) > 0) || !Number.isFinite(R[j * p + j])) ok = false;
    if (!ok) break;
    const last = pass === 1;
    G = last ? null : new Float64Array(p * p);
    d.fill(0);
    rdivUpper(src, Q, n, p, R, G, last ? y : null, last ? d : null);
    haveD = last;
    src = Q;
    const next = new Float64Array(p * p);
    for (let i = 0; i < p; i++) for (let j = i; j < p; j++) {
      let s = 0;
      for (let k = i; k <= j; k++) s += R[i * p + k] * S[k * p + j];
      next[i * p + j] = s;
    }
    S = next;
  }
  if (src === X) Q.set(X);
  // T = S^{-1} (upper triangular), column by column.
  const T = new Float64Array(p * p);
  let logDetT = 0;
  for (let j = p - 1; j >= 0; j--) {
    T[j * p + j] = 1 / S[j * p + j];
    logDetT -= Math.log(Math.abs(S[j * p + j]));
    for (let i = j - 1; i >= 0; i--) {
      let s = 0;
      for (let k = i + 1; k <= j; k++) s += S[i * p + k] * T[k * p + j];
      T[i * p + j] = -s / S[i * p + i];
    }
  }
  const c = new Float64Array(p);
  let yw: Float64Array;
  if (p > 0) {
    if (!haveD) addCrossRows(Q, p, y, 0, n, d);
    yw = new Float64Array(n);
    projectTwice(Q, n, p, y, d, yw, c);
  } else {
    yw = Float64Array.from(y);
  }
  return { X: Q, y: yw, map: { p, T, c, logDetT } };
}

/** beta = T (c + beta~), from the working coefficients. */
export function originalBeta(map: FixedMap | null, working: Float64Array): Float64Array {
  if (!map) return Float64Array.from(working);
  const { p, T, c } = map;
  const beta = new Float64Array(p);
  for (let i = 0; i < p; i++) {
    let s = 0;
    for (let j = i; j < p; j++) s += T[i * p + j] * (c[j] + working[j]);
    beta[i] = s;
  }
  return beta;
}

/** T V T' for a p x p row-major V (the working coefficients' covariance). */
export function originalVcov(map: FixedMap | null, V: Float64Array): Float64Array {
  if (!map) return V;
  const { p, T } = map;
  const TV = new Float64Array(p * p);
  for (let i = 0; i < p; i++) for (let j = 0; j < p; j++) {
    let s = 0;
    for (let k = i; k < p; k++) s += T[i * p + k] * V[k * p + j];
    TV[i * p + j] = s;
  }
  const out = new Float64Array(p * p);
  for (let i = 0; i < p; i++) for (let j = 0; j <= i; j++) {
    let s = 0;
    for (let k = j; k < p; k++) s += TV[i * p + k] * T[j * p + k];
    out[i * p + j] = s;
    out[j * p + i] = s;
  }
  return out;
}
