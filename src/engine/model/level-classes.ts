// Levels that share one block Z_c'Z_c share one factorization per evaluation.
//
// With one random-effects term, an evaluation needs, for every level c of its factor,
//   M_c = T' A_c T + I      (q x q, A_c = Z_c'Z_c),  log|M_c|,
// and the downdate of the fixed block by L_Fc L_Fc' = A_Fc W_c A_Fc', W_c = T M_c^{-1} T'.
// W_c depends on c only through A_c. In a balanced design (every subject seen at the same
// times) A_c is the same for every level, and for a random intercept A_c is just the group's
// size; levels with equal A_c form a class, and the downdate of a class is
//   sum_ab W_ab G_ab,   G_ab = sum_{c in class} A_Fc[:, a] A_Fc[:, b]',
// where the G are summed once when A is formed. An evaluation then costs O(classes) instead of
// O(levels), and the result is the same quantity as the level-by-level factor's, added up in a
// different order. The per-level blocks of L are not formed here; BlockedModel.factor does that
// when they are needed (solutions, BLUPs, inference).
import { cholLower } from "../linalg/dense";

export interface LevelClasses {
  readonly count: number;
  readonly q: number;
  readonly pp: number;
  /** Number of levels in each class. */
  readonly size: Float64Array;
  /** Each class's A_c (count x q x q, row-major). */
  readonly A: Float64Array;
  /** Each class's G, for pairs a >= b (a > b holding G_ab + G_ba) and then f >= g. */
  readonly G: Float64Array;
}

/** Largest G we keep (doubles); beyond it the level-by-level factor is used. */
const MAX_G = 1 << 22;

const bits = new Float64Array(1);
const words = new Int32Array(bits.buffer);

/** Groups the levels by their A_c; null when classes would not save work (over half the levels). */
export function levelClasses(A: Float64Array, AF: Float64Array, ell: number, q: number, pp: number): LevelClasses | null {
  const qq = q * q, nab = (q * (q + 1)) / 2, nfg = (pp * (pp + 1)) / 2;
  const maxClasses = Math.min(Math.floor(ell / 2), Math.floor(MAX_G / (nab * nfg)));
  const classOf = new Int32Array(ell);
  const rep: number[] = [];
  const next: number[] = [];
  const head = new Map<number, number>();
  for (let c = 0; c < ell; c++) {
    const o = c * qq;
    let h = 0;
    for (let a = 0; a < qq; a++) {
      bits[0] = A[o + a];
      h = Math.imul(h ^ words[0], 0x9e3779b1) ^ Math.imul(words[1], 0x85ebca6b);
    }
    let k = head.get(h) ?? -1;
    while (k >= 0 && !sameBlock(A, rep[k] * qq, o, qq)) k = next[k];
    if (k < 0) {
      // Give up as soon as most levels seen so far are new classes (unbalanced data).
      if (rep.length >= maxClasses || (rep.length >= 64 && 2 * rep.length > c)) return null;
      k = rep.length;
      rep.push(c);
      next.push(head.get(h) ?? -1);
      head.set(h, k);
    }
    classOf[c] = k;
  }
  const count = rep.length;
  const size = new Float64Array(count);
  const Acl = new Float64Array(count * qq);
  rep.forEach((c, k) => Acl.set(A.subarray(c * qq, (c + 1) * qq), k * qq));
  const G = new Float64Array(count * nab * nfg);
  const fq = pp * q;
  for (let c = 0; c < ell; c++) {
    const k = classOf[c];
    size[k]++;
    const o = c * fq;
    let gi = k * nab * nfg;
    for (let a = 0; a < q; a++) {
      for (let b = 0; b <= a; b++) {
        for (let f = 0; f < pp; f++) {
          const fa = AF[o + f * q + a], fb = AF[o + f * q + b];
          for (let g = 0; g <= f; g++) {
            const v = fa * AF[o + g * q + b];
            G[gi++] += a === b ? v : v + fb * AF[o + g * q + a];
          }
        }
      }
    }
  }
  return { count, q, pp, size, A: Acl, G };
}

function sameBlock(A: Float64Array, o1: number, o2: number, len: number): boolean {
  for (let i = 0; i < len; i++) if (A[o1 + i] !== A[o2 + i]) return false;
  return true;
}

/**
 * For the template T (q x q lower triangular): LFF <- AFF - sum over classes of the downdates.
 * Returns sum_c log|L_c| over all levels (half of log|L_theta|^2), or NaN when an M_c is not
 * positive definite. `scratch` needs 3 q^2 doubles.
 */
export function downdateByClass(cls: LevelClasses, T: Float64Array, AFF: Float64Array, LFF: Float64Array, scratch: Float64Array): number {
  const { count, q, pp, size, A, G } = cls;
  const qq = q * q, nab = (q * (q + 1)) / 2, nfg = (pp * (pp + 1)) / 2;
  // Scratch by offsets (no views made per evaluation): M at 0, V at qq, the weights w at 2 qq.
  const M = scratch, V = qq, W = 2 * qq;
  LFF.set(AFF);
  let ld = 0;
  for (let k = 0; k < count; k++) {
    const o = k * qq;
    // M = T' A T + I (lower triangle), then its Cholesky factor in place.
    for (let a = 0; a < q; a++) {
      for (let b = 0; b <= a; b++) {
        let s = a === b ? 1 : 0;
        for (let e = a; e < q; e++) for (let d = b; d < q; d++) s += T[e * q + a] * A[o + e * q + d] * T[d * q + b];
        M[a * q + b] = s;
      }
    }
    if (!cholLower(M, q)) return NaN;
    let lk = 0;
    for (let a = 0; a < q; a++) lk += Math.log(M[a * q + a]);
    ld += size[k] * lk;
    // V = T L_M^{-T} row by row, so that W = T M^{-1} T' = V V'.
    for (let a = 0; a < q; a++) {
      for (let b = 0; b < q; b++) {
        let s = T[a * q + b];
        for (let e = 0; e < b; e++) s -= scratch[V + a * q + e] * M[b * q + e];
        scratch[V + a * q + b] = s / M[b * q + b];
      }
    }
    let x = W;
    for (let a = 0; a < q; a++) {
      for (let b = 0; b <= a; b++) {
        let s = 0;
        for (let e = 0; e < q; e++) s += scratch[V + a * q + e] * scratch[V + b * q + e];
        scratch[x++] = s;
      }
    }
    const base = k * nab * nfg;
    let fg = 0;
    for (let f = 0; f < pp; f++) {
      for (let g = 0; g <= f; g++, fg++) {
        let s = 0;
        for (let ab = 0; ab < nab; ab++) s += scratch[W + ab] * G[base + ab * nfg + fg];
        LFF[f * pp + g] -= s;
      }
    }
  }
  return ld;
}
