// A small pool of engine workers behind the Runner interface. Each worker runs one job at a
// time; jobs beyond `maxWorkers` wait in a queue. Cancelling a queued job just removes it;
// cancelling a running job terminates its worker (the engine is synchronous inside the worker,
// so terminating is the only way to stop it at once) and a fresh worker is spawned when needed.
// A worker that answered normally is kept for the next job (up to `maxIdle` idle workers).
// The worker itself is abstracted as a WorkerPort, so the same pool serves browser Web Workers,
// Node worker threads and the tests' fakes.
import type { Job, JobRequest, JobResponse, JobResult } from "./protocol";
import { JobError, Runner, RunningJob } from "./client";

export interface WorkerPort {
  post(req: JobRequest): void;
  /** Sets the callbacks for the current job: its answer, or a failure of the worker itself. */
  listen(onAnswer: (res: JobResponse) => void, onFailure: (err: Error) => void): void;
  terminate(): void;
  /** Optional: told when the worker goes idle or busy (Node unrefs idle threads). */
  setIdle?(idle: boolean): void;
}

interface Task {
  id: number;
  job: Job;
  state: "queued" | "running" | "settled";
  port: WorkerPort | null;
  resolve(r: JobResult): void;
  reject(e: Error): void;
}

let nextId = 1;

export interface PoolStats {
  /** Workers running a job. */
  busy: number;
  /** Workers kept for the next job. */
  idle: number;
  /** Jobs waiting for a worker. */
  queued: number;
  /** Workers created so far. */
  spawned: number;
  /** Workers terminated so far (cancelled, crashed or surplus). */
  terminated: number;
}

export class PoolRunner implements Runner {
  private readonly queue: Task[] = [];
  private readonly idle: WorkerPort[] = [];
  private busy = 0;
  private spawned = 0;
  private terminated = 0;

  constructor(
    private readonly spawn: () => WorkerPort,
    readonly maxWorkers = 2,
    readonly maxIdle = 1,
  ) {
    if (!(maxWorkers >= 1)) throw new RangeError("maxWorkers must be at least 1");
  }

  start(job: Job): RunningJob {
    let resolve!: (r: JobResult) => void;
    let reject!: (e: Error) => void;
    const promise = new Promise<JobResult>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    const task: Task = { id: nextId++, job, state: "queued", port: null, resolve, reject };
    this.queue.push(task);
    this.pump();
    return { promise, cancel: () => this.cancel(task) };
  }

  /**
   * Start a worker ahead of the first job (loading and compiling the engine takes a moment),
   * when none is running or idle. The pane calls this once the data are read.
   */
  warm(): void {
    if (this.busy > 0 || this.idle.length > 0 || this.maxIdle < 1) return;
    try {
      const port = this.create();
      port.setIdle?.(true);
      this.idle.push(port);
    } catch {
      // the first job reports why no worker could start
    }
  }

  stats(): PoolStats {
    return { busy: this.busy, idle: this.idle.length, queued: this.queue.length, spawned: this.spawned, terminated: this.terminated };
  }

  /** Terminates the idle workers and rejects the queued jobs (running ones finish or are cancelled). */
  dispose(): void {
    for (const p of this.idle.splice(0)) this.kill(p);
    for (const t of this.queue.splice(0)) this.settle(t, null, new JobError("CancelledError", "the calculation was cancelled"));
  }

  private pump(): void {
    while (this.queue.length > 0 && this.busy < this.maxWorkers) {
      const task = this.queue.shift()!;
      let port: WorkerPort;
      try {
        port = this.idle.pop() ?? this.create();
      } catch (e) {
        const why = e instanceof Error ? e.message : String(e);
        this.settle(task, null, new JobError("WorkerError", `could not start the engine's worker: ${why}`));
        continue;
      }
      this.busy++;
      task.state = "running";
      task.port = port;
      port.setIdle?.(false);
      port.listen(
        (res) => {
          if (task.state !== "running" || res.id !== task.id) return;
          this.release(task, port, true);
          if (res.error) this.settle(task, null, new JobError(res.error.name, res.error.message));
          else this.settle(task, res.result, null);
        },
        (err) => {
          if (task.state !== "running") return;
          this.release(task, port, false);
          this.settle(task, null, new JobError("WorkerError", `the engine's worker failed: ${err.message}`));
        },
      );
      try {
        port.post({ ...task.job, id: task.id } as JobRequest);
      } catch (e) {
        this.release(task, port, false);
        this.settle(task, null, new JobError("WorkerError", `could not send the job to the engine's worker: ${e instanceof Error ? e.message : String(e)}`));
      }
    }
  }

  private create(): WorkerPort {
    const p = this.spawn();
    this.spawned++;
    return p;
  }

  private kill(port: WorkerPort): void {
    this.terminated++;
    try {
      port.terminate();
    } catch {
      // already gone
    }
  }

  /** The job is over for this worker: keep it for the next job, or terminate it. */
  private release(task: Task, port: WorkerPort, reusable: boolean): void {
    this.busy--;
    task.port = null;
    port.listen(
      () => undefined,
      () => undefined,
    );
    if (reusable && this.idle.length < this.maxIdle) {
      port.setIdle?.(true);
      this.idle.push(port);
    } else {
      this.kill(port);
    }
  }

  private settle(task: Task, result: JobResult | null, error: Error | null): void {
    if (task.state === "settled") return;
    task.state = "settled";
    if (error) task.reject(error);
    else task.resolve(result!);
    // Start the next job only after this one's outcome is delivered (a microtask later), so a
    // caller that reacts to the outcome sees a consistent pool.
    queueMicrotask(() => this.pump());
  }

  private cancel(task: Task): void {
    if (task.state === "queued") {
      const i = this.queue.indexOf(task);
      if (i >= 0) this.queue.splice(i, 1);
    } else if (task.state === "running" && task.port) {
      const port = task.port;
      this.release(task, port, false);
    } else {
      return;
    }
    this.settle(task, null, new JobError("CancelledError", "the calculation was cancelled"));
  }
}
