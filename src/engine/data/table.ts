// A DataTable from a 2-D array with a header row, as Excel passes a range (or Table1[#All]).
import type { DataTable } from "../types";
import { DataError } from "../errors";
import { MISSING, classify } from "./cells";
import { finishTable, headerBuilders } from "./builder";

export { columnLetter } from "./cells";

export function tableFromRows(rows: unknown[][]): DataTable {
  if (!Array.isArray(rows) || rows.length === 0 || !Array.isArray(rows[0])) {
    throw new DataError("the data range is empty: select a range whose first row holds the column names");
  }
  const width = rows[0].length;
  // Whole-column references bring trailing rows that are entirely blank: drop them.
  let last = rows.length - 1;
  while (last > 0 && rows[last].every((v) => classify(v) === MISSING)) last--;
  const builders = headerBuilders(rows[0]);
  for (let r = 1; r <= last; r++) {
    const row = rows[r];
    if (!Array.isArray(row) || row.length !== width) {
      throw new DataError(`row ${r + 1} of the data has ${Array.isArray(row) ? row.length : 0} cells but the header has ${width}: the data must be one rectangular range`);
    }
    for (let j = 0; j < width; j++) builders[j].push(classify(row[j]));
  }
  return finishTable(builders, last);
}
