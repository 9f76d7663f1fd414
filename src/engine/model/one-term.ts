// The per-level cross-products of a model with one random-effects term (a repeated-measures
// design, the common case): A_c = Z_c'Z_c and A_Fc = [X y]'Z_c for every level c, in one pass over
// the rows, added into zero-filled A (ell x q x q) and AF (ell x pp x q).
//
// Data come sorted by group more often than not (each subject's rows together): then the rows
// form runs of one level, and a run's sums are taken in local variables, in tiles of 4 columns
// of X (one load per value, one multiply-add per product), and added into A and AF once per run
// instead of once per row. Rows in no particular order (runs of about one row) take the
// row-by-row loops. The intercept-and-slope case (q = 2) and the random intercept (q = 1) are
// written out: at a million rows the general loops' bookkeeping costs more than the arithmetic.
import type { ReMat } from "./remat";
import { addGramRows } from "../linalg/gram";

/** Runs at least this long on average take the run-by-run sums. */
const MIN_MEAN_RUN = 3;

export function accumulateOneTerm(term: ReMat, z: Float64Array, X: Float64Array, y: Float64Array, p: number, A: Float64Array, AF: Float64Array): void {
  const { q, refs } = term;
  const n = y.length;
  if ((q === 1 || q === 2) && n >= MIN_MEAN_RUN * countRuns(refs)) {
    if (q === 1) byRunsQ1(refs, z, X, y, p, A, AF);
    else byRunsQ2(refs, z, X, y, p, A, AF);
    return;
  }
  byRows(term, z, X, y, p, A, AF);
}

function countRuns(refs: Int32Array): number {
  let runs = refs.length > 0 ? 1 : 0;
  for (let r = 1; r < refs.length; r++) if (refs[r] !== refs[r - 1]) runs++;
  return runs;
}

/** End (exclusive) of the run of rows of refs[r]'s level that starts at r. */
function runEnd(refs: Int32Array, r: number): number {
  const c = refs[r], n = refs.length;
  let e = r + 1;
  while (e < n && refs[e] === c) e++;
  return e;
}

function byRunsQ1(refs: Int32Array, z: Float64Array, X: Float64Array, y: Float64Array, p: number, A: Float64Array, AF: Float64Array): void {
  const n = refs.length, pp = p + 1;
  for (let r = 0; r < n; ) {
    const e = runEnd(refs, r), c = refs[r], fb = c * pp;
    let a = 0, fy = 0;
    for (let i = r; i < e; i++) {
      const z0 = z[i];
      a += z0 * z0;
      fy += y[i] * z0;
    }
    A[c] += a;
    AF[fb + p] += fy;
    for (let f0 = 0; f0 < p; f0 += 4) {
      const c1 = Math.min(f0 + 1, p - 1), c2 = Math.min(f0 + 2, p - 1), c3 = Math.min(f0 + 3, p - 1), m = p - f0;
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      for (let i = r, xo = r * p; i < e; i++, xo += p) {
        const z0 = z[i];
        s0 += X[xo + f0] * z0;
        s1 += X[xo + c1] * z0;
        s2 += X[xo + c2] * z0;
        s3 += X[xo + c3] * z0;
      }
      const o = fb + f0;
      AF[o] += s0;
      if (m > 1) AF[o + 1] += s1;
      if (m > 2) AF[o + 2] += s2;
      if (m > 3) AF[o + 3] += s3;
    }
    r = e;
  }
}

function byRunsQ2(refs: Int32Array, z: Float64Array, X: Float64Array, y: Float64Array, p: number, A: Float64Array, AF: Float64Array): void {
  const n = refs.length, pp = p + 1;
  for (let r = 0; r < n; ) {
    const e = runEnd(refs, r), c = refs[r], o = 4 * c, fb = 2 * pp * c;
    let a00 = 0, a10 = 0, a11 = 0, y0 = 0, y1 = 0;
    for (let i = r; i < e; i++) {
      const z0 = z[2 * i], z1 = z[2 * i + 1], v = y[i];
      a00 += z0 * z0;
      a10 += z0 * z1;
      a11 += z1 * z1;
      y0 += v * z0;
      y1 += v * z1;
    }
    A[o] += a00;
    A[o + 1] += a10;
    A[o + 2] += a10;
    A[o + 3] += a11;
    AF[fb + 2 * p] += y0;
    AF[fb + 2 * p + 1] += y1;
    for (let f0 = 0; f0 < p; f0 += 4) {
      const c1 = Math.min(f0 + 1, p - 1), c2 = Math.min(f0 + 2, p - 1), c3 = Math.min(f0 + 3, p - 1), m = p - f0;
      let s00 = 0, s01 = 0, s10 = 0, s11 = 0, s20 = 0, s21 = 0, s30 = 0, s31 = 0;
      for (let i = r, xo = r * p; i < e; i++, xo += p) {
        const z0 = z[2 * i], z1 = z[2 * i + 1];
        const x0 = X[xo + f0], x1 = X[xo + c1], x2 = X[xo + c2], x3 = X[xo + c3];
        s00 += x0 * z0;
        s01 += x0 * z1;
        s10 += x1 * z0;
        s11 += x1 * z1;
        s20 += x2 * z0;
        s21 += x2 * z1;
        s30 += x3 * z0;
        s31 += x3 * z1;
      }
      const g = fb + 2 * f0;
      AF[g] += s00;
      AF[g + 1] += s01;
      if (m > 1) {
        AF[g + 2] += s10;
        AF[g + 3] += s11;
      }
      if (m > 2) {
        AF[g + 4] += s20;
        AF[g + 5] += s21;
      }
      if (m > 3) {
        AF[g + 6] += s30;
        AF[g + 7] += s31;
      }
    }
    r = e;
  }
}

