// Planning reads and writes of large ranges in row blocks. Office limits what one request may
// carry (5 MB on the web; reads beyond 5 million cells may come back empty), and Microsoft's
// advice for large ranges is to start with blocks of 5,000-20,000 rows. We start at 20,000 rows,
// fewer for wide ranges (a cap on cells per block), and halve a block that Excel rejects as too
// large. Pure: the callers pass the Office.js work as a callback.

export interface BlockOptions {
  /** Rows per block to start with (default 20,000). */
  maxRows?: number;
  /** Cells per block at most (default 200,000: a few MB of JSON at worst). */
  maxCells?: number;
  /** Never fewer rows than this per block, unless the range is smaller (default 50). */
  minRows?: number;
}

export const DEFAULT_BLOCK_ROWS = 20000;
export const DEFAULT_BLOCK_CELLS = 200000;

/** Rows per block for a range `ncol` columns wide. */
export function blockRows(ncol: number, opts: BlockOptions = {}): number {
  const maxRows = opts.maxRows ?? DEFAULT_BLOCK_ROWS;
  const maxCells = opts.maxCells ?? DEFAULT_BLOCK_CELLS;
  const minRows = opts.minRows ?? 50;
  return Math.max(minRows, Math.min(maxRows, Math.floor(maxCells / Math.max(1, ncol))));
}

/** [start, end) row intervals of at most `size` rows covering 0..total. */
export function planBlocks(total: number, size: number): [number, number][] {
  if (!(size >= 1)) throw new RangeError(`block size must be at least 1, not ${size}`);
  const out: [number, number][] = [];
  for (let s = 0; s < total; s += size) out.push([s, Math.min(total, s + size)]);
  return out;
}

/** Does this error say that a request or its answer was too large for Office? */
export function isPayloadError(e: unknown): boolean {
  const err = e as { code?: unknown; message?: unknown } | null;
  const code = typeof err?.code === "string" ? err.code : "";
  const msg = typeof err?.message === "string" ? err.message : "";
  return /PayloadSizeLimitExceeded/i.test(code) || /payload size|PayloadSizeLimit|request is too large|response is too large/i.test(msg);
}

export class CancelledByUser extends Error {
  constructor(what: string) {
    super(`${what} was cancelled`);
    this.name = "CancelledError";
  }
}

export interface Signal {
  cancelled: boolean;
}

export interface BlockProgress {
  /** Rows done so far. */
  done: number;
  total: number;
  /** The block just finished, [start, end). */
  block: [number, number];
}

/**
 * Runs `work(start, end)` over row blocks, in order. A block that fails with a payload error is
 * retried at half the size (down to one row); the smaller size is kept for the rest. The signal
 * is checked before every block; a cancel throws CancelledError.
 */
export async function forEachBlock(
  total: number,
  size: number,
  work: (start: number, end: number) => Promise<void>,
  opts: { signal?: Signal; onProgress?: (p: BlockProgress) => void; what?: string } = {},
): Promise<{ blocks: number; finalSize: number }> {
  let rows = Math.max(1, Math.floor(size));
  let start = 0;
  let blocks = 0;
  while (start < total) {
    if (opts.signal?.cancelled) throw new CancelledByUser(opts.what ?? "the operation");
    const end = Math.min(total, start + rows);
    try {
      await work(start, end);
    } catch (e) {
      if (isPayloadError(e) && end - start > 1) {
        rows = Math.max(1, Math.floor((end - start) / 2));
        continue;
      }
      throw e;
    }
    blocks++;
    const from = start;
    start = end;
    opts.onProgress?.({ done: end, total, block: [from, end] });
  }
  return { blocks, finalSize: rows };
}
