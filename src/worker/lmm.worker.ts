// The Web Worker entry (webpack bundles it on its own as lmm-worker.js): fits run here, off the
// one thread that Excel's functions and the task pane share, so neither ever freezes. A worker
// answers one request at a time; cancelling a job terminates its worker.
import { JobRequest, responseTransfer } from "./protocol";
import { answer } from "./run";

interface WorkerScope {
  onmessage: ((e: { data: JobRequest }) => void) | null;
  postMessage(msg: unknown, transfer: ArrayBuffer[]): void;
}
const scope = self as unknown as WorkerScope;

// The per-row fitted values go back as transferred buffers.
scope.onmessage = (e) => {
  const res = answer(e.data);
  scope.postMessage(res, responseTransfer(res));
};
