// Dense kernels on row-major Float64Arrays. They work in place on a square block that starts at
// `off` with row stride `ld`, so the same code serves tiny per-level blocks and the big dense
// block of crossed factors. Nothing here allocates.
import { Kernel, kernelFor } from "./simd";

/** Eight dot products of the JS tile (module scratch: the hot loop allocates nothing). */
const S = new Float64Array(8);

/**
 * Four rows of B (offsets r0..r3 in b) against the first `cols` rows of the lower-triangular L
 * (at loff, stride ldl): B[r][j] <- (B[r][j] - sum_{k<j} B[r][k] L[j][k]) / L[j][j] for j < cols,
 * two columns at a time. This is the whole O(n^3) work of cholLower and rdivLowerT. Each tile
 * holds 4 x 2 sums, so every loaded value feeds two or four multiply-adds; with `kern` the sums
 * come from the WebAssembly SIMD kernel (b and l then live in its memory).
 */
function rows4(b: Float64Array, r0: number, r1: number, r2: number, r3: number, l: Float64Array, loff: number, ldl: number, cols: number, kern: Kernel | null): void {
  let j = 0;
  const bb = b.byteOffset, lb = l.byteOffset;
  for (; j + 1 < cols; j += 2) {
    const q0 = loff + j * ldl, q1 = q0 + ldl;
    let s00: number, s01: number, s10: number, s11: number, s20: number, s21: number, s30: number, s31: number;
    let k0 = 0;
    if (kern) {
      const even = j & ~1;
      kern.tile(bb + r0 * 8, bb + r1 * 8, bb + r2 * 8, bb + r3 * 8, lb + q0 * 8, lb + q1 * 8, even * 8, kern.outByte);
      const o = kern.out;
      s00 = o[0]; s01 = o[1]; s10 = o[2]; s11 = o[3]; s20 = o[4]; s21 = o[5]; s30 = o[6]; s31 = o[7];
      k0 = even;
    } else {
      s00 = s01 = s10 = s11 = s20 = s21 = s30 = s31 = 0;
    }
    for (let k = k0; k < j; k++) {
      const v0 = l[q0 + k], v1 = l[q1 + k];
      const x0 = b[r0 + k], x1 = b[r1 + k], x2 = b[r2 + k], x3 = b[r3 + k];
      s00 += x0 * v0; s01 += x0 * v1;
      s10 += x1 * v0; s11 += x1 * v1;
      s20 += x2 * v0; s21 += x2 * v1;
      s30 += x3 * v0; s31 += x3 * v1;
    }
    const d0 = l[q0 + j], l10 = l[q1 + j], d1 = l[q1 + j + 1];
    const u0 = (b[r0 + j] - s00) / d0, u1 = (b[r1 + j] - s10) / d0;
    const u2 = (b[r2 + j] - s20) / d0, u3 = (b[r3 + j] - s30) / d0;
    b[r0 + j] = u0; b[r1 + j] = u1; b[r2 + j] = u2; b[r3 + j] = u3;
    b[r0 + j + 1] = (b[r0 + j + 1] - s01 - u0 * l10) / d1;
    b[r1 + j + 1] = (b[r1 + j + 1] - s11 - u1 * l10) / d1;
    b[r2 + j + 1] = (b[r2 + j + 1] - s21 - u2 * l10) / d1;
    b[r3 + j + 1] = (b[r3 + j + 1] - s31 - u3 * l10) / d1;
  }
  if (j < cols) {
    // An odd last column.
    oddColumn(b, r0, l, loff, ldl, j);
    oddColumn(b, r1, l, loff, ldl, j);
    oddColumn(b, r2, l, loff, ldl, j);
    oddColumn(b, r3, l, loff, ldl, j);
  }
}

function oddColumn(b: Float64Array, r: number, l: Float64Array, loff: number, ldl: number, j: number): void {
  const q = loff + j * ldl;
  let s = b[r + j];
  for (let k = 0; k < j; k++) s -= b[r + k] * l[q + k];
  b[r + j] = s / l[q + j];
}

/** The kernel for a product of b and l, when both live in the same SIMD arena and it pays. */
function kernelOf(b: Float64Array, l: Float64Array, n: number): Kernel | null {
  if (n < 32 || b.buffer !== l.buffer) return null;
  return kernelFor(b);
}

