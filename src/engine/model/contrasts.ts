// Contrast codings of a factor, as R's contr.* functions define them (?contrasts), for
// `C(f, contr.sum)` in a spec. A coding is a k x (k-1) matrix whose row l gives the values of
// the factor's columns at level l; model.matrix then names the columns as R does:
//   contr.treatment  level l -> indicator of levels 2..k          names: the level names
//   contr.SAS        indicator of levels 1..k-1 (last is the reference)  names: the level names
//   contr.sum        levels 1..k-1 -> unit vectors, level k -> all -1   names: 1, 2, ..., k-1
//   contr.helmert    column j: -1 on levels 1..j, j on level j+1, 0 after   names: 1, ..., k-1
//   contr.poly       orthonormal polynomials in the scores 1..k          names: .L .Q .C ^4 ^5 ...
// Only the levels present in the rows used count (k is their number), as in R's model frame.
import type { ContrastName } from "../types";

export const CONTRASTS: ContrastName[] = ["contr.treatment", "contr.sum", "contr.helmert", "contr.poly", "contr.SAS"];

/** The names R's C() also accepts for them (C(f, sum)). */
const SHORT: Record<string, ContrastName> = { treatment: "contr.treatment", sum: "contr.sum", helmert: "contr.helmert", poly: "contr.poly", SAS: "contr.SAS" };

/** The canonical name of a contrast as written in a spec, or null if unknown. */
export function contrastName(text: string): ContrastName | null {
  if ((CONTRASTS as string[]).includes(text)) return text as ContrastName;
  return SHORT[text] ?? null;
}

/** R's contr.poly refuses more levels than this (the polynomials lose accuracy beyond it). */
export const MAX_POLY_LEVELS = 95;

export interface Coding {
  /** Row-major k x m: the columns' values at each level. */
  matrix: Float64Array;
  m: number;
  /** Suffixes of the column names (appended to the factor's label). */
  suffixes: string[];
}

/**
 * The coding of a factor with these (present) levels by contrasts. contr.treatment and contr.SAS
 * are indicator codings and are handled by design.ts's faster path; they are given here too.
 */
export function contrastCoding(name: ContrastName, levels: string[]): Coding {
  const k = levels.length;
  const m = k - 1;
  const M = new Float64Array(k * m);
  switch (name) {
    case "contr.treatment":
      for (let l = 1; l < k; l++) M[l * m + l - 1] = 1;
      return { matrix: M, m, suffixes: levels.slice(1) };
    case "contr.SAS":
      for (let l = 0; l < m; l++) M[l * m + l] = 1;
      return { matrix: M, m, suffixes: levels.slice(0, m) };
    case "contr.sum":
      for (let l = 0; l < m; l++) M[l * m + l] = 1;
      for (let j = 0; j < m; j++) M[m * m + j] = -1;
      return { matrix: M, m, suffixes: numbered(m) };
    case "contr.helmert":
      for (let j = 0; j < m; j++) {
        for (let l = 0; l <= j; l++) M[l * m + j] = -1;
        M[(j + 1) * m + j] = j + 1;
      }
      return { matrix: M, m, suffixes: numbered(m) };
    case "contr.poly":
      return { matrix: polyMatrix(k), m, suffixes: polyNames(m) };
  }
}

const numbered = (m: number): string[] => Array.from({ length: m }, (_, j) => String(j + 1));

/** R's names: .L .Q .C then ^4, ^5, ... */
function polyNames(m: number): string[] {
  return Array.from({ length: m }, (_, j) => (j < 3 ? [".L", ".Q", ".C"][j] : `^${j + 1}`));
}

/**
 * Orthonormal polynomials of degrees 1..k-1 on the scores 1..k (k x (k-1), row-major): x^d made
 * orthogonal to the lower degrees (Gram-Schmidt on the centred scores, twice for accuracy), each
 * scaled to unit length, the leading coefficient positive, as R's contr.poly (its QR of the
 * Vandermonde matrix gives the same columns).
 */
function polyMatrix(k: number): Float64Array {
  const m = k - 1;
  const mean = (k + 1) / 2;
  const basis: Float64Array[] = [new Float64Array(k).fill(1 / Math.sqrt(k))];
  // Three-term recurrence on the centred scores keeps the columns well conditioned: p_{d+1} is
  // x p_d made orthogonal to every earlier column.
  const x = Float64Array.from({ length: k }, (_, l) => l + 1 - mean);
  const M = new Float64Array(k * m);
  for (let d = 1; d <= m; d++) {
    const prev = basis[d - 1];
    const v = Float64Array.from(prev, (pv, l) => pv * x[l]);
    for (let pass = 0; pass < 2; pass++) {
      for (const q of basis) {
        let dot = 0;
        for (let l = 0; l < k; l++) dot += q[l] * v[l];
        for (let l = 0; l < k; l++) v[l] -= dot * q[l];
      }
    }
    let norm = 0;
    for (let l = 0; l < k; l++) norm += v[l] * v[l];
    norm = Math.sqrt(norm);
    // The sign: increasing at the top level (R's columns have a positive leading coefficient,
    // i.e. the last entry of each column is positive).
    const s = v[k - 1] < 0 ? -1 : 1;
    for (let l = 0; l < k; l++) v[l] = (s * v[l]) / norm;
    basis.push(v);
    for (let l = 0; l < k; l++) M[l * m + d - 1] = v[l];
  }
  return M;
}
