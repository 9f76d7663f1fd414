// Node's runner: the engine in worker_threads (build/src/worker/node-worker.js), pooled like the
// browser's Web Workers. For tests and any Node caller that must not block its event loop.
// Never imported by the add-in's bundles.
import * as path from "node:path";
import { Worker } from "node:worker_threads";
import { JobResponse, requestMessage } from "./protocol";
import { PoolRunner, WorkerPort } from "./pool";

/** Threads alive right now, across all NodeWorkerRunners (a test checks cancelled jobs leave none). */
let alive = 0;
export function aliveWorkerThreads(): number {
  return alive;
}

export function nodeWorkerPort(file: string): WorkerPort {
  const worker = new Worker(file);
  alive++;
  let onAnswer: (res: JobResponse) => void = () => undefined;
  let onFailure: (err: Error) => void = () => undefined;
  let terminating = false;
  worker.on("message", (res: JobResponse) => onAnswer(res));
  worker.on("error", (e: Error) => onFailure(e));
  worker.on("exit", (code) => {
    alive--;
    if (!terminating) onFailure(new Error(`its thread exited with code ${code}`));
  });
  return {
    post: (req) => {
      const { message, transfer } = requestMessage(req);
      worker.postMessage(message, transfer);
    },
    listen: (a, f) => {
      onAnswer = a;
      onFailure = f;
    },
    terminate: () => {
      terminating = true;
      void worker.terminate();
    },
    // An idle thread must not keep the process alive.
    setIdle: (idle) => (idle ? worker.unref() : worker.ref()),
  };
}

export interface NodeWorkerRunnerOptions {
  /** The compiled worker entry (default: node-worker.js beside this file). */
  file?: string;
  maxWorkers?: number;
  maxIdle?: number;
}

export class NodeWorkerRunner extends PoolRunner {
  constructor(opts: NodeWorkerRunnerOptions = {}) {
    const file = opts.file ?? path.join(__dirname, "node-worker.js");
    super(() => nodeWorkerPort(file), opts.maxWorkers ?? 2, opts.maxIdle ?? 1);
  }
}
