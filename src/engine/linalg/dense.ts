// Dense kernels on row-major Float64Arrays. They work in place on a square block that starts at
// `off` with row stride `ld`, so the same code serves tiny per-level blocks and the big dense
// block of crossed factors. Nothing here allocates.

/**
 * In-place lower Cholesky factor of the symmetric matrix held in the lower triangle.
 * Rows are processed four at a time so that each loaded row j feeds four dot products: this is
 * what makes the O(n^3) dense block of crossed factors affordable in JavaScript.
 * Returns false (leaving the block partly overwritten) if the matrix is not positive definite.
 */
export function cholLower(a: Float64Array, n: number, off = 0, ld = n): boolean {
  if (n === 1) {
    const d = a[off];
    if (!(d > 0)) return false;
    a[off] = Math.sqrt(d);
    return true;
  }
  if (n === 2) {
    const d0 = a[off];
    if (!(d0 > 0)) return false;
    const l00 = Math.sqrt(d0);
    const l10 = a[off + ld] / l00;
    const d1 = a[off + ld + 1] - l10 * l10;
    if (!(d1 > 0)) return false;
    a[off] = l00;
    a[off + ld] = l10;
    a[off + ld + 1] = Math.sqrt(d1);
    return true;
  }
  let i = 0;
  for (; i + 3 < n; i += 4) {
    const r0 = off + i * ld, r1 = r0 + ld, r2 = r1 + ld, r3 = r2 + ld;
    // Columns j < i: four rows against row j at once.
    for (let j = 0; j < i; j++) {
      const rj = off + j * ld;
      let s0 = a[r0 + j], s1 = a[r1 + j], s2 = a[r2 + j], s3 = a[r3 + j];
      for (let k = 0; k < j; k++) {
        const v = a[rj + k];
        s0 -= a[r0 + k] * v;
        s1 -= a[r1 + k] * v;
        s2 -= a[r2 + k] * v;
        s3 -= a[r3 + k] * v;
      }
      const d = a[rj + j];
      a[r0 + j] = s0 / d;
      a[r1 + j] = s1 / d;
      a[r2 + j] = s2 / d;
      a[r3 + j] = s3 / d;
    }
    // The 4x4 diagonal block.
    for (let bi = 0; bi < 4; bi++) {
      const ri = r0 + bi * ld;
      for (let bj = 0; bj <= bi; bj++) {
        const j = i + bj;
        const rj = r0 + bj * ld;
        let s = a[ri + j];
        for (let k = 0; k < j; k++) s -= a[ri + k] * a[rj + k];
        if (bj === bi) {
          if (!(s > 0)) return false;
          a[ri + j] = Math.sqrt(s);
        } else {
          a[ri + j] = s / a[rj + j];
        }
      }
    }
  }
  for (; i < n; i++) {
    const ri = off + i * ld;
    for (let j = 0; j <= i; j++) {
      const rj = off + j * ld;
      let s = a[ri + j];
      for (let k = 0; k < j; k++) s -= a[ri + k] * a[rj + k];
      if (j === i) {
        if (!(s > 0)) return false;
        a[ri + i] = Math.sqrt(s);
      } else {
        a[ri + j] = s / a[rj + j];
      }
    }
  }
  return true;
}

/** Sum of log of the diagonal of a lower-triangular block. */
export function logDiagSum(a: Float64Array, n: number, off = 0, ld = n): number {
  let s = 0;
  for (let i = 0; i < n; i++) s += Math.log(a[off + i * ld + i]);
  return s;
}

/**
 * B <- B L^{-T} for an m x n block B (row stride ldb) and a lower-triangular n x n L: each row of
 * B is solved forward against L. This is the "divide by the diagonal block" step of the blocked
 * Cholesky.
 */
export function rdivLowerT(
  b: Float64Array, m: number, n: number, boff: number, ldb: number,
  l: Float64Array, loff: number, ldl: number,
): void {
  for (let r = 0; r < m; r++) {
    const br = boff + r * ldb;
    for (let j = 0; j < n; j++) {
      const lj = loff + j * ldl;
      let s = b[br + j];
      for (let k = 0; k < j; k++) s -= b[br + k] * l[lj + k];
      b[br + j] = s / l[lj + j];
    }
  }
}

/** Solve L x = b in place (L lower, n x n, at loff with stride ldl). */
export function solveLower(l: Float64Array, n: number, loff: number, ldl: number, x: Float64Array, xoff = 0): void {
  for (let i = 0; i < n; i++) {
    const li = loff + i * ldl;
    let s = x[xoff + i];
    for (let k = 0; k < i; k++) s -= l[li + k] * x[xoff + k];
    x[xoff + i] = s / l[li + i];
  }
}

/** Solve L' x = b in place (L lower, n x n). */
export function solveLowerT(l: Float64Array, n: number, loff: number, ldl: number, x: Float64Array, xoff = 0): void {
  for (let i = n - 1; i >= 0; i--) {
    let s = x[xoff + i];
    for (let k = i + 1; k < n; k++) s -= l[loff + k * ldl + i] * x[xoff + k];
    x[xoff + i] = s / l[loff + i * ldl + i];
  }
}

/** Inverse of a lower-triangular n x n matrix (new array, lower triangle filled). Cold path. */
export function invLower(l: Float64Array, n: number, loff = 0, ldl = n): Float64Array {
  const inv = new Float64Array(n * n);
  for (let c = 0; c < n; c++) {
    inv[c * n + c] = 1 / l[loff + c * ldl + c];
    for (let i = c + 1; i < n; i++) {
      let s = 0;
      for (let k = c; k < i; k++) s -= l[loff + i * ldl + k] * inv[k * n + c];
      inv[i * n + c] = s / l[loff + i * ldl + i];
    }
  }
  return inv;
}

/** (L L')^{-1} = L^{-T} L^{-1} for a lower-triangular L: a full symmetric n x n. Cold path. */
export function invFromChol(l: Float64Array, n: number, loff = 0, ldl = n): Float64Array {
  const li = invLower(l, n, loff, ldl);
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = 0;
      for (let k = i; k < n; k++) s += li[k * n + i] * li[k * n + j];
      out[i * n + j] = s;
      out[j * n + i] = s;
    }
  }
  return out;
}

/** Lower Cholesky factor of a small symmetric matrix (new array); null if not positive semidefinite. */
export function cholCopy(a: ArrayLike<number>, n: number): Float64Array | null {
  const l = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = a[i * n + j];
      for (let k = 0; k < j; k++) s -= l[i * n + k] * l[j * n + k];
      if (i === j) {
        if (s < -1e-12 * Math.max(1, Math.abs(a[i * n + i]))) return null;
        l[i * n + i] = Math.sqrt(Math.max(s, 0));
      } else {
        l[i * n + j] = l[j * n + j] > 0 ? s / l[j * n + j] : 0;
      }
    }
  }
  return l;
}
