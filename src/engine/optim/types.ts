export interface OptimOptions {
  /** Lower bounds (default -Infinity). f is never evaluated below them. */
  lower?: ArrayLike<number>;
  /** Upper bounds (default +Infinity). A coordinate with lower == upper is held fixed. */
  upper?: ArrayLike<number>;
  /**
   * Initial trust-region radius (BOBYQA) or simplex size (Nelder–Mead). Default: 1, or a fifth
   * of the narrowest finite box width if smaller; BOBYQA caps it at half that width.
   */
  rhobeg?: number;
  /** Final radius, the accuracy asked of x in absolute terms (default 1e-8). */
  rhoend?: number;
  /**
   * Stop when a trust-region step improves f by less than this and the quadratic model promises
   * no more than this either (as NLopt's ftol_abs, which lme4 sets; default 0: off).
   */
  ftolAbs?: number;
  /**
   * The same stop relative to |f| (the larger of the two applies): an objective summed over a
   * million rows carries rounding noise of about 1e-13 |f| and more, and steps below that noise
   * only shuffle digits nobody can trust (default 0: off).
   */
  ftolRel?: number;
  /**
   * BOBYQA: also stop where a model found accurate at the current rho has its minimum within
   * half of rho and promises less than the ftol (ftolAbs/ftolRel) there, instead of going on
   * through the smaller radii (default false). For expensive, smooth objectives.
   */
  flatStop?: boolean;
  /** Most evaluations of f (default 1000 per free coordinate). */
  maxfun?: number;
  /** Checked after each evaluation; true stops the run with status "cancelled". */
  shouldStop?: () => boolean;
}

export interface OptimResult {
  /** The best point evaluated (whatever the status), full length, bounds honoured exactly. */
  x: Float64Array;
  /** f(x); NaN when f never returned a finite value. */
  fval: number;
  /** Number of evaluations of f. */
  nfev: number;
  status: "converged" | "maxfun" | "cancelled" | "failed";
  message: string;
}
