// From a table and a spec to the model matrices: y, X (R's model.matrix with treatment
// contrasts, or those C(f, contr.sum) asks for (contrasts.ts): same columns, names and order), and for each random term its Z columns and
// grouping factor. Rows with a missing value in any column the model uses are dropped (na.omit);
// factor levels absent from the used rows are dropped (as lme4's model frame); aliased X
// columns are dropped with a note (as lme4).
//
// Factor coding follows R's rule (terms.formula + model.matrix): in a term, a factor is coded by
// contrasts (levels 2..k) when the term without that factor is the empty term or is contained
// in an earlier term, else by indicators of all its levels; without an intercept, the first
// factor of the first term that has one gets all its levels. Columns of a term are the products
// of its variables' columns, the first variable varying fastest.
import type { ContrastName, DataTable, Design, Expr, ModelSpec, ReTermDesign, Term } from "../types";
import { rDouble } from "../data/cells";
import { MAX_POLY_LEVELS, contrastCoding } from "./contrasts";
import { DataError } from "../errors";
import { exprLabel } from "../formula/parse";
import { FactorVariable, Variable, Variables, rowNumber, textMessage } from "./variables";
import { addGram } from "../linalg/gram";

/** One variable of a term as it enters the columns: numeric values, or a factor's pieces. */
interface TermVar {
  label: string;
  /** Levels present in the used rows (table level codes), for a factor. */
  present: number[];
  levelNames: string[];
  values: Float64Array | null; // numeric (over all table rows)
  codes: Int32Array | null; // factor codes (over all table rows)
  /** For a factor: table level code -> piece index, -1 when the level has no column. */
  piece: Int32Array | null;
  /** Names of the pieces (factor: label + level; numeric: the label). */
  names: string[];
  /**
   * A factor coded by contrasts other than indicators (contr.sum, contr.helmert, contr.poly):
   * row-major (present levels) x pieces, the pieces' values at each level; null for indicators.
   */
  coef: Float64Array | null;
  /** Index among the present levels of each table level code (-1: absent), with `coef`. */
  levelIndex: Int32Array | null;
  contrast: ContrastName | null;
  /** Coded by indicators of all its levels in this term (R's TermCode 2). */
  indicator: boolean;
}

/** The columns of one term: the product of its variables' pieces. */
interface TermCols {
  vars: TermVar[];
  /** Offset of each variable's piece index in the term's column index (first varies fastest). */
  strides: number[];
  count: number;
}

export interface Columns {
  intercept: boolean;
  terms: TermCols[];
  names: string[];
}

/** Levels of a factor variable that occur in the used rows, as table level codes in level order. */
function presentLevels(v: FactorVariable, rows: Int32Array): number[] {
  const seen = new Uint8Array(v.levels.length);
  const codes = v.codes;
  for (let i = 0; i < rows.length; i++) seen[codes[rows[i]]] = 1;
  const out: number[] = [];
  for (let k = 0; k < seen.length; k++) if (seen[k]) out.push(k);
  return out;
}

/**
 * R's columns for `terms` (in R's term order) with or without the intercept. `where` names the
 * part of the model in errors ("the fixed effects", "the random term (time | tree)").
 */
