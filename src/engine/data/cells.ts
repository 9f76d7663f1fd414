// What one cell means, the same for Excel values and CSV fields: a number, a text, or missing.
// Excel sends blanks as null, "" or (by platform) 0, error cells as error objects, and numbers
// sometimes as text; R's CSV files write NA. All of that is decided here, once.

/** Excel's error texts; a cell holding one is missing. */
const ERROR_TEXTS = new Set(["#N/A", "#VALUE!", "#DIV/0!", "#REF!", "#NAME?", "#NUM!", "#NULL!", "#SPILL!", "#CALC!", "#GETTING_DATA", "#FIELD!", "#BLOCKED!", "#CONNECT!", "#BUSY!", "#UNKNOWN!"]);

export const MISSING = Symbol("missing");
export type Cell = number | string | typeof MISSING;

/**
 * Strict number syntax (what a user means by a number: 12, -3.5, .5, 1e-3), not JavaScript's
 * lenient Number() ("0x10", "Infinity", " "). A hand-written scan: this runs once per CSV cell.
 */
export function parseNumber(s: string): number | null {
  const n = s.length;
  let i = 0;
  let c = s.charCodeAt(0);
  if (c === 43 || c === 45) c = s.charCodeAt(++i);
  let digits = 0;
  while (c >= 48 && c <= 57) {
    digits++;
    c = s.charCodeAt(++i);
  }
  if (c === 46) {
    c = s.charCodeAt(++i);
    while (c >= 48 && c <= 57) {
      digits++;
      c = s.charCodeAt(++i);
    }
  }
  if (digits === 0) return null;
  if (c === 101 || c === 69) {
    c = s.charCodeAt(++i);
    if (c === 43 || c === 45) c = s.charCodeAt(++i);
    let e = 0;
    while (c >= 48 && c <= 57) {
      e++;
      c = s.charCodeAt(++i);
    }
    if (e === 0) return null;
  }
  if (i !== n) return null;
  const v = Number(s);
  return Number.isFinite(v) ? v : null;
}

export function isMissingText(s: string): boolean {
  if (s.length === 0) return true;
  const c = s.charCodeAt(0);
  // Only "NA", "NaN", "." and Excel's "#..." errors are missing: test the first character before anything costly.
  if (c === 35) return ERROR_TEXTS.has(s.toUpperCase());
  if (c === 78) return s === "NA" || s === "NaN";
  return s === ".";
}

/** Classify a raw value from Excel or a CSV field. */
export function classify(v: unknown): Cell {
  if (v === null || v === undefined) return MISSING;
  if (typeof v === "number") return Number.isFinite(v) ? v : MISSING;
  if (typeof v === "boolean") return v ? "TRUE" : "FALSE";
  if (typeof v === "string") {
    const s = v.trim();
    if (isMissingText(s)) return MISSING;
    const n = parseNumber(s);
    return n === null ? s : n;
  }
  // Error objects (CustomFunctions.Error, Office error values) and anything else.
  return MISSING;
}

/** R's as.character for a number in a factor column: 152 -> "152", 4.5 -> "4.5". */
export function numberLabel(v: number): string {
  if (Number.isInteger(v) && Math.abs(v) < 1e15) return String(v);
  return String(Number(v.toPrecision(15)));
}

const collator = new Intl.Collator("en");

/** Level order as R's factor(): numerically when every level is a number, else by collation. */
export function sortLevels(levels: string[]): string[] {
  const allNumeric = levels.every((l) => parseNumber(l) !== null);
  return levels.slice().sort(allNumeric ? (a, b) => Number(a) - Number(b) : (a, b) => collator.compare(a, b) || (a < b ? -1 : a > b ? 1 : 0));
}

/** Excel column letter of a 0-based index: 0 -> A, 26 -> AA. */
export function columnLetter(i: number): string {
  let s = "";
  let k = i + 1;
  while (k > 0) {
    const r = (k - 1) % 26;
    s = String.fromCharCode(65 + r) + s;
    k = Math.floor((k - 1) / 26);
  }
  return s;
}
