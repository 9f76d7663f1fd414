// The hypothesis (contrast) matrices of the F tests of fixed-effect terms, defined as lmerTest
// defines them (R/anova_contrasts.R; method described in Kuznetsova, Brockhoff & Christensen 2017):
//   Type I  (sequential): the rows of the Cholesky factor R of X'X (X'X = R'R) that belong to the
//           term: each term adjusted for the terms before it.
//   Type II: a term that no other term contains is tested by its own coefficients; otherwise by
//           the Cholesky rows of X'X with the columns ordered (other terms, the term, the terms
//           that contain it): adjusted for everything except the terms that contain it.
//   Type III: contrast-coding invariant (agrees with SAS PROC MIXED Type 3). The over-parameterized
//           design D (every factor coded by indicators of all its levels) is projected on X:
//           L0 = D' X (X'X)^{-1}; from the highest-order term down, the columns of L0 that belong to
//           a term are made orthogonal (over the rows of L0) to those of the terms that contain
//           it; the hypothesis rows of a term are then read off the rows of L0 that are X's own
//           columns (by name).
// "Contains": term B contains term A when B has every variable of A and more, and the same
// numeric variables (so time:treat contains time but not treat).
// All of this needs X'X and X'D only (one pass over the rows), never anything n x n.
import type { Design } from "../types";
import { addGram } from "../linalg/gram";
import { cholLower, invFromChol } from "../linalg/dense";
import { DataError } from "../errors";

export type AnovaType = 1 | 2 | 3;

/** A term's hypothesis: L (rows x p, row-major) with L beta = 0 under the null. */
export interface TermContrast {
  term: string;
  rows: number;
  L: Float64Array;
}

/** Columns of X that belong to each fixed term (R's assign), in term order. */
export function termColumns(design: Design): number[][] {
  const cols: number[][] = design.fixedTerms.map(() => []);
  design.assign.forEach((a, j) => {
    if (a > 0) cols[a - 1].push(j);
  });
  return cols;
}

/** For each term, the indices of the terms that contain it (lmerTest's `containment`). */
export function containingTerms(design: Design): number[][] {
  const terms = design.fixedTerms;
  const vars = terms.map((t) => t.vars.map((v) => v.label));
  const nums = terms.map((t) => t.vars.filter((v) => v.values !== null).map((v) => v.label).sort().join("\u0000"));
  return terms.map((_, a) =>
    terms.flatMap((_, b) => {
      if (a === b) return [];
      const within = vars[a].every((v) => vars[b].includes(v));
      const more = vars[b].some((v) => !vars[a].includes(v));
      return within && more && nums[a] === nums[b] ? [b] : [];
    }),
  );
}

/** Upper Cholesky factor R (row-major p x p) of the Gram matrix of X's columns in `order`. */
function cholUpper(design: Design, order: number[]): Float64Array {
  const { n, p, X } = design;
  const G = gramOf(X, n, p);
  const m = order.length;
  const A = new Float64Array(m * m);
  for (let i = 0; i < m; i++) for (let j = 0; j <= i; j++) A[i * m + j] = sym(G, p, order[i], order[j]);
  if (!cholLower(A, m)) throw new DataError("the fixed-effect columns are linearly dependent, so the terms cannot be tested (remove a redundant term)");
  const R = new Float64Array(m * m);
  for (let i = 0; i < m; i++) for (let j = 0; j <= i; j++) R[j * m + i] = A[i * m + j];
  return R;
}

function gramOf(X: Float64Array, n: number, p: number): Float64Array {
  const G = new Float64Array(p * p);
  addGram(X, p, null, n, G);
  return G;
}

const sym = (G: Float64Array, p: number, i: number, j: number): number => (i >= j ? G[i * p + j] : G[j * p + i]);

/**
 * Rows `pos` of R (columns in `order`) scaled to a unit diagonal, put back into X's column order.
 * The scaling is that of lmerTest's Doolittle factor (X'X = L U, rows of L' = rows of R / R_ii),
 * entries below 1e-6 in size set to 0 as it does: the multi-df Satterthwaite df depend on the
 * rows chosen for a hypothesis, not only on the hypothesis, so the rows must be lmerTest's.
 */
