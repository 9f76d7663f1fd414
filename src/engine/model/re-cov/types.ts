// One interface for the covariance structure of a random-effects term (its relative covariance
// Sigma / sigma^2 = Lambda Lambda'): the optimizer sees the structure's own parameters, and the
// structure fills the term's lower-triangular factor T from them (the blocked core only ever reads
// T). A new structure is one file here implementing ReStructure, plus its entry in index.ts.
//
// Parameters of the structured terms are relative SDs (>= 0, so a variance of exactly 0 is
// reachable, as lme4's theta diagonals) and correlations through a bounded transform (so the
// optimizer is unconstrained in them and a correlation never leaves its valid range).
import type { ReCovType } from "../../types";

export type NaturalKind = "sd" | "cor";

export interface ReStructure {
  readonly type: ReCovType;
  readonly q: number;
  /** Number of optimizer parameters. */
  readonly nPar: number;
  /** Lower bounds of the parameters (0 for SDs, -Infinity for unconstrained ones). */
  lower(): number[];
  /** The identity relative covariance (the optimizer's default start). */
  start(): number[];
  /** Fill T (q x q, row-major, lower triangular, working scale) from theta[off .. off + nPar). */
  fill(theta: ArrayLike<number>, off: number, T: Float64Array): void;
  /** Parameters whose covariance is closest to the working-scale relative covariance S (for starts). */
  fromCovariance(S: Float64Array): number[];
  /**
   * The parameters users read, in the order of `names`: relative SDs (multiplied by sigma for
   * output) and correlations. Null for the unstructured term (its varcomp rows are its parameters).
   */
  readonly names: string[] | null;
  readonly kinds: NaturalKind[];
  natural(theta: ArrayLike<number>, off: number): number[];
  /** Inverse of natural: writes theta[off ..]; false where a value is outside the structure's range. */
  fromNatural(nat: ArrayLike<number>, theta: Float64Array, off: number): boolean;
  /** The range of each natural parameter (for profiles): [lo, hi]. */
  bounds(): [number, number][];
}

/**
 * Cholesky of a q x q correlation-type matrix S (row-major) into L (lower, row-major), treating a
 * non-positive pivot as 0 (the matrix is then semidefinite, a valid boundary covariance), so it
 * never fails. Allocation-free.
 */
export function cholSemidefinite(S: Float64Array, q: number, L: Float64Array): void {
  L.fill(0);
  for (let j = 0; j < q; j++) {
    let d = S[j * q + j];
    for (let k = 0; k < j; k++) d -= L[j * q + k] * L[j * q + k];
    const piv = d > 0 ? Math.sqrt(d) : 0;
    L[j * q + j] = piv;
    for (let i = j + 1; i < q; i++) {
      let s = S[i * q + j];
      for (let k = 0; k < j; k++) s -= L[i * q + k] * L[j * q + k];
      L[i * q + j] = piv > 0 ? s / piv : 0;
    }
  }
}

/** Average variance and average correlation of a covariance matrix (for starts). */
export function covSummary(S: Float64Array, q: number): { sds: number[]; meanVar: number; meanCor: number; lag1Cor: number } {
  const sds = Array.from({ length: q }, (_, a) => Math.sqrt(Math.max(S[a * q + a], 0)));
  const meanVar = sds.reduce((s, v) => s + v * v, 0) / q;
  let sum = 0, cnt = 0, lag = 0, nlag = 0;
  for (let a = 0; a < q; a++) for (let b = a + 1; b < q; b++) {
    const den = sds[a] * sds[b];
    const r = den > 0 ? S[a * q + b] / den : 0;
    sum += r;
    cnt++;
    if (b === a + 1) {
      lag += r;
      nlag++;
    }
  }
  return { sds, meanVar, meanCor: cnt > 0 ? sum / cnt : 0, lag1Cor: nlag > 0 ? lag / nlag : 0 };
}
