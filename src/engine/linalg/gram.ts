// Passes over tall row-major matrices (n x p, n up to millions, p small): the Gram matrix, X'y,
// products with a triangular matrix, residuals. They are most of the cost of forming a model at a
// million rows, and what limits them is not the multiply-adds but the bookkeeping around them:
// a loop over p inside the loop over rows, and accumulating into an array (a read-modify-write
// per product). So they work on tiles of 4 columns whose sums and coefficients are local
// variables, which the compiler keeps in registers: one load per value and one multiply-add per
// product. A tile's column indices past the last column repeat it (with weight 0, or not
// stored). Rows are taken in chunks small enough to stay in cache while every tile passes over
// them, so the matrix is still read from memory once.
//
// addGram: the lower triangle of W'W for W = [X y] (n x p, plus an optional last column y),
// added into `out` (w x w, w = p + 1 with y, else p), in tiles of 4 x 4 columns (4 x 2 away
// from the diagonal).
const CHUNK = 512;

export const GRAM_CHUNK = CHUNK;

export function addGram(X: Float64Array, p: number, y: Float64Array | null, n: number, out: Float64Array): void {
  addGramRows(X, p, y, 0, n, out);
}

/**
 * Rows from..to of the Gram matrix (same arguments as addGram). Called chunk by chunk at
 * multiples of GRAM_CHUNK it adds up in exactly addGram's order (fixed-basis.ts forms rows and
 * sums their Gram matrix while they are in cache).
 */
export function addGramRows(X: Float64Array, p: number, y: Float64Array | null, from: number, to: number, out: Float64Array): void {
  const w = y ? p + 1 : p;
  for (let r0 = from; r0 < to; r0 += CHUNK) {
    const r1 = Math.min(to, r0 + CHUNK);
    if (w === 5 || w === 6) {
      wideTile(X, p, y, r0, r1, out, w);
      continue;
    }
    for (let f0 = 0; f0 < p; f0 += 4) {
      diagonalTile(X, p, r0, r1, f0, out, w);
      for (let g0 = 0; g0 < f0; g0 += 2) offDiagonalTile(X, p, r0, r1, f0, g0, out, w);
    }
    if (y) for (let g0 = 0; g0 < p; g0 += 4) responseTile(X, p, y, r0, r1, g0, out, p * w);
    if (y) {
      let s = 0;
      for (let r = r0; r < r1; r++) s += y[r] * y[r];
      out[p * w + p] += s;
    }
  }
}

const wideSums = new Float64Array(21);

/**
 * Five or six columns (with y the last) in one pass, where tiles of 4 would take four to seven:
 * 21 sums are more than the registers, but the spilled ones cost less than the passes saved.
 */
function wideTile(X: Float64Array, p: number, y: Float64Array | null, r0: number, r1: number, out: Float64Array, w: number): void {
  const c1 = Math.min(1, p - 1), c2 = Math.min(2, p - 1), c3 = Math.min(3, p - 1), c4 = Math.min(4, p - 1), c5 = Math.min(5, p - 1);
  // The sixth value: y[r], or column c5 of X (the same loop, no branch per row).
  const Y = y ?? X, ys = y ? 1 : p, yo = y ? 0 : c5;
  let s00 = 0, s10 = 0, s11 = 0, s20 = 0, s21 = 0, s22 = 0, s30 = 0, s31 = 0, s32 = 0, s33 = 0;
  let s40 = 0, s41 = 0, s42 = 0, s43 = 0, s44 = 0, s50 = 0, s51 = 0, s52 = 0, s53 = 0, s54 = 0, s55 = 0;
  for (let r = r0, o = r0 * p; r < r1; r++, o += p) {
    const a = X[o], b = X[o + c1], c = X[o + c2], d = X[o + c3], e = X[o + c4], f = Y[r * ys + yo];
    s00 += a * a;
    s10 += b * a;
    s11 += b * b;
    s20 += c * a;
    s21 += c * b;
    s22 += c * c;
    s30 += d * a;
    s31 += d * b;
    s32 += d * c;
    s33 += d * d;
    s40 += e * a;
    s41 += e * b;
    s42 += e * c;
    s43 += e * d;
    s44 += e * e;
    s50 += f * a;
    s51 += f * b;
    s52 += f * c;
    s53 += f * d;
    s54 += f * e;
    s55 += f * f;
  }
  const s = wideSums;
  [s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7], s[8], s[9]] = [s00, s10, s11, s20, s21, s22, s30, s31, s32, s33];
  [s[10], s[11], s[12], s[13], s[14], s[15], s[16], s[17], s[18], s[19], s[20]] = [s40, s41, s42, s43, s44, s50, s51, s52, s53, s54, s55];
  // Position i holds column i of X (i < p) or, the last with y, y (column p of out); others repeat.
  const col = (i: number): number => (y && i === 5 ? p : i < p ? i : -1);
  for (let i = 0, k = 0; i < 6; i++) {
    for (let j = 0; j <= i; j++, k++) {
      const ci = col(i), cj = col(j);
      if (ci >= 0 && cj >= 0) out[ci * w + cj] += s[k];
    }
  }
}

