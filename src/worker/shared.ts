// The one client of the add-in: the functions and the task pane import it, so they share its
// cache. Webpack bundles functions.js and taskpane.js separately but the shared runtime loads
// both into one page, so the instance lives on the page's global object: whichever bundle runs
// first creates it. In the browser each job runs in a pooled Web Worker (lmm-worker.js, served
// beside taskpane.html). Where there are no Web Workers (Node), there is no default runner:
// callers inject one with `lmmClient.setRunner(...)` (InProcessRunner or NodeWorkerRunner), so
// the engine never has to be bundled into the page.
import { JobError, LmmClient, Runner } from "./client";
import { WebWorkerRunner } from "./web-runner";

/** The URL of the engine's worker script, relative to the page (taskpane.html). */
export const WORKER_URL = "lmm-worker.js";

const noRunner: Runner = {
  start: () => ({
    promise: Promise.reject(new JobError("WorkerError", "no engine runner: this environment has no Web Workers; call lmmClient.setRunner(...)")),
    cancel: () => undefined,
  }),
};

function defaultRunner(): Runner {
  return typeof Worker !== "undefined" ? new WebWorkerRunner(WORKER_URL) : noRunner;
}

const g = globalThis as unknown as { __lmmClient?: LmmClient };

export const lmmClient: LmmClient = (g.__lmmClient ??= new LmmClient(defaultRunner()));
