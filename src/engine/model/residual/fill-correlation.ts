// A residual group's correlation matrix (lower triangle) for the structure as set: the one
// filler of the gradient evaluators (residual-gradient.ts, residual/pooled.ts).
import type { CorrStructure, LagOut } from "./types";

/**
 * The correlation of rows[o .. o+m) (in time order) into the lower triangle of out (m x m).
 * `lagR` (length >= m) and `lc` are the caller's scratch.
 */
export function fillCorrelation(st: CorrStructure, rows: Int32Array, o: number, m: number, out: Float64Array, lagR: Float64Array, lc: LagOut): void {
  if (st.kind === "dense") {
    st.fill(rows, o, m, out);
    return;
  }
  if (st.kind === "cs") {
    const rho = st.rho();
    for (let a = 0; a < m; a++) {
      for (let b = 0; b < a; b++) out[a * m + b] = rho;
      out[a * m + a] = 1;
    }
    return;
  }
  // Markov: the correlation of rows a > b is the product of the neighbour correlations between.
  for (let k = 1; k < m; k++) {
    st.lag(rows[o + k], rows[o + k - 1], lc);
    lagR[k] = lc.r;
  }
  for (let a = 0; a < m; a++) {
    out[a * m + a] = 1;
    let prod = 1;
    for (let b = a - 1; b >= 0; b--) {
      prod *= lagR[b + 1];
      out[a * m + b] = prod;
    }
  }
}
