// The in-process runner: the engine on the calling thread, after the current task. For Node
// (tests, scripts) where there is no UI thread to protect. A job can be cancelled until it
// starts, and between optimizer steps through the engine's signal; once running it cannot be
// interrupted (use NodeWorkerRunner for that).
import type { Job, JobResult } from "./protocol";
import { JobError, Runner, RunningJob } from "./client";
import { errorInfo, runJob } from "./run";

export class InProcessRunner implements Runner {
  /** Jobs started so far (tests count them). */
  calls = 0;

  start(job: Job): RunningJob {
    this.calls++;
    const signal = { cancelled: false };
    let settled = false;
    let rejectNow: ((e: Error) => void) | null = null;
    const promise = new Promise<JobResult>((resolve, reject) => {
      rejectNow = reject;
      setTimeout(() => {
        if (settled) return;
        try {
          const r = runJob(job, signal);
          settled = true;
          resolve(r);
        } catch (e) {
          settled = true;
          const info = errorInfo(e);
          reject(new JobError(info.name, info.message));
        }
      }, 0);
    });
    return {
      promise,
      cancel: () => {
        if (settled) return;
        settled = true;
        signal.cancelled = true;
        rejectNow!(new JobError("CancelledError", "the calculation was cancelled"));
      },
    };
  }
}
