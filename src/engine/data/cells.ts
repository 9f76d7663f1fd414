// What one cell means, the same for Excel values and CSV fields: a number, a text, or missing.
// Excel sends blanks as null or "", error cells as error objects (or their texts), and numbers
// sometimes as text; R's CSV files write NA. All of that is decided here, once: the CSV reader
// calls the range functions on the file text, the Excel reader on each cell's string.

/** Excel's error texts; a cell holding one is missing. */
const ERROR_TEXTS = new Set([
  "#N/A", "#VALUE!", "#DIV/0!", "#REF!", "#NAME?", "#NUM!", "#NULL!", "#SPILL!", "#CALC!",
  "#GETTING_DATA", "#FIELD!", "#BLOCKED!", "#CONNECT!", "#BUSY!", "#UNKNOWN!", "#PYTHON!",
]);

export const MISSING = Symbol("missing");
/** A typed cell: a number, a (trimmed, non-numeric) text, or missing. */
export type Cell = number | string | typeof MISSING;

/** White space as String.prototype.trim sees it (spaces, tabs, no-break spaces, line ends). */
export function isSpace(c: number): boolean {
  if (c === 32 || (c >= 9 && c <= 13)) return true;
  if (c < 160) return false;
  return c === 0xa0 || c === 0x1680 || (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000 || c === 0xfeff;
}

const POW10 = [1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22];

/**
 * The number that s[a, limit) starts with, or NaN when it starts with no digits; end[0] is set
 * to where the number ends (the index after its last character). Strict syntax, what a user means by a number (12, -3.5, .5, 5.,
 * 1e-3, +2), not JavaScript's lenient Number() ("0x10", "Infinity", ""). No substring is made
 * in the common case: up to 15 significant digits and a decimal exponent within 22 convert
 * exactly with one correctly rounded multiply or divide (both operands are exact doubles).
 */
export function scanNumberPrefix(s: string, a: number, limit: number, end: Int32Array, dec = 46): number {
  let i = a;
  let c = s.charCodeAt(i);
  let neg = false;
  if (c === 43 || c === 45) {
    neg = c === 45;
    c = s.charCodeAt(++i);
  }
  let mant = 0;
  let sig = 0; // significant digits in mant
  let exp10 = 0; // value = mant * 10^exp10
  let digits = 0;
  let dropped = false; // a nonzero digit beyond the 15th: take the slow path
  while (c >= 48 && c <= 57 && i < limit) {
    digits++;
    if (sig < 15) {
      if (mant !== 0 || c !== 48) {
        mant = mant * 10 + (c - 48);
        sig++;
      }
    } else {
      exp10++;
      if (c !== 48) dropped = true;
    }
    c = s.charCodeAt(++i);
  }
  // The decimal mark: '.', or ',' in files written with decimal commas (then '.' is no mark).
  if (c === dec && i < limit) {
    c = s.charCodeAt(++i);
    while (c >= 48 && c <= 57 && i < limit) {
      digits++;
      if (sig < 15) {
        if (mant !== 0 || c !== 48) {
          mant = mant * 10 + (c - 48);
          sig++;
        }
        exp10--;
      } else if (c !== 48) dropped = true;
      c = s.charCodeAt(++i);
    }
  }
  if (digits === 0) {
    end[0] = a;
    return NaN;
  }
  if ((c === 101 || c === 69) && i < limit) {
    let k = i + 1;
    let e = 0;
    let eneg = false;
    let ec = s.charCodeAt(k);
    if ((ec === 43 || ec === 45) && k < limit) {
      eneg = ec === 45;
      ec = s.charCodeAt(++k);
    }
    let edigits = 0;
    while (ec >= 48 && ec <= 57 && k < limit) {
      if (e < 100000) e = e * 10 + (ec - 48);
      edigits++;
      ec = s.charCodeAt(++k);
    }
    if (edigits > 0) {
      // Without exponent digits the 'e' is not part of the number.
      exp10 += eneg ? -e : e;
      i = k;
    }
  }
  end[0] = i;
  let v: number;
  if (!dropped && exp10 >= -22 && exp10 <= 22) {
    v = exp10 >= 0 ? mant * POW10[exp10] : mant / POW10[-exp10];
    if (neg) v = -v;
  } else {
    v = Number(dec === 46 ? s.slice(a, i) : s.slice(a, i).replace(String.fromCharCode(dec), "."));
  }
  return Number.isFinite(v) ? v : NaN;
}

/** The number written in s[a, b) (the whole range), or NaN when that text is not a number. */
const scanEnd = new Int32Array(1);

export function scanNumber(s: string, a: number, b: number, dec = 46): number {
  const v = scanNumberPrefix(s, a, b, scanEnd, dec);
  return scanEnd[0] === b ? v : NaN;
}

/** Is s[a, b) (already trimmed) one of the texts that mean "missing": "", NA, NaN, Excel errors? */
export function isMissingRange(s: string, a: number, b: number): boolean {
  const len = b - a;
  if (len === 0) return true;
  const c = s.charCodeAt(a);
  if (c === 78) {
    // N: "NA" or "NaN"
    if (len === 2) return s.charCodeAt(a + 1) === 65;
    return len === 3 && s.charCodeAt(a + 1) === 97 && s.charCodeAt(a + 2) === 78;
  }
  if (c === 35 && len <= 16) return ERROR_TEXTS.has(s.slice(a, b).toUpperCase());
  return false;
}

/** The number a trimmed text means, or NaN (also for missing texts). */
export function parseNumber(s: string): number {
  return scanNumber(s, 0, s.length);
}

/** Trim s[a, b) by isSpace; returns the new bounds packed as [start, end]. */
export function trimBounds(s: string, a: number, b: number, out: Int32Array): void {
  while (a < b && isSpace(s.charCodeAt(a))) a++;
  while (b > a && isSpace(s.charCodeAt(b - 1))) b--;
  out[0] = a;
  out[1] = b;
}

/**
 * Classify one value from Excel (or an already unquoted CSV field). Numbers are numbers (NaN is
 * missing, infinities are the texts "Inf" and "-Inf"); strings are trimmed, missing texts are missing, numeric texts are
 * numbers, other texts are returned trimmed; booleans are the texts "TRUE"/"FALSE"; null,
 * undefined and objects (Excel error values) are missing.
 */
export function classify(v: unknown): Cell {
  // An infinite number is kept as the text R writes for it, so that the model reports it
  // where the column is used (as it does for the text "Inf" in a CSV file), not dropped.
  if (typeof v === "number") return Number.isFinite(v) ? v : v === Infinity ? "Inf" : v === -Infinity ? "-Inf" : MISSING;
  if (typeof v === "string") {
    let a = 0;
    let b = v.length;
    while (a < b && isSpace(v.charCodeAt(a))) a++;
    while (b > a && isSpace(v.charCodeAt(b - 1))) b--;
    if (isMissingRange(v, a, b)) return MISSING;
    const x = scanNumber(v, a, b);
    if (x === x) return x;
    return a === 0 && b === v.length ? v : v.slice(a, b);
  }
  if (typeof v === "boolean") return v ? "TRUE" : "FALSE";
  return MISSING;
}

/** The trimmed text of a string cell (for level labels: a numeric text keeps its spelling). */
export function trimmed(v: string): string {
  let a = 0;
  let b = v.length;
  while (a < b && isSpace(v.charCodeAt(a))) a++;
  while (b > a && isSpace(v.charCodeAt(b - 1))) b--;
  return a === 0 && b === v.length ? v : v.slice(a, b);
}

// ---------------------------------------------------------------------------------------------
// Numbers as labels, the way R writes them

/**
 * R's as.character of a double: up to 15 significant digits, fixed notation unless scientific
 * is shorter (R's width rule with scipen = 0): 150000 -> "150000", 1e5 -> "1e+05",
 * 0.0001 -> "1e-04", 0.1 + 0.2 -> "0.3", 2^60 -> "1152921504606846976".
 */
export function rDouble(x: number): string {
  if (x === 0) return "0";
  if (!Number.isFinite(x)) return Number.isNaN(x) ? "NaN" : x > 0 ? "Inf" : "-Inf";
  const sci = Math.abs(x).toExponential(14); // d.dddddddddddddde[+-]X
  const ePos = sci.indexOf("e");
  let mant = sci.slice(0, ePos).replace(".", "");
  const e = Number(sci.slice(ePos + 1));
  mant = mant.replace(/0+$/, "");
  const nsig = mant.length;
  const neg = x < 0 ? 1 : 0;
  const rgt = Math.max(0, nsig - 1 - e);
  const left = e >= 0 ? e + 1 : 1;
  const fixedWidth = neg + left + (rgt > 0 ? rgt + 1 : 0);
  const sciWidth = neg + (nsig > 1 ? nsig + 1 : 1) + (Math.abs(e) >= 100 ? 5 : 4);
  if (fixedWidth <= sciWidth) return x.toFixed(rgt);
  const m = nsig > 1 ? `${mant[0]}.${mant.slice(1)}` : mant;
  const ae = Math.abs(e);
  return `${neg ? "-" : ""}${m}e${e < 0 ? "-" : "+"}${ae < 10 ? "0" : ""}${ae}`;
}

/** Is x an integer that R would hold in an integer column (read.csv makes such columns integer)? */
export function isRInteger(x: number): boolean {
  return Number.isInteger(x) && x <= 2147483647 && x >= -2147483647;
}

/**
 * A number as a factor level: integers as R writes integers (152 -> "152", 100000 -> "100000"),
 * other numbers as R's as.character of a double (4.5 -> "4.5").
 */
export function numberLabel(x: number): string {
  return isRInteger(x) ? String(x === 0 ? 0 : x) : rDouble(x);
}

// ---------------------------------------------------------------------------------------------
// Level order

const collator = new Intl.Collator("en");

/** Only ASCII letters and digits: ICU's English order for these is computed without the collator. */
function isAlnum(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (!((c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122))) return false;
  }
  return true;
}

