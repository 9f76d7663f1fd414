// The two interfaces a residual structure is made of (ARCHITECTURE.md §3.1). R_i = S_i C_i S_i
// relative to sigma^2 for residual group i: C_i a correlation structure (one file per family in
// this folder, implementing CorrStructure), S_i = diag of per-row SD ratios, the product of the
// variance functions (VarFunction, nlme's varComb). residual.ts composes them and whitens each
// group in one streaming pass: divide by the SD ratio, then multiply by F_i with F_i' F_i = C_i^-1.
// A new structure is one file: its parameter count, start, parameter map, and one of three
// verbs (lag correlation for a Markov process, the one correlation of compound symmetry, or the
// group's correlation matrix, whitened by a dense per-group Cholesky; groups are small).
import type { ResidualType } from "../../types";

/** How a residual structure's rows are organized (fixed for a model; no parameter values). */
export interface ResidualLayout {
  type: ResidualType | null;
  /** Rows of group g (time order): grows[gptr[g] .. gptr[g+1]). */
  gptr: Int32Array;
  grows: Int32Array;
  maxSize: number;
  /** Time values and occasion ranks per row (null without a time column). */
  time: Float64Array | null;
  occasion: Int32Array | null;
  nOcc: number;
  /** Coordinates (n x dims, row-major) of the spatial structures; time for one column. */
  coords: Float64Array | null;
  dims: number;
  /** varIdent stratum per row (0 = reference), and the number of strata. */
  vStrata: Int32Array | null;
  nStrata: number;
  /** Parameter blocks in eta: correlation, then per-occasion log SD ratios, then varIdent, then other variance functions. */
  nCorr: number;
  nOccVar: number;
  nIdent: number;
  /** Lower bound of the CS correlation (-1/(max group size - 1)). */
  csInf: number;
  /** CAR1: the mean gap between neighbouring times within groups (1 otherwise); see markov.ts. */
  timeScale: number;
}

/** Correlation r of neighbours and 1 - r^2 (kept in digits when r is near 1). */
export interface LagOut {
  r: number;
  one: number;
}

export type ParamReport = Record<string, number | number[] | number[][] | string[]>;

/** What every correlation structure has. `eta` is its own block of the parameters. */
interface CorrBase {
  readonly nPar: number;
  /** Parameters of one evaluation (precomputes what groups share). False: outside the space. */
  set(eta: Float64Array): boolean;
  /** Moment start from standardized OLS residuals u (per used row). */
  start(u: Float64Array, lay: ResidualLayout): Float64Array;
  /** The parameters on nlme's scale, by name (phi, rho, corr, range, nugget ...). */
  params(eta: Float64Array): ParamReport;
}

/** AR(1)-type: F is bidiagonal, row k's coefficient from the correlation with row k-1. */
export interface MarkovCorr extends CorrBase {
  readonly kind: "markov";
  lag(row: number, prev: number, out: LagOut): void;
}

/** Compound symmetry: one correlation within a group (closed-form inverse root). */
export interface CsCorr extends CorrBase {
  readonly kind: "cs";
  rho(): number;
}

/** Any other: the group's correlation matrix, whitened through its Cholesky factor. */
export interface DenseCorr extends CorrBase {
  readonly kind: "dense";
  /** Lower triangle (a >= b) of the correlation of rows rows[o + a], rows[o + b] into out[a*m + b]. */
  fill(rows: Int32Array, o: number, m: number, out: Float64Array): void;
  /**
   * Optional, for a correlation that is a function of the two rows' occasions: out[k] = sum over
   * occasions u > v of P[u * nOcc + v] dC_uv / d eta_k at the last set() (the gradient's
   * contraction, residual/pooled.ts), analytic where differencing set() would cost O(nPar) calls.
   */
  contractByOccasion?(P: Float64Array, out: Float64Array): void;
}

export type CorrStructure = MarkovCorr | CsCorr | DenseCorr;

/**
 * A variance function: per-row SD ratios that multiply into S (nlme's varFunc; several combine
 * as varComb). `apply` multiplies sd[i] by the ratio of row i and returns sum_i log ratio_i.
 */
export interface VarFunction {
  readonly nPar: number;
  apply(eta: Float64Array, sd: Float64Array): number;
  /**
   * Optional: out[j] = sum_i q[i] d log ratio_i / d eta_j (the gradient's contraction,
   * residual-gradient.ts); without it the gradient differences apply() per parameter.
   */
  gradLog?(eta: Float64Array, q: Float64Array, out: Float64Array): void;
  /** Start from OLS residuals u; divides u by the start's ratios in place. */
  start(u: Float64Array): Float64Array;
  params(eta: Float64Array): ParamReport;
  /** The per-row inputs the ratios are a function of (rows with equal inputs have equal ratios). */
  readonly inputs: ArrayLike<number>[];
  /** The same function on the rows `rows` only (row i of the result is row rows[i] of this one). */
  restrict(rows: Int32Array): VarFunction;
}

export const logistic = (x: number) => 1 / (1 + Math.exp(-x));
export const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));
/** Keep a start away from the edges of the parameter space, where the likelihood is flat. */
export const EDGE = 0.98;
