// Excel number-format codes for the =LMM.* outputs: what each kind of number is shown with, so a
// df of 313.9999993 reads 314.0 and a p-value of 2.5E-96 reads <2e-16 while the cell keeps the
// exact value. The rule is the pane's (src/taskpane/formats.ts): estimates, SEs and intervals to
// about four significant digits of their SE, df to 1 decimal, t to 2, p-values as R prints them.
// Codes are en-US, as Excel reads a cell value's numberFormat.

export const INTEGER = "0";
/** Satterthwaite / Kenward-Roger df. */
export const DF = "0.0";
/** t values. */
export const T_VALUE = "0.00";
/** logLik, AIC, BIC, likelihood-ratio statistics: nlme's anova prints 4 decimals. */
export const LIKELIHOOD = "0.0000";
/** Correlations and shares of variance (ICC, var_prop, phi). */
export const PROPORTION = "0.000";
/**
 * p-values: R's "<2e-16" below the double-precision floor (2.2e-16, written out as a plain
 * decimal in the condition), 1.2E-05 below 0.001, else 3 decimals (0.237). Two conditional
 * sections and a default, as Excel allows.
 */
export const P_VALUE = '[<0.00000000000000022]"<2e-16";[<0.001]0.0E+00;0.000';
/** Simulated p-values (RLRT): 4 decimals, so 0 shows as 0.0000 next to its note. */
export const P_SIMULATED = "0.0000";
const SCIENTIFIC = "0.000E+00";
const MAX_DECIMALS = 10;

/** "0", "0.0", "0.00", ... */
export function fixed(decimals: number): string {
  const d = Math.max(0, Math.min(MAX_DECIMALS, Math.round(decimals)));
  return d === 0 ? "0" : `0.${"0".repeat(d)}`;
}

/** Decimals that show `sig` significant digits of |x|; null when x is 0 or not finite. */
function decimalsFor(x: number, sig: number): number | null {
  if (!Number.isFinite(x) || x === 0) return null;
  return sig - 1 - Math.floor(Math.log10(Math.abs(x)));
}

/** About `sig` significant digits of x (scientific when x is tiny or huge). */
export function significant(x: number, sig = 4): string {
  const d = decimalsFor(x, sig);
  if (d === null) return "0";
  if (d > MAX_DECIMALS || Math.abs(x) >= 1e9) return SCIENTIFIC;
  return fixed(Math.max(0, d));
}

/**
 * The format of an estimate and of everything on its scale (its SE, its interval bounds): about
 * four significant digits of the SE, the precision the estimate is known to. Without a usable SE,
 * four significant digits of the estimate itself.
 */
export function bySE(se: number | null | undefined, estimate: number | null | undefined): string {
  if (se !== null && se !== undefined && decimalsFor(se, 4) !== null) return significant(se, 4);
  return estimate === null || estimate === undefined ? "0" : significant(estimate, 4);
}