/** Columns f0..f0+3 against themselves (indices past p - 1 repeat the last column; not stored). */
function diagonalTile(X: Float64Array, p: number, r0: number, r1: number, f0: number, out: Float64Array, w: number): void {
  const c0 = f0, c1 = Math.min(f0 + 1, p - 1), c2 = Math.min(f0 + 2, p - 1), c3 = Math.min(f0 + 3, p - 1);
  let s00 = 0, s10 = 0, s11 = 0, s20 = 0, s21 = 0, s22 = 0, s30 = 0, s31 = 0, s32 = 0, s33 = 0;
  for (let r = r0, o = r0 * p; r < r1; r++, o += p) {
    const a = X[o + c0], b = X[o + c1], c = X[o + c2], d = X[o + c3];
    s00 += a * a;
    s10 += b * a;
    s11 += b * b;
    s20 += c * a;
    s21 += c * b;
    s22 += c * c;
    s30 += d * a;
    s31 += d * b;
    s32 += d * c;
    s33 += d * d;
  }
  const m = p - f0, o0 = f0 * w + f0;
  out[o0] += s00;
  if (m > 1) {
    out[o0 + w] += s10;
    out[o0 + w + 1] += s11;
  }
  if (m > 2) {
    out[o0 + 2 * w] += s20;
    out[o0 + 2 * w + 1] += s21;
    out[o0 + 2 * w + 2] += s22;
  }
  if (m > 3) {
    out[o0 + 3 * w] += s30;
    out[o0 + 3 * w + 1] += s31;
    out[o0 + 3 * w + 2] += s32;
    out[o0 + 3 * w + 3] += s33;
  }
}

/** Columns f0..f0+3 against g0, g0+1 (g0 + 1 < f0 always; f indices past p - 1 repeat, not stored). */
function offDiagonalTile(X: Float64Array, p: number, r0: number, r1: number, f0: number, g0: number, out: Float64Array, w: number): void {
  const c0 = f0, c1 = Math.min(f0 + 1, p - 1), c2 = Math.min(f0 + 2, p - 1), c3 = Math.min(f0 + 3, p - 1);
  const e0 = g0, e1 = g0 + 1;
  let s00 = 0, s01 = 0, s10 = 0, s11 = 0, s20 = 0, s21 = 0, s30 = 0, s31 = 0;
  for (let r = r0, o = r0 * p; r < r1; r++, o += p) {
    const u = X[o + e0], v = X[o + e1];
    const a = X[o + c0], b = X[o + c1], c = X[o + c2], d = X[o + c3];
    s00 += a * u;
    s01 += a * v;
    s10 += b * u;
    s11 += b * v;
    s20 += c * u;
    s21 += c * v;
    s30 += d * u;
    s31 += d * v;
  }
  const m = p - f0, o0 = f0 * w + g0;
  out[o0] += s00;
  out[o0 + 1] += s01;
  if (m > 1) {
    out[o0 + w] += s10;
    out[o0 + w + 1] += s11;
  }
  if (m > 2) {
    out[o0 + 2 * w] += s20;
    out[o0 + 2 * w + 1] += s21;
  }
  if (m > 3) {
    out[o0 + 3 * w] += s30;
    out[o0 + 3 * w + 1] += s31;
  }
}

/** X'y over rows from..to (n x p row-major X), added into out[0..p). */
export function addCrossRows(X: Float64Array, p: number, y: Float64Array, from: number, to: number, out: Float64Array): void {
  if (p === 5 || p === 6) {
    // Five or six columns in one pass (tiles of 4 would take two).
    const c5 = Math.min(5, p - 1);
    let s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0;
    for (let r = from, o = from * p; r < to; r++, o += p) {
      const v = y[r];
      s0 += v * X[o];
      s1 += v * X[o + 1];
      s2 += v * X[o + 2];
      s3 += v * X[o + 3];
      s4 += v * X[o + 4];
      s5 += v * X[o + c5];
    }
    out[0] += s0;
    out[1] += s1;
    out[2] += s2;
    out[3] += s3;
    out[4] += s4;
    if (p === 6) out[5] += s5;
    return;
  }
  for (let g0 = 0; g0 < p; g0 += 4) responseTile(X, p, y, from, to, g0, out, 0);
}

