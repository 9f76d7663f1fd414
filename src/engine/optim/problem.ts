// What both minimizers do before and after their own work: check the input, drop the
// coordinates whose bounds are equal (a method would see a zero-width box there), keep count
// of evaluations and keep the best finite value seen, so that whatever way a run ends, the
// caller gets the best point evaluated.
import type { OptimOptions, OptimResult } from "./types";

export interface Reduced {
  /** Number of free coordinates. */
  n: number;
  lower: Float64Array;
  upper: Float64Array;
  /** Start, clamped into the box, free coordinates only. */
  x0: Float64Array;
  /** Evaluates at a free-coordinate vector; non-finite values come back as NaN. Exceptions from f propagate. */
  call: (x: Float64Array) => number;
  nfev: () => number;
  /** The result: best finite point seen, or the start with status "failed" if none. */
  result: (status: OptimResult["status"], message: string) => OptimResult;
}

export function reduceProblem(f: (x: Float64Array) => number, x0: ArrayLike<number>, opts: OptimOptions): Reduced | OptimResult {
  const nAll = x0.length;
  const lowAll = new Float64Array(nAll), upAll = new Float64Array(nAll), start = new Float64Array(nAll);
  for (let i = 0; i < nAll; i++) {
    lowAll[i] = opts.lower && opts.lower[i] !== undefined ? Number(opts.lower[i]) : -Infinity;
    upAll[i] = opts.upper && opts.upper[i] !== undefined ? Number(opts.upper[i]) : Infinity;
    if (Number.isNaN(lowAll[i]) || Number.isNaN(upAll[i]) || lowAll[i] > upAll[i] || lowAll[i] === Infinity || upAll[i] === -Infinity) {
      return failedResult(start, `invalid bounds for coordinate ${i}`);
    }
    const v = Number(x0[i]);
    if (!Number.isFinite(v)) return failedResult(start, `x0[${i}] is not finite`);
    start[i] = Math.min(Math.max(v, lowAll[i]), upAll[i]);
  }
  const free: number[] = [];
  for (let i = 0; i < nAll; i++) if (lowAll[i] < upAll[i]) free.push(i);
  const n = free.length;
  const full = Float64Array.from(start);
  const bestX = Float64Array.from(start);
  let best = Infinity;
  let count = 0;
  const call = (xr: Float64Array): number => {
    for (let j = 0; j < n; j++) full[free[j]] = xr[j];
    count++;
    const v = f(full);
    if (!Number.isFinite(v)) return NaN;
    if (v < best) {
      best = v;
      bestX.set(full);
    }
    return v;
  };
  return {
    n,
    lower: Float64Array.from(free, (i) => lowAll[i]),
    upper: Float64Array.from(free, (i) => upAll[i]),
    x0: Float64Array.from(free, (i) => start[i]),
    call,
    nfev: () => count,
    result: (status, message) =>
      Number.isFinite(best)
        ? { x: Float64Array.from(bestX), fval: best, nfev: count, status, message }
        : { x: Float64Array.from(start), fval: NaN, nfev: count, status: "failed", message: status === "failed" ? message : `f returned no finite value (${message})` },
  };
}

export function failedResult(x: Float64Array, message: string): OptimResult {
  return { x: Float64Array.from(x), fval: NaN, nfev: 0, status: "failed", message };
}

/** Default initial step: 1, or a fifth of the narrowest finite box width if that is smaller. */
export function defaultRhobeg(lower: Float64Array, upper: Float64Array): number {
  let w = Infinity;
  for (let i = 0; i < lower.length; i++) w = Math.min(w, upper[i] - lower[i]);
  return Math.min(1, 0.2 * w);
}
