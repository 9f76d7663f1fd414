// The cells of a data range in compact form: per column, the number each cell means (Float64Array,
// NaN when it means none) and, for text cells, a code into the column's table of (trimmed) texts.
// A million rows of five columns take a few tens of MB here instead of five million JS values,
// can be built block by block as Excel hands the rows over, and cross to a worker as
// ArrayBuffers. tableFromCellColumns gives exactly the table tableFromRows gives for the same
// rows (same columns, same levels, same errors): the cells are classified by the same rules
// (cells.ts), and the decisions that need the whole column (factor or numeric, trailing blank
// rows and columns, the header) are taken there, as tableFromRows takes them.
import type { Column, DataTable } from "../types";
import { DataError } from "../errors";
import { LevelTable, isMissingRange, isSpace, numberLabel, scanNumber } from "./cells";
import { checkHeader, factorColumn, headerIsBlank, makeTable } from "./columns";

/** One column's cells. */
export interface CellColumn {
  /** The number each row means (numbers, numeric texts); NaN for none. Null while no row has one. */
  num: Float64Array | null;
  /**
   * For string and boolean cells that are not missing: the index into `texts` of the trimmed text
   * (numeric texts too: a factor keeps their spelling, "1.50"); -1 otherwise. Null while no row has one.
   */
  text: Int32Array | null;
  /** Texts in order of first appearance. */
  texts: string[];
  /** Some row holds a text that is not a number (or a boolean): the column is a factor. */
  factor: boolean;
}

export interface CellColumns {
  /** The header row as given (names are checked when the table is made). */
  header: unknown[];
  /** Data rows held (after the header). */
  nrow: number;
  columns: CellColumn[];
  /** A problem with the range's shape, reported (as a DataError) when the table is made. */
  shapeError: string | null;
}

/** Is this value blank as Office reports blanks (null, "", spaces)? Used for the rows in use. */
function isBlankCell(v: unknown): boolean {
  if (v === null || v === undefined) return true;
  if (typeof v !== "string") return false;
  for (let i = 0; i < v.length; i++) if (!isSpace(v.charCodeAt(i))) return false;
  return true;
}

/** The codes of one column's texts, in order of first appearance. */
class TextCodes {
  readonly texts: string[] = [];
  private readonly codes = new Map<string, number>();
  code(s: string): number {
    let k = this.codes.get(s);
    if (k === undefined) {
      k = this.texts.length;
      this.texts.push(s);
      this.codes.set(s, k);
    }
    return k;
  }
}

/**
 * Collects rows (header first, then data rows in blocks) into CellColumns. `capacity` is the
 * number of data rows expected (more are accepted; the arrays grow).
 */
export class CellColumnsBuilder {
  private readonly width: number;
  private readonly header: unknown[];
  private cap: number;
  private n = 0;
  private lastUsed = 0;
  private shapeError: string | null = null;
  private readonly num: (Float64Array | null)[];
  private readonly text: (Int32Array | null)[];
  private readonly codes: TextCodes[];
  private readonly factor: boolean[];

  constructor(header: unknown, capacity = 1024) {
    const ok = Array.isArray(header) && header.length > 0;
    this.header = ok ? (header as unknown[]).slice() : [];
    if (!ok) this.shapeError = "the data range is empty: select a range whose first row holds the column names";
    this.width = this.header.length;
    this.cap = Math.max(1, capacity);
    this.num = new Array(this.width).fill(null);
    this.text = new Array(this.width).fill(null);
    this.codes = Array.from({ length: this.width }, () => new TextCodes());
    this.factor = new Array(this.width).fill(false);
  }

  /** Data rows taken so far. */
  get rows(): number {
    return this.n;
  }

  /** Rows up to the last one with a non-blank cell (the rows in use). */
  get usedRows(): number {
    return this.lastUsed;
  }

  /** Appends data rows rows[from..]. */
  add(rows: unknown[][], from = 0): void {
    if (this.shapeError) return;
    const w = this.width;
    for (let r = from; r < rows.length; r++) {
      const row = rows[r];
      if (!Array.isArray(row) || row.length !== w) {
        const len = Array.isArray(row) ? row.length : 0;
        // As tableFromRows words it: the row's number counts the header as row 1.
        this.shapeError = `row ${this.n + 2} of the data has ${len} cell${len === 1 ? "" : "s"} but the header has ${w}: the data must be one rectangular range`;
        return;
      }
      if (this.n === this.cap) this.grow();
      const i = this.n++;
      let used = false;
      for (let j = 0; j < w; j++) {
        const v = row[j];
        if (typeof v === "number") {
          if (v === Infinity || v === -Infinity) {
            // As classify(): the text R writes, so the model names the cell where it is used.
            (this.text[j] ?? this.textArray(j))[i] = this.codes[j].code(v > 0 ? "Inf" : "-Inf");
            this.factor[j] = true;
          } else if (v === v) (this.num[j] ?? this.numArray(j))[i] = v;
          used = true;
        } else if (typeof v === "string") {
          if (this.putString(j, i, v)) used = true;
        } else if (typeof v === "boolean") {
          (this.text[j] ?? this.textArray(j))[i] = this.codes[j].code(v ? "TRUE" : "FALSE");
          this.factor[j] = true;
          used = true;
        } else if (!isBlankCell(v)) {
          used = true; // an error object: missing, but the row is in use
        }
      }
      if (used) this.lastUsed = this.n;
    }
  }

