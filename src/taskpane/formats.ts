// Excel number formats for what the pane writes. One rule, as R's printCoefmat and SPSS/jamovi
// tables show numbers: a statistic is shown to about 3-4 significant digits of its precision.
//  - estimates and their confidence limits: decimals from the row's standard error, enough to
//    show 3 significant digits of the SE (R prints an estimate to the precision of its SE), so
//    2.1217 (SE 0.1544) is 2.122 and 0.014147 (SE 0.00071) is 0.014147;
//  - SEs, variances, SDs, sigma: 4 significant digits of the value itself;
//  - df one decimal, t two, counts whole numbers, logLik/AIC/BIC two decimals (as anova prints);
//  - p-values three decimals, and "< .001" below 0.001 (the cell keeps the exact value);
//  - numbers beyond what fixed decimals can show (|x| < 1e-4 or >= 1e7) in scientific notation.
// Columns copied from the user's data keep the format they had in the data (not chosen here).
// Text cells are "@" so Excel keeps labels such as "01" or "3/4" as they are.
// Formats only: these functions look at magnitudes to pick a format code, and compute no statistic.

export const TEXT = "@";
export const GENERAL = "General";
export const INTEGER = "0";
/** p-values: 0.012, and "< .001" for the small ones (the value itself stays in the cell). */
export const PVALUE = '[<0.001]"< .001";0.000';
export const PERCENT = "0.0%";
export const DF = "0.0";
export const TSTAT = "0.00";
export const CRITERION = "0.00";
/** Significant digits of an SE that an estimate's decimals show. */
export const SE_DIGITS = 3;
/** Significant digits of a variance, an SD, an SE. */
export const SIG_DIGITS = 4;
const MAX_DECIMALS = 8;

/** "0", "0.0", "0.00", ... */
export function fixed(decimals: number): string {
  const d = Math.max(0, Math.min(10, Math.round(decimals)));
  return d === 0 ? "0" : `0.${"0".repeat(d)}`;
}

/** "0.000E+00" */
export function scientific(decimals = 3): string {
  return `0.${"0".repeat(Math.max(1, decimals))}E+00`;
}

/** Decimals that show `digits` significant digits of a number of magnitude |x| (null: x is 0 or not finite). */
export function decimalsFor(x: number, digits: number): number | null {
  const a = Math.abs(x);
  if (!Number.isFinite(a) || a === 0) return null;
  return Math.max(0, Math.min(MAX_DECIMALS, digits - 1 - Math.floor(Math.log10(a))));
}

/** Too small or too large for fixed decimals to show well. */
function needsScientific(a: number): boolean {
  return a !== 0 && Number.isFinite(a) && (a < 1e-4 || a >= 1e7);
}

/** About `digits` significant digits of this value. */
export function sigFormat(x: number | null | undefined, digits = SIG_DIGITS): string {
  if (typeof x !== "number" || !Number.isFinite(x)) return GENERAL;
  if (needsScientific(Math.abs(x))) return scientific(digits - 1);
  const d = decimalsFor(x, digits);
  return fixed(d ?? Math.min(2, digits - 1));
}

/** The format of an estimate (and its confidence limits) whose standard error is `se`. */
export function estimateFormat(estimate: number | null, se: number | null): string {
  const s = typeof se === "number" && Number.isFinite(se) && se > 0 ? se : null;
  if (s === null) return sigFormat(estimate);
  const a = Math.abs(estimate ?? 0);
  if (needsScientific(s) || a >= 1e7) return scientific(SE_DIGITS);
  return fixed(decimalsFor(s, SE_DIGITS)!);
}

/**
 * A format for a column of values of one kind (fitted values, BLUPs): `digits` significant
 * digits of its typical (median) magnitude; whole numbers stay whole.
 */
export function typicalFormat(values: ArrayLike<unknown>, digits = SIG_DIGITS): string {
  const mags: number[] = [];
  let allInteger = true, any = false;
  const n = Math.min(values.length, 5000);
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (typeof v !== "number" || !Number.isFinite(v)) continue;
    any = true;
    if (!Number.isInteger(v)) allInteger = false;
    if (v !== 0) mags.push(Math.abs(v));
  }
  if (!any) return GENERAL;
  if (mags.length === 0) return INTEGER;
  if (allInteger && mags.every((m) => m < 1e9)) return INTEGER;
  mags.sort((a, b) => a - b);
  return sigFormat(mags[Math.floor(mags.length / 2)], digits);
}

/** The format of one cell: text cells "@", numbers as given, booleans General. */
export function cellFormat(v: unknown, numberFormat: string): string {
  if (typeof v === "string") return TEXT;
  if (typeof v === "number") return numberFormat;
  return GENERAL;
}

/** Formats for a table: the header row as text, then each column's format (text cells as text). */
export function tableFormats(rows: unknown[][], columnFormats: string[]): string[][] {
  return rows.map((r, i) => r.map((v, j) => (i === 0 ? TEXT : cellFormat(v, columnFormats[j] ?? GENERAL))));
}

/** A data column's format as read from the sheet, or General when there is none (or it is text "@"). */
export function dataFormat(formats: (string | null)[] | null | undefined, column: number): string {
  const f = formats && column >= 0 ? formats[column] : null;
  return typeof f === "string" && f !== "" ? f : GENERAL;
}