/**
 * In-place lower Cholesky factor of the symmetric matrix held in the lower triangle (the upper
 * triangle is neither read nor written). Rows go four at a time through rows4 (the columns left
 * of their diagonal block), then the 4 x 4 diagonal block. Returns false (leaving the block
 * partly overwritten) if the matrix is not positive definite.
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
  const kern = kernelOf(a, a, n);
  let i = 0;
  for (; i + 3 < n; i += 4) {
    const r0 = off + i * ld;
    rows4(a, r0, r0 + ld, r0 + 2 * ld, r0 + 3 * ld, a, off, ld, i, kern);
    if (!(kern ? diagBlock4(a, off, ld, i, kern) : plainRows(a, off, ld, i, i + 4, i))) return false;
  }
  return plainRows(a, off, ld, i, n, 0);
}

/**
 * Rows from..to-1 of the factor, columns first..row, by plain dot products (columns before
 * `first` are done): the 4 x 4 diagonal blocks, and all of the last n mod 4 rows.
 */
function plainRows(a: Float64Array, off: number, ld: number, from: number, to: number, first: number): boolean {
  for (let i = from; i < to; i++) {
    const ri = off + i * ld;
    for (let j = first; j <= i; j++) {
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

/** The diagonal block's sums over the columns before it (diagBlock4). */
const D16 = new Float64Array(16);

/**
 * Rows i..i+3, columns i..row, when the columns before i are done: their ten dot products over
 * those i columns in two kernel calls (rows i..i+3 against rows i, i+1 and i+2, i+3), the few
 * columns inside the block by hand. Without it these O(n^2) scalar dot products cost a quarter
 * of the dense Cholesky at n ~ 1000. Same arithmetic as plainRows up to the order of the sums.
 */
function diagBlock4(a: Float64Array, off: number, ld: number, i: number, kern: Kernel): boolean {
  const base = a.byteOffset + (off + i * ld) * 8, rb = ld * 8, len = i * 8, o = kern.out;
  kern.tile(base, base + rb, base + 2 * rb, base + 3 * rb, base, base + rb, len, kern.outByte);
  for (let r = 0; r < 4; r++) {
    D16[r * 4] = o[2 * r];
    D16[r * 4 + 1] = o[2 * r + 1];
  }
  kern.tile(base, base + rb, base + 2 * rb, base + 3 * rb, base + 2 * rb, base + 3 * rb, len, kern.outByte);
  for (let r = 0; r < 4; r++) {
    D16[r * 4 + 2] = o[2 * r];
    D16[r * 4 + 3] = o[2 * r + 1];
  }
  for (let r = 0; r < 4; r++) {
    const ri = off + (i + r) * ld;
    for (let c = 0; c <= r; c++) {
      const rj = off + (i + c) * ld;
      let s = a[ri + i + c] - D16[r * 4 + c];
      for (let k = i; k < i + c; k++) s -= a[ri + k] * a[rj + k];
      if (c === r) {
        if (!(s > 0)) return false;
        a[ri + i + r] = Math.sqrt(s);
      } else {
        a[ri + i + c] = s / a[rj + i + c];
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
  let r = 0;
  if (n >= 8) {
    const kern = kernelOf(b, l, n);
    for (; r + 3 < m; r += 4) {
      const r0 = boff + r * ldb;
      rows4(b, r0, r0 + ldb, r0 + 2 * ldb, r0 + 3 * ldb, l, loff, ldl, n, kern);
    }
  }
  for (; r < m; r++) {
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

/**
 * Inverse of a lower-triangular n x n matrix (new array, lower triangle filled). Cold path, but
 * for the dense block of crossed factors n is ~1000: row i of the inverse is accumulated from
 * the rows above it, so every inner loop runs along a row (column walks cost seconds there).
 */
export function invLower(l: Float64Array, n: number, loff = 0, ldl = n): Float64Array {
  const inv = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    const li = loff + i * ldl, xi = i * n;
    // inv[i][c] = -(sum_{c <= k < i} l[i][k] inv[k][c]) / l[i][i] for c < i.
    for (let k = 0; k < i; k++) {
      const v = l[li + k];
      if (v === 0) continue;
      const xk = k * n;
      for (let c = 0; c <= k; c++) inv[xi + c] += v * inv[xk + c];
    }
    const d = l[li + i];
    for (let c = 0; c < i; c++) inv[xi + c] = -inv[xi + c] / d;
    inv[xi + i] = 1 / d;
  }
  return inv;
}

/** (L L')^{-1} = L^{-T} L^{-1} for a lower-triangular L: a full symmetric n x n. Cold path. */
export function invFromChol(l: Float64Array, n: number, loff = 0, ldl = n): Float64Array {
  const li = invLower(l, n, loff, ldl);
  // out[i][j] = sum_{k >= i} inv[k][i] inv[k][j] (j <= i): dot products of rows of inv',
  // which is upper triangular, so both run along memory from k = i.
  const t = new Float64Array(n * n);
  for (let k = 0; k < n; k++) for (let c = 0; c <= k; c++) t[c * n + k] = li[k * n + c];
  const out = li;
  // Four rows i at a time share each loaded row j (t[i][k] = 0 for k < i, so all four sums
  // can start at the first i): a quarter of the passes over the matrix.
  let i = 0;
  for (; i + 3 < n; i += 4) {
    const t0 = i * n, t1 = t0 + n, t2 = t1 + n, t3 = t2 + n;
    for (let j = 0; j <= i + 3; j++) {
      const tj = j * n;
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      for (let k = i; k < n; k++) {
        const v = t[tj + k];
        s0 += t[t0 + k] * v;
        s1 += t[t1 + k] * v;
        s2 += t[t2 + k] * v;
        s3 += t[t3 + k] * v;
      }
      S[0] = s0; S[1] = s1; S[2] = s2; S[3] = s3;
      for (let r = 0; r < 4; r++) {
        if (j > i + r) continue;
        out[(i + r) * n + j] = S[r];
        out[j * n + i + r] = S[r];
      }
    }
  }
  for (; i < n; i++) {
    const ti = i * n;
    for (let j = 0; j <= i; j++) {
      const tj = j * n;
      let s = 0;
      for (let k = i; k < n; k++) s += t[ti + k] * t[tj + k];
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

/**
 * a[r][c] -= sum_{k < kEnd} a[r][k] a[c][k] for rows ra <= r < rb and columns c0 <= c <= r: the
 * update of a diagonal block of the blocked Cholesky (chol-blocked.ts) from the columns left of
 * it, four rows by two columns at a time like rows4. Rows c0..rb-1 must have their first kEnd
 * columns done. The arithmetic of an entry depends only on whether its row is in a group of four
 * counted from ra, so the same row ranges give the same numbers on any thread.
 */
export function subtractGram(a: Float64Array, off: number, ld: number, ra: number, rb: number, c0: number, kEnd: number): void {
  const kern = kEnd >= 32 ? kernelFor(a) : null;
  const even = kern ? kEnd & ~1 : 0;
  const ab = a.byteOffset;
  let r = ra;
  for (; r + 3 < rb; r += 4) {
    const p0 = off + r * ld, p1 = p0 + ld, p2 = p1 + ld, p3 = p2 + ld;
    for (let c = c0; c <= r + 3; c += 2) {
      const q0 = off + c * ld, q1 = c + 1 <= r + 3 ? q0 + ld : q0;
      let s00: number, s01: number, s10: number, s11: number, s20: number, s21: number, s30: number, s31: number;
      if (kern) {
        kern.tile(ab + p0 * 8, ab + p1 * 8, ab + p2 * 8, ab + p3 * 8, ab + q0 * 8, ab + q1 * 8, even * 8, kern.outByte);
        const o = kern.out;
        s00 = o[0]; s01 = o[1]; s10 = o[2]; s11 = o[3]; s20 = o[4]; s21 = o[5]; s30 = o[6]; s31 = o[7];
      } else {
        s00 = s01 = s10 = s11 = s20 = s21 = s30 = s31 = 0;
      }
      for (let k = even; k < kEnd; k++) {
        const v0 = a[q0 + k], v1 = a[q1 + k];
        const x0 = a[p0 + k], x1 = a[p1 + k], x2 = a[p2 + k], x3 = a[p3 + k];
        s00 += x0 * v0; s01 += x0 * v1;
        s10 += x1 * v0; s11 += x1 * v1;
        s20 += x2 * v0; s21 += x2 * v1;
        s30 += x3 * v0; s31 += x3 * v1;
      }
      const two = q1 !== q0;
      if (c <= r) a[p0 + c] -= s00;
      if (two && c + 1 <= r) a[p0 + c + 1] -= s01;
      if (c <= r + 1) a[p1 + c] -= s10;
      if (two && c + 1 <= r + 1) a[p1 + c + 1] -= s11;
      if (c <= r + 2) a[p2 + c] -= s20;
      if (two && c + 1 <= r + 2) a[p2 + c + 1] -= s21;
      a[p3 + c] -= s30;
      if (two) a[p3 + c + 1] -= s31;
    }
  }
  for (; r < rb; r++) {
    const pr = off + r * ld;
    for (let c = c0; c <= r; c++) {
      const qc = off + c * ld;
      let s = 0;
      for (let k = 0; k < kEnd; k++) s += a[pr + k] * a[qc + k];
      a[pr + c] -= s;
    }
  }
}