  /** A string cell; false when it is blank. */
  private putString(j: number, i: number, v: string): boolean {
    let a = 0;
    let b = v.length;
    while (a < b && isSpace(v.charCodeAt(a))) a++;
    while (b > a && isSpace(v.charCodeAt(b - 1))) b--;
    if (a === b) return false;
    if (isMissingRange(v, a, b)) return true;
    const s = a === 0 && b === v.length ? v : v.slice(a, b);
    (this.text[j] ?? this.textArray(j))[i] = this.codes[j].code(s);
    const x = scanNumber(v, a, b);
    if (x === x) (this.num[j] ?? this.numArray(j))[i] = x;
    else this.factor[j] = true;
    return true;
  }

  private numArray(j: number): Float64Array {
    const a = new Float64Array(this.cap).fill(NaN);
    this.num[j] = a;
    return a;
  }

  private textArray(j: number): Int32Array {
    const a = new Int32Array(this.cap).fill(-1);
    this.text[j] = a;
    return a;
  }

  private grow(): void {
    const cap = this.cap * 2;
    for (let j = 0; j < this.width; j++) {
      const x = this.num[j];
      if (x) {
        const y = new Float64Array(cap).fill(NaN, x.length);
        y.set(x);
        this.num[j] = y;
      }
      const t = this.text[j];
      if (t) {
        const u = new Int32Array(cap).fill(-1, t.length);
        u.set(t);
        this.text[j] = u;
      }
    }
    this.cap = cap;
  }

  /**
   * The columns of the first `nrow` rows taken so far (default: all), as views of the builder's
   * arrays: take them again after adding rows (the arrays are replaced as they grow).
   */
  build(nrow = this.n): CellColumns {
    const n = Math.min(nrow, this.n);
    const fit = <T extends Float64Array | Int32Array>(a: T | null): T | null => (a === null ? null : a.length === n ? a : (a.subarray(0, n) as T));
    const columns: CellColumn[] = [];
    for (let j = 0; j < this.width; j++) {
      columns.push({ num: fit(this.num[j]), text: fit(this.text[j]), texts: this.codes[j].texts, factor: this.factor[j] });
    }
    return { header: this.header, nrow: n, columns, shapeError: this.shapeError };
  }
}

/** All rows (header first) at once: what the custom functions pass. */
export function cellColumnsFromRows(rows: unknown[][]): CellColumns {
  if (!Array.isArray(rows) || rows.length === 0) return new CellColumnsBuilder(null).build();
  const b = new CellColumnsBuilder(rows[0], rows.length - 1);
  b.add(rows, 1);
  return b.build();
}

/** Is row i of a column missing (no number, no text)? */
function missingAt(c: CellColumn, i: number): boolean {
  return (c.text === null || c.text[i] < 0) && (c.num === null || c.num[i] !== c.num[i]);
}

/** The table the engine fits: the same as tableFromRows on the rows these columns came from. */
export function tableFromCellColumns(d: CellColumns): DataTable {
  if (d.shapeError) throw new DataError(d.shapeError);
  const cols = d.columns;
  // Trailing rows that are entirely missing (a whole-column reference) are dropped.
  let nrow = d.nrow;
  while (nrow > 0 && cols.every((c) => missingAt(c, nrow - 1))) nrow--;
  // Trailing columns with a blank header and no data (a selection wider than the data) too.
  let keep = d.header.length;
  const blankColumn = (c: CellColumn) => {
    for (let i = 0; i < nrow; i++) if (!missingAt(c, i)) return false;
    return true;
  };
  while (keep > 1 && headerIsBlank(d.header[keep - 1]) && blankColumn(cols[keep - 1])) keep--;
  const names = checkHeader(d.header, keep);
  const columns: Column[] = names.map((name, j) => columnOf(cols[j], name, nrow));
  return makeTable(names, columns, nrow);
}

function columnOf(c: CellColumn, name: string, nrow: number): Column {
  if (!c.factor) {
    const values = new Float64Array(nrow).fill(NaN);
    if (c.num) values.set(c.num.subarray(0, nrow));
    return { kind: "numeric", name, values };
  }
  // A factor: texts as written (trimmed), numbers as R writes them, both in one level table so
  // that the text "12" and the number 12 are one level, as tableFromRows makes them.
  const table = new LevelTable();
  const ofText = new Int32Array(c.texts.length).fill(-1);
  const codes = new Int32Array(nrow);
  for (let i = 0; i < nrow; i++) {
    const t = c.text ? c.text[i] : -1;
    if (t >= 0) {
      let k = ofText[t];
      if (k < 0) k = ofText[t] = table.intern(c.texts[t]);
      codes[i] = k;
    } else {
      const x = c.num ? c.num[i] : NaN;
      codes[i] = x === x ? table.intern(numberLabel(x)) : -1;
    }
  }
  return factorColumn(name, table.labels, codes, nrow);
}

/** The value of a cell as the sheet showed it (text trimmed; missing as ""), for writing it back. */
export function cellValue(c: CellColumn, i: number): number | string {
  const t = c.text ? c.text[i] : -1;
  if (t >= 0) return c.texts[t];
  const x = c.num ? c.num[i] : NaN;
  return x === x ? x : "";
}

/** The number a cell means (NaN for none). */
export function cellNumber(c: CellColumn, i: number): number {
  return c.num ? c.num[i] : NaN;
}