/** y against columns g0..g0+3, added at out[at + g0..] (indices past p - 1 repeat the last column; not stored). */
function responseTile(X: Float64Array, p: number, y: Float64Array, r0: number, r1: number, g0: number, out: Float64Array, at: number): void {
  const c0 = g0, c1 = Math.min(g0 + 1, p - 1), c2 = Math.min(g0 + 2, p - 1), c3 = Math.min(g0 + 3, p - 1);
  let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  for (let r = r0, o = r0 * p; r < r1; r++, o += p) {
    const v = y[r];
    s0 += v * X[o + c0];
    s1 += v * X[o + c1];
    s2 += v * X[o + c2];
    s3 += v * X[o + c3];
  }
  const m = p - g0, o0 = at + g0;
  out[o0] += s0;
  if (m > 1) out[o0 + 1] += s1;
  if (m > 2) out[o0 + 2] += s2;
  if (m > 3) out[o0 + 3] += s3;
}

/**
 * Rows from..to: dst <- src M (M upper triangular p x p, row-major; dst may be src). Output
 * columns in tiles of 4 from the right, each set from its own input columns (a triangular tile)
 * and then added to from the input tiles left of it: a tile reads only columns that are still
 * src's when dst is src.
 */
export function timesUpper(src: Float64Array, dst: Float64Array, p: number, M: Float64Array, from: number, to: number): void {
  if (p === 5 || p === 6) {
    timesWide(src, dst, p, M, from, to);
    return;
  }
  for (let j0 = (Math.ceil(p / 4) - 1) * 4; j0 >= 0; j0 -= 4) {
    timesDiagonalTile(src, dst, p, M, from, to, j0);
    for (let k0 = j0 - 4; k0 >= 0; k0 -= 4) timesTile(src, dst, p, M, from, to, j0, k0);
  }
}

/** Five or six columns in one pass (tiles of 4 would take three). */
function timesWide(src: Float64Array, dst: Float64Array, p: number, M: Float64Array, from: number, to: number): void {
  const at = (a: number, b: number): number => (a < p && b < p ? M[a * p + b] : 0);
  const m00 = at(0, 0), m01 = at(0, 1), m02 = at(0, 2), m03 = at(0, 3), m04 = at(0, 4), m05 = at(0, 5);
  const m11 = at(1, 1), m12 = at(1, 2), m13 = at(1, 3), m14 = at(1, 4), m15 = at(1, 5);
  const m22 = at(2, 2), m23 = at(2, 3), m24 = at(2, 4), m25 = at(2, 5);
  const m33 = at(3, 3), m34 = at(3, 4), m35 = at(3, 5);
  const m44 = at(4, 4), m45 = at(4, 5);
  const m55 = at(5, 5);
  const k5 = Math.min(5, p - 1);
  for (let o = from * p, end = to * p; o < end; o += p) {
    const x0 = src[o], x1 = src[o + 1], x2 = src[o + 2], x3 = src[o + 3], x4 = src[o + 4], x5 = src[o + k5];
    dst[o] = x0 * m00;
    dst[o + 1] = x0 * m01 + x1 * m11;
    dst[o + 2] = x0 * m02 + x1 * m12 + x2 * m22;
    dst[o + 3] = x0 * m03 + x1 * m13 + x2 * m23 + x3 * m33;
    dst[o + 4] = x0 * m04 + x1 * m14 + x2 * m24 + x3 * m34 + x4 * m44;
    if (p > 5) dst[o + 5] = x0 * m05 + x1 * m15 + x2 * m25 + x3 * m35 + x4 * m45 + x5 * m55;
  }
}