function rowsBack(R: Float64Array, order: number[], pos: number[], p: number): Float64Array {
  const m = order.length;
  const L = new Float64Array(pos.length * p);
  pos.forEach((r, i) => {
    const d = R[r * m + r];
    for (let c = 0; c < m; c++) {
      const v = R[r * m + c] / d;
      L[i * p + order[c]] = Math.abs(v) < 1e-6 ? 0 : v;
    }
  });
  return L;
}

function type1(design: Design, cols: number[][]): TermContrast[] {
  const p = design.p;
  const order = Array.from({ length: p }, (_, j) => j);
  const R = cholUpper(design, order);
  return design.fixedTerms.map((t, i) => ({ term: t.label, rows: cols[i].length, L: rowsBack(R, order, cols[i], p) }));
}

function type2(design: Design, cols: number[][]): TermContrast[] {
  const p = design.p;
  const contains = containingTerms(design);
  return design.fixedTerms.map((t, i) => {
    const own = cols[i];
    if (contains[i].length === 0) {
      const L = new Float64Array(own.length * p);
      own.forEach((c, r) => (L[r * p + c] = 1));
      return { term: t.label, rows: own.length, L };
    }
    const last = [...own, ...contains[i].flatMap((b) => cols[b])];
    const first = Array.from({ length: p }, (_, j) => j).filter((j) => !last.includes(j));
    const order = [...first, ...last];
    const R = cholUpper(design, order);
    const pos = own.map((_, k) => first.length + k);
    return { term: t.label, rows: own.length, L: rowsBack(R, order, pos, p) };
  });
}

/** R's zapsmall(x, digits = 7): round to 7 significant digits of the largest |x|. */
function zapsmall(x: Float64Array): void {
  let mx = 0;
  for (const v of x) if (Math.abs(v) > mx) mx = Math.abs(v);
  if (!(mx > 0)) return;
  const digits = Math.max(0, 7 - Math.ceil(Math.log10(mx)));
  const s = Math.pow(10, digits);
  for (let i = 0; i < x.length; i++) x[i] = Math.round(x[i] * s) / s;
}

/** Over-parameterized column layout of one term: every factor by all its present levels. */
interface FullTerm {
  names: string[];
  strides: number[];
  count: number;
}

function fullTerms(design: Design): FullTerm[] {
  return design.fixedTerms.map((t) => {
    const strides: number[] = [];
    let count = 1;
    for (const v of t.vars) {
      strides.push(count);
      count *= v.codes ? v.present.length : 1;
    }
    const names: string[] = [];
    for (let c = 0; c < count; c++) {
      names.push(t.vars.map((v, j) => (v.codes ? `${v.label}${v.levelNames[Math.floor(c / strides[j]) % v.present.length]}` : v.label)).join(":"));
    }
    return { names, strides, count };
  });
}