export function modelColumns(terms: Term[], intercept: boolean, vars: Variables, rows: Int32Array, where: string): Columns {
  const keys = terms.map((t) => t.factors.map(exprLabel));
  const values = terms.map((t) => t.factors.map((e) => vars.get(e)));
  // Contrast (1) or indicator (2) coding of each factor in each term (R's TermCode).
  const coding = keys.map((ks, t) =>
    ks.map((_, j) => {
      if (values[t][j].kind !== "factor") return 0;
      const margin = ks.filter((_, m) => m !== j);
      if (margin.length === 0) return 1;
      for (let u = 0; u < t; u++) if (margin.every((x) => keys[u].includes(x))) return 1;
      return 2;
    }),
  );
  if (!intercept) {
    outer: for (let t = 0; t < terms.length; t++) {
      for (let j = 0; j < keys[t].length; j++) {
        if (coding[t][j] > 0) {
          coding[t][j] = 2;
          break outer;
        }
      }
    }
  }
  const names: string[] = intercept ? ["(Intercept)"] : [];
  const levelCache = new Map<string, number[]>();
  const termCols: TermCols[] = terms.map((_, t) => {
    const tvars: TermVar[] = values[t].map((v, j) => {
      const label = keys[t][j];
      if (v.kind === "numeric") return { label, present: [], levelNames: [], values: v.values, codes: null, piece: null, names: [label], coef: null, levelIndex: null, contrast: null, indicator: false };
      let present = levelCache.get(label);
      if (!present) {
        present = presentLevels(v, rows);
        levelCache.set(label, present);
      }
      if (present.length < 2) {
        const lv = present.length ? ` ('${v.levels[present[0]]}')` : "";
        throw new DataError(`the factor '${label}' in ${where} has only ${present.length} level${lv} in the rows used; a factor needs at least 2 levels (remove it from the model, or check its column)`);
      }
      const contrast = v.contrast && v.contrast !== "contr.treatment" ? v.contrast : null;
      const levelNames = present.map((k) => v.levels[k]);
      const common = { label, present, levelNames, values: null, codes: v.codes, contrast, indicator: coding[t][j] === 2 };
      if (coding[t][j] === 1 && (contrast === "contr.sum" || contrast === "contr.helmert" || contrast === "contr.poly")) {
        if (contrast === "contr.poly" && present.length > MAX_POLY_LEVELS) {
          throw new DataError(`C(${label}, contr.poly) has ${present.length} levels; orthogonal polynomials of more than ${MAX_POLY_LEVELS - 1} degrees cannot be computed accurately (R refuses them too): use another coding, or the variable as numeric`);
        }
        const cd = contrastCoding(contrast, levelNames);
        const levelIndex = new Int32Array(v.levels.length).fill(-1);
        present.forEach((k, idx) => (levelIndex[k] = idx));
        return { ...common, piece: null, names: cd.suffixes.map((sfx) => `${label}${sfx}`), coef: cd.matrix, levelIndex };
      }
      // Indicator codings: treatment contrasts drop the first level, contr.SAS the last.
      const use = coding[t][j] !== 1 ? present : contrast === "contr.SAS" ? present.slice(0, -1) : present.slice(1);
      const piece = new Int32Array(v.levels.length).fill(-1);
      use.forEach((k, idx) => (piece[k] = idx));
      return { ...common, piece, names: use.map((k) => `${label}${v.levels[k]}`), coef: null, levelIndex: null };
    });
    const strides: number[] = [];
    let count = 1;
    for (const tv of tvars) {
      strides.push(count);
      count *= tv.names.length;
    }
    // Names: first variable fastest.
    for (let c = 0; c < count; c++) {
      names.push(tvars.map((tv, j) => tv.names[Math.floor(c / strides[j]) % tv.names.length]).join(":"));
    }
    return { vars: tvars, strides, count };
  });
  return { intercept, terms: termCols, names };
}

/** A factor's coding in its term as (present levels) x pieces (Type III tests need it), else null. */
function codingMatrix(v: TermVar): Float64Array | null {
  if (v.coef) return v.coef;
  if (!v.piece) return null;
  const k = v.present.length, m = v.names.length;
  const out = new Float64Array(k * m);
  v.present.forEach((code, l) => {
    const j = v.piece![code];
    if (j >= 0) out[l * m + j] = 1;
  });
  return out;
}

/** Rows per chunk of fillColumns: a chunk of M stays in cache while every term writes its columns. */
const FILL_CHUNK = 1024;

/**
 * Fill the row-major n x p matrix of `cols` for the used rows (M must be zero-filled). Each term
 * fills its columns with a loop of its own, chunk by chunk of rows, so M passes through memory
 * once rather than once per term.
 */
