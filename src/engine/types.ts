// Shared shapes of the engine: the data table, the parsed model spec, the design, and the
// result object that every face (functions, pane, CLI) formats. Nothing here knows of Excel.

// ---------------------------------------------------------------------------------------------
// Data

/** A numeric column; NaN marks a missing value. */
export interface NumericColumn {
  kind: "numeric";
  name: string;
  values: Float64Array;
}

/** A text column; `codes[i]` indexes `levels` (sorted as R sorts), -1 marks a missing value. */
export interface FactorColumn {
  kind: "factor";
  name: string;
  levels: string[];
  codes: Int32Array;
}

export type Column = NumericColumn | FactorColumn;

export interface DataTable {
  nrow: number;
  columns: Column[];
  /** Read from a file written with decimal commas (4,51): its text cells are judged by that mark. */
  decimalComma?: boolean;
}

// ---------------------------------------------------------------------------------------------
// Model spec (ARCHITECTURE.md §5): formula ; residual structure ; variance function

/** An expression in a formula: a column, a number, a call such as log(x), or arithmetic inside I(). */
export type Expr =
  | { kind: "var"; name: string }
  | { kind: "num"; value: number }
  | { kind: "call"; fn: string; args: Expr[] }
  | { kind: "binop"; op: "+" | "-" | "*" | "/" | "^"; left: Expr; right: Expr }
  | { kind: "neg"; arg: Expr }
  /** Parentheses as written, e.g. in I((x - 1)^2): kept so labels read as R deparses them. */
  | { kind: "paren"; arg: Expr };

/** One model term: the interaction of its factors (a main effect has one). `label` is R's term label. */
export interface Term {
  factors: Expr[];
  label: string;
}

/** A random-effects term `(lhs | group)` or `(lhs || group)`. Nested `a/b` is expanded by the parser. */
export interface RandomTerm {
  intercept: boolean;
  terms: Term[];
  /** Grouping variables; more than one means their interaction (`a:b`). */
  group: string[];
  /** false for `||`: the effects are independent. */
  correlated: boolean;
  /** The term as written (after expansion), e.g. "1 | tree". */
  text: string;
  /** Covariance structure of the term's effects (glmmTMB's names); absent = unstructured. */
  cov?: ReCovType;
}

/**
 * Random-effect covariance structures, named as glmmTMB names them: us (unstructured, lme4's
 * default), diag (independent, one variance each: nlme pdDiag), homdiag (one variance: pdIdent),
 * cs (one correlation, a variance each: SAS CSH), homcs (one correlation, one variance:
 * pdCompSymm), ar1 (rho^|i-j| over a factor's levels, one variance: SAS AR(1)), toep (one
 * correlation per lag over a factor's levels, a variance each: glmmTMB toep, SAS TOEPH).
 */
export type ReCovType = "us" | "diag" | "homdiag" | "cs" | "homcs" | "ar1" | "toep";

/** A structured term's own parameters, as the output shows them. */
export interface ReStructureResult {
  /** Group as in the variance components ("Subject"). */
  group: string;
  /** The term as written: "ar1(0 + time | tree)". */
  term: string;
  type: ReCovType;
  /** "sd" (one SD) or "sd_<effect>" (one per effect), and "rho" (the correlation). */
  params: Record<string, number>;
  /** Interval ends of each parameter (profile or Wald, as the variance components), null where none. */
  lower?: Record<string, number | null>;
  upper?: Record<string, number | null>;
}

export interface ModelFormula {
  response: Expr;
  intercept: boolean;
  fixed: Term[];
  random: RandomTerm[];
}

/** A factor coding by contrasts (R's contr.* functions), as `C(f, contr.sum)` asks for it. */
export type ContrastName = "contr.treatment" | "contr.sum" | "contr.helmert" | "contr.poly" | "contr.SAS";

export type ResidualType = "CS" | "AR1" | "CAR1" | "ARH1" | "UN" | "CSH" | "TOEP" | "ARMA" | SpatialType;
/** nlme's corExp, corGaus, corSpher, corLin, corRatio. */
export type SpatialType = "EXP" | "GAUS" | "SPHER" | "LIN" | "RATIO";

