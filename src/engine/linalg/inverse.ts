// The inverse of the dense block of crossed factors, (L L')^{-1}, through the tile kernel of
// dense.ts / simd.ts: the conditional variances of the BLUPs need it once per fit, and at
// QD ~ 1000 the row-by-row invFromChol took seconds (two n^3/6 passes of scalar JS). Here both
// passes are tile dot products on a copy in one SIMD arena:
//  1. X = L^{-T} (upper triangular): rows i..i+3 of the identity solved against L, starting at
//     column i (the columns before are zero and stay zero), so n^3/6 multiply-adds;
//  2. (L L')^{-1} = X X': entry (i, j), j >= i, is the dot product of rows i and j of X from
//     column j on, four rows by two at a time in the kernel, n^3/6 again.
// Without the SIMD kernel (or for small n) it is invFromChol: the same numbers up to rounding.
import { invFromChol, rdivLowerT } from "./dense";
import { arena, kernelFor } from "./simd";

/** Below this order the plain invFromChol is as fast. */
const MIN_TILED = 64;

/** (L L')^{-1} for a lower-triangular n x n L (row stride n): a new full symmetric n x n array. */
export function invFromCholTiled(l: Float64Array, n: number): Float64Array {
  if (n < MIN_TILED) return invFromChol(l, n);
  const [L, X] = arena([n * n, n * n]);
  const kern = kernelFor(X);
  if (!kern) return invFromChol(l, n);
  for (let i = 0; i < n; i++) {
    const r = i * n;
    for (let c = 0; c <= i; c++) L[r + c] = l[r + c];
  }
  // 1. X = I L^{-T}, four rows at a time from their first nonzero column.
  let i = 0;
  for (; i + 3 < n; i += 4) {
    for (let a = 0; a < 4; a++) X[(i + a) * n + i + a] = 1;
    rdivLowerT(X, 4, n - i, i * n + i, n, L, i * n + i, n);
  }
  if (i < n) {
    for (let a = i; a < n; a++) X[a * n + a] = 1;
    rdivLowerT(X, n - i, n - i, i * n + i, n, L, i * n + i, n);
  }
  // 2. S = X X' (X[i][k] = 0 for k < i): for j >= i, S[i][j] = sum_{k >= j} X[i][k] X[j][k].
  const out = new Float64Array(n * n);
  const xb = X.byteOffset, o = kern.out;
  const dot = (a: number, b: number, from: number): number => {
    let s = 0;
    for (let k = from; k < n; k++) s += X[a * n + k] * X[b * n + k];
    return s;
  };
  const put = (a: number, b: number, v: number) => {
    out[a * n + b] = v;
    out[b * n + a] = v;
  };
  for (i = 0; i + 3 < n; i += 4) {
    // The 4 x 4 diagonal block and the tail columns by plain dot products.
    for (let a = i; a < i + 4; a++) for (let b = i; b <= a; b++) put(a, b, dot(a, b, a));
    let j = i + 4;
    for (; j + 1 < n; j += 2) {
      // Rows j and j+1 of X are zero before column j; an even length from j, the odd tail in JS.
      const len = (n - j) & ~1, tail = j + len;
      kern.tile(xb + (i * n + j) * 8, xb + ((i + 1) * n + j) * 8, xb + ((i + 2) * n + j) * 8, xb + ((i + 3) * n + j) * 8,
        xb + (j * n + j) * 8, xb + ((j + 1) * n + j) * 8, len * 8, kern.outByte);
      for (let a = 0; a < 4; a++) {
        let s0 = o[2 * a], s1 = o[2 * a + 1];
        if (tail < n) {
          const xa = X[(i + a) * n + tail];
          s0 += xa * X[j * n + tail];
          s1 += xa * X[(j + 1) * n + tail];
        }
        put(i + a, j, s0);
        put(i + a, j + 1, s1);
      }
    }
    if (j < n) for (let a = i; a < i + 4; a++) put(a, j, dot(a, j, j));
  }
  for (; i < n; i++) for (let b = i; b < n; b++) put(b, i, dot(b, i, b));
  return out;
}
