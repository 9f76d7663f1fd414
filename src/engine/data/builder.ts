// Builds typed columns cell by cell, so that a 1,000,000-row CSV never becomes an array of rows.
// A column stays numeric (a growing Float64Array) until its first text cell; then it becomes a
// factor, and the numbers seen so far become level labels.
import type { Column, DataTable } from "../types";
import { DataError } from "../errors";
import { Cell, MISSING, columnLetter, numberLabel, parseNumber, sortLevels } from "./cells";

class ColumnBuilder {
  private nums: Float64Array = new Float64Array(1024);
  private codes: Int32Array | null = null;
  private levelIndex: Map<string, number> | null = null;
  private labels: string[] = [];
  length = 0;

  constructor(readonly name: string) {}

  push(c: Cell): void {
    if (this.length === this.nums.length && !this.codes) this.nums = grow(this.nums);
    if (this.codes && this.length === this.codes.length) this.codes = growInt(this.codes);
    if (typeof c === "string" && !this.codes) this.toFactor();
    if (this.codes) {
      this.codes[this.length++] = c === MISSING ? -1 : this.code(typeof c === "number" ? numberLabel(c) : c);
    } else {
      this.nums[this.length++] = c === MISSING ? NaN : (c as number);
    }
  }

  private code(label: string): number {
    let k = this.levelIndex!.get(label);
    if (k === undefined) {
      k = this.labels.length;
      this.labels.push(label);
      this.levelIndex!.set(label, k);
    }
    return k;
  }

  private toFactor(): void {
    this.levelIndex = new Map();
    const codes = new Int32Array(Math.max(this.nums.length, 1024));
    for (let i = 0; i < this.length; i++) {
      const v = this.nums[i];
      codes[i] = Number.isNaN(v) ? -1 : this.code(numberLabel(v));
    }
    this.codes = codes;
    this.nums = new Float64Array(0);
  }

  finish(nrow: number): Column {
    while (this.length < nrow) this.push(MISSING);
    if (!this.codes) return { kind: "numeric", name: this.name, values: this.nums.slice(0, nrow) };
    // Recode to R's level order.
    const sorted = sortLevels(this.labels);
    const rank = new Map(sorted.map((l, i) => [l, i]));
    const remap = Int32Array.from(this.labels, (l) => rank.get(l)!);
    const codes = new Int32Array(nrow);
    for (let i = 0; i < nrow; i++) {
      const c = this.codes[i];
      codes[i] = c < 0 ? -1 : remap[c];
    }
    return { kind: "factor", name: this.name, levels: sorted, codes };
  }
}

function grow(a: Float64Array): Float64Array {
  const b = new Float64Array(a.length * 2);
  b.set(a);
  return b;
}

function growInt(a: Int32Array): Int32Array {
  const b = new Int32Array(a.length * 2);
  b.set(a);
  return b;
}

/** Validate the header cells and make a builder per column. */
export function headerBuilders(header: unknown[]): ColumnBuilder[] {
  if (header.length === 0) throw new DataError("the data range is empty: select a range whose first row holds the column names");
  const seen = new Map<string, number>();
  const names = header.map((h, i) => {
    const name = h === null || h === undefined ? "" : typeof h === "object" ? "" : String(h).trim();
    const where = `column ${columnLetter(i)}`;
    if (name === "") throw new DataError(`the header cell of ${where} is empty: the first row of the data must name every column`);
    if (typeof h === "number" || parseNumber(name) !== null) {
      throw new DataError(`the header of ${where} is the number ${name}: the first row of the data must hold column names (is the header row missing?)`);
    }
    const prev = seen.get(name);
    if (prev !== undefined) throw new DataError(`the column name '${name}' appears twice (columns ${columnLetter(prev)} and ${columnLetter(i)}): rename one of them`);
    seen.set(name, i);
    return name;
  });
  return names.map((n) => new ColumnBuilder(n));
}

export function finishTable(builders: ColumnBuilder[], nrow: number): DataTable {
  if (nrow === 0) throw new DataError("the data have a header row but no data rows");
  return { nrow, columns: builders.map((b) => b.finish(nrow)) };
}

export type { ColumnBuilder };
