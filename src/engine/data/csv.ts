// RFC 4180 CSV (quoted fields, doubled quotes, CRLF or LF, separators and line breaks inside
// quotes) read straight into typed columns: one scan over the text, no array of rows and no
// substring per cell (numbers are read from the text in place; level texts are looked up by
// their characters). Columns are sized once from the number of lines. A column stays numeric
// (a Float64Array) until its first text cell; then it becomes a factor. Its earlier numeric cells must become levels spelled as in the
// file (as R's read.csv keeps a text column's cells), so they are marked and, after the scan,
// read again from the file text: only the rows before the switch, only for such columns.
import type { Column, DataTable } from "../types";
import { DataError } from "../errors";
import { LevelTable, isMissingRange, isSpace, scanNumber, scanNumberPrefix, trimmed } from "./cells";
import { checkHeader, factorColumn, headerIsBlank, makeTable } from "./columns";

const COMMA = 44;
const QUOTE = 34;
const LF = 10;
const CR = 13;
/** Code of a numeric cell of a column that turned into a factor, waiting for its text. */
const PENDING = -2;

/** Walks the fields of the text. After field(): the field is text[a, b) (trimmed) or `quoted`. */
class Cursor {
  a = 0;
  b = 0;
  quoted: string | null = null;
  rowEnd = false;
  /** When numKnown, `num` is the field's number (NaN: not a number); else it is still to be read. */
  num = NaN;
  numKnown = false;
  private readonly end = new Int32Array(1);

  constructor(private readonly text: string, public pos: number, public line: number) {}

  /** Skip blank lines (empty, or only spaces and tabs); false at the end of the text. */
  startRow(): boolean {
    const t = this.text;
    const len = t.length;
    let p = this.pos;
    while (p < len) {
      let q = p;
      let c = t.charCodeAt(q);
      while (q < len && (c === 32 || c === 9)) c = t.charCodeAt(++q);
      if (q >= len) {
        p = q;
        break;
      }
      if (c === LF) {
        p = q + 1;
        this.line++;
      } else if (c === CR) {
        p = q + 1;
        if (t.charCodeAt(p) === LF) p++;
        this.line++;
      } else break;
    }
    this.pos = p;
    return p < len;
  }

  field(): void {
    const t = this.text;
    const len = t.length;
    let p = this.pos;
    let c = t.charCodeAt(p);
    while (p < len && (c === 32 || c === 9 || (c >= 160 && isSpace(c)))) c = t.charCodeAt(++p);
    if (c === QUOTE) {
      this.quotedField(p);
      return;
    }
    const a = p;
    if ((c >= 48 && c <= 57) || c === 45 || c === 46 || c === 43) {
      // Most fields are numbers: read the number while looking for the field's end.
      const v = scanNumberPrefix(t, p, len, this.end);
      const q = this.end[0];
      c = t.charCodeAt(q);
      if (q >= len || c === COMMA || c === LF || c === CR) {
        this.a = a;
        this.b = q;
        this.quoted = null;
        this.num = v;
        this.numKnown = true;
        this.delimiter(q);
        return;
      }
    }
    while (p < len) {
      c = t.charCodeAt(p);
      if (c === COMMA || c === LF || c === CR) break;
      p++;
    }
    let b = p;
    while (b > a && isSpace(t.charCodeAt(b - 1))) b--;
    this.a = a;
    this.b = b;
    this.quoted = null;
    this.numKnown = false;
    this.delimiter(p);
  }

  private quotedField(open: number): void {
    const t = this.text;
    const startLine = this.line;
    let p = open + 1;
    let start = p;
    let content: string | null = null;
    for (;;) {
      const q = t.indexOf('"', p);
      if (q < 0) {
        throw new DataError(`the CSV has a quote that is never closed: the field that starts on line ${startLine} runs to the end of the file`);
      }
      if (t.charCodeAt(q + 1) === QUOTE) {
        content = (content ?? "") + t.slice(start, q + 1);
        p = q + 2;
        start = p;
        continue;
      }
      content = content === null ? t.slice(start, q) : content + t.slice(start, q);
      for (let i = open; i < q; i++) if (t.charCodeAt(i) === LF) this.line++;
      p = q + 1;
      break;
    }
    let c = t.charCodeAt(p);
    while (p < t.length && (c === 32 || c === 9)) c = t.charCodeAt(++p);
    if (p < t.length && c !== COMMA && c !== LF && c !== CR) {
      throw new DataError(`line ${this.line} of the CSV has text after the closing quote of a field: a quoted field must be quoted as a whole, with any quote inside it doubled ("")`);
    }
    this.quoted = trimmed(content);
    this.numKnown = false;
    this.delimiter(p);
  }

  private delimiter(p: number): void {
    const t = this.text;
    if (p >= t.length) {
      this.rowEnd = true;
      this.pos = p;
      return;
    }
    const c = t.charCodeAt(p);
    if (c === COMMA) {
      this.rowEnd = false;
      this.pos = p + 1;
      return;
    }
    p++;
    if (c === CR && t.charCodeAt(p) === LF) p++;
    this.line++;
    this.rowEnd = true;
    this.pos = p;
  }
}

/** One column being read. */
class CsvColumn {
  values: Float64Array;
  codes: Int32Array | null = null;
  levels: LevelTable | null = null;
  /** Rows [0, pendingUntil) may hold PENDING codes (numbers read before the first text). */
  pendingUntil = 0;
  filled = 0;

