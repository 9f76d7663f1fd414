// The promise client that the functions and the task pane share. Jobs are keyed by a hash of
// the cells (as the engine reads them), the spec(s) and the options (defaults filled in), so identical requests
// share one computation: in flight (concurrent callers wait for the same job) and afterwards (a
// small LRU cache of results). Every caller may register a cancellation hook; a job is cancelled
// (and its worker terminated) only when every caller waiting for it has cancelled.
// Where jobs run is a Runner: Web Workers in the add-in, worker threads or in-process in Node,
// a fake in tests.
import type { AnovaResult, FitResultWithRows, LrtResult, Method, PredictResult, RlrtResult } from "../engine/types";
import type { StructuresResult } from "../engine/inference/structures";
import { AnovaJobOptions, ContrastJobOptions, EmmeansJobOptions, FitJobOptions, InfluenceJobOptions, Job, JobInput, JobResult, PredictJobOptions, SummaryJobOptions } from "./protocol";
import type { InfluenceResult } from "../engine/inference/influence";
import type { EmmeansResult, LContrastResult, SummaryResult } from "../engine";
import { JobData, dataCells, dataFromRows } from "./data";

const input = (d: unknown[][] | JobData): JobInput => (Array.isArray(d) ? { rows: d } : { data: d });

export interface RunningJob {
  promise: Promise<JobResult>;
  /** Stop the job; its promise rejects with a CancelledError. No effect once it has settled. */
  cancel(): void;
}

/** Runs one job somewhere (a Web Worker, a worker thread, in-process) and can stop it. */
export interface Runner {
  start(job: Job): RunningJob;
}

/** An error from a job, with the engine's error name (DataError, SpecError, CancelledError, ...). */
export class JobError extends Error {
  constructor(name: string, message: string) {
    super(message);
    this.name = name;
  }
}

/** Registers the caller's cancellation hook (Excel's invocation.onCanceled, the pane's Cancel). */
export type OnCancel = (hook: () => void) => void;

/**
 * The job as it is run and keyed: the rows turned into compact columns with their key (unless
 * the caller brought them so: the pane), options with the engine's defaults spelled out, so
 * "REML" and an omitted method share one fit. Fits always compute the per-row fitted values
 * (cheap next to the fit), so LMM.FITTED shares the fit of LMM.FIT.
 */
export function canonicalJob(job: Job): Job {
  const data = job.data ?? dataFromRows(job.rows ?? []);
  switch (job.kind) {
    case "fit": {
      const o = job.options;
      const options: FitJobOptions = {
        method: o.method ?? "REML", level: o.level ?? 0.95, ci: o.ci ?? "auto", fitted: true,
        ...(o.ddf && o.ddf !== "satterthwaite" ? { ddf: o.ddf } : {}), ...(o.fixefCi === "profile" ? { fixefCi: "profile" as const } : {}),
      };
      return { kind: "fit", data, spec: job.spec.trim(), options };
    }
    case "summary": {
      const o = job.options;
      const t = o.tests ?? {};
      const options: SummaryJobOptions = {
        method: o.method ?? "REML", level: o.level ?? 0.95, ci: o.ci ?? "auto", fitted: true, ...(o.ddf && o.ddf !== "satterthwaite" ? { ddf: o.ddf } : {}),
        tests: { anova: t.anova === null ? null : (t.anova ?? 3), means: t.means ?? true, covariate: t.covariate ?? null },
      };
      return { kind: "summary", data, spec: job.spec.trim(), options };
    }
    case "lrt":
      return { kind: "lrt", data, specs: job.specs.map((s) => s.trim()), options: { method: job.options.method ?? "REML" } };
    case "rlrt":
      return { kind: "rlrt", data, spec: job.spec.trim(), options: { nsim: job.options.nsim ?? 10000, seed: job.options.seed ?? 1 } };
    case "anova": {
      const o = job.options;
      return { kind: "anova", data, spec: job.spec.trim(), options: { type: o.type ?? 3, ddf: o.ddf ?? "satterthwaite", method: o.method ?? "REML", ...(o.terms ? { terms: o.terms } : {}) } };
    }
    case "structures":
      return { kind: "structures", data, spec: job.spec.trim(), options: { candidates: job.options.candidates ?? null } };
    case "emmeans":
      return { kind: "emmeans", data, spec: job.spec.trim(), options: { ...job.options, method: job.options.method ?? "REML" } };
    case "contrast":
      return { kind: "contrast", data, spec: job.spec.trim(), options: { ...job.options, method: job.options.method ?? "REML" } };
    case "predict": {
      const o = job.options;
      return { kind: "predict", data, spec: job.spec.trim(), options: { newdata: o.newdata, level: o.level ?? "population", interval: o.interval ?? "none", conf: o.conf ?? 0.95, method: o.method ?? "REML" } };
    }
    case "influence": {
      const o = job.options;
      return { kind: "influence", data, spec: job.spec.trim(), options: { method: o.method ?? "REML", ...(o.groups ? { groups: o.groups } : {}), rows: o.rows ?? true } };
    }
  }
}

