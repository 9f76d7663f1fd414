// The Web Worker entry (webpack bundles it as lmm-worker.js): fits run here, off the thread
// that Excel's functions and the task pane share, so neither ever freezes.
import { JobRequest, answer } from "./protocol";

declare const self: { onmessage: ((e: { data: JobRequest }) => void) | null; postMessage(msg: unknown): void };

self.onmessage = (e) => self.postMessage(answer(e.data));
