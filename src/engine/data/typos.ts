// What a text cell of a mostly numeric column probably is, so that an error can say it: a
// number too large for a double or an infinity ("Inf", "1e309"), a date or time typed as text
// (Excel keeps real dates as numbers), or a plain typo ("abc", "4,5", "n/a").
import { parseNumber, scanNumber } from "./cells";

export type CellKind = "number" | "infinite" | "date" | "point" | "text";

const NUMERAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const INFINITY = /^[+-]?(?:inf|infinity)$/i;
const MONTHS = "jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec|mär|mai|okt|dez|janv|févr|avr|juin|juil|août|sept|déc|ene|abr|ago|dic|gen|mag|giu|lug|set|ott";
const DATES = [
  /^\d{4}[-/.]\d{1,2}[-/.]\d{1,2}(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$/,
  /^\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}(?:[ T]\d{1,2}:\d{2}(?::\d{2})?)?$/,
  new RegExp(`^\\d{1,2}[-. ]?(?:${MONTHS})[a-zé.]*[-. ]?\\d{2,4}$`, "i"),
  new RegExp(`^(?:${MONTHS})[a-zé.]* \\d{1,2},? \\d{2,4}$`, "i"),
  /^\d{1,2}:\d{2}(?::\d{2})?(?: ?[ap]\.?m\.?)?$/i,
];

/** The kind of a (trimmed) cell text, in a table whose decimal mark is a comma or not. */
export function cellKind(s: string, decimalComma = false): CellKind {
  if (decimalComma) {
    const x = scanNumber(s, 0, s.length, 44);
    if (x === x) return "number";
    if (parseNumber(s) === parseNumber(s)) return "point";
  } else if (parseNumber(s) === parseNumber(s)) return "number";
  if (INFINITY.test(s) || (NUMERAL.test(s) && !Number.isFinite(Number(s)))) return "infinite";
  for (const re of DATES) if (re.test(s)) return "date";
  return "text";
}

/** How a cell of the kind is described after its text in an error. */
export function kindNote(k: CellKind): string {
  switch (k) {
    case "infinite":
      return " (infinite, or too large for a number)";
    case "date":
      return " (a date or time typed as text)";
    case "point":
      return " (a decimal point, in a file written with decimal commas)";
    default:
      return "";
  }
}

/** "row 17 'abc', row 40 'Inf' (infinite ...) and 3 more": up to `show` cells. */
export function describeCells(cells: { row: number; text: string; kind: CellKind }[], total: number, show = 3): string {
  const parts = cells.slice(0, show).map((c) => `row ${c.row} '${c.text}'${kindNote(c.kind)}`);
  const more = total - parts.length;
  const list = parts.length > 1 ? `${parts.slice(0, -1).join(", ")}${more > 0 ? ", " : " and "}${parts[parts.length - 1]}` : parts[0];
  return more > 0 ? `${list} and ${more} more` : list;
}