export function fillColumns(cols: Columns, rows: Int32Array, M: Float64Array, p: number): void {
  const n = rows.length;
  let off: Int32Array | null = null;
  let val: Float64Array | null = null;
  for (let from = 0; from < n; from += FILL_CHUNK) {
    const to = Math.min(n, from + FILL_CHUNK);
    let start = 0;
    if (cols.intercept) {
      fillConstant(M, from, to, p, 0);
      start = 1;
    }
    for (const tc of cols.terms) {
      const vs = tc.vars;
      if (vs.some((v) => v.coef)) fillCoded(M, p, start, tc, rows, from, to);
      else if (vs.length === 1 && vs[0].values) fillNumeric(M, from, to, p, start, vs[0].values, rows);
      else if (vs.length === 1) fillFactor(M, from, to, p, start, vs[0].codes!, vs[0].piece!, rows);
      else {
        // Each row has at most one nonzero column in a term: the product of the numeric values,
        // at the offset that the factors' pieces give. One pass per variable over the chunk.
        if (!off || !val) {
          off = new Int32Array(FILL_CHUNK);
          val = new Float64Array(FILL_CHUNK);
        }
        off.fill(0);
        val.fill(1);
        for (let j = 0; j < vs.length; j++) {
          const tv = vs[j];
          if (tv.values) multiplyBy(val, tv.values, rows, from, to);
          else addPiece(off, tv.codes!, tv.piece!, tc.strides[j], rows, from, to);
        }
        scatter(M, from, to, p, start, off, val);
      }
      start += tc.count;
    }
  }
}

/**
 * A term with a factor coded by contrasts (several nonzero columns per row): each column is the
 * product of its variables' pieces at the row (first variable fastest), one pass per column.
 */
function fillCoded(M: Float64Array, p: number, col: number, tc: TermCols, rows: Int32Array, from: number, to: number): void {
  const vs = tc.vars;
  for (let c = 0; c < tc.count; c++) {
    const pieceOf = vs.map((v, j) => Math.floor(c / tc.strides[j]) % v.names.length);
    for (let i = from; i < to; i++) {
      const r = rows[i];
      let val = 1;
      for (let j = 0; j < vs.length && val !== 0; j++) {
        const v = vs[j];
        if (v.values) val *= v.values[r];
        else if (v.coef) val *= v.coef[v.levelIndex![v.codes![r]] * v.names.length + pieceOf[j]];
        else if (v.piece![v.codes![r]] !== pieceOf[j]) val = 0;
      }
      M[i * p + col + c] = val;
    }
  }
}

function fillConstant(M: Float64Array, from: number, to: number, p: number, col: number): void {
  for (let i = from; i < to; i++) M[i * p + col] = 1;
}

function fillNumeric(M: Float64Array, from: number, to: number, p: number, col: number, x: Float64Array, rows: Int32Array): void {
  for (let i = from; i < to; i++) M[i * p + col] = x[rows[i]];
}

function fillFactor(M: Float64Array, from: number, to: number, p: number, col: number, codes: Int32Array, piece: Int32Array, rows: Int32Array): void {
  for (let i = from; i < to; i++) {
    const k = piece[codes[rows[i]]];
    if (k >= 0) M[i * p + col + k] = 1;
  }
}

/** val[i - from] *= x at row i of the chunk. */
function multiplyBy(val: Float64Array, x: Float64Array, rows: Int32Array, from: number, to: number): void {
  for (let i = from; i < to; i++) val[i - from] *= x[rows[i]];
}

function addPiece(off: Int32Array, codes: Int32Array, piece: Int32Array, stride: number, rows: Int32Array, from: number, to: number): void {
  for (let i = from; i < to; i++) {
    const k = piece[codes[rows[i]]];
    const o = off[i - from];
    off[i - from] = k < 0 || o < 0 ? -1 : o + k * stride;
  }
}

function scatter(M: Float64Array, from: number, to: number, p: number, col: number, off: Int32Array, val: Float64Array): void {
  for (let i = from; i < to; i++) {
    const o = off[i - from];
    if (o >= 0) M[i * p + col + o] = val[i - from];
  }
}