function type3(design: Design, cols: number[][], notes: string[]): TermContrast[] {
  if (design.fixedTerms.some((t) => t.vars.some((v) => v.contrast))) return type3Coded(design, cols, notes);
  const { n, p, X, rows } = design;
  const terms = design.fixedTerms;
  const full = fullTerms(design);
  const offsets: number[] = [];
  let P = design.intercept ? 1 : 0;
  for (const f of full) {
    offsets.push(P);
    P += f.count;
  }
  // Level code -> index among the present levels, per factor variable.
  const index = terms.map((t) => t.vars.map((v) => {
    if (!v.codes) return null;
    const ix = new Int32Array(Math.max(0, ...v.present) + 1).fill(-1);
    v.present.forEach((k, i) => (ix[k] = i));
    return ix;
  }));
  // X'D (p x P): one pass over the rows; each term has at most one nonzero column per row.
  const XtD = new Float64Array(p * P);
  const seen = new Uint8Array(P);
  if (design.intercept) seen[0] = 1;
  for (let i = 0; i < n; i++) {
    const r = rows[i], xo = i * p;
    if (design.intercept) for (let a = 0; a < p; a++) XtD[a * P] += X[xo + a];
    for (let t = 0; t < terms.length; t++) {
      let off = 0, val = 1;
      const vs = terms[t].vars;
      for (let j = 0; j < vs.length; j++) {
        const v = vs[j];
        if (v.values) val *= v.values[r];
        else off += index[t][j]![v.codes![r]] * full[t].strides[j];
      }
      if (val === 0) continue;
      const c = offsets[t] + off;
      seen[c] = 1;
      for (let a = 0; a < p; a++) XtD[a * P + c] += X[xo + a] * val;
    }
  }
  const missing = full.flatMap((f, t) => f.names.filter((_, c) => !seen[offsets[t] + c]));
  if (missing.length > 0) notes.push(`missing cells for: ${missing.join(", ")}; interpret Type III hypotheses with care (as lmerTest)`);
  // L0 (P x p) = D'X (X'X)^{-1}.
  const G = gramOf(X, n, p);
  const Lc = new Float64Array(p * p);
  for (let i = 0; i < p; i++) for (let j = 0; j <= i; j++) Lc[i * p + j] = G[i * p + j];
  if (!cholLower(Lc, p)) throw new DataError("the fixed-effect columns are linearly dependent, so the terms cannot be tested (remove a redundant term)");
  const Ginv = invFromChol(Lc, p);
  const L0 = new Float64Array(P * p);
  for (let c = 0; c < P; c++) {
    for (let j = 0; j < p; j++) {
      let s = 0;
      for (let a = 0; a < p; a++) s += XtD[a * P + c] * Ginv[a * p + j];
      L0[c * p + j] = s;
    }
  }
  zapsmall(L0);
  projectOutContaining(L0, P, p, design, terms, cols);
  // The rows of L0 that are X's columns, by name.
  const rowOf = new Map<string, number>();
  if (design.intercept) rowOf.set("(Intercept)", 0);
  full.forEach((f, t) => f.names.forEach((nm, c) => rowOf.set(nm, offsets[t] + c)));
  const xrow = design.xnames.map((nm) => {
    const r = rowOf.get(nm);
    if (r === undefined) throw new Error(`internal: X column ${nm} has no over-parameterized column`);
    return r;
  });
  return terms.map((t, i) => {
    const out: number[][] = [];
    for (const c of cols[i]) {
      const row = xrow.map((r) => L0[r * p + c]);
      if (row.reduce((s, v) => s + Math.abs(v), 0) > 1e-8) out.push(row);
    }
    return { term: t.label, rows: out.length, L: Float64Array.from(out.flat()) };
  });
}

/**
 * From the highest-order term down: a term's columns of L0 (P x p) minus their projection on the
 * columns of the terms that contain it (least squares over the P rows, as lm.fit's residuals),
 * in place. The step both Type III constructions share.
 */
function projectOutContaining(L0: Float64Array, P: number, p: number, design: Design, terms: Design["fixedTerms"], cols: number[][]): void {
  const contains = containingTerms(design);
  const order = terms.map((_, t) => t).sort((a, b) => terms[b].vars.length - terms[a].vars.length || a - b);
  for (const t of order) {
    if (contains[t].length === 0) continue;
    const basis = orthonormalBasis(L0, P, p, contains[t].flatMap((b) => cols[b]));
    const block = new Float64Array(P * cols[t].length);
    cols[t].forEach((j, k) => {
      const y = new Float64Array(P);
      for (let r = 0; r < P; r++) y[r] = L0[r * p + j];
      for (const q of basis) {
        let d = 0;
        for (let r = 0; r < P; r++) d += q[r] * y[r];
        for (let r = 0; r < P; r++) y[r] -= d * q[r];
      }
      for (let r = 0; r < P; r++) block[r * cols[t].length + k] = y[r];
    });
    zapsmall(block);
    cols[t].forEach((j, k) => {
      for (let r = 0; r < P; r++) L0[r * p + j] = block[r * cols[t].length + k];
    });
  }
}

/**
 * An orthonormal basis (over P rows) of the columns `cols` of the row-major P x p matrix M:
 * Gram-Schmidt twice; a column whose remainder is below 1e-7 of its length adds nothing (the
 * tolerance of R's qr, which lm.fit uses).
 */
function orthonormalBasis(M: Float64Array, P: number, p: number, cols: number[]): Float64Array[] {
  const basis: Float64Array[] = [];
  for (const j of cols) {
    const v = new Float64Array(P);
    let n0 = 0;
    for (let r = 0; r < P; r++) {
      v[r] = M[r * p + j];
      n0 += v[r] * v[r];
    }
    n0 = Math.sqrt(n0);
    if (!(n0 > 0)) continue;
    for (let pass = 0; pass < 2; pass++) {
      for (const q of basis) {
        let d = 0;
        for (let r = 0; r < P; r++) d += q[r] * v[r];
        for (let r = 0; r < P; r++) v[r] -= d * q[r];
      }
    }
    let nv = 0;
    for (let r = 0; r < P; r++) nv += v[r] * v[r];
    nv = Math.sqrt(nv);
    if (nv < 1e-7 * n0) continue;
    for (let r = 0; r < P; r++) v[r] /= nv;
    basis.push(v);
  }
  return basis;
}

