// Messages between the add-in's page (functions, pane) and the engine's Web Worker, and the one
// function that answers them. The same `runJob` serves the worker, Node's worker_threads and
// the in-process runner, so every face gets identical numbers.
import { compareModels, exactRlrt, fitModel, tableFromRows } from "../engine";
import type { FitOptions, FitResultWithRows, LrtResult, Method, RlrtResult } from "../engine/types";

export type Job =
  | { kind: "fit"; rows: unknown[][]; spec: string; options: Omit<FitOptions, "signal"> }
  | { kind: "lrt"; rows: unknown[][]; specs: string[]; options: { method?: Method } }
  | { kind: "rlrt"; rows: unknown[][]; spec: string; options: { nsim?: number; seed?: number } };

export type JobResult = FitResultWithRows | LrtResult | RlrtResult;

export interface JobRequest {
  id: number;
  job: Job;
}

export type JobResponse = { id: number; ok: true; result: JobResult } | { id: number; ok: false; error: { name: string; message: string } };

/** Excel values that cannot cross to a worker (error objects) become null: missing, as they mean. */
export function cloneableRows(rows: unknown[][]): unknown[][] {
  return rows.map((r) => r.map((v) => (v === null || typeof v === "number" || typeof v === "string" || typeof v === "boolean" ? v : null)));
}

export function runJob(job: Job, signal?: { cancelled: boolean }): JobResult {
  const table = tableFromRows(job.rows);
  switch (job.kind) {
    case "fit":
      return fitModel(table, job.spec, { ...job.options, signal });
    case "lrt":
      return compareModels(table, job.specs, { ...job.options, signal });
    case "rlrt":
      return exactRlrt(table, job.spec, job.options);
  }
}

export function answer(req: JobRequest): JobResponse {
  try {
    return { id: req.id, ok: true, result: runJob(req.job) };
  } catch (e) {
    const err = e as Error;
    return { id: req.id, ok: false, error: { name: err.name || "Error", message: err.message || String(e) } };
  }
}
