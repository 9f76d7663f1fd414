export interface OptimOptions {
  /** Lower bounds (default -Infinity). */
  lower?: ArrayLike<number>;
  /** Upper bounds (default +Infinity). */
  upper?: ArrayLike<number>;
  /** Initial trust-region radius / simplex size. */
  rhobeg?: number;
  /** Final radius: the accuracy asked of x. */
  rhoend?: number;
  maxfun?: number;
  /** Checked after each evaluation; true stops the run with status "cancelled". */
  shouldStop?: () => boolean;
}

export interface OptimResult {
  x: Float64Array;
  fval: number;
  nfev: number;
  status: "converged" | "maxfun" | "cancelled" | "failed";
  message: string;
}