/** The hypothesis matrix of every fixed term for the given type (lmerTest's get_contrasts_*). */
export function termContrasts(design: Design, type: AnovaType, notes: string[] = []): TermContrast[] {
  const cols = termColumns(design);
  if (design.fixedTerms.length === 0) return [];
  // As lmerTest: with one term or one column every type is Type I.
  if (design.p <= 1 || design.fixedTerms.length <= 1 || type === 1) return type1(design, cols);
  return type === 2 ? type2(design, cols) : type3(design, cols, notes);
}

/**
 * Type III with factors coded by other contrasts (C(f, contr.sum)), as lmerTest does it: the
 * hypotheses are made for the same model in treatment coding, X_t, and mapped to the coding used,
 * L = L_t M with X = X_t M. Every coding is a linear map of the over-parameterized design D
 * (X = D K, X_t = D K_t, K from each factor's coding matrix), so all of it comes from D'D (one
 * pass over the rows): L0 = D'D K_t (K_t' D'D K_t)^{-1}, orthogonalized as in type3(), and the
 * hypothesis of L0's column c is L0[, c]' K (L0's columns lie in the row space of D, where K_t M
 * and K agree).
 */
function type3Coded(design: Design, cols: number[][], notes: string[]): TermContrast[] {
  const { n, p, rows } = design;
  const terms = design.fixedTerms;
  const full = fullTerms(design);
  const offsets: number[] = [];
  let P = design.intercept ? 1 : 0;
  for (const f of full) {
    offsets.push(P);
    P += f.count;
  }
  const index = terms.map((t) => t.vars.map((v) => {
    if (!v.codes) return null;
    const ix = new Int32Array(Math.max(0, ...v.present) + 1).fill(-1);
    v.present.forEach((k, i) => (ix[k] = i));
    return ix;
  }));
  // D'D (P x P): each term has at most one nonzero D column per row.
  const DtD = new Float64Array(P * P);
  const seen = new Uint8Array(P);
  if (design.intercept) seen[0] = 1;
  const ci: number[] = [], cv: number[] = [];
  for (let i = 0; i < n; i++) {
    const r = rows[i];
    ci.length = 0;
    cv.length = 0;
    if (design.intercept) {
      ci.push(0);
      cv.push(1);
    }
    for (let t = 0; t < terms.length; t++) {
      let off = 0, val = 1;
      const vs = terms[t].vars;
      for (let j = 0; j < vs.length; j++) {
        const v = vs[j];
        if (v.values) val *= v.values[r];
        else off += index[t][j]![v.codes![r]] * full[t].strides[j];
      }
      if (val === 0) continue;
      ci.push(offsets[t] + off);
      cv.push(val);
      seen[offsets[t] + off] = 1;
    }
    for (let a = 0; a < ci.length; a++) for (let b = 0; b < ci.length; b++) DtD[ci[a] * P + ci[b]] += cv[a] * cv[b];
  }
  const missing = full.flatMap((f, t) => f.names.filter((_, c) => !seen[offsets[t] + c]));
  if (missing.length > 0) notes.push(`missing cells for: ${missing.join(", ")}; interpret Type III hypotheses with care (as lmerTest)`);
  // K and K_t (P x p): the D expansion of each X column, in the coding used and in treatment coding.
  const K = new Float64Array(P * p), Kt = new Float64Array(P * p);
  const where = new Map<string, { t: number; c: number }>();
  terms.forEach((t, ti) => {
    const m = t.vars.map((v) => (v.cmat ? v.cmat.length / v.present.length : 1));
    const strides: number[] = [];
    let count = 1;
    for (const mj of m) {
      strides.push(count);
      count *= mj;
    }
    for (let c = 0; c < count; c++) {
      const name = t.vars.map((v, j) => {
        if (!v.cmat) return v.label;
        const pc = Math.floor(c / strides[j]) % m[j];
        return `${v.label}${columnSuffix(v, pc)}`;
      }).join(":");
      where.set(name, { t: ti, c });
    }
  });
  design.xnames.forEach((nm, j) => {
    if (nm === "(Intercept)" && design.intercept) {
      K[j] = Kt[j] = 1;
      return;
    }
    const at = where.get(nm);
    if (!at) throw new Error(`internal: X column ${nm} not found among its term's columns`);
    const t = terms[at.t], f = full[at.t];
    const m = t.vars.map((v) => (v.cmat ? v.cmat.length / v.present.length : 1));
    const pieces: number[] = [];
    let stride = 1;
    for (let v = 0; v < m.length; v++) {
      pieces.push(Math.floor(at.c / stride) % m[v]);
      stride *= m[v];
    }
    for (let d = 0; d < f.count; d++) {
      let val = 1, valT = 1;
      t.vars.forEach((v, vj) => {
        if (!v.cmat) return;
        const l = Math.floor(d / f.strides[vj]) % v.present.length;
        val *= v.cmat[l * m[vj] + pieces[vj]];
        valT *= treatmentCoef(v, l, pieces[vj]);
      });
      K[(offsets[at.t] + d) * p + j] = val;
      Kt[(offsets[at.t] + d) * p + j] = valT;
    }
  });
  // G_t = K_t' D'D K_t and DK = D'D K_t.
  const DK = new Float64Array(P * p);
  for (let a = 0; a < P; a++) for (let b = 0; b < P; b++) {
    const g = DtD[a * P + b];
    if (g === 0) continue;
    for (let j = 0; j < p; j++) DK[a * p + j] += g * Kt[b * p + j];
  }
  const Lc = new Float64Array(p * p);
  for (let i = 0; i < p; i++) for (let j = 0; j <= i; j++) {
    let sum = 0;
    for (let a = 0; a < P; a++) sum += Kt[a * p + i] * DK[a * p + j];
    Lc[i * p + j] = sum;
  }
  if (!cholLower(Lc, p)) throw new DataError("the Type III tests need the model in treatment coding, whose columns are linearly dependent here (columns were dropped): use treatment contrasts, or remove a redundant term");
  const Ginv = invFromChol(Lc, p);
  const L0 = new Float64Array(P * p);
  for (let c = 0; c < P; c++) {
    for (let j = 0; j < p; j++) {
      let sum = 0;
      for (let a = 0; a < p; a++) sum += DK[c * p + a] * Ginv[a * p + j];
      L0[c * p + j] = sum;
    }
  }
  zapsmall(L0);
  projectOutContaining(L0, P, p, design, terms, cols);
  return terms.map((t, i) => {
    const out: number[][] = [];
    for (const c of cols[i]) {
      // The hypothesis in treatment coding (its rows as lmerTest keeps them), then in the coding used.
      let size = 0;
      for (let j = 0; j < p; j++) {
        let v = 0;
        for (let a = 0; a < P; a++) v += Kt[a * p + j] * L0[a * p + c];
        size += Math.abs(v);
      }
      if (!(size > 1e-8)) continue;
      const row = new Array<number>(p).fill(0);
      for (let j = 0; j < p; j++) {
        let v = 0;
        for (let a = 0; a < P; a++) v += K[a * p + j] * L0[a * p + c];
        row[j] = v;
      }
      out.push(row);
    }
    return { term: t.label, rows: out.length, L: Float64Array.from(out.flat()) };
  });
}

/** The name suffix of a factor's column `pc` in its term (as design.ts names it). */
function columnSuffix(v: Design["fixedTerms"][number]["vars"][number], pc: number): string {
  const m = v.cmat!.length / v.present.length;
  if (v.contrast === "contr.sum" || v.contrast === "contr.helmert") return v.indicator ? v.levelNames[pc] : String(pc + 1);
  if (v.contrast === "contr.poly") return v.indicator ? v.levelNames[pc] : pc < 3 ? [".L", ".Q", ".C"][pc] : `^${pc + 1}`;
  if (v.indicator || m === v.present.length) return v.levelNames[pc];
  return v.contrast === "contr.SAS" ? v.levelNames[pc] : v.levelNames[pc + 1];
}

/** Treatment coding of present level l, piece pc (indicators when the term codes all levels). */
function treatmentCoef(v: Design["fixedTerms"][number]["vars"][number], l: number, pc: number): number {
  if (v.indicator) return l === pc ? 1 : 0;
  return l === pc + 1 ? 1 : 0;
}