  constructor(private capacity: number) {
    this.values = new Float64Array(capacity);
  }

  /** Store the cursor's field at `row`. */
  take(text: string, cur: Cursor, row: number): void {
    let s = text;
    let a = cur.a;
    let b = cur.b;
    if (cur.quoted !== null) {
      s = cur.quoted;
      a = 0;
      b = s.length;
    }
    const codes = this.codes;
    if (codes === null) {
      if (row === this.values.length) this.values = growF64(this.values);
      if (a === b) {
        this.values[row] = NaN;
        return;
      }
      const v = cur.numKnown ? cur.num : scanNumber(s, a, b);
      if (v === v) {
        this.values[row] = v;
        this.filled++;
        return;
      }
      if (isMissingRange(s, a, b)) {
        this.values[row] = NaN;
        return;
      }
      this.toFactor(row);
      this.codes![row] = this.levels!.internRange(s, a, b);
      this.filled++;
      return;
    }
    if (row === codes.length) this.codes = growI32(codes); // only past a miscount
    if (isMissingRange(s, a, b)) {
      this.codes![row] = -1;
      return;
    }
    this.codes![row] = this.levels!.internRange(s, a, b);
    this.filled++;
  }

  private toFactor(row: number): void {
    const codes = new Int32Array(this.capacity);
    const v = this.values;
    let pending = false;
    for (let i = 0; i < row; i++) {
      if (v[i] === v[i]) {
        codes[i] = PENDING;
        pending = true;
      } else codes[i] = -1;
    }
    if (pending) this.pendingUntil = row;
    this.codes = codes;
    this.levels = new LevelTable();
    this.values = new Float64Array(0);
  }

  finish(name: string, nrow: number): Column {
    if (this.codes === null) return { kind: "numeric", name, values: fit(this.values, nrow) };
    return factorColumn(name, this.levels!.labels, this.codes, nrow);
  }
}

/** The first n values; no copy when little would be wasted (a shorter view of the same buffer). */
function fit(a: Float64Array, n: number): Float64Array {
  if (a.length === n) return a;
  return a.length - n <= 64 + (n >> 4) ? a.subarray(0, n) : a.slice(0, n);
}

/** Number of lines (an upper bound on the number of rows), to size the columns once. */
function countLines(text: string): number {
  let n = 1;
  let p = text.indexOf("\n");
  while (p >= 0) {
    n++;
    p = text.indexOf("\n", p + 1);
  }
  if (n === 1) {
    p = text.indexOf("\r");
    while (p >= 0) {
      n++;
      p = text.indexOf("\r", p + 1);
    }
  }
  return n;
}

function growF64(a: Float64Array): Float64Array {
  const b = new Float64Array(a.length * 2);
  b.set(a);
  return b;
}

function growI32(a: Int32Array): Int32Array {
  const b = new Int32Array(a.length * 2);
  b.set(a);
  return b;
}

export function parseCsv(text: string): DataTable {
  if (typeof text !== "string") throw new DataError("the CSV data must be text");
  const cur = new Cursor(text, text.charCodeAt(0) === 0xfeff ? 1 : 0, 1);
  if (!cur.startRow()) throw new DataError("the CSV file is empty: its first line must hold the column names");
  const header: string[] = [];
  do {
    cur.field();
    header.push(cur.quoted ?? text.slice(cur.a, cur.b));
  } while (!cur.rowEnd);
  const width = header.length;
  // Blank header cells at the end may belong to empty columns (checked after reading them).
  let named = width;
  while (named > 1 && headerIsBlank(header[named - 1])) named--;
  checkHeader(header, named);

  const capacity = Math.max(16, countLines(text));
  const cols = header.map(() => new CsvColumn(capacity));
  const dataPos = cur.pos;
  const dataLine = cur.line;
  let nrow = 0;
  let lastFilled = 0; // rows after the last one with any value are dropped
  while (cur.startRow()) {
    const rowLine = cur.line;
    let j = 0;
    let any = false;
    do {
      cur.field();
      if (j < width) {
        const col = cols[j];
        const f = col.filled;
        col.take(text, cur, nrow);
        if (col.filled !== f) any = true;
      }
      j++;
    } while (!cur.rowEnd);
    if (j !== width) {
      throw new DataError(`line ${rowLine} of the CSV has ${j} field${j === 1 ? "" : "s"} but the header line has ${width} fields: every line must have one field per column`);
    }
    nrow++;
    if (any) lastFilled = nrow;
  }

  // Numbers read before a column's first text: fetch their spelling from the file.
  let rescan = 0;
  for (const col of cols) rescan = Math.max(rescan, col.pendingUntil);
  if (rescan > 0) {
    const again = new Cursor(text, dataPos, dataLine);
    for (let row = 0; row < rescan; row++) {
      again.startRow();
      let j = 0;
      do {
        again.field();
        const col = cols[j];
        if (row < col.pendingUntil && col.codes![row] === PENDING) {
          col.codes![row] = again.quoted !== null ? col.levels!.intern(again.quoted) : col.levels!.internRange(text, again.a, again.b);
        }
        j++;
      } while (!again.rowEnd);
    }
  }

  let keep = named;
  for (let j = named; j < width; j++) if (cols[j].filled > 0) keep = j + 1;
  const names = checkHeader(header, keep);
  const columns = names.map((name, j) => cols[j].finish(name, lastFilled));
  return makeTable(names, columns, lastFilled);
}
