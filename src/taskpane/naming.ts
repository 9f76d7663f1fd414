// Sheet names and cell addresses, as pure functions: the names of the sheets the pane creates
// ("LMM 1" with "LMM 1 data", never one that exists), A1 addresses of the blocks it writes, and
// the absolute, sheet-qualified reference that live formulas use for the data.

/** Excel's limit on the length of a sheet name. */
export const MAX_SHEET_NAME = 31;

/** Characters Excel refuses in sheet names. */
const BAD_SHEET_CHARS = /[\\/?*[\]:]/g;

/** 0-based column index -> letters ("A", "Z", "AA", ...). */
export function columnLetters(col: number): string {
  if (!Number.isInteger(col) || col < 0) throw new RangeError(`bad column index ${col}`);
  let s = "";
  for (let k = col + 1; k > 0; k = Math.floor((k - 1) / 26)) s = String.fromCharCode(65 + ((k - 1) % 26)) + s;
  return s;
}

/** Letters -> 0-based column index ("A" -> 0). */
export function columnIndex(letters: string): number {
  let c = 0;
  for (const ch of letters.toUpperCase()) c = c * 26 + (ch.charCodeAt(0) - 64);
  return c - 1;
}

/** A1 address of one cell, 0-based row and column. */
export function cellAddress(row: number, col: number): string {
  return `${columnLetters(col)}${row + 1}`;
}

/** A1 address of a block of `nrow` x `ncol` cells whose top-left cell is (row, col), 0-based. */
export function rangeAddress(row: number, col: number, nrow: number, ncol: number): string {
  if (nrow < 1 || ncol < 1) throw new RangeError(`empty block ${nrow} x ${ncol}`);
  const a = cellAddress(row, col);
  return nrow === 1 && ncol === 1 ? a : `${a}:${cellAddress(row + nrow - 1, col + ncol - 1)}`;
}

/** Sheet name as it must be written in a formula: quoted when it is not a plain word. */
export function quoteSheet(name: string): string {
  const plain = /^[A-Za-z_][A-Za-z0-9_.]*$/.test(name) && !/^[A-Za-z]{1,3}[0-9]+$/.test(name) && !/^[Rr][0-9]*[Cc][0-9]*$/.test(name);
  return plain ? name : `'${name.replace(/'/g, "''")}'`;
}

/** Split "Sheet1!A1:D9" or "'My data'!A1:D9" into the sheet name (unquoted) and the cells. */
export function splitAddress(address: string): { sheet: string | null; cells: string } {
  const bang = address.lastIndexOf("!");
  if (bang < 0) return { sheet: null, cells: address };
  let sheet = address.slice(0, bang);
  if (sheet.startsWith("'") && sheet.endsWith("'")) sheet = sheet.slice(1, -1).replace(/''/g, "'");
  return { sheet, cells: address.slice(bang + 1) };
}

/** "Sheet1!A1:D396" -> "Sheet1!$A$1:$D$396": a reference that stays put when the formula is copied. */
export function absoluteRef(address: string): string {
  const { sheet, cells } = splitAddress(address);
  const abs = cells
    .split(":")
    .map((part) => {
      const m = /^\$?([A-Za-z]+)\$?([0-9]+)$/.exec(part);
      if (m) return `$${m[1].toUpperCase()}$${m[2]}`;
      const col = /^\$?([A-Za-z]+)$/.exec(part);
      if (col) return `$${col[1].toUpperCase()}`;
      const row = /^\$?([0-9]+)$/.exec(part);
      if (row) return `$${row[1]}`;
      throw new RangeError(`not an A1 address: ${address}`);
    })
    .join(":");
  return sheet === null ? abs : `${quoteSheet(sheet)}!${abs}`;
}

/** A sheet name Excel accepts: no \ / ? * [ ] :, not blank, not starting or ending with ', at most 31 characters. */
export function cleanSheetName(name: string): string {
  let s = name.replace(BAD_SHEET_CHARS, " ").replace(/\s+/g, " ").trim();
  s = s.replace(/^'+|'+$/g, "").trim();
  if (s === "" || s.toLowerCase() === "history") s = "LMM";
  return s.slice(0, MAX_SHEET_NAME).trim();
}

/**
 * The first k = 1, 2, ... for which every `${base} ${k}${suffix}` is free (Excel compares sheet
 * names without regard to case), and those names. With suffixes ["", " data"] a fit gets
 * "LMM 3" and "LMM 3 data" together, so the two sheets of one fit always share a number.
 */
export function uniqueSheetNames(existing: Iterable<string>, base: string, suffixes: string[] = [""]): string[] {
  const taken = new Set(Array.from(existing, (s) => s.toLowerCase()));
  const stem = cleanSheetName(base);
  for (let k = 1; k < 100000; k++) {
    const names = suffixes.map((suf) => {
      const tail = ` ${k}${suf}`;
      return cleanSheetName(stem.slice(0, MAX_SHEET_NAME - tail.length) + tail);
    });
    if (names.every((n) => !taken.has(n.toLowerCase())) && new Set(names.map((n) => n.toLowerCase())).size === names.length) return names;
  }
  throw new Error("no free sheet name");
}

/** One free name: "LMM 1", or "LMM 2" when "LMM 1" exists. */
export function uniqueSheetName(existing: Iterable<string>, base: string): string {
  return uniqueSheetNames(existing, base)[0];
}
