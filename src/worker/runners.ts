// Runners: a Web Worker per job in the add-in (terminated on cancel), and an in-process one for
// Node (the CLI and tests) where there is no UI thread to protect.
import { Job, JobRequest, JobResponse, JobResult, runJob } from "./protocol";
import { JobError, Runner } from "./client";

let nextId = 1;

/** One Web Worker per job: cancelling terminates it, which stops the computation at once. */
export class WebWorkerRunner implements Runner {
  constructor(private readonly url: string) {}

  start(job: Job) {
    const worker = new Worker(this.url);
    const id = nextId++;
    let settle: { resolve(r: JobResult): void; reject(e: Error): void } | null = null;
    const promise = new Promise<JobResult>((resolve, reject) => (settle = { resolve, reject }));
    worker.onmessage = (e: MessageEvent<JobResponse>) => {
      worker.terminate();
      const msg = e.data;
      if (msg.ok) settle!.resolve(msg.result);
      else settle!.reject(new JobError(msg.error.name, msg.error.message));
    };
    worker.onerror = (e: ErrorEvent) => {
      worker.terminate();
      settle!.reject(new JobError("Error", e.message || "the engine's worker failed"));
    };
    const req: JobRequest = { id, job };
    worker.postMessage(req);
    return {
      promise,
      cancel: () => {
        worker.terminate();
        settle!.reject(new JobError("CancelledError", "the fit was cancelled"));
      },
    };
  }
}

/** Runs the job on the calling thread, after the current task (Node: CLI and unit tests). */
export class InProcessRunner implements Runner {
  start(job: Job) {
    const signal = { cancelled: false };
    const promise = new Promise<JobResult>((resolve, reject) => {
      setTimeout(() => {
        if (signal.cancelled) return reject(new JobError("CancelledError", "the fit was cancelled"));
        try {
          resolve(runJob(job, signal));
        } catch (e) {
          const err = e as Error;
          reject(new JobError(err.name || "Error", err.message));
        }
      }, 0);
    });
    return { promise, cancel: () => (signal.cancelled = true) };
  }
}
