// Running one job with the engine: the only worker-side code. The browser worker, the Node
// worker thread and the in-process runner all call `answer`/`runJob`, so every face gets the
// same numbers and the same error messages.
import { anovaModel, compareModels, compareStructures, contrastModel, emmeansModel, exactRlrt, fitModel, fitSummary, influenceModel, predictModel, tableFromRows } from "../engine";
import { tableFromCellColumns } from "../engine/data/cell-columns";
import type { DataTable, FitResultWithRows } from "../engine/types";
import type { Job, JobRequest, JobResponse, JobResult, WorkerTiming } from "./protocol";

const now = () => (typeof performance !== "undefined" ? performance.now() : Date.now());

export function tableOf(job: Job): DataTable {
  return job.data ? tableFromCellColumns(job.data.cells) : tableFromRows(job.rows ?? []);
}

export function runJob(job: Job, signal?: { cancelled: boolean }, timing?: WorkerTiming): JobResult {
  const t0 = now();
  const probe = signalProbe(signal);
  const table = tableOf(job);
  const t1 = now();
  let result: JobResult;
  switch (job.kind) {
    case "fit":
      result = fitModel(table, job.spec, { ...job.options, signal: probe });
      break;
    case "lrt":
      result = compareModels(table, job.specs, { ...job.options, signal: probe });
      break;
    case "rlrt":
      result = exactRlrt(table, job.spec, job.options);
      break;
    case "anova":
      result = anovaModel(table, job.spec, { ...job.options, signal: probe });
      break;
    case "structures":
      result = compareStructures(table, job.spec, { ...job.options, signal: probe });
      break;
    case "emmeans":
      result = emmeansModel(table, job.spec, { ...job.options, signal: probe });
      break;
    case "contrast":
      result = contrastModel(table, job.spec, job.options.L, { joint: job.options.joint, ddf: job.options.ddf, method: job.options.method, signal: probe });
      break;
    case "predict": {
      const { newdata, ...o } = job.options;
      result = predictModel(table, job.spec, tableFromRows(newdata), { ...o, signal: probe });
      break;
    }
    case "influence":
      result = influenceModel(table, job.spec, { ...job.options, signal: probe });
      break;
    case "summary": {
      const { tests, ...o } = job.options;
      result = fitSummary(table, job.spec, { ...o, signal: probe }, tests);
      break;
    }
    default:
      throw new Error(`unknown job kind '${(job as { kind: unknown }).kind}'`);
  }
  const t2 = now();
  if (job.kind === "fit" || job.kind === "summary") packFitted(result as FitResultWithRows);
  if (timing) {
    timing.table = t1 - t0;
    timing.engine = t2 - t1;
    timing.pack = now() - t2;
    if (probe.first === probe.first) {
      timing.prepare = probe.first - t1;
      timing.optimize = probe.last - probe.first;
      timing.after = t2 - probe.last;
    }
  }
  return result;
}

/**
 * The engine reads the cancellation signal between optimizer steps, and only there: the first
 * and the last read tell when the optimizer started and ended, so the worker can report the
 * fit's parts (design, optimizer, then inference and BLUPs) without the engine timing itself.
 */
function signalProbe(signal?: { cancelled: boolean }): { cancelled: boolean; first: number; last: number } {
  return {
    first: NaN,
    last: NaN,
    get cancelled() {
      const t = now();
      if (this.first !== this.first) this.first = t;
      this.last = t;
      return signal?.cancelled ?? false;
    },
  };
}

/**
 * The per-row values as typed arrays: a million rows then cross back to the page as four
 * transferred buffers, where four million JS numbers would be cloned on the page's thread.
 */
export function packFitted(r: FitResultWithRows): void {
  const f = r.fitted;
  if (!f) return;
  r.fitted = {
    rows: f.rows instanceof Int32Array ? f.rows : Int32Array.from(f.rows),
    conditional: Float64Array.from(f.conditional),
    marginal: Float64Array.from(f.marginal),
    residual: Float64Array.from(f.residual),
  };
  // The standardized residuals and the marginal level's, when the engine gave them.
  for (const k of ["pearson", "normalized", "residual_marginal", "pearson_marginal", "normalized_marginal"] as const) {
    const v = f[k];
    if (v) r.fitted[k] = Float64Array.from(v);
  }
}

/** Runs a request and wraps the outcome as the message to post back. Never throws. */
export function answer(req: JobRequest): JobResponse {
  const timing: WorkerTiming = { table: 0, engine: 0, pack: 0 };
  try {
    return { id: req.id, result: runJob(req, undefined, timing), timing };
  } catch (e) {
    return { id: req.id, error: errorInfo(e), timing };
  }
}

export function errorInfo(e: unknown): { name: string; message: string } {
  if (e instanceof Error) return { name: e.name || "Error", message: e.message || String(e) };
  return { name: "Error", message: String(e) };
}