export interface ResidualSpec {
  type: ResidualType;
  /** Time (or order) column; null for `CS(1 | g)`. */
  time: string | null;
  /** Grouping column; null when left out (then the model's one grouping factor is used). */
  group: string | null;
  /** Spatial: further coordinate columns after `time` (`EXP(x + y | plot)`). */
  coords?: string[];
  /** TOEP(b): correlations at lags 1 .. b-1 only (SAS's banded Toeplitz). */
  bands?: number;
  /** ARMA orders. */
  p?: number;
  q?: number;
  /** Spatial: with a nugget. */
  nugget?: boolean;
}

/** A variance function of the third part: `varPower(x)`, `varExp(x | sex)`, `varFixed(v)`. */
export interface VarFuncSpec {
  kind: "varPower" | "varExp" | "varConstPower" | "varFixed";
  covariate: string;
  /** Separate parameters per level of this factor. */
  strata: string | null;
  /** Of the fitted values (nlme's `varPower(form = ~ fitted(.))`); `covariate` is then "fitted". */
  fitted?: boolean;
}

export interface ModelSpec {
  text: string;
  formula: ModelFormula;
  residual: ResidualSpec | null;
  /** Column of `varIdent(factor)`: one residual SD per level. */
  varIdent: string | null;
  /** Column of `weights(w)`: prior weights, the residual variance of row i is sigma^2 / w_i. */
  weights?: string | null;
  /** Further variance functions, multiplied with varIdent (nlme's varComb). */
  varFuncs?: VarFuncSpec[];
}

// ---------------------------------------------------------------------------------------------
// Design: what the objective needs, built from a table and a spec

/** The random-effects model matrix of one term: one level per row, q values per row. */
export interface ReTermDesign {
  /** Group name as lme4 prints it: "tree", "cask:batch". */
  group: string;
  levels: string[];
  /** Level index of each used row. */
  refs: Int32Array;
  /** Effect names: "(Intercept)", "time". */
  effects: string[];
  /** Row-major n x q values of the term's columns. */
  z: Float64Array;
  correlated: boolean;
  /** Covariance structure (absent = unstructured). */
  cov?: ReCovType;
}

/**
 * One variable of a fixed-effect term, for the tests of terms (anova): numeric values or factor
 * codes over ALL table rows (`Design.rows` selects the used ones) and the factor's levels present
 * in the used rows (table level codes, in level order).
 */
export interface FixedTermVar {
  label: string;
  values: Float64Array | null;
  codes: Int32Array | null;
  present: number[];
  levelNames: string[];
  /**
   * For a factor: its coding in this term, row-major (present levels) x (its columns): a
   * contrast matrix, or 0/1 indicators (treatment contrasts, or every level).
   */
  cmat?: Float64Array | null;
  /** For a factor: its contrast when not treatment contrasts (C(f, contr.sum)). */
  contrast?: ContrastName | null;
  /** For a factor: coded by indicators of all its levels in this term (not by contrasts). */
  indicator?: boolean;
}

/** A fixed-effect term as R's terms object sees it: its label and its variables. */
export interface FixedTermInfo {
  label: string;
  vars: FixedTermVar[];
}

export interface Design {
  /** Rows used (after dropping rows with missing values). */
  n: number;
  y: Float64Array;
  /** Row-major n x p fixed-effects model matrix, aliased columns already removed. */
  X: Float64Array;
  p: number;
  xnames: string[];
  /** Names of fixed-effect columns dropped because they are aliased (rank deficiency). */
  aliased: string[];
  /** The fixed-effect terms (R's term.labels order), without the intercept. */
  fixedTerms: FixedTermInfo[];
  /** R's attr(X, "assign") for the kept columns: 0 = intercept, t + 1 = fixedTerms[t]. */
  assign: Int32Array;
  /** Whether the fixed part has an intercept. */
  intercept: boolean;
  reTerms: ReTermDesign[];
  /** Index in the input table of each used row. */
  rows: Int32Array;
  nDropped: number;
  /** Prior weights of the used rows (`weights(w)`), or null. */
  weights?: Float64Array | null;
  /** The fitted values a variance function of the fitted values uses (fitted-covariate.ts). */
  fittedCovariate?: Float64Array;
  /** Notes for the user (dropped rows, dropped columns). */
  messages: string[];
}

// ---------------------------------------------------------------------------------------------
// Result (ARCHITECTURE.md §5: this is exactly what `lmm fit --json` prints)

export type Method = "REML" | "ML";