/**
 * Which columns of the row-major n x p matrix X are aliased, as R's qr() with tolerance 1e-7
 * (LINPACK dqrdc2, as lme4 uses): left to right, a column is dropped when what is left of it after
 * removing its projection on the kept columns has norm below tol times its own norm. The
 * triangular factor of X (a Givens QR over the rows, numerically stable, O(n p^2), no copy of X)
 * has the same column norms and inner products, so the test runs on that p x p matrix.
 */
export function aliasedColumns(X: Float64Array, n: number, p: number, tol = 1e-7, G: Float64Array = gramOf(X, n, p)): boolean[] {
  if (clearlyFullRank(G, p)) return new Array<boolean>(p).fill(false);
  const R = new Float64Array(p * p);
  const w = new Float64Array(p);
  for (let i = 0; i < n; i++) {
    const base = i * p;
    let nz = false;
    for (let j = 0; j < p; j++) {
      w[j] = X[base + j];
      if (w[j] !== 0) nz = true;
    }
    if (!nz) continue;
    for (let k = 0; k < p; k++) {
      const b = w[k];
      if (b === 0) continue;
      const kk = k * p + k;
      const a = R[kk];
      let r = Math.sqrt(a * a + b * b);
      if (!(r < 1e150 && r > 1e-150)) {
        // Rescale where the squares would overflow or underflow.
        const m = Math.max(Math.abs(a), Math.abs(b));
        r = m * Math.sqrt((a / m) * (a / m) + (b / m) * (b / m));
      }
      const c = a / r;
      const s = b / r;
      R[kk] = r;
      for (let j = k + 1; j < p; j++) {
        const rkj = R[k * p + j];
        const wj = w[j];
        R[k * p + j] = c * rkj + s * wj;
        w[j] = c * wj - s * rkj;
      }
      w[k] = 0;
    }
  }
  // Greedy left-to-right on the columns of R, with an orthonormal basis of the kept ones.
  const basis: Float64Array[] = [];
  const aliased: boolean[] = [];
  const v = new Float64Array(p);
  for (let j = 0; j < p; j++) {
    let norm0 = 0;
    for (let k = 0; k <= j; k++) {
      v[k] = R[k * p + j];
      norm0 += v[k] * v[k];
    }
    for (let k = j + 1; k < p; k++) v[k] = 0;
    norm0 = Math.sqrt(norm0);
    if (!(norm0 > 0)) {
      aliased.push(true);
      continue;
    }
    for (let pass = 0; pass < 2; pass++) {
      for (const q of basis) {
        let d = 0;
        for (let k = 0; k < p; k++) d += q[k] * v[k];
        for (let k = 0; k < p; k++) v[k] -= d * q[k];
      }
    }
    let norm = 0;
    for (let k = 0; k < p; k++) norm += v[k] * v[k];
    norm = Math.sqrt(norm);
    if (norm < tol * norm0) {
      aliased.push(true);
      continue;
    }
    aliased.push(false);
    const q = new Float64Array(p);
    for (let k = 0; k < p; k++) q[k] = v[k] / norm;
    basis.push(q);
  }
  return aliased;
}

/**
 * A cheap screen before the QR: Cholesky of X'X, where every column keeps more than 1% of its
 * length after the earlier ones are projected out (scaled pivot > 1e-4). The computed pivots of
 * X'X err by about p * eps relative to the diagonal, far below that margin, so such an X has no
 * aliased column at tolerance 1e-7; anything closer goes to the stable QR.
 */
function clearlyFullRank(G: Float64Array, p: number): boolean {
  const L = new Float64Array(p * p);
  for (let j = 0; j < p; j++) {
    const gjj = G[j * p + j];
    if (!(gjj > 0 && gjj < Infinity)) return false;
    for (let k = 0; k < j; k++) {
      let sum = G[j * p + k];
      for (let m = 0; m < k; m++) sum -= L[j * p + m] * L[k * p + m];
      L[j * p + k] = sum / L[k * p + k];
    }
    let d = gjj;
    for (let m = 0; m < j; m++) d -= L[j * p + m] * L[j * p + m];
    if (!(d > 1e-4 * gjj)) return false;
    L[j * p + j] = Math.sqrt(d);
  }
  return true;
}

