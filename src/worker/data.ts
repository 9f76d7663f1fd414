// The data of a job as the page holds it and sends it: compact columns (engine/data/
// cell-columns.ts) with a key, a hash of the cells, that the client's cache uses. The key is
// computed column by column in row order, so it does not depend on how the rows arrived: the
// pane's 20,000-row blocks and a custom function's one range give the same key for the same
// cells, and share one fit. What the engine reads as the same cell is the same here ("" and null,
// an error object and "#N/A", " a" and "a"); what it reads differently differs (1 and "1").
// No engine code beyond the cell rules: this file is in the page's bundles.
import { CellColumns, CellColumnsBuilder, cellColumnsFromRows } from "../engine/data/cell-columns";
import { trimmed } from "../engine/data/cells";

export interface JobData {
  cells: CellColumns;
  /** Hash of the header, the shape and every cell. */
  key: string;
}

const SEED1 = 0x811c9dc5;
const SEED2 = 0x9747b28c;
/** The bits of NaN as the builder writes it, for a column that holds no number at all. */
const NAN_LO = 0;
const NAN_HI = 0x7ff80000 | 0;

/** Two 32-bit multiplicative hashes per column, fed row by row; texts and the header at the end. */
export class CellHasher {
  private h1: Uint32Array = new Uint32Array(0);
  private h2: Uint32Array = new Uint32Array(0);
  /** Rows hashed so far. */
  done = 0;

  /** Feeds rows [done, to) of every column. */
  update(d: CellColumns, to: number): void {
    const w = d.columns.length;
    if (this.h1.length !== w) {
      this.h1 = new Uint32Array(w).fill(SEED1);
      this.h2 = new Uint32Array(w).fill(SEED2);
    }
    const from = this.done;
    if (to <= from) return;
    for (let j = 0; j < w; j++) {
      const c = d.columns[j];
      const bits = c.num ? new Int32Array(c.num.buffer, c.num.byteOffset, c.num.length * 2) : null;
      const text = c.text;
      let a = this.h1[j] | 0;
      let b = this.h2[j] | 0;
      for (let i = from; i < to; i++) {
        const lo = bits ? bits[2 * i] : NAN_LO;
        const hi = bits ? bits[2 * i + 1] : NAN_HI;
        const t = text ? text[i] : -1;
        a = Math.imul(a ^ lo, 0x01000193);
        a = Math.imul(a ^ hi, 0x01000193);
        a = Math.imul(a ^ t, 0x01000193);
        b = Math.imul(b ^ lo, 0x5bd1e995);
        b ^= b >>> 15;
        b = Math.imul(b ^ hi, 0x5bd1e995);
        b ^= b >>> 15;
        b = Math.imul(b ^ t, 0x5bd1e995);
        b ^= b >>> 15;
      }
      this.h1[j] = a;
      this.h2[j] = b;
    }
    this.done = to;
  }

  /** The key of the data: every row must have been fed. */
  digest(d: CellColumns): string {
    if (this.done !== d.nrow) throw new Error(`CellHasher: ${this.done} of ${d.nrow} rows hashed`);
    let a = SEED1;
    let b = SEED2;
    const feedInt = (x: number) => {
      a = Math.imul(a ^ x, 0x01000193);
      b = Math.imul(b ^ x, 0x5bd1e995);
      b ^= b >>> 15;
    };
    const feedText = (s: string) => {
      feedInt(s.length);
      for (let i = 0; i < s.length; i++) feedInt(s.charCodeAt(i));
    };
    // The header, type-tagged as tableFromRows tells its cells apart (names are trimmed there).
    for (const h of d.header) {
      if (typeof h === "string") (feedInt(1), feedText(trimmed(h)));
      else if (typeof h === "number") (feedInt(2), feedText(String(h)));
      else if (typeof h === "boolean") feedInt(h ? 3 : 4);
      else feedInt(5);
    }
    feedInt(d.nrow);
    feedText(d.shapeError ?? "");
    d.columns.forEach((c, j) => {
      feedInt(this.h1[j] | 0);
      feedInt(this.h2[j] | 0);
      feedInt(c.texts.length);
      for (const s of c.texts) feedText(s);
    });
    const hex = (x: number) => (x >>> 0).toString(16).padStart(8, "0");
    return `${d.nrow}x${d.header.length}:${hex(a)}${hex(b)}`;
  }
}

/** The data of a whole range at once (the custom functions' arguments). */
export function dataFromRows(rows: unknown[][]): JobData {
  const cells = cellColumnsFromRows(rows);
  const h = new CellHasher();
  h.update(cells, cells.nrow);
  return { cells, key: h.digest(cells) };
}

/**
 * The data of a range read in blocks (the pane): each block is converted and hashed as it
 * arrives, so no step touches more than one block. Only rows up to the last non-blank one are
 * kept (trailing blank rows are not data), and only those are hashed, so the key is the one the
 * functions get for the same range.
 */
export class DataCollector {
  private readonly builder: CellColumnsBuilder;
  private readonly hasher = new CellHasher();

  constructor(header: unknown[], capacity: number) {
    this.builder = new CellColumnsBuilder(header, capacity);
  }

  /** Data rows in use so far. */
  get rows(): number {
    return this.builder.usedRows;
  }

  add(rows: unknown[][], from = 0): void {
    this.builder.add(rows, from);
    // Rows up to the last non-blank one are sure to be kept: hash them now.
    this.hasher.update(this.builder.build(), this.builder.usedRows);
  }

  finish(): JobData {
    const cells = this.builder.build(this.builder.usedRows);
    this.hasher.update(cells, cells.nrow);
    return { cells, key: this.hasher.digest(cells) };
  }
}

/**
 * A copy of the data for a worker, exactly `nrow` long, and the buffers to transfer: the page
 * keeps its own (later fits, the chart), and postMessage moves the copies without cloning.
 */
export function wireData(d: JobData): { data: JobData; transfer: ArrayBuffer[] } {
  const n = d.cells.nrow;
  const transfer: ArrayBuffer[] = [];
  const columns = d.cells.columns.map((c) => {
    const num = c.num ? c.num.slice(0, n) : null;
    const text = c.text ? c.text.slice(0, n) : null;
    if (num) transfer.push(num.buffer);
    if (text) transfer.push(text.buffer);
    return { num, text, texts: c.texts, factor: c.factor };
  });
  return { data: { cells: { ...d.cells, columns }, key: d.key }, transfer };
}

/** Cells held (rows x columns): the client's cache budget counts these. */
export function dataCells(d: JobData): number {
  return d.cells.nrow * Math.max(1, d.cells.header.length);
}
