// The one client of the add-in: functions and task pane import it, so they share its cache.
// In the browser each job runs in a Web Worker (lmm-worker.js, beside the page); in Node (tests,
// the CLI) there is no UI thread to protect and jobs run in-process.
import { LmmClient } from "./client";
import { InProcessRunner, WebWorkerRunner } from "./runners";

const inBrowser = typeof Worker !== "undefined" && typeof document !== "undefined";

export const lmmClient = new LmmClient(inBrowser ? new WebWorkerRunner("lmm-worker.js") : new InProcessRunner());