/** X'X (lower triangle) of a row-major n x p matrix. */
function gramOf(X: Float64Array, n: number, p: number): Float64Array {
  const G = new Float64Array(p * p);
  addGram(X, p, null, n, G);
  return G;
}

/** The kept columns of a row-major n x p matrix. */
function keepColumns(X: Float64Array, n: number, p: number, keep: number[]): Float64Array {
  const q = keep.length;
  const out = new Float64Array(n * q);
  for (let i = 0; i < n; i++) {
    const src = i * p;
    const dst = i * q;
    for (let j = 0; j < q; j++) out[dst + j] = X[src + keep[j]];
  }
  return out;
}

/**
 * One factor as a grouping factor, its levels present in the used rows only. The codes are taken
 * as they are while the levels present are marked (one pass); only when some level is absent are
 * they renumbered.
 */
function singleGroupingFactor(f: FactorVariable, rows: Int32Array): { levels: string[]; refs: Int32Array } {
  const n = rows.length, codes = f.codes;
  const refs = new Int32Array(n);
  const seen = new Uint8Array(f.levels.length);
  codesAndPresence(codes, rows, refs, seen);
  const present: number[] = [];
  for (let k = 0; k < seen.length; k++) if (seen[k]) present.push(k);
  if (present.length === f.levels.length) return { levels: f.levels.slice(), refs };
  const index = new Int32Array(f.levels.length).fill(-1);
  present.forEach((k, i) => (index[k] = i));
  for (let i = 0; i < n; i++) refs[i] = index[refs[i]];
  return { levels: present.map((k) => f.levels[k]), refs };
}

/** refs[i] = codes[rows[i]], marking each code seen. */
function codesAndPresence(codes: Int32Array, rows: Int32Array, refs: Int32Array, seen: Uint8Array): void {
  for (let i = 0; i < rows.length; i++) {
    const k = codes[rows[i]];
    refs[i] = k;
    seen[k] = 1;
  }
}

/** Grouping factor of a random term: the interaction of its columns, combinations present only. */
function groupingFactor(names: string[], vars: Variables, rows: Int32Array): { levels: string[]; refs: Int32Array } {
  const n = rows.length;
  if (names.length === 1) return singleGroupingFactor(vars.group(names[0]), rows);
  const parts = names.map((nm) => {
    const f = vars.group(nm);
    const present = presentLevels(f, rows);
    const index = new Int32Array(f.levels.length).fill(-1);
    present.forEach((k, i) => (index[k] = i));
    return { f, present, index };
  });
  // R's a:b for factors: levels ordered with the first factor varying slowest; keep those present.
  const key = new Float64Array(n);
  let span = 1;
  for (const pt of parts) span *= pt.present.length;
  for (let i = 0; i < n; i++) {
    const r = rows[i];
    let k = 0;
    for (const pt of parts) k = k * pt.present.length + pt.index[pt.f.codes[r]];
    key[i] = k;
  }
  let distinct: number[];
  const refs = new Int32Array(n);
  if (span <= 4 * n + 1024) {
    const slot = new Int32Array(span).fill(-1);
    for (let i = 0; i < n; i++) slot[key[i]] = 0;
    distinct = [];
    for (let k = 0; k < span; k++) if (slot[k] === 0) {
      slot[k] = distinct.length;
      distinct.push(k);
    }
    for (let i = 0; i < n; i++) refs[i] = slot[key[i]];
  } else {
    const seen = new Map<number, number>();
    for (let i = 0; i < n; i++) if (!seen.has(key[i])) seen.set(key[i], 0);
    distinct = Array.from(seen.keys()).sort((a, b) => a - b);
    distinct.forEach((k, i) => seen.set(k, i));
    for (let i = 0; i < n; i++) refs[i] = seen.get(key[i])!;
  }
  const levels = distinct.map((k) => {
    const labs: string[] = new Array(parts.length);
    for (let j = parts.length - 1; j >= 0; j--) {
      const L = parts[j].present.length;
      labs[j] = parts[j].f.levels[parts[j].present[k % L]];
      k = Math.floor(k / L);
    }
    return labs.join(":");
  });
  return { levels, refs };
}

