// The promise client the functions and the pane share: identical inputs (a hash of values, spec
// and options) share one fit, in flight and after; a request nobody waits for any more is
// cancelled, and its worker terminated, so superseded recalculations leave no work running.
import type { FitResultWithRows, LrtResult, RlrtResult } from "../engine/types";
import { Job, JobResult, cloneableRows } from "./protocol";

/** Runs one job somewhere (a Web Worker, a worker thread, or in-process) and can stop it. */
export interface Runner {
  start(job: Job): { promise: Promise<JobResult>; cancel(): void };
}

export class JobError extends Error {
  constructor(name: string, message: string) {
    super(message);
    this.name = name;
  }
}

/** FNV-1a over a canonical string of the job: cheap, stable, and good enough to key a cache. */
export function jobKey(job: Job): string {
  let h1 = 0x811c9dc5, h2 = 0x01000193;
  const feed = (s: string) => {
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      h1 = Math.imul(h1 ^ c, 0x01000193) >>> 0;
      h2 = Math.imul(h2 ^ c, 0x5bd1e995) >>> 0;
    }
  };
  feed(job.kind);
  feed(JSON.stringify(job.options));
  feed("kind" in job && job.kind === "lrt" ? job.specs.join("\u0001") : (job as { spec: string }).spec);
  for (const row of job.rows) {
    for (const v of row) feed(v === null || v === undefined ? "\u0000" : typeof v + String(v));
    feed("\u0002");
  }
  return `${job.kind}:${h1.toString(16)}${h2.toString(16)}:${job.rows.length}`;
}

interface Entry {
  promise: Promise<JobResult>;
  waiters: number;
  done: boolean;
  cancel(): void;
}

export class LmmClient {
  private readonly cache = new Map<string, Entry>();
  /** Jobs started (a test counts them to show that identical inputs fit once). */
  started = 0;

  constructor(private runner: Runner, private readonly maxEntries = 64) {}

  setRunner(r: Runner): void {
    this.runner = r;
    this.cache.clear();
  }

  /** Run (or share) a job; `onCancel` registers the caller's cancellation hook. */
  request<T extends JobResult>(job: Job, onCancel?: (hook: () => void) => void): Promise<T> {
    const clean: Job = { ...job, rows: cloneableRows(job.rows) } as Job;
    const key = jobKey(clean);
    let entry = this.cache.get(key);
    if (!entry) {
      this.started++;
      const run = this.runner.start(clean);
      const e: Entry = { promise: run.promise, waiters: 0, done: false, cancel: run.cancel };
      entry = e;
      e.promise.then(
        () => (e.done = true),
        () => {
          e.done = true;
          // Failed or cancelled jobs are not cached: the next call tries again.
          if (this.cache.get(key) === e) this.cache.delete(key);
        },
      );
      this.cache.set(key, e);
      this.trim();
    }
    const e = entry;
    e.waiters++;
    let released = false;
    onCancel?.(() => {
      if (released) return;
      released = true;
      e.waiters--;
      if (e.waiters === 0 && !e.done) {
        e.cancel();
        if (this.cache.get(key) === e) this.cache.delete(key);
      }
    });
    return e.promise.then((r) => {
      released = true;
      return r as T;
    });
  }

  fit(rows: unknown[][], spec: string, options: Extract<Job, { kind: "fit" }>["options"], onCancel?: (hook: () => void) => void): Promise<FitResultWithRows> {
    return this.request<FitResultWithRows>({ kind: "fit", rows, spec, options }, onCancel);
  }

  lrt(rows: unknown[][], specs: string[], options: { method?: "REML" | "ML" }, onCancel?: (hook: () => void) => void): Promise<LrtResult> {
    return this.request<LrtResult>({ kind: "lrt", rows, specs, options }, onCancel);
  }

  rlrt(rows: unknown[][], spec: string, options: { nsim?: number; seed?: number }, onCancel?: (hook: () => void) => void): Promise<RlrtResult> {
    return this.request<RlrtResult>({ kind: "rlrt", rows, spec, options }, onCancel);
  }

  /** Jobs currently running (not finished, not cancelled). */
  running(): number {
    let k = 0;
    for (const e of this.cache.values()) if (!e.done) k++;
    return k;
  }

  private trim(): void {
    while (this.cache.size > this.maxEntries) {
      const oldest = this.cache.keys().next().value as string;
      const e = this.cache.get(oldest)!;
      if (!e.done) break;
      this.cache.delete(oldest);
    }
  }
}