export interface FixefRow {
  term: string;
  estimate: number;
  se: number;
  /** Satterthwaite denominator df (null when not computed). */
  df: number | null;
  t: number;
  p: number | null;
  lower: number | null;
  upper: number | null;
}

export interface VarcompRow {
  group: string;
  effect: string | null;
  effect2: string | null;
  variance: number | null;
  sd: number | null;
  corr: number | null;
  sd_lower: number | null;
  sd_upper: number | null;
  var_prop: number | null;
}

export interface BlupTable {
  levels: string[];
  effects: string[];
  /** values[level][effect] */
  values: number[][];
  /** conditional SDs, same shape */
  se: number[][];
}

export interface ResidualResult {
  type: ResidualType | "varIdent";
  group: string | null;
  time: string | null;
  /** phi / rho, per-occasion sd_ratio, UN corr matrix, varIdent ratios with varIdent_levels. */
  params: Record<string, number | number[] | number[][] | string[]>;
  /**
   * Approximate intervals of the correlation and variance-function parameters, as nlme's
   * intervals() (named as nlme prints them: Phi, Rho, cor(1,2), the varIdent levels, power ...);
   * absent when intervals were not asked for (ci = "none"), empty when they could not be computed.
   */
  intervals?: ResidualInterval[];
  /** Confidence level of `intervals`. */
  intervals_level?: number;
}

/** One approximate interval of a residual-structure parameter (inference/structure-intervals.ts). */
export interface ResidualInterval {
  part: "corStruct" | "varStruct" | "reStruct" | "sigma";
  name: string;
  lower: number | null;
  estimate: number;
  upper: number | null;
}

export interface FitResult {
  spec: string;
  method: Method;
  n: number;
  n_dropped: number;
  groups: Record<string, number>;
  logLik: number;
  df: number;
  AIC: number;
  BIC: number;
  sigma: number;
  converged: boolean;
  singular: boolean;
  messages: string[];
  fixef: FixefRow[];
  varcomp: VarcompRow[];
  /** The parameters of random terms with a covariance structure (cs, ar1, ...); absent when none. */
  re_structures?: ReStructureResult[];
  residual: ResidualResult | null;
  blups: Record<string, BlupTable>;
  /** Intra-class correlation, for models with one random intercept and independent errors. */
  icc?: number | null;
  /** How the fixed-effect df were computed (ARCHITECTURE.md §5); set by fitModel. */
  ddf?: DdfName;
  /** vcov(beta), p x p in fixef order (Kenward-Roger's adjusted one under ddf kr); set by fitModel. */
  vcov?: number[][];
  /** How the fixef rows' lower/upper were computed: "t" (with the ddf's df) or "profile" (likelihood, as lme4). */
  fixef_ci?: "t" | "profile";
  /** Nakagawa R² (see `definition`: packages differ); set by fitModel. */
  r2?: { marginal: number; conditional: number; definition: string };
  /** Optimizer details, for diagnostics. */
  optimizer?: { name: string; evaluations: number; theta: number[]; objective: number };
}

/** Numbers per data row: arrays from the engine, typed arrays once a worker has sent them (a million rows cross as buffers). */
export type RowNumbers = number[] | Float64Array;

/** Per-row fitted values and residuals, aligned with the input table's rows (`rows`). */
export interface FittedRows {
  rows: number[] | Int32Array;
  /** X beta + Z b */
  conditional: RowNumbers;
  /** X beta */
  marginal: RowNumbers;
  /** y - conditional */
  residual: RowNumbers;
  /** residual / (sigma x the row's SD ratio), nlme's type = "pearson" (conditional level). */
  pearson?: RowNumbers;
  /** pearson whitened by the residual correlation, nlme's type = "normalized" (conditional level). */
  normalized?: RowNumbers;
  /** The same at the marginal level: y - marginal, and its pearson and normalized forms. */
  residual_marginal?: RowNumbers;
  pearson_marginal?: RowNumbers;
  normalized_marginal?: RowNumbers;
}

/** Denominator df methods, as named in results (ARCHITECTURE.md §5). */
export type DdfName = "Satterthwaite" | "Kenward-Roger" | "residual" | "containment";
/** Denominator df methods, as users write them. */
export type DdfOption = "satterthwaite" | "kr" | "residual" | "containment";