/**
 * The prior-weights column of `weights(w)`: numeric, finite and not negative where present
 * (blank cells drop their rows as any missing value does).
 */
function priorWeights(vars: Variables, name: string, response: Expr): { values: Float64Array } {
  const c = vars.column(name);
  if (response.kind === "var" && response.name === name) throw new DataError(`the weights column '${name}' is the response: weights say how precise each row is, in a column of their own`);
  if (c.kind !== "numeric") {
    throw new DataError(`the weights column '${name}' has text (first: '${c.levels[c.codes.find((k) => k >= 0) ?? 0]}'); weights(${name}) needs numbers: the residual variance of row i is sigma^2 / w_i`);
  }
  const x = c.values;
  for (let i = 0; i < x.length; i++) {
    const v = x[i];
    if (v !== v) continue;
    if (v < 0 || !Number.isFinite(v)) {
      throw new DataError(`the weights column '${name}' has ${v < 0 ? "a negative" : "an infinite"} weight (row ${rowNumber(i)}, ${rDouble(v)}): weights must be positive (0 leaves a row out; the residual variance of row i is sigma^2 / w_i)`);
    }
  }
  return { values: x };
}

const plural = (k: number, word: string) => `${k} ${word}${k === 1 ? "" : "s"}`;

// The passes over all rows are small functions of their own: V8 compiles a hot loop inside one
// large function by compiling the whole function, once per loop, and a large function's
// compile keeps its loop in the slow tiers for tens of milliseconds at a million rows.

function dropNaN(x: Float64Array, ok: Uint8Array): void {
  for (let i = 0; i < ok.length; i++) if (x[i] !== x[i]) ok[i] = 0;
}

function dropNegative(codes: Int32Array, ok: Uint8Array): void {
  for (let i = 0; i < ok.length; i++) if (codes[i] < 0) ok[i] = 0;
}

/** Drop rows of weight 0; returns how many of the kept rows had one. */
function dropZero(w: Float64Array, ok: Uint8Array): number {
  let k = 0;
  for (let i = 0; i < ok.length; i++) {
    if (ok[i] && w[i] === 0) {
      ok[i] = 0;
      k++;
    }
  }
  return k;
}

/** Indices of the rows kept (ok[i] = 1). */
function keptRows(ok: Uint8Array): Int32Array {
  let n = 0;
  for (let i = 0; i < ok.length; i++) n += ok[i];
  const rows = new Int32Array(n);
  for (let i = 0, k = 0; i < ok.length; i++) if (ok[i]) rows[k++] = i;
  return rows;
}

/** x at the used rows. */
function gather(x: Float64Array, rows: Int32Array): Float64Array {
  const out = new Float64Array(rows.length);
  for (let i = 0; i < rows.length; i++) out[i] = x[rows[i]];
  return out;
}

function isConstant(y: Float64Array): boolean {
  for (let i = 1; i < y.length; i++) if (y[i] !== y[0]) return false;
  return true;
}

export function buildDesign(table: DataTable, spec: ModelSpec): Design {
  return designAndGram(table, spec).design;
}

/**
 * The design and X'X (lower triangle; null when aliased columns were dropped), which the rank
 * check forms and the working basis (fixed-basis.ts) starts from: one pass over X saved.
 */
