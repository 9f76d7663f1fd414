// The Web Worker entry (webpack bundles it on its own as lmm-worker.js): fits run here, off the
// one thread that Excel's functions and the task pane share, so neither ever freezes. A worker
// answers one request at a time; cancelling a job terminates its worker.
import type { JobRequest } from "./protocol";
import { answer } from "./run";

interface WorkerScope {
  onmessage: ((e: { data: JobRequest }) => void) | null;
  postMessage(msg: unknown): void;
}
const scope = self as unknown as WorkerScope;

scope.onmessage = (e) => scope.postMessage(answer(e.data));
