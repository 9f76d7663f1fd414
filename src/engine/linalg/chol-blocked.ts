// The dense block's Cholesky factor by blocks of rows, cut into row tasks that two threads can
// share (threads.ts). Row-major lower triangle, in place, as cholLower. For each block of NB
// rows [i0, i1):
//   1. solve: the block's first i0 columns, L10 = A10 L00^-T; rows are independent, so the rows
//      are split between the threads;
//   2. gram: A11 -= L10 L10' (lower triangle), again split by rows, once every row of step 1 is done;
//   3. the NB x NB Cholesky of A11 (cholLower), on this thread: NB^3 / 6 of the n^3 / 6 work.
// Nearly all the work is in 1 and 2. Every task is a fixed range of rows, and an entry's
// arithmetic depends only on its range (dense.ts), so the factor is the same to the last bit
// whether a range runs here or on the other thread: without a helper both ranges run here.
import { cholLower, rdivLowerT, subtractGram } from "./dense";

/** Rows per block: small enough that step 3 is ~1% of the work, large enough that the hand-overs (2 per block) cost nothing. */
export const BLOCK_ROWS = 96;

export const SOLVE = 1;
export const GRAM = 2;

/** One row task on a: rows [ra, rb) of the block starting at row i0. */
export function runRows(a: Float64Array, off: number, ld: number, kind: number, i0: number, ra: number, rb: number): void {
  if (ra >= rb) return;
  if (kind === SOLVE) rdivLowerT(a, rb - ra, i0, off + ra * ld, ld, a, off, ld);
  else subtractGram(a, off, ld, ra, rb, i0, i0);
}

/** A second thread: runs rows [ra, rb) while `here` runs on this one; false if it could not (the caller then runs them). */
export interface Helper {
  share(a: Float64Array, off: number, ld: number, kind: number, i0: number, ra: number, rb: number, here: () => void): boolean;
}

/** In-place lower Cholesky factor by blocks (see above); false if not positive definite. */
export function cholBlocked(a: Float64Array, n: number, off = 0, ld = n, helper: Helper | null = null): boolean {
  const both = (kind: number, i0: number, split: number, i1: number): void => {
    const here = () => runRows(a, off, ld, kind, i0, i0, split);
    if (!helper || !helper.share(a, off, ld, kind, i0, split, i1, here)) {
      here();
      runRows(a, off, ld, kind, i0, split, i1);
    }
  };
  for (let i0 = 0; i0 < n; i0 += BLOCK_ROWS) {
    const i1 = Math.min(n, i0 + BLOCK_ROWS), nb = i1 - i0;
    if (i0 > 0) {
      // Halves in rows for the solve (every row costs ~i0^2 / 2), in area for the gram's triangle.
      both(SOLVE, i0, i0 + 4 * Math.round(nb / 8), i1);
      both(GRAM, i0, i0 + 4 * Math.round(nb / Math.SQRT2 / 4), i1);
    }
    if (!cholLower(a, nb, off + i0 * ld + i0, ld)) return false;
  }
  return true;
}
