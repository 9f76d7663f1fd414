// The browser's runner: the engine in Web Workers (lmm-worker.js, beside taskpane.html), pooled.
// Imports no engine code, so the page's bundles (functions.js, taskpane.js) stay small.
import { JobResponse, requestMessage } from "./protocol";
import { clockMs, recordPhase } from "./phases";
import { PoolRunner, WorkerPort } from "./pool";

export function webWorkerPort(url: string): WorkerPort {
  const worker = new Worker(url);
  let onAnswer: (res: JobResponse) => void = () => undefined;
  let onFailure: (err: Error) => void = () => undefined;
  worker.onmessage = (e: MessageEvent<JobResponse>) => {
    const t = e.data.timing;
    if (t) {
      recordPhase("worker: table from the data", t.table);
      recordPhase("worker: engine (fit and inference)", t.engine);
      recordPhase("worker: packing the answer", t.pack);
      if (t.optimize !== undefined) {
        recordPhase("worker: engine: design", t.prepare ?? 0);
        recordPhase("worker: engine: optimizer", t.optimize);
        recordPhase("worker: engine: inference, BLUPs, fitted values", t.after ?? 0);
      }
    }
    onAnswer(e.data);
  };
  worker.onerror = (e: ErrorEvent) => {
    e.preventDefault();
    onFailure(new Error(e.message || `could not load or run ${url}`));
  };
  worker.onmessageerror = () => onFailure(new Error("its answer could not be read"));
  return {
    post: (req) => {
      // The data as transferred copies: no structured clone of millions of values on the page.
      const t0 = clockMs();
      const { message, transfer } = requestMessage(req);
      worker.postMessage(message, transfer);
      recordPhase("transfer to the worker", clockMs() - t0);
    },
    listen: (a, f) => {
      onAnswer = a;
      onFailure = f;
    },
    terminate: () => worker.terminate(),
  };
}

/** Workers to run at once: one core stays free for Excel (at least 1, at most 4). */
export function defaultWorkerCount(): number {
  const cores = typeof navigator !== "undefined" && navigator.hardwareConcurrency > 0 ? navigator.hardwareConcurrency : 2;
  return Math.max(1, Math.min(4, cores - 1));
}

export class WebWorkerRunner extends PoolRunner {
  constructor(url = "lmm-worker.js", maxWorkers = defaultWorkerCount()) {
    super(() => webWorkerPort(url), maxWorkers, 1);
  }
}
