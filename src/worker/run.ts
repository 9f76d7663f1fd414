// Running one job with the engine: the only worker-side code. The browser worker, the Node
// worker thread and the in-process runner all call `answer`/`runJob`, so every face gets the
// same numbers and the same error messages.
import { compareModels, exactRlrt, fitModel, tableFromRows } from "../engine";
import type { Job, JobRequest, JobResponse, JobResult } from "./protocol";

export function runJob(job: Job, signal?: { cancelled: boolean }): JobResult {
  const table = tableFromRows(job.rows);
  switch (job.kind) {
    case "fit":
      return fitModel(table, job.spec, { ...job.options, signal });
    case "lrt":
      return compareModels(table, job.specs, { ...job.options, signal });
    case "rlrt":
      return exactRlrt(table, job.spec, job.options);
    default:
      throw new Error(`unknown job kind '${(job as { kind: unknown }).kind}'`);
  }
}

/** Runs a request and wraps the outcome as the message to post back. Never throws. */
export function answer(req: JobRequest): JobResponse {
  try {
    return { id: req.id, result: runJob(req) };
  } catch (e) {
    return { id: req.id, error: errorInfo(e) };
  }
}

export function errorInfo(e: unknown): { name: string; message: string } {
  if (e instanceof Error) return { name: e.name || "Error", message: e.message || String(e) };
  return { name: "Error", message: String(e) };
}
