// What the Excel reader and the CSV reader share after typing the cells: checking the header
// row, and turning collected values into columns (numeric, or a factor with R's level order).
import type { Column, DataTable, FactorColumn } from "../types";
import { DataError } from "../errors";
import { columnLetter, isMissingRange, levelOrder, parseNumber, trimmed } from "./cells";

/** A header cell as given: a string (trimmed here), a number, or something missing. */
export type HeaderCell = unknown;

/**
 * The header names, trimmed. `keep` says how many columns are data columns: trailing columns
 * whose header is empty and whose cells are all missing (a selection wider than the data) are
 * left out by the caller. An empty header cell, a header that is a number (the header row is
 * probably missing) or a duplicated name is a DataError that names the column.
 */
export function checkHeader(header: HeaderCell[], keep: number): string[] {
  const names: string[] = [];
  const seen = new Map<string, number>();
  for (let j = 0; j < keep; j++) {
    const h = header[j];
    const where = `column ${columnLetter(j)}`;
    if (typeof h === "number" || typeof h === "boolean") {
      throw new DataError(`the header of ${where} is ${typeof h === "number" ? "the number " : ""}${String(h)}, which looks like data: the first row of the data must hold the column names (is the header row missing?)`);
    }
    const name = typeof h === "string" ? trimmed(h) : "";
    if (name === "" || (name.charCodeAt(0) === 35 && isMissingRange(name, 0, name.length))) {
      const prev = j > 0 ? ` (the column after '${names[j - 1]}')` : "";
      throw new DataError(`the header cell of ${where} is ${name === "" ? "empty" : `the error value ${name}`}${prev}: the first row of the data must name every column`);
    }
    if (!Number.isNaN(parseNumber(name))) {
      throw new DataError(`the header of ${where} is the number ${name}, which looks like data: the first row of the data must hold the column names (is the header row missing?)`);
    }
    const prev = seen.get(name);
    if (prev !== undefined) {
      throw new DataError(`the column name '${name}' appears twice (columns ${columnLetter(prev)} and ${columnLetter(j)}): rename one of them`);
    }
    seen.set(name, j);
    names.push(name);
  }
  if (names.length === 0) throw new DataError("the data range has no columns: select a range whose first row holds the column names");
  return names;
}

/** Is a header cell empty (blank, or an error value)? */
export function headerIsBlank(h: HeaderCell): boolean {
  if (typeof h === "number" || typeof h === "boolean") return false;
  if (typeof h !== "string") return true;
  const s = trimmed(h);
  return isMissingRange(s, 0, s.length);
}

/**
 * A factor column from first-appearance labels and codes into them (-1 = missing): levels are
 * put in R's order and the codes renumbered. Levels are those that occur in the first `nrow` rows.
 */
export function factorColumn(name: string, labels: string[], codes: Int32Array, nrow: number): FactorColumn {
  const used = usedCodes(codes, nrow, labels.length);
  // Levels in order of first appearance that occur at all, then R's order of those.
  const present: string[] = [];
  const labelOf: number[] = [];
  for (let k = 0; k < labels.length; k++) {
    if (used[k]) {
      labelOf.push(k);
      present.push(labels[k]);
    }
  }
  const order = levelOrder(present);
  const rank = new Int32Array(labels.length).fill(-1);
  for (let r = 0; r < order.length; r++) rank[labelOf[order[r]]] = r;
  return { kind: "factor", name, levels: Array.from(order, (k) => present[k]), codes: renumbered(codes, nrow, rank) };
}

// The two passes over the rows are functions of their own, so that V8 compiles each loop on its
// own instead of the whole function once per loop (slow at a million rows).

/** Which of `count` codes occur in codes[0, nrow). */
function usedCodes(codes: Int32Array, nrow: number, count: number): Uint8Array {
  const used = new Uint8Array(count);
  for (let i = 0; i < nrow; i++) {
    const c = codes[i];
    if (c >= 0) used[c] = 1;
  }
  return used;
}

/** codes[0, nrow) through `rank` (-1 stays -1). */
function renumbered(codes: Int32Array, nrow: number, rank: Int32Array): Int32Array {
  const out = new Int32Array(nrow);
  for (let i = 0; i < nrow; i++) {
    const c = codes[i];
    out[i] = c < 0 ? -1 : rank[c];
  }
  return out;
}

export function makeTable(names: string[], columns: Column[], nrow: number): DataTable {
  if (nrow === 0) throw new DataError(`the data have a header row (${names.join(", ")}) but no data rows`);
  return { nrow, columns };
}
