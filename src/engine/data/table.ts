// A DataTable from a 2-D array whose first row is the header, as Excel passes a range (or
// Table1[#All]). Cell rules in cells.ts; a column with any text is a factor.
import type { Column, DataTable } from "../types";
import { DataError } from "../errors";
import { LevelTable, MISSING, classify, numberLabel, trimmed } from "./cells";
import { checkHeader, factorColumn, headerIsBlank, makeTable } from "./columns";

export { columnLetter } from "./cells";

export function tableFromRows(rows: unknown[][]): DataTable {
  if (!Array.isArray(rows) || rows.length === 0 || !Array.isArray(rows[0]) || rows[0].length === 0) {
    throw new DataError("the data range is empty: select a range whose first row holds the column names");
  }
  const header = rows[0];
  const width = header.length;
  for (let r = 1; r < rows.length; r++) {
    const row = rows[r];
    if (!Array.isArray(row) || row.length !== width) {
      const len = Array.isArray(row) ? row.length : 0;
      throw new DataError(`row ${r + 1} of the data has ${len} cell${len === 1 ? "" : "s"} but the header has ${width}: the data must be one rectangular range`);
    }
  }
  // Whole-column references (A:D) bring trailing rows that are entirely blank: drop them.
  let nrow = rows.length - 1;
  while (nrow > 0 && rows[nrow].every((v) => classify(v) === MISSING)) nrow--;
  // A selection wider than the data brings trailing columns that are entirely blank: drop them.
  let keep = width;
  while (keep > 1 && headerIsBlank(header[keep - 1]) && columnIsBlank(rows, keep - 1, nrow)) keep--;
  const names = checkHeader(header, keep);
  const columns: Column[] = names.map((name, j) => typedColumn(rows, j, nrow, name));
  return makeTable(names, columns, nrow);
}

function columnIsBlank(rows: unknown[][], j: number, nrow: number): boolean {
  for (let r = 1; r <= nrow; r++) if (classify(rows[r][j]) !== MISSING) return false;
  return true;
}

/** Rows 1..nrow of column j: numeric unless some cell is text, then a factor of every entry. */
function typedColumn(rows: unknown[][], j: number, nrow: number, name: string): Column {
  const values = new Float64Array(nrow);
  let text = false;
  for (let r = 1; r <= nrow; r++) {
    const c = classify(rows[r][j]);
    if (c === MISSING) values[r - 1] = NaN;
    else if (typeof c === "number") values[r - 1] = c;
    else {
      text = true;
      break;
    }
  }
  if (!text) return { kind: "numeric", name, values };
  // A factor: text cells are levels as written (trimmed), number cells as R writes numbers.
  const table = new LevelTable();
  const codes = new Int32Array(nrow);
  for (let r = 1; r <= nrow; r++) {
    const v = rows[r][j];
    const c = classify(v);
    if (c === MISSING) codes[r - 1] = -1;
    else if (typeof v === "number") codes[r - 1] = table.intern(numberLabel(v));
    else if (typeof v === "string") codes[r - 1] = table.intern(trimmed(v));
    else codes[r - 1] = table.intern(c as string);
  }
  return factorColumn(name, table.labels, codes, nrow);
}
