// The three ways a group's rows are whitened (one verb per kind of correlation structure), each
// on the rows grows[o .. o+m) of every column: dst = F (src / s), s the per-row SD ratio, with
// F' F = C^-1. Returns log|C_g|, Infinity when C_g is not positive definite. No allocation: the
// callers pass the scratch.
import type { CsCorr, DenseCorr, LagOut, MarkovCorr } from "./types";

export interface Col {
  src: Float64Array;
  dst: Float64Array;
  width: number;
}

/**
 * Markov: row k becomes (v_k - r_k v_(k-1)) / sqrt(1 - r_k^2), v = x / s. Per-row coefficients
 * once (pow and sqrt per row, not per row and column), then one multiply-add per value.
 */
export function whitenMarkov(c: MarkovCorr, grows: Int32Array, o: number, m: number, isd: Float64Array, cols: Col[], arR: Float64Array, arC: Float64Array, lc: LagOut): number {
  let logdet = 0;
  const r0 = grows[o];
  arR[r0] = 0;
  arC[r0] = 1;
  // A repeated 1 - r^2 (equal lags) reuses its logarithm and root: one of each per distinct lag.
  let lastOne = NaN, lastLog = 0, lastC = 1;
  for (let k = 1; k < m; k++) {
    const row = grows[o + k];
    c.lag(row, grows[o + k - 1], lc);
    if (lc.one !== lastOne) {
      lastOne = lc.one;
      lastLog = Math.log(lc.one);
      lastC = 1 / Math.sqrt(lc.one);
    }
    logdet += lastLog;
    arR[row] = lc.r;
    arC[row] = lastC;
  }
  for (const col of cols) {
    const w = col.width, src = col.src, dst = col.dst;
    const o0 = r0 * w, i0 = isd[r0];
    for (let j = 0; j < w; j++) dst[o0 + j] = src[o0 + j] * i0;
    for (let k = 1; k < m; k++) {
      const row = grows[o + k], prev = grows[o + k - 1];
      const ro = row * w, op = prev * w;
      const r = arR[row], cf = arC[row], ic = isd[row], ip = isd[prev];
      for (let j = 0; j < w; j++) dst[ro + j] = (src[ro + j] * ic - r * src[op + j] * ip) * cf;
    }
  }
  return logdet;
}

/** CS: C^{-1/2} = (I - P)/sqrt(1-rho) + P/sqrt(1+(m-1)rho), P = 11'/m (closed form). */
export function whitenCs(c: CsCorr, grows: Int32Array, o: number, m: number, isd: Float64Array, cols: Col[]): number {
  const rho = c.rho();
  const a = 1 / Math.sqrt(1 - rho), b = 1 / Math.sqrt(1 + (m - 1) * rho);
  for (const col of cols) {
    const w = col.width;
    for (let j = 0; j < w; j++) {
      let mean = 0;
      for (let k = 0; k < m; k++) mean += col.src[grows[o + k] * w + j] * isd[grows[o + k]];
      mean /= m;
      for (let k = 0; k < m; k++) {
        const v = col.src[grows[o + k] * w + j] * isd[grows[o + k]];
        col.dst[grows[o + k] * w + j] = a * (v - mean) + b * mean;
      }
    }
  }
  return (m - 1) * Math.log(1 - rho) + Math.log(1 + (m - 1) * rho);
}

/**
 * Dense: the in-place Cholesky factor L of the group's correlation (cost m^3/6, the groups are
 * small), then forward substitution L dst = src / s, column by column. Cg: scratch of m*m.
 * `reuse`: Cg already holds the factor (the previous group's, at the same positions).
 */
export function whitenDense(c: DenseCorr, grows: Int32Array, o: number, m: number, isd: Float64Array, cols: Col[], Cg: Float64Array, reuse = false): number {
  if (!reuse && !denseFactor(c, grows, o, m, Cg)) return Infinity;
  let logdet = 0;
  for (let a = 0; a < m; a++) logdet += 2 * Math.log(Cg[a * m + a]);
  // The group's rows of every column block gathered side by side into contiguous scratch (W
  // values a row), solved row by row there, then written back: each value's subtractions run in
  // the same order as column by column (the same results), without indirect addressing inside.
  let W = 0;
  for (const col of cols) W += col.width;
  if (scratch.length < m * W) scratch = new Float64Array(m * W);
  const b = scratch;
  for (let a = 0; a < m; a++) {
    const r = grows[o + a], ia = isd[r];
    let at = a * W;
    for (const col of cols) {
      const w = col.width, ra = r * w, src = col.src;
      for (let j = 0; j < w; j++) b[at + j] = src[ra + j] * ia;
      at += w;
    }
  }
  for (let a = 0; a < m; a++) {
    const row = a * m, ba = a * W;
    for (let k = 0; k < a; k++) {
      const l = Cg[row + k], bk = k * W;
      for (let j = 0; j < W; j++) b[ba + j] -= l * b[bk + j];
    }
    const d = Cg[row + a], r = grows[o + a];
    let at = ba;
    for (const col of cols) {
      const w = col.width, ra = r * w, dst = col.dst;
      for (let j = 0; j < w; j++) dst[ra + j] = b[at + j] /= d;
      at += w;
    }
  }
  return logdet;
}

/** whitenDense's gather buffer (grown to the largest group times column block, then reused). */
let scratch = new Float64Array(0);

/** The group's correlation into Cg and its lower Cholesky factor in place; false if not PD. */
export function denseFactor(c: DenseCorr, grows: Int32Array, o: number, m: number, Cg: Float64Array): boolean {
  c.fill(grows, o, m, Cg);
  for (let a = 0; a < m; a++) {
    for (let b = 0; b <= a; b++) {
      let s = Cg[a * m + b];
      for (let k = 0; k < b; k++) s -= Cg[a * m + k] * Cg[b * m + k];
      if (a === b) {
        if (!(s > 0)) return false;
        Cg[a * m + a] = Math.sqrt(s);
      } else Cg[a * m + b] = s / Cg[b * m + b];
    }
  }
  return true;
}