/**
 * A key for a job: the data's key (a hash of every cell, data.ts) and a hash of the kind, the
 * options and the spec(s). Canonical jobs with the same key compute the same result.
 */
export function jobKey(job: Job): string {
  const data = job.data ?? dataFromRows(job.rows ?? []);
  let h1 = 0x811c9dc5;
  let h2 = 0x9747b28c;
  const feed = (s: string) => {
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      h1 = Math.imul(h1 ^ c, 0x01000193) >>> 0;
      h2 = Math.imul(h2 ^ c, 0x5bd1e995) >>> 0;
      h2 = (h2 ^ (h2 >>> 15)) >>> 0;
    }
  };
  const SEP = "\u0001";
  feed(job.kind + SEP + JSON.stringify(job.options) + SEP);
  feed(job.kind === "lrt" ? job.specs.join(SEP) : job.spec);
  return `${job.kind}:${data.key}:${h1.toString(16).padStart(8, "0")}${h2.toString(16).padStart(8, "0")}`;
}

interface Entry {
  promise: Promise<JobResult>;
  /** Cells of the job's data: a proxy for the result's size (fits keep per-row values). */
  cells: number;
  /** Callers waiting that have not cancelled. */
  waiters: number;
  done: boolean;
  cancel(): void;
}

export class LmmClient {
  private readonly cache = new Map<string, Entry>();
  /** Jobs handed to the runner so far (cache misses). */
  started = 0;
  /** Requests answered from the cache or by joining a job in flight. */
  shared = 0;

  /**
   * @param maxEntries finished results kept at most
   * @param maxCells finished results kept while their data hold at most this many cells in all
   *   (a fit keeps per-row fitted values, so large data sets are kept one or two at a time)
   */
  constructor(
    private runner: Runner,
    private readonly maxEntries = 32,
    private readonly maxCells = 4_000_000,
  ) {}

  /** Use another runner from now on (the cache is emptied; running jobs finish on the old one). */
  setRunner(r: Runner): void {
    this.runner = r;
    this.cache.clear();
  }

  /** The runner jobs go to (diagnostics and tests). */
  currentRunner(): Runner {
    return this.runner;
  }

  /** Let the runner get ready for a job (a pool starts a worker), if it can. */
  warm(): void {
    (this.runner as Runner & { warm?: () => void }).warm?.();
  }

  /** Forget cached results (running jobs are kept). */
  clear(): void {
    for (const [k, e] of this.cache) if (e.done) this.cache.delete(k);
  }

