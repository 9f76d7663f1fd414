// The per-level cross-products of a model with one random-effects term (a repeated-measures
// design, the common case): A_c = Z_c'Z_c and A_Fc = [X y]'Z_c for every level c, in one pass over
// the rows, added into zero-filled A (ell x q x q) and AF (ell x pp x q). The intercept-and-slope
// case (q = 2) and the random intercept (q = 1) are written out: at a million rows the general
// loops' bookkeeping costs more than the arithmetic.
import type { ReMat } from "./remat";

export function accumulateOneTerm(term: ReMat, z: Float64Array, X: Float64Array, y: Float64Array, p: number, A: Float64Array, AF: Float64Array): void {
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
