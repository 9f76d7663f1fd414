// The dense block's Cholesky factor by blocks of rows, cut into row chunks that two threads can
// share (threads.ts). Row-major lower triangle, in place, as cholLower. For each block of
// BLOCK_ROWS rows [i0, i1):
//   1. solve: the block's first i0 columns, L10 = A10 L00^-T; rows are independent;
//   2. gram: A11 -= L10 L10' (lower triangle), once every row of step 1 is done;
//   3. the block's own Cholesky (cholLower), on this thread: ~1% of the n^3 / 6 work.
// Steps 1 and 2 run chunk by chunk (CHUNK_ROWS rows), each chunk taken by whichever thread is
// free, so a thread the machine's load holds back just takes fewer. A chunk's rows are fixed and
// an entry's arithmetic depends only on its chunk (dense.ts), so the factor is the same to the
// last bit whichever thread ran what, and without a helper (every chunk here).
import { cholLower, rdivLowerT, subtractGram } from "./dense";

/** Rows per block: small enough that step 3 stays ~1% of the work, large enough that hand-overs (2 per block) cost nothing. */
export const BLOCK_ROWS = 96;
/** Rows per chunk (a multiple of the kernels' 4-row tiles). */
export const CHUNK_ROWS = 8;

export const SOLVE = 1;
export const GRAM = 2;

/** Chunk c of the block [i0, i1) on a. */
export function runChunk(a: Float64Array, off: number, ld: number, kind: number, i0: number, i1: number, c: number): void {
  const ra = i0 + c * CHUNK_ROWS, rb = Math.min(i1, ra + CHUNK_ROWS);
  if (ra >= rb) return;
  if (kind === SOLVE) rdivLowerT(a, rb - ra, i0, off + ra * ld, ld, a, off, ld);
  else subtractGram(a, off, ld, ra, rb, i0, i0);
}

/** Number of chunks of a block of rows [i0, i1). */
export const chunksOf = (i0: number, i1: number): number => Math.ceil((i1 - i0) / CHUNK_ROWS);

/** A second thread that shares a step's chunks with this one; false if it could not (the caller then runs them all). */
export interface Helper {
  share(a: Float64Array, off: number, ld: number, kind: number, i0: number, i1: number): boolean;
}

/** In-place lower Cholesky factor by blocks (see above); false if not positive definite. */
export function cholBlocked(a: Float64Array, n: number, off = 0, ld = n, helper: Helper | null = null): boolean {
  for (let i0 = 0; i0 < n; i0 += BLOCK_ROWS) {
    const i1 = Math.min(n, i0 + BLOCK_ROWS);
    if (i0 > 0) {
      step(a, off, ld, SOLVE, i0, i1, helper);
      step(a, off, ld, GRAM, i0, i1, helper);
    }
    if (!cholLower(a, i1 - i0, off + i0 * ld + i0, ld)) return false;
  }
  return true;
}

/** One step's chunks: shared with the helper, or all here. */
function step(a: Float64Array, off: number, ld: number, kind: number, i0: number, i1: number, helper: Helper | null): void {
  if (helper && helper.share(a, off, ld, kind, i0, i1)) return;
  for (let c = 0, nc = chunksOf(i0, i1); c < nc; c++) runChunk(a, off, ld, kind, i0, i1, c);
}