/**
 * ICU (R's default English collation) on ASCII letters and digits: first as lower-case text
 * (digits before letters, a shorter prefix first), then lower case before upper case at the first
 * position where the case differs. Same answers as Intl.Collator("en"), several times faster.
 */
function compareAlnum(a: string, b: string): number {
  const la = a.toLowerCase();
  const lb = b.toLowerCase();
  if (la !== lb) return la < lb ? -1 : 1;
  for (let i = 0; i < a.length; i++) {
    const ca = a.charCodeAt(i);
    const cb = b.charCodeAt(i);
    if (ca !== cb) return ca > cb ? -1 : 1; // lower case (larger code) first
  }
  return 0;
}

/** Compare two level texts as R's sort() does in an English locale (ties broken by code units). */
export function compareText(a: string, b: string): number {
  const c = isAlnum(a) && isAlnum(b) ? compareAlnum(a, b) : collator.compare(a, b);
  if (c !== 0) return c;
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * The order of factor levels, as R's factor(): numerically when every level is a number, else
 * by English collation. Returns the permutation: order[k] = index (in `levels`) of the k-th level.
 */
export function levelOrder(levels: string[]): Int32Array {
  const n = levels.length;
  const idx = new Int32Array(n);
  for (let i = 0; i < n; i++) idx[i] = i;
  const nums = new Float64Array(n);
  let allNumeric = true;
  for (let i = 0; i < n && allNumeric; i++) {
    nums[i] = parseNumber(levels[i]);
    if (nums[i] !== nums[i]) allNumeric = false;
  }
  if (allNumeric) {
    idx.sort((i, j) => nums[i] - nums[j] || (levels[i] < levels[j] ? -1 : levels[i] > levels[j] ? 1 : 0));
    return idx;
  }
  if (levels.every(isAlnum)) {
    // Sort keys once: the lower-case text, then the case pattern.
    const lower = levels.map((s) => s.toLowerCase());
    idx.sort((i, j) => {
      const a = lower[i];
      const b = lower[j];
      if (a !== b) return a < b ? -1 : 1;
      return compareAlnum(levels[i], levels[j]) || (levels[i] < levels[j] ? -1 : levels[i] > levels[j] ? 1 : 0);
    });
    return idx;
  }
  idx.sort((i, j) => compareText(levels[i], levels[j]));
  return idx;
}

/** Levels sorted as R's factor() sorts them. */
export function sortLevels(levels: string[]): string[] {
  return Array.from(levelOrder(levels), (i) => levels[i]);
}

// ---------------------------------------------------------------------------------------------
// Interning level texts without making a substring per cell

/**
 * Level texts of one column, in order of first appearance, with an open-addressing hash table
 * keyed by the characters, so that a CSV field can be looked up straight from the file text.
 */
export class LevelTable {
  readonly labels: string[] = [];
  private hashes: Int32Array = new Int32Array(16);
  private slots: Int32Array = new Int32Array(32); // level index + 1; 0 = empty
  private mask = 31;

  get size(): number {
    return this.labels.length;
  }

  /** Code of the text s[a, b), adding it as a new level if it is new. */
  internRange(s: string, a: number, b: number): number {
    let h = 0x811c9dc5 | 0;
    for (let i = a; i < b; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
    const len = b - a;
    let slot = h & this.mask;
    for (;;) {
      const k = this.slots[slot] - 1;
      if (k < 0) break;
      if (this.hashes[k] === h) {
        const l = this.labels[k];
        if (l.length === len) {
          let same = true;
          for (let i = 0; i < len; i++) {
            if (l.charCodeAt(i) !== s.charCodeAt(a + i)) {
              same = false;
              break;
            }
          }
          if (same) return k;
        }
      }
      slot = (slot + 1) & this.mask;
    }
    const k = this.labels.length;
    this.labels.push(a === 0 && b === s.length ? s : s.slice(a, b));
    if (k >= this.hashes.length) {
      const nh = new Int32Array(this.hashes.length * 2);
      nh.set(this.hashes);
      this.hashes = nh;
    }
    this.hashes[k] = h;
    this.slots[slot] = k + 1;
    if ((k + 1) * 2 > this.mask) this.rehash();
    return k;
  }

  intern(s: string): number {
    return this.internRange(s, 0, s.length);
  }

  private rehash(): void {
    const size = (this.mask + 1) * 2;
    this.mask = size - 1;
    this.slots = new Int32Array(size);
    for (let k = 0; k < this.labels.length; k++) {
      let slot = this.hashes[k] & this.mask;
      while (this.slots[slot] !== 0) slot = (slot + 1) & this.mask;
      this.slots[slot] = k + 1;
    }
  }
}

// ---------------------------------------------------------------------------------------------

/** Excel column letter of a 0-based index: 0 -> A, 25 -> Z, 26 -> AA. */
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