  /** Run a job, or share an identical one. `onCancel` registers this caller's cancellation hook. */
  request<T extends JobResult>(job: Job, onCancel?: OnCancel): Promise<T> {
    const canon = canonicalJob(job);
    const key = jobKey(canon);
    let entry = this.cache.get(key);
    if (entry) {
      this.shared++;
      // Most recently used last.
      this.cache.delete(key);
      this.cache.set(key, entry);
    } else {
      this.started++;
      const run = this.runner.start(canon);
      const e: Entry = { promise: run.promise, cells: dataCells(canon.data!), waiters: 0, done: false, cancel: run.cancel };
      entry = e;
      e.promise.then(
        () => {
          e.done = true;
          this.trim();
        },
        () => {
          e.done = true;
          // Failed or cancelled jobs are not kept: the next request tries again.
          if (this.cache.get(key) === e) this.cache.delete(key);
        },
      );
      this.cache.set(key, e);
      this.trim();
    }
    const e = entry;
    e.waiters++;
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      e.waiters--;
    };
    onCancel?.(() => {
      if (released) return;
      release();
      if (e.waiters === 0 && !e.done) {
        if (this.cache.get(key) === e) this.cache.delete(key);
        e.done = true;
        e.cancel();
      }
    });
    return e.promise.then(
      (r) => {
        release();
        return r as T;
      },
      (err) => {
        release();
        throw err;
      },
    );
  }

  /** `data`: the rows (header first), or the compact columns the pane collected (DataCollector). */
  fit(data: unknown[][] | JobData, spec: string, options: FitJobOptions = {}, onCancel?: OnCancel): Promise<FitResultWithRows> {
    return this.request<FitResultWithRows>({ kind: "fit", ...input(data), spec, options }, onCancel);
  }

  /** A fit with its tests of terms and marginal means, from the one fit (the pane's summary sheet). */
  summary(data: unknown[][] | JobData, spec: string, options: SummaryJobOptions, onCancel?: OnCancel): Promise<SummaryResult> {
    return this.request<SummaryResult>({ kind: "summary", ...input(data), spec, options }, onCancel);
  }

  lrt(data: unknown[][] | JobData, specs: string[], options: { method?: Method } = {}, onCancel?: OnCancel): Promise<LrtResult> {
    return this.request<LrtResult>({ kind: "lrt", ...input(data), specs, options }, onCancel);
  }

  rlrt(data: unknown[][] | JobData, spec: string, options: { nsim?: number; seed?: number } = {}, onCancel?: OnCancel): Promise<RlrtResult> {
    return this.request<RlrtResult>({ kind: "rlrt", ...input(data), spec, options }, onCancel);
  }

  anova(data: unknown[][] | JobData, spec: string, options: AnovaJobOptions = {}, onCancel?: OnCancel): Promise<AnovaResult> {
    return this.request<AnovaResult>({ kind: "anova", ...input(data), spec, options }, onCancel);
  }

  structures(data: unknown[][] | JobData, spec: string, options: { candidates?: string[] | null } = {}, onCancel?: OnCancel): Promise<StructuresResult> {
    return this.request<StructuresResult>({ kind: "structures", ...input(data), spec, options }, onCancel);
  }

  emmeans(data: unknown[][] | JobData, spec: string, options: EmmeansJobOptions, onCancel?: OnCancel): Promise<EmmeansResult> {
    return this.request<EmmeansResult>({ kind: "emmeans", ...input(data), spec, options }, onCancel);
  }

  contrast(data: unknown[][] | JobData, spec: string, options: ContrastJobOptions, onCancel?: OnCancel): Promise<LContrastResult> {
    return this.request<LContrastResult>({ kind: "contrast", ...input(data), spec, options }, onCancel);
  }

  /** Predictions for the new rows `options.newdata` (header first). */
  predict(data: unknown[][] | JobData, spec: string, options: PredictJobOptions, onCancel?: OnCancel): Promise<PredictResult> {
    return this.request<PredictResult>({ kind: "predict", ...input(data), spec, options }, onCancel);
  }

  /** Leverages, Cook's distances and group deletion (options.rows false: the deletions only). */
  influence(data: unknown[][] | JobData, spec: string, options: InfluenceJobOptions = {}, onCancel?: OnCancel): Promise<InfluenceResult> {
    return this.request<InfluenceResult>({ kind: "influence", ...input(data), spec, options }, onCancel);
  }

  /** Jobs in flight (started, not finished, not cancelled). */
  running(): number {
    let k = 0;
    for (const e of this.cache.values()) if (!e.done) k++;
    return k;
  }

  /** Finished results kept. */
  cached(): number {
    return this.cache.size - this.running();
  }

  /**
   * Drop the least recently used finished results beyond maxEntries or maxCells; jobs in flight
   * stay, and so does the most recent result.
   */
  private trim(): void {
    let count = this.cache.size;
    let cells = 0;
    for (const e of this.cache.values()) cells += e.cells;
    let left = this.cache.size;
    for (const [k, e] of this.cache) {
      if (count <= this.maxEntries && cells <= this.maxCells) break;
      left--;
      if (!e.done || left === 0) continue;
      this.cache.delete(k);
      count--;
      cells -= e.cells;
    }
  }
}
