// The messages between the add-in's page (functions and pane) and the engine's worker. Types and
// plain-data helpers only: this file must not import the engine (beyond the cell rules that
// data.ts uses), so the page's bundles stay small and the engine is loaded once, inside the
// worker (lmm-worker.js).
import type { EmmeansOptions, EmmeansResult, LContrastResult, SummaryResult, SummaryTests } from "../engine";
import type { AnovaOptions, AnovaResult, FitOptions, FitResultWithRows, LrtResult, Method, PredictOptions, PredictResult, RlrtResult } from "../engine/types";
import type { StructuresResult } from "../engine/inference/structures";
import type { InfluenceOptions, InfluenceResult } from "../engine/inference/influence";
import { JobData, wireData } from "./data";

/** Options of a fit job: everything in FitOptions except the cancellation signal and progress callback (functions do not cross to a worker). */
export type FitJobOptions = Omit<FitOptions, "signal" | "onProgress">;

/**
 * The data of a job: the rows as given (header first), or the compact columns with their key
 * (data.ts). The client turns rows into columns; runners and workers take either.
 */
export interface JobInput {
  rows?: unknown[][];
  data?: JobData;
}

export type Job = (
  | { kind: "fit"; spec: string; options: FitJobOptions }
  | { kind: "lrt"; specs: string[]; options: { method?: Method } }
  | { kind: "rlrt"; spec: string; options: { nsim?: number; seed?: number } }
  | { kind: "anova"; spec: string; options: AnovaJobOptions }
  | { kind: "structures"; spec: string; options: { candidates?: string[] | null } }
  | { kind: "emmeans"; spec: string; options: EmmeansJobOptions }
  | { kind: "contrast"; spec: string; options: ContrastJobOptions }
  | { kind: "predict"; spec: string; options: PredictJobOptions }
  | { kind: "influence"; spec: string; options: InfluenceJobOptions }
  | { kind: "summary"; spec: string; options: SummaryJobOptions }
) &
  JobInput;

export type JobKind = Job["kind"];

/** Options of an anova job: everything in AnovaOptions except the cancellation signal. */
export type AnovaJobOptions = Omit<AnovaOptions, "signal">;

/** Options of a predict job: the new rows (header first, as the range gives them) and PredictOptions without the signal. */
export type PredictJobOptions = Omit<PredictOptions, "signal"> & { newdata: unknown[][] };

/** Options of an influence job (group deletion for the pane's Cook's-distance chart): InfluenceOptions without the signal. */
export type InfluenceJobOptions = Omit<InfluenceOptions, "signal">;

/** Options of a marginal-means job (everything but the signal). */
export type EmmeansJobOptions = Omit<EmmeansOptions, "signal">;

/** Options of a summary job (the pane's fit): the fit's options and which tests and means to add (engine/inference/summary.ts). */
export type SummaryJobOptions = FitJobOptions & { tests: SummaryTests };

/** Options of an L-contrast job. */
export interface ContrastJobOptions {
  L: number[][];
  joint?: boolean;
  ddf?: string | null;
  method?: Method;
}

export type JobResult = FitResultWithRows | SummaryResult | LrtResult | RlrtResult | AnovaResult | StructuresResult | EmmeansResult | LContrastResult | PredictResult | InfluenceResult;

/** What the page posts: the job itself plus an id the answer repeats. */
export type JobRequest = Job & { id: number };

/** Milliseconds the worker spent: making the table from the data, the engine's work, packing the answer. */
export interface WorkerTiming {
  table: number;
  engine: number;
  pack: number;
  /** The engine's parts, when it could tell: design, optimizer, and what follows (inference, BLUPs, fitted values). */
  prepare?: number;
  optimize?: number;
  after?: number;
}

/** What the worker posts back: the result, or the error's name and message (for the user). */
export type JobResponse =
  | { id: number; result: JobResult; error?: undefined; timing?: WorkerTiming }
  | { id: number; error: { name: string; message: string }; timing?: WorkerTiming };

/** A request as posted: the data copied into buffers that are transferred, not cloned. */
export function requestMessage(req: JobRequest): { message: JobRequest; transfer: ArrayBuffer[] } {
  if (!req.data) return { message: req.rows ? { ...req, rows: cloneableRows(req.rows) } : req, transfer: [] };
  const w = wireData(req.data);
  return { message: { ...req, data: w.data }, transfer: w.transfer };
}

/** The buffers of an answer to transfer back (the per-row fitted values). */
export function responseTransfer(res: JobResponse): ArrayBuffer[] {
  const f = res.error ? undefined : (res.result as FitResultWithRows).fitted;
  if (!f) return [];
  const out: ArrayBuffer[] = [];
  for (const a of [f.rows, f.conditional, f.marginal, f.residual, f.pearson, f.normalized, f.residual_marginal, f.pearson_marginal, f.normalized_marginal]) if (a && !Array.isArray(a)) out.push((a as Float64Array | Int32Array).buffer as ArrayBuffer);
  return out;
}

/**
 * Rows as they can cross to a worker (structured clone), for a job sent as rows and as the engine reads them:
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