/** Output columns j0..j0+3 set from input columns j0..j0+3 (M's triangular diagonal block). */
function timesDiagonalTile(src: Float64Array, dst: Float64Array, p: number, M: Float64Array, from: number, to: number, j0: number): void {
  const jn = Math.min(4, p - j0);
  const at = (a: number, b: number): number => (a < jn && b < jn ? M[(j0 + a) * p + j0 + b] : 0);
  const m00 = at(0, 0), m01 = at(0, 1), m02 = at(0, 2), m03 = at(0, 3);
  const m11 = at(1, 1), m12 = at(1, 2), m13 = at(1, 3);
  const m22 = at(2, 2), m23 = at(2, 3);
  const m33 = at(3, 3);
  const k1 = j0 + Math.min(1, jn - 1), k2 = j0 + Math.min(2, jn - 1), k3 = j0 + Math.min(3, jn - 1);
  for (let o = from * p, end = to * p; o < end; o += p) {
    const x0 = src[o + j0], x1 = src[o + k1], x2 = src[o + k2], x3 = src[o + k3];
    dst[o + j0] = x0 * m00;
    if (jn > 1) dst[o + j0 + 1] = x0 * m01 + x1 * m11;
    if (jn > 2) dst[o + j0 + 2] = x0 * m02 + x1 * m12 + x2 * m22;
    if (jn > 3) dst[o + j0 + 3] = x0 * m03 + x1 * m13 + x2 * m23 + x3 * m33;
  }
}

/** Output columns j0..j0+3 added to from input columns k0..k0+3 (k0 < j0: a full block of M). */
function timesTile(src: Float64Array, dst: Float64Array, p: number, M: Float64Array, from: number, to: number, j0: number, k0: number): void {
  const jn = Math.min(4, p - j0);
  const at = (a: number, b: number): number => (b < jn ? M[(k0 + a) * p + j0 + b] : 0);
  const m00 = at(0, 0), m01 = at(0, 1), m02 = at(0, 2), m03 = at(0, 3);
  const m10 = at(1, 0), m11 = at(1, 1), m12 = at(1, 2), m13 = at(1, 3);
  const m20 = at(2, 0), m21 = at(2, 1), m22 = at(2, 2), m23 = at(2, 3);
  const m30 = at(3, 0), m31 = at(3, 1), m32 = at(3, 2), m33 = at(3, 3);
  for (let o = from * p, end = to * p; o < end; o += p) {
    const x0 = src[o + k0], x1 = src[o + k0 + 1], x2 = src[o + k0 + 2], x3 = src[o + k0 + 3];
    const d = o + j0;
    dst[d] += x0 * m00 + x1 * m10 + x2 * m20 + x3 * m30;
    if (jn > 1) dst[d + 1] += x0 * m01 + x1 * m11 + x2 * m21 + x3 * m31;
    if (jn > 2) dst[d + 2] += x0 * m02 + x1 * m12 + x2 * m22 + x3 * m32;
    if (jn > 3) dst[d + 3] += x0 * m03 + x1 * m13 + x2 * m23 + x3 * m33;
  }
}

/** Rows from..to: dst[i] <- src[i] - Q_i . d (dst may be src). */
export function minusRows(Q: Float64Array, p: number, d: Float64Array, src: Float64Array, dst: Float64Array, from: number, to: number): void {
  if (p === 0) {
    if (dst !== src) dst.set(src.subarray(from, to), from);
    return;
  }
  if (p === 5 || p === 6) {
    // Five or six columns in one pass (tiles of 4 would take two).
    const k5 = Math.min(5, p - 1);
    const w0 = d[0], w1 = d[1], w2 = d[2], w3 = d[3], w4 = d[4], w5 = p > 5 ? d[5] : 0;
    for (let i = from, o = from * p; i < to; i++, o += p) dst[i] = src[i] - (Q[o] * w0 + Q[o + 1] * w1 + Q[o + 2] * w2 + Q[o + 3] * w3 + Q[o + 4] * w4 + Q[o + k5] * w5);
    return;
  }
  for (let k0 = 0; k0 < p; k0 += 4) {
    const kn = Math.min(4, p - k0);
    const w0 = d[k0], w1 = kn > 1 ? d[k0 + 1] : 0, w2 = kn > 2 ? d[k0 + 2] : 0, w3 = kn > 3 ? d[k0 + 3] : 0;
    const k1 = k0 + Math.min(1, kn - 1), k2 = k0 + Math.min(2, kn - 1), k3 = k0 + Math.min(3, kn - 1);
    const from0 = k0 === 0 ? src : dst;
    for (let i = from, o = from * p; i < to; i++, o += p) dst[i] = from0[i] - (Q[o + k0] * w0 + Q[o + k1] * w1 + Q[o + k2] * w2 + Q[o + k3] * w3);
  }
}