function byRows(term: ReMat, z: Float64Array, X: Float64Array, y: Float64Array, p: number, A: Float64Array, AF: Float64Array): void {
  const { q, refs } = term;
  const n = y.length, pp = p + 1;
  if (q === 1) {
    for (let r = 0; r < n; r++) {
      const c = refs[r], z0 = z[r], xo = r * p, fb = c * pp;
      A[c] += z0 * z0;
      for (let f = 0; f < p; f++) AF[fb + f] += X[xo + f] * z0;
      AF[fb + p] += y[r] * z0;
    }
  } else if (q === 2) {
    for (let r = 0; r < n; r++) {
      const c = refs[r], z0 = z[2 * r], z1 = z[2 * r + 1], xo = r * p, o = 4 * c, fb = 2 * pp * c;
      const cross = z0 * z1;
      A[o] += z0 * z0;
      A[o + 1] += cross;
      A[o + 2] += cross;
      A[o + 3] += z1 * z1;
      for (let f = 0; f < p; f++) {
        const v = X[xo + f];
        AF[fb + 2 * f] += v * z0;
        AF[fb + 2 * f + 1] += v * z1;
      }
      const v = y[r];
      AF[fb + 2 * p] += v * z0;
      AF[fb + 2 * p + 1] += v * z1;
    }
  } else {
    const qq = q * q;
    for (let r = 0; r < n; r++) {
      const c = refs[r], zo = r * q, xo = r * p, o = c * qq, fb = c * pp * q;
      for (let a = 0; a < q; a++) {
        const za = z[zo + a];
        for (let b = 0; b < q; b++) A[o + a * q + b] += za * z[zo + b];
      }
      for (let f = 0; f < pp; f++) {
        const v = f < p ? X[xo + f] : y[r];
        for (let b = 0; b < q; b++) AF[fb + f * q + b] += v * z[zo + b];
      }
    }
  }
}

/** Levels per chunk of factorLevelsQ2: their rows of L_F (2 x 256 x pp doubles) stay in cache. */
const LEVEL_CHUNK = 256;
let lfRows = new Float64Array(0);

/**
 * One evaluation's per-level work for q = 2 (an intercept and a slope), given the template T
 * (2 x 2 lower triangular): for every level c, L_c = chol(T'A_c T + I) and L_Fc = A_Fc T L_c^{-T}
 * (written into L and LF unless they are null: the objective needs only LFF), and
 * LFF -= sum_c L_Fc L_Fc'. Returns sum_c log|L_c|, NaN when some L_c is not positive definite. The downdate of LFF is the Gram matrix of the rows of the L_Fc,
 * so a chunk of levels copies them into one row-major block and sums it with addGramRows (in
 * registers) instead of updating LFF's entries level by level.
 */
export function factorLevelsQ2(T: Float64Array, A: Float64Array, AF: Float64Array, L: Float64Array | null, LF: Float64Array | null, ell: number, pp: number, LFF: Float64Array): number {
  const t00 = T[0], t10 = T[2], t11 = T[3], fq = 2 * pp;
  if (lfRows.length < 2 * LEVEL_CHUNK * pp) lfRows = new Float64Array(2 * LEVEL_CHUNK * pp);
  const rows = lfRows;
  const G = new Float64Array(pp * pp);
  let ld = 0, prod = 1;
  for (let c0 = 0; c0 < ell; c0 += LEVEL_CHUNK) {
    const c1 = Math.min(ell, c0 + LEVEL_CHUNK);
    for (let c = c0; c < c1; c++) {
      const o = c * 4;
      const a00 = A[o], a10 = A[o + 2], a11 = A[o + 3];
      const u = a10 * t00 + a11 * t10;
      const m00 = t00 * (a00 * t00 + a10 * t10) + t10 * u + 1;
      const m10 = t11 * u;
      const m11 = t11 * a11 * t11 + 1;
      const l00 = Math.sqrt(m00), l10 = m10 / l00, d11 = m11 - l10 * l10;
      if (!(d11 > 0)) return NaN;
      const l11 = Math.sqrt(d11);
      if (L) {
        L[o] = l00;
        L[o + 2] = l10;
        L[o + 3] = l11;
      }
      // log l00 + log l11 = log(m00 d11) / 2, the determinants multiplied up and their logarithm
      // taken only when the product grows large (a logarithm costs more than the rest of a level).
      // Each is at least 1 (T'A T + I >= I), so the product never underflows.
      const det = m00 * d11, next = prod * det;
      if (next < 1e150) prod = next;
      else {
        ld += Math.log(prod) + Math.log(det);
        prod = 1;
      }
      const i00 = 1 / l00, i11 = 1 / l11;
      const r0 = 2 * (c - c0) * pp, r1 = r0 + pp;
      for (let f = 0, r = c * fq; f < pp; f++, r += 2) {
        const f0 = AF[r], f1 = AF[r + 1];
        const v0 = (f0 * t00 + f1 * t10) * i00;
        const v1 = (f1 * t11 - v0 * l10) * i11;
        if (LF) {
          LF[r] = v0;
          LF[r + 1] = v1;
        }
        rows[r0 + f] = v0;
        rows[r1 + f] = v1;
      }
    }
    addGramRows(rows, pp, null, 0, 2 * (c1 - c0), G);
  }
  for (let f = 0; f < pp; f++) for (let g = 0; g <= f; g++) LFF[f * pp + g] -= G[f * pp + g];
  return 0.5 * (ld + Math.log(prod));
}
