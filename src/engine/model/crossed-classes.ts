// Crossed random intercepts (students x lecturers, subjects x items): the largest factor is a
// scalar term eliminated first as a diagonal, the other scalar terms share the dense block D.
// Everything the first factor sends below its diagonal is a product over its levels c weighted
// by w_c = t^2 / (1 + t^2 a_c), with a_c = Z_c'Z_c (the level's count for an intercept) and t its
// template value:
//   L_Dj L_Dj'[r, s] = t_r t_s sum_c w_c A_Dc[r] A_Dc[s]
//   L_Fj L_Dj'[., r] = t_r     sum_c w_c A_Fc   A_Dc[r]
//   L_Fj L_Fj'       =         sum_c w_c A_Fc   A_Fc'
// w_c depends on c only through a_c, and levels with equal a_c form a class (a student's number
// of ratings: a few dozen classes for thousands of levels). Summing the products within each
// class once, when A is formed, leaves each evaluation a weighted sum over classes: the dense
// block's update becomes one streaming pass over precomputed (row, column, class, value) entries
// in row order, and the fixed rows cost classes x QD x pp instead of a pass over every level.
// The quantities are the level-by-level factor's (the same sums in another order); the chain's
// own blocks of L are not formed, BlockedModel.factor does that when they are needed.

export interface CrossedClasses {
  readonly count: number;
  readonly pp: number;
  readonly QD: number;
  /** a_c of each class, and its number of levels. */
  readonly a: Float64Array;
  readonly size: Float64Array;
  /** Per class, sum A_Fc A_Fc' (pp x pp lower triangle, packed by rows). */
  readonly GF: Float64Array;
  /** Per class, sum A_Fc A_Dc[r] (QD x pp, row r contiguous). */
  readonly H: Float64Array;
  /**
   * The dense block by (row r, column s <= r) pairs where A_DD or the first factor's part is
   * nonzero, columns ascending within a row: row r's pairs are rowPair[r]..rowPair[r+1]-1, pair
   * x at column pairCol[x] with A_DD's value pairA[x], and its class sums
   * sum_{c in k} A_Dc[r] A_Dc[s] at pairEnt[x]..pairEnt[x+1]-1 (class cls[e], value val[e]).
   * Each evaluation then writes each cell of L_DD once, from a sum held in a register.
   */
  readonly rowPair: Int32Array;
  readonly pairCol: Int32Array;
  readonly pairA: Float64Array;
  readonly pairEnt: Int32Array;
  readonly cls: Int32Array;
  readonly val: Float64Array;
}

/** Largest precomputed H and entry lists (doubles); beyond it the level-by-level path is used. */
const MAX_WORK = 1 << 23;

/**
 * Classes of the first (chain) factor's levels by a_c, with the products above. `pat` lists each
 * level's D rows (ascending), `byRow` the same entries by D row with their levels. Null when the
 * classes would not save work or memory would be large.
 */
export function crossedClasses(
  a: Float64Array, AF: Float64Array, AD: Float64Array, ADD: Float64Array, ell: number, pp: number, QD: number,
  pat: { ptr: Int32Array; idx: Int32Array },
  byRow: { ptr: Int32Array; idx: Int32Array; lev: Int32Array },
): CrossedClasses | null {
  const classOf = new Int32Array(ell);
  const index = new Map<number, number>();
  const values: number[] = [];
  for (let c = 0; c < ell; c++) {
    let k = index.get(a[c]);
    if (k === undefined) {
      k = values.length;
      if (k >= 64 && 2 * k > c) return null;
      index.set(a[c], k);
      values.push(a[c]);
    }
    classOf[c] = k;
  }
  const count = values.length;
  let entries = 0;
  for (let r = 0; r < QD; r++) {
    for (let x = byRow.ptr[r]; x < byRow.ptr[r + 1]; x++) entries += byRow.idx[x] - pat.ptr[byRow.lev[x]] + 1;
  }
  if (count * QD * pp > MAX_WORK || entries > MAX_WORK || 2 * count > ell) return null;
  const nfg = (pp * (pp + 1)) / 2;
  const size = new Float64Array(count), GF = new Float64Array(count * nfg), H = new Float64Array(count * QD * pp);
  for (let c = 0; c < ell; c++) {
    const k = classOf[c], of = c * pp;
    size[k]++;
    let x = k * nfg;
    for (let f = 0; f < pp; f++) for (let g = 0; g <= f; g++) GF[x++] += AF[of + f] * AF[of + g];
    for (let e = pat.ptr[c]; e < pat.ptr[c + 1]; e++) {
      const v = AD[e], h = (k * QD + pat.idx[e]) * pp;
      for (let g = 0; g < pp; g++) H[h + g] += AF[of + g] * v;
    }
  }
  // Sums per (row, column, class), merged (students who share two lecturers add into one entry),
  // then by column with their classes, so the per-evaluation pass streams and never updates one
  // cell twice.
  const acc = new Float64Array(count * QD), seen = new Uint8Array(count * QD);
  const touched = new Int32Array(count * QD), nTouched = new Int32Array(count);
  const perCol = new Int32Array(QD), colMark = new Int32Array(QD).fill(-1), rowCols = new Int32Array(QD);
  const rowPair = new Int32Array(QD + 1);
  let nnzA = 0;
  for (let r = 0; r < QD; r++) for (let s = 0; s <= r; s++) if (ADD[r * QD + s] !== 0) nnzA++;
  const pairCol = new Int32Array(Math.min(entries + nnzA, (QD * (QD + 1)) / 2)), pairA = new Float64Array(pairCol.length), pairEnt = new Int32Array(pairCol.length + 1);
  const cls = new Int32Array(entries), val = new Float64Array(entries);
  let np = 0, ne = 0;
  // One row at a time in a function of its own: called QD times, it is compiled after the first
  // few (one long loop nest would run interpreted until on-stack replacement; measured 2x slower
  // for InstEval's one call).
  const buildRow = (r: number): void => {
    for (let x = byRow.ptr[r]; x < byRow.ptr[r + 1]; x++) {
      const e = byRow.idx[x], c = byRow.lev[x], v = AD[e], k = classOf[c], base = k * QD;
      for (let f = pat.ptr[c]; f <= e; f++) {
        const s = pat.idx[f];
        if (!seen[base + s]) {
          seen[base + s] = 1;
          touched[base + nTouched[k]++] = s;
        }
        acc[base + s] += v * AD[f];
      }
    }
    // The row's columns: A_DD's nonzeros and every class's, each once, ascending.
    let nc = 0;
    const ro = r * QD;
    for (let s = 0; s <= r; s++) {
      if (ADD[ro + s] !== 0 && colMark[s] !== r) {
        colMark[s] = r;
        rowCols[nc++] = s;
      }
    }
    for (let k = 0; k < count; k++) {
      for (let i = 0; i < nTouched[k]; i++) {
        const s = touched[k * QD + i];
        perCol[s]++;
        if (colMark[s] !== r) {
          colMark[s] = r;
          rowCols[nc++] = s;
        }
      }
    }
    const cols = rowCols.subarray(0, nc).sort();
    // Slots: pair of each column, its entries counted above; then fill class by class.
    for (let i = 0; i < nc; i++) {
      const s = cols[i];
      pairCol[np] = s;
      pairA[np] = ADD[ro + s];
      pairEnt[np] = ne;
      ne += perCol[s];
      perCol[s] = pairEnt[np];
      np++;
    }
    for (let k = 0; k < count; k++) {
      const base = k * QD;
      for (let i = 0; i < nTouched[k]; i++) {
        const s = touched[base + i], at = perCol[s]++;
        cls[at] = k;
        val[at] = acc[base + s];
        acc[base + s] = 0;
        seen[base + s] = 0;
        perCol[s] = at + 1;
      }
      nTouched[k] = 0;
    }
    for (let i = 0; i < nc; i++) {
      const s = cols[i];
      perCol[s] = 0;
      colMark[s] = -1;
    }
    rowPair[r + 1] = np;
  };
  for (let r = 0; r < QD; r++) buildRow(r);
  pairEnt[np] = ne;
  return { count, pp, QD, a: Float64Array.from(values), size, GF, H, rowPair, pairCol: pairCol.slice(0, np), pairA: pairA.slice(0, np), pairEnt: pairEnt.slice(0, np + 1), cls: cls.slice(0, ne), val: val.slice(0, ne) };
}

