// Finding the header row of a range the user picked. A region around the active cell often
// starts with a title ("Sitka spruce growth") or a blank line above the column names; those
// rows are skipped. The header is the first row whose cells are all non-blank text that does
// not look like a number; above it only rows with at most one filled cell (titles, notes) may
// be skipped. When no such row is found, the first row is taken as it is and the engine says
// precisely what is wrong with it (an empty or numeric header cell).

/** How far down a header is looked for. */
export const HEADER_SEARCH_ROWS = 10;

export interface HeaderFound {
  /** Index (0-based, within the rows read) of the header row. */
  index: number;
  /** Rows above it that were skipped (titles, blank lines). */
  skipped: number;
  /** Why: for the pane's data line. */
  note: string | null;
}

/** A blank cell as Office.js reports it ("", null) or an all-space string. */
export function isBlank(v: unknown): boolean {
  return v === null || v === undefined || (typeof v === "string" && v.trim() === "");
}

/** Text that reads as a number ("12", "1e3", " 4.5 "), as the engine would read it. */
export function looksNumeric(v: unknown): boolean {
  if (typeof v === "number") return true;
  if (typeof v !== "string") return false;
  const s = v.trim();
  return s !== "" && !Number.isNaN(Number(s));
}

function isHeaderRow(row: unknown[]): boolean {
  if (row.length === 0) return false;
  const seen = new Set<string>();
  for (const v of row) {
    if (typeof v !== "string" || isBlank(v) || looksNumeric(v) || v.trim().startsWith("#")) return false;
    const k = v.trim();
    if (seen.has(k)) return false;
    seen.add(k);
  }
  return true;
}

function filled(row: unknown[]): number {
  return row.reduce<number>((k, v) => k + (isBlank(v) ? 0 : 1), 0);
}

/** Trailing columns with a blank header and no data (a selection wider than the data) are not part of the header test. */
function dataWidth(rows: unknown[][]): number {
  let w = 0;
  for (const r of rows) {
    for (let j = r.length - 1; j >= w; j--) {
      if (!isBlank(r[j])) {
        w = j + 1;
        break;
      }
    }
  }
  return w;
}

export function findHeader(rows: unknown[][]): HeaderFound {
  const look = rows.slice(0, HEADER_SEARCH_ROWS + 1);
  const width = dataWidth(look);
  for (let k = 0; k < look.length; k++) {
    const row = look[k].slice(0, width);
    if (isHeaderRow(row) && k < rows.length - 1) {
      return { index: k, skipped: k, note: k === 0 ? null : `${k} row${k > 1 ? "s" : ""} above the column names skipped` };
    }
    // Only titles and blank lines may sit above the header.
    if (filled(row) > 1) break;
  }
  return { index: 0, skipped: 0, note: null };
}

/** Number of rows once trailing rows that are entirely blank are left off (at least 1). */
export function usedLength(rows: unknown[][]): number {
  let n = rows.length;
  while (n > 1 && rows[n - 1].every(isBlank)) n--;
  return n;
}
