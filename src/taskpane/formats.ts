// Excel number formats for what the pane writes. Estimates get enough decimals to show about
// four significant digits of the smallest value in their column (so -0.00214 is not shown as
// -0.0021 beside 2.1217); p-values are fixed below 0.0001 and scientific under it, as R prints
// them; counts are whole numbers; text cells are "@" so Excel keeps labels such as "01" or
// "3/4" as they are instead of turning them into numbers or dates.

export const TEXT = "@";
export const GENERAL = "General";
export const INTEGER = "0";
/** p-values: 0.0123, and 1.2E-30 for the tiny ones. */
export const PVALUE = "[<0.0001]0.0E+00;0.0000";
export const PERCENT = "0.0%";

/** "0", "0.0", "0.00", ... */
export function fixed(decimals: number): string {
  const d = Math.max(0, Math.min(10, Math.round(decimals)));
  return d === 0 ? "0" : `0.${"0".repeat(d)}`;
}

/** "0.000E+00" */
export function scientific(decimals = 3): string {
  return `0.${"0".repeat(Math.max(1, decimals))}E+00`;
}

/**
 * A format for a column of numbers: about `sig` significant digits for its smallest non-zero
 * magnitude, between `minDecimals` and 8 decimals; scientific when values are tiny (< 1e-6) or
 * huge (>= 1e9).
 */
export function numberFormatFor(values: Iterable<unknown>, sig = 4, minDecimals = 2): string {
  let smallest = Infinity;
  let largest = 0;
  let any = false;
  let allInteger = true;
  for (const v of values) {
    if (typeof v !== "number" || !Number.isFinite(v)) continue;
    any = true;
    const a = Math.abs(v);
    if (!Number.isInteger(v)) allInteger = false;
    if (a > 0 && a < smallest) smallest = a;
    if (a > largest) largest = a;
  }
  if (!any) return GENERAL;
  if (allInteger && largest < 1e9) return INTEGER;
  if (largest >= 1e9 || (smallest < 1e-6 && largest < 1e-3)) return scientific(3);
  if (smallest === Infinity) return fixed(minDecimals);
  const lead = Math.floor(Math.log10(smallest));
  const decimals = Math.min(8, Math.max(minDecimals, sig - 1 - lead));
  return fixed(decimals);
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