export interface FitOptions {
  method?: Method;
  /** Denominator df of the fixed-effect t tests (default satterthwaite). */
  ddf?: DdfOption;
  /** Confidence level of the fixed-effect and variance-component intervals (default 0.95). */
  level?: number;
  /**
   * How the variance-component CIs are computed. "auto" (default): profile likelihood, unless
   * the data are so large that it would take more than a few seconds; then Wald on the log-SD
   * scale, said in the messages.
   */
  ci?: "auto" | "profile" | "wald" | "none";
  /**
   * The fixed-effect intervals: "t" (default: estimate ± t quantile × SE with the ddf's df) or
   * "profile" (profile likelihood, lme4's confint(method = "profile", parm = "beta_")).
   */
  fixefCi?: "t" | "profile";
  /** Compute per-row fitted values and residuals (`FitResult.fitted`). */
  fitted?: boolean;
  /** Checked between optimizer steps; a cancelled fit throws CancelledError. */
  signal?: { cancelled: boolean };
  /**
   * Called every few hundred objective evaluations of the optimizer with the count so far and
   * what is being fitted, so that a long fit can show it is alive (the CLI prints a line).
   */
  onProgress?: (evaluations: number, phase: string) => void;
}

export interface FitResultWithRows extends FitResult {
  fitted?: FittedRows;
}

// ---------------------------------------------------------------------------------------------
// Model comparison (ARCHITECTURE.md §5: `lmm lrt --json`, `lmm rlrt --json`)

export interface LrtModelRow {
  spec: string;
  df: number;
  AIC: number;
  BIC: number;
  logLik: number;
}

export interface LrtTestRow {
  /** 1-based model numbers, as R's anova prints "1 vs 2". */
  from: number;
  to: number;
  "L.Ratio": number;
  df: number;
  p: number;
  /** Chi-bar-square p where the null puts variance components on the boundary, else null. */
  p_mixture: number | null;
  /** Which mixture was used, in words (null when p_mixture is null). */
  mixture: string | null;
}

export interface LrtResult {
  method: Method;
  refit_ml: boolean;
  models: LrtModelRow[];
  tests: LrtTestRow[];
  messages: string[];
}

export interface RlrtResult {
  statistic: number;
  p: number;
  nsim: number;
}

// ---------------------------------------------------------------------------------------------
// Tests of fixed-effect terms (ARCHITECTURE.md §5: `lmm anova --json`, lmerTest's anova layout)

export interface AnovaRow {
  term: string;
  "Sum Sq": number | null;
  "Mean Sq": number | null;
  NumDF: number | null;
  DenDF: number | null;
  "F value": number | null;
  "Pr(>F)": number | null;
}

export interface AnovaResult {
  type: 1 | 2 | 3;
  ddf: DdfName;
  method: Method;
  rows: AnovaRow[];
  messages: string[];
}

export interface AnovaOptions {
  type?: 1 | 2 | 3;
  ddf?: DdfOption;
  method?: Method;
  /** Only these terms' rows (unknown names are an error). */
  terms?: string[];
  signal?: { cancelled: boolean };
}

// ---------------------------------------------------------------------------------------------
// Predictions for new rows (ARCHITECTURE.md §5: `lmm predict --json`)

/**
 * population: X beta. group: X beta + Z b (a new group level gets 0 for that term, as lme4's
 * allow.new.levels = TRUE). forecast: group level plus the part of a new occasion's residual
 * that the group's observed residuals predict through the residual correlation (SAS OUTP).
 */
export type PredictLevel = "population" | "group" | "forecast";
export type PredictInterval = "none" | "confidence" | "prediction";

export interface PredictRow {
  fit: number | null;
  se: number | null;
  lower: number | null;
  upper: number | null;
  /** The level actually used for this row (a row whose every group is new is "population"). */
  level: PredictLevel | null;
  /** Why the row differs from what was asked (new group, missing value), else null. */
  note: string | null;
}

export interface PredictResult {
  spec: string;
  method: Method;
  level: PredictLevel;
  interval: PredictInterval;
  /** Confidence level of the intervals. */
  conf: number;
  rows: PredictRow[];
  notes: string[];
}

export interface PredictOptions {
  level?: PredictLevel;
  interval?: PredictInterval;
  conf?: number;
  method?: Method;
  signal?: { cancelled: boolean };
}