/**
 * With the first factor's template value t and the dense rows' template values tv: each class's
 * weight into w, and the first factor's log-determinant half (sum_c log L_cc).
 */
export function classWeights(cc: CrossedClasses, t: number, w: Float64Array): number {
  let ld = 0;
  const t2 = t * t;
  for (let k = 0; k < cc.count; k++) {
    const d = 1 + t2 * cc.a[k];
    w[k] = t2 / d;
    ld += 0.5 * cc.size[k] * Math.log(d);
  }
  return ld;
}

/**
 * L_DD's lower triangle before its factor: t_r t_s (A_DD - the first factor's part) + I, row
 * by row (cholLower never reads the upper triangle). Rows from `unitFrom` get no identity
 * (tail-profile.ts's unscaled tail).
 */
export function denseByClasses(cc: CrossedClasses, w: Float64Array, tv: Float64Array, LDD: Float64Array, unitFrom = cc.QD): void {
  const { QD, rowPair, pairCol, pairA, pairEnt, cls, val } = cc;
  for (let r = 0; r < QD; r++) {
    const ro = r * QD, tr = tv[r];
    LDD.fill(0, ro, ro + r + 1);
    for (let x = rowPair[r]; x < rowPair[r + 1]; x++) {
      let sum = 0;
      for (let e = pairEnt[x]; e < pairEnt[x + 1]; e++) sum += w[cls[e]] * val[e];
      const s = pairCol[x];
      LDD[ro + s] = tr * tv[s] * (pairA[x] - sum);
    }
    if (r < unitFrom) LDD[ro + r] += 1;
  }
}

/**
 * LFD (pp x QD) = (A_FD - the first factor's part) Λ_D; LFF (already A_FF) -= its part.
 * `LFDt`: QD x pp scratch.
 */
export function fixedByClasses(cc: CrossedClasses, w: Float64Array, tv: Float64Array, AFD: Float64Array, LFD: Float64Array, LFF: Float64Array, LFDt: Float64Array): void {
  const { count, pp, QD, H, GF } = cc;
  // Class by class over H, which is stored row-contiguous, so every pass streams.
  for (let g = 0; g < pp; g++) for (let r = 0; r < QD; r++) LFDt[r * pp + g] = AFD[g * QD + r];
  const len = QD * pp;
  for (let k = 0; k < count; k++) {
    const wk = w[k], h = k * len;
    for (let i = 0; i < len; i++) LFDt[i] -= wk * H[h + i];
  }
  for (let g = 0; g < pp; g++) for (let r = 0; r < QD; r++) LFD[g * QD + r] = tv[r] * LFDt[r * pp + g];
  const nfg = (pp * (pp + 1)) / 2;
  for (let k = 0; k < count; k++) {
    const wk = w[k];
    let x = k * nfg;
    for (let f = 0; f < pp; f++) for (let g = 0; g <= f; g++) LFF[f * pp + g] -= wk * GF[x++];
  }
}
