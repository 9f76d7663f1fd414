// The worker_threads entry for Node (tests and any Node caller that wants fits off its main
// thread): the same protocol as the browser's lmm-worker.js.
import { parentPort } from "node:worker_threads";
import { JobRequest, responseTransfer } from "./protocol";
import { answer } from "./run";

if (!parentPort) throw new Error("node-worker.js must be started as a worker thread");
const port = parentPort;
port.on("message", (req: JobRequest) => {
  const res = answer(req);
  port.postMessage(res, responseTransfer(res));
});
