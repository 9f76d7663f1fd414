// The messages between the add-in's page (functions and pane) and the engine's worker. Types and
// plain-data helpers only: this file must not import the engine, so the page's bundles stay
// small and the engine is loaded once, inside the worker (lmm-worker.js).
import type { FitOptions, FitResultWithRows, LrtResult, Method, RlrtResult } from "../engine/types";

/** Options of a fit job: everything in FitOptions except the cancellation signal. */
export type FitJobOptions = Omit<FitOptions, "signal">;

export type Job =
  | { kind: "fit"; rows: unknown[][]; spec: string; options: FitJobOptions }
  | { kind: "lrt"; rows: unknown[][]; specs: string[]; options: { method?: Method } }
  | { kind: "rlrt"; rows: unknown[][]; spec: string; options: { nsim?: number; seed?: number } };

export type JobKind = Job["kind"];

export type JobResult = FitResultWithRows | LrtResult | RlrtResult;

/** What the page posts: the job itself plus an id the answer repeats. */
export type JobRequest = Job & { id: number };

/** What the worker posts back: the result, or the error's name and message (for the user). */
export type JobResponse = { id: number; result: JobResult; error?: undefined } | { id: number; error: { name: string; message: string } };

/**
 * The cells as they can cross to a worker (structured clone) and as the engine reads them:
 * numbers, text and booleans stay; "", null, undefined, error cells (objects once
 * allowErrorForDataTypeAny is set) and any other object become null, i.e. missing. ("" and null
 * are both blank to the engine; making them one value lets the pane, which reads blanks as "",
 * share fits with the functions, which get null.)
 */
export function cloneableRows(rows: unknown[][]): unknown[][] {
  const out = new Array<unknown[]>(rows.length);
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i];
    if (!Array.isArray(r)) {
      out[i] = [];
      continue;
    }
    const c = new Array<unknown>(r.length);
    for (let j = 0; j < r.length; j++) {
      const v = r[j];
      c[j] = typeof v === "number" || (typeof v === "string" && v !== "") || typeof v === "boolean" ? v : null;
    }
    out[i] = c;
  }
  return out;
}
