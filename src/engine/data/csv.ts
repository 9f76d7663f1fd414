// RFC 4180 CSV (quoted fields, doubled quotes, CRLF or LF, separators and line breaks inside
// quotes) read straight into typed columns: one scan over the text, no array of rows and no
// substring per cell (numbers are read from the text in place; level texts are looked up by
// their characters). Columns are sized once from the number of lines. A column stays numeric
// (a Float64Array) until its first text cell; then it becomes a factor. Its earlier numeric cells must become levels spelled as in the
// file (as R's read.csv keeps a text column's cells), so they are marked and, after the scan,
// read again from the file text: only the rows before the switch, only for such columns.
//
// Excel in many European locales saves "CSV" with semicolons between fields and decimal commas
// (4,51), and text exports use tabs: the separator is found from the header line and the first
// lines (the candidate that splits them all into the header's number of fields), and decimal
// commas are recognized when the separator is not a comma.
import type { Column, DataTable } from "../types";
import { DataError } from "../errors";
import { LevelTable, isMissingRange, isSpace, scanNumber, scanNumberPrefix, trimmed } from "./cells";
import { checkHeader, factorColumn, headerIsBlank, makeTable } from "./columns";

const COMMA = 44;
const TAB = 9;
const DOT = 46;
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

  constructor(
    private readonly text: string,
    public pos: number,
    public line: number,
    /** The field separator (',', ';' or tab) and the decimal mark ('.' or ','). */
    readonly sep = COMMA,
    readonly dec = DOT,
  ) {}

  /** Skip blank lines (empty, or only spaces and tabs); false at the end of the text. */
  startRow(): boolean {
    const t = this.text;
    const len = t.length;
    let p = this.pos;
    while (p < len) {
      let q = p;
      let c = t.charCodeAt(q);
      while (q < len && (c === 32 || (c === TAB && this.sep !== TAB))) c = t.charCodeAt(++q);
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
    const sep = this.sep;
    let p = this.pos;
    let c = t.charCodeAt(p);
    while (p < len && (c === 32 || (c === TAB && sep !== TAB) || (c >= 160 && isSpace(c)))) c = t.charCodeAt(++p);
    if (c === QUOTE) {
      this.quotedField(p);
      return;
    }
    const a = p;
    if ((c >= 48 && c <= 57) || c === 45 || c === this.dec || c === 43) {
      // Most fields are numbers: read the number while looking for the field's end.
      const v = scanNumberPrefix(t, p, len, this.end, this.dec);
      const q = this.end[0];
      c = t.charCodeAt(q);
      if (q >= len || c === sep || c === LF || c === CR) {
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
      if (c === sep || c === LF || c === CR) break;
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
    while (p < t.length && (c === 32 || (c === TAB && this.sep !== TAB))) c = t.charCodeAt(++p);
    if (p < t.length && c !== this.sep && c !== LF && c !== CR) {
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
    if (c === this.sep) {
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
      const v = cur.numKnown ? cur.num : scanNumber(s, a, b, cur.dec);
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

/** How the fields of a file are written: the separator and the decimal mark. */
export interface CsvDialect {
  sep: "," | ";" | "\t";
  decimalComma: boolean;
}

const SEP_NAMES: Record<string, string> = { ",": "commas", ";": "semicolons", "\t": "tabs" };

/** Lines (not blank) of the text from `pos`, split at `sep` outside quotes: fields per line. */
function fieldCounts(text: string, pos: number, sep: number, maxLines: number): number[] {
  const counts: number[] = [];
  const len = text.length;
  let p = pos;
  let fields = 1;
  let content = false;
  let quoted = false;
  const end = Math.min(len, pos + (1 << 20)); // a megabyte is plenty to tell
  while (p < end && counts.length < maxLines) {
    const c = text.charCodeAt(p++);
    if (quoted) {
      if (c === QUOTE) quoted = false;
      continue;
    }
    if (c === QUOTE) {
      quoted = true;
      content = true;
    } else if (c === sep) {
      fields++;
      content = true;
    } else if (c === LF || c === CR) {
      if (content) counts.push(fields);
      fields = 1;
      content = false;
    } else if (c !== 32 && c !== TAB) content = true;
  }
  if (content && counts.length < maxLines && p >= len) counts.push(fields);
  return counts;
}

/**
 * The separator: of ',', ';' and tab, the one that splits the header line into the most fields
 * while every one of the first lines has that many too; the header alone decides when none
 * does (the field-count error then says which separator was used). Decimal commas: a field that
 * is a number written with a decimal comma, when the separator is not a comma.
 */
export function sniffCsv(text: string, pos = 0): CsvDialect {
  type Sep = CsvDialect["sep"];
  const cands: Sep[] = [",", ";", "\t"];
  let best: Sep = ",";
  let bestFields = 1;
  let bestConsistent = false;
  for (const sep of cands) {
    const counts = fieldCounts(text, pos, sep.charCodeAt(0), 50);
    if (counts.length === 0) continue;
    const h = counts[0];
    const consistent = counts.every((k) => k === h);
    if (h <= 1) continue;
    if ((consistent && !bestConsistent) || (consistent === bestConsistent && h > bestFields)) {
      best = sep;
      bestFields = h;
      bestConsistent = consistent;
    }
  }
  if (best === ",") {
    // One column of numbers with decimal commas: no separator to find, but every comma is one.
    if (bestFields <= 1 && oneColumnOfDecimalCommas(text, pos)) return { sep: ";", decimalComma: true };
    return { sep: ",", decimalComma: false };
  }
  const s = best === ";" ? ";" : "\\t";
  const re = new RegExp(`(?:^|[${s}\\n])[ ]*"?[+-]?\\d*,\\d+(?:[eE][+-]?\\d+)?"?[ ]*(?=[${s}\\r\\n]|$)`);
  return { sep: best, decimalComma: re.test(text) };
}

function oneColumnOfDecimalCommas(text: string, pos: number): boolean {
  const lines = text.slice(pos, pos + 65536).split(/\r\n|\n|\r/).slice(1, 51).filter((l) => l.trim() !== "");
  const withComma = lines.filter((l) => l.includes(","));
  return withComma.length > 0 && withComma.every((l) => /^\s*"?[+-]?\d*,\d+(?:[eE][+-]?\d+)?"?\s*$/.test(l));
}

/** Text that is not CSV text at all: UTF-16 read as bytes, a spreadsheet file. */
function checkIsText(text: string): void {
  const head = text.slice(0, 4096);
  if (head.startsWith("PK\u0003\u0004")) {
    throw new DataError("this is not a CSV file but a zip archive (an .xlsx workbook?): save the sheet as CSV (File > Save As > CSV UTF-8)");
  }
  const nul = head.indexOf("\u0000");
  if (nul >= 0) {
    // UTF-16LE puts the NUL after each ASCII character (odd offsets), UTF-16BE before it (even
    // ones); a byte-order mark read as UTF-8 is two characters, which keeps the parity.
    let odd = 0;
    for (let k = 0; k < head.length; k++) if (head.charCodeAt(k) === 0) odd += k & 1 ? 1 : -1;
    const even = odd >= 0 ? "little-endian" : "big-endian";
    throw new DataError(`the file holds NUL characters: it is UTF-16 (${even}) text read as UTF-8 or bytes. Save it as "CSV UTF-8", or read it with the lmm command, which reads UTF-16`);
  }
}

export function parseCsv(text: string, dialect?: CsvDialect): DataTable {
  if (typeof text !== "string") throw new DataError("the CSV data must be text");
  checkIsText(text);
  const start = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  const d = dialect ?? sniffCsv(text, start);
  const cur = new Cursor(text, start, 1, d.sep.charCodeAt(0), d.decimalComma ? COMMA : DOT);
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
      throw new DataError(`line ${rowLine} of the CSV has ${j} field${j === 1 ? "" : "s"} but the header line has ${width} field${width === 1 ? "" : "s"} (read as separated by ${SEP_NAMES[d.sep]}${d.decimalComma ? ", with decimal commas" : ""}): every line must have one field per column`);
    }
    nrow++;
    if (any) lastFilled = nrow;
  }

  // Numbers read before a column's first text: fetch their spelling from the file.
  let rescan = 0;
  for (const col of cols) rescan = Math.max(rescan, col.pendingUntil);
  if (rescan > 0) {
    const again = new Cursor(text, dataPos, dataLine, cur.sep, cur.dec);
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
  const table = makeTable(names, columns, lastFilled);
  if (d.decimalComma) table.decimalComma = true;
  return table;
}