export function designAndGram(table: DataTable, spec: ModelSpec): { design: Design; xtx: Float64Array | null } {
  const vars = new Variables(table);
  const f = spec.formula;
  const nAll = table.nrow;

  // Every variable the model uses (evaluated over all rows; unknown columns fail here).
  const used: Variable[] = [];
  const response = vars.response(f.response);
  if (response.kind === "factor") throw new DataError(textMessage(response, "the response"));
  used.push(response);
  for (const t of f.fixed) for (const e of t.factors) used.push(vars.get(e));
  for (const rt of f.random) {
    for (const t of rt.terms) for (const e of t.factors) used.push(vars.get(e));
    for (const g of rt.group) used.push(vars.group(g, f.response));
  }
  const extra: string[] = [];
  if (spec.residual?.time) used.push(vars.get({ kind: "var", name: spec.residual.time }));
  if (spec.residual?.group) extra.push(...spec.residual.group.split(":"));
  if (spec.varIdent) extra.push(...spec.varIdent.split(":"));
  for (const name of extra) used.push(vars.group(name, f.response));
  const wcol = spec.weights ? priorWeights(vars, spec.weights, f.response) : null;
  if (wcol) used.push({ kind: "numeric", label: spec.weights!, values: wcol.values });

  // na.omit: drop rows with a missing value in any used variable.
  const ok = new Uint8Array(nAll).fill(1);
  const seen = new Set<Variable>();
  for (const v of used) {
    if (seen.has(v)) continue;
    seen.add(v);
    if (v.kind === "numeric") dropNaN(v.values, ok);
    else dropNegative(v.codes, ok);
  }
  // Rows of weight 0 carry no information (their residual variance is infinite): left out, as
  // lm does with zero weights (lme4 keeps them and its log-likelihood becomes -Inf).
  const nZero = wcol ? dropZero(wcol.values, ok) : 0;
  const rows = keptRows(ok);
  const n = rows.length;
  const nDropped = nAll - n;
  const messages: string[] = [];
  if (nZero > 0 && n === 0) throw new DataError(`no rows are left: every row with complete values has weight 0 in '${spec.weights}'`);
  if (n === 0) {
    throw new DataError(`no rows are left after dropping rows with missing values: each of the ${nAll} rows has a blank, NA or error cell in a column the model uses`);
  }
  if (nDropped - nZero > 0) messages.push(`dropped ${plural(nDropped - nZero, "row")} with missing values (of ${nAll})`);
  if (nZero > 0) messages.push(`left out ${plural(nZero, "row")} of weight 0 in '${spec.weights}' (a weight of 0 means an infinite residual variance: such rows carry no information)`);
  const weights = wcol ? gather(wcol.values, rows) : null;

  const y = gather(response.values, rows);
  if (isConstant(y)) throw new DataError(`the response '${response.label}' is constant (${y[0]}) in the ${plural(n, "row")} used; there is nothing to model`);

  // Fixed effects.
  const fixedCols = modelColumns(f.fixed, f.intercept, vars, rows, "the fixed effects");
  let p = fixedCols.names.length;
  if (p === 0) throw new DataError("the model has no fixed effects: keep the intercept (remove '0 +' or '- 1') or add a term");
  let X: Float64Array = new Float64Array(n * p);
  fillColumns(fixedCols, rows, X, p);
  let xtx: Float64Array | null = gramOf(X, n, p);
  const alias = aliasedColumns(X, n, p, 1e-7, xtx);
  const aliased = fixedCols.names.filter((_, j) => alias[j]);
  let xnames = fixedCols.names;
  const assignAll: number[] = f.intercept ? [0] : [];
  fixedCols.terms.forEach((tc, t) => {
    for (let c = 0; c < tc.count; c++) assignAll.push(t + 1);
  });
  let assign = Int32Array.from(assignAll);
  const fixedTerms = f.fixed.map((t, i) => ({
    label: t.label,
    vars: fixedCols.terms[i].vars.map((v) => ({ label: v.label, values: v.values, codes: v.codes, present: v.present, levelNames: v.levelNames, cmat: codingMatrix(v), contrast: v.contrast, indicator: v.indicator })),
  }));
  if (aliased.length > 0) {
    const keep: number[] = [];
    alias.forEach((a, j) => {
      if (!a) keep.push(j);
    });
    X = keepColumns(X, n, p, keep);
    xtx = null;
    xnames = keep.map((j) => fixedCols.names[j]);
    assign = Int32Array.from(keep, (j) => assignAll[j]);
    p = keep.length;
    const k = aliased.length;
    messages.push(`fixed-effect model matrix is rank deficient so dropping ${k} column${k > 1 ? "s" : ""} / coefficient${k > 1 ? "s" : ""} (${aliased.join(", ")})`);
  }
  if (n <= p) throw new DataError(`the model has ${plural(p, "fixed-effect column")} but only ${plural(n, "row")} are used; it needs more rows than fixed effects`);

  // Random effects.
  const reTerms: ReTermDesign[] = f.random.map((rt) => {
    const group = rt.group.join(":");
    const { levels, refs } = groupingFactor(rt.group, vars, rows);
    if (levels.length < 2) {
      throw new DataError(`the grouping factor '${group}' has only ${levels.length} level${levels.length === 1 ? ` ('${levels[0]}')` : "s"} in the rows used; a random effect needs at least 2 groups`);
    }
    if (levels.length >= n) {
      throw new DataError(`the grouping factor '${group}' has ${levels.length} levels for ${plural(n, "row")}: the number of levels of each grouping factor must be < number of observations (every group needs more than one row on average)`);
    }
    const zc = modelColumns(rt.terms, rt.intercept, vars, rows, `the random term (${rt.text})`);
    const q = zc.names.length;
    // ar1 with three or more levels is identified even then (its correlations at lags 1 and 2 fix
    // its variance and rho, the diagonal the residual's), as glmmTMB fits ar1(0 + factor(time) | g).
    if (levels.length * q >= n && !(rt.cov === "ar1" && q >= 3)) {
      throw new DataError(`the random term (${rt.text}) has ${levels.length * q} random effects (${levels.length} levels x ${q}) for ${plural(n, "observation")}; with at least as many random effects as observations the variances cannot be told apart from the residual (use fewer effects per group)`);
    }
    const z = new Float64Array(n * q);
    fillColumns(zc, rows, z, q);
    if (rt.cov) checkStructure(rt.cov, `${rt.cov}(${rt.text})`, z, n, q);
    // A diagonal structure on one column is the plain term.
    const cov = rt.cov && !((rt.cov === "diag" || rt.cov === "homdiag") && q === 1) ? rt.cov : undefined;
    return { group, levels, refs, effects: zc.names, z, correlated: rt.correlated, ...(cov ? { cov } : {}) };
  });

  const design: Design = { n, y, X, p, xnames, aliased, fixedTerms, assign, intercept: f.intercept, reTerms, rows, nDropped, weights, messages };
  return { design, xtx };
}


/**
 * What a random-effect covariance structure needs of its term's columns: cs, homcs and ar1 need
 * at least two effects; ar1 needs the indicator columns of one factor (every row has exactly one
 * 1, the rest 0), whose level order is the order of the AR(1) lags.
 */
function checkStructure(cov: string, text: string, z: Float64Array, n: number, q: number): void {
  if (q < 2 && (cov === "cs" || cov === "homcs" || cov === "ar1" || cov === "toep")) {
    throw new DataError(`${text} has one effect column, so there is no correlation to structure: ${cov} needs at least two (a factor with two or more levels in the rows used, e.g. ${cov}(0 + factor(time) | group))`);
  }
  if (cov !== "ar1" && cov !== "toep") return;
  for (let r = 0; r < n; r++) {
    let ones = 0;
    for (let k = 0; k < q; k++) {
      const v = z[r * q + k];
      if (v === 1) ones++;
      else if (v !== 0) ones = -1;
      if (ones < 0) break;
    }
    if (ones !== 1) {
      throw new DataError(`${text}: ${cov} needs the indicator columns of a factor (one column per level, each row in exactly one), but the term's columns are not; write ${cov}(0 + f | group) with f a factor (factor(time) for a numeric time column)`);
    }
  }
}
