// The one client of the add-in: functions and task pane import it, so they share its cache.
// Webpack bundles the functions and the pane separately but the shared runtime loads both into
// one page, so the instance is kept on the page's global object: whichever bundle runs first
// creates it. In the browser each job runs in a Web Worker (lmm-worker.js, beside the page); in
// Node (tests, the CLI) there is no UI thread to protect and jobs run in-process.
import { LmmClient } from "./client";
import { InProcessRunner, WebWorkerRunner } from "./runners";

const inBrowser = typeof Worker !== "undefined" && typeof document !== "undefined";
const g = globalThis as unknown as { __lmmClient?: LmmClient };

export const lmmClient: LmmClient = (g.__lmmClient ??= new LmmClient(inBrowser ? new WebWorkerRunner("lmm-worker.js") : new InProcessRunner()));
