// The Fitter the add-in uses: the shared worker client (src/worker), so the pane's fits run in
// the same Web Worker and cache as the =LMM.* functions and the pane never freezes. Cancel
// releases our claim on the running jobs (the client stops a job nobody else waits for) and
// settles our promises at once, even when a custom function still waits on the same fit.
import type { FitResultWithRows, LrtResult, Method } from "../engine/types";
import type { SummaryResult, SummaryTests } from "../engine/inference/summary";
import type { FitData, FitRequest, Fitter } from "./ports";
import type { InfluenceResult } from "../engine/inference/influence";
import type { StructuresResult } from "../engine/inference/structures";

/** The part of the worker client (src/worker/client.ts LmmClient) the pane uses. */
export interface ClientLike {
  fit(data: FitData, spec: string, options: FitRequest, onCancel?: (hook: () => void) => void): Promise<FitResultWithRows>;
  lrt(data: FitData, specs: string[], options: { method?: Method }, onCancel?: (hook: () => void) => void): Promise<LrtResult>;
  influence?(data: FitData, spec: string, options: { method?: Method; groups?: string[]; rows?: boolean }, onCancel?: (hook: () => void) => void): Promise<InfluenceResult>;
  structures?(data: FitData, spec: string, options: { candidates?: string[] | null }, onCancel?: (hook: () => void) => void): Promise<StructuresResult>;
  /** The fit with its tests and means (worker/client.ts summary); without it a fit asking for tests gets none. */
  summary?(data: FitData, spec: string, options: FitRequest & { tests: SummaryTests }, onCancel?: (hook: () => void) => void): Promise<SummaryResult>;
  warm?(): void;
}

export function cancelledError(): Error {
  const e = new Error("cancelled");
  e.name = "CancelledError";
  return e;
}

export class ClientFitter implements Fitter {
  private readonly running = new Set<{ release: (() => void) | null; reject: (e: Error) => void }>();

  constructor(private readonly client: ClientLike) {}

  fit(data: FitData, spec: string, opts: FitRequest): Promise<FitResultWithRows> {
    const { tests, ...fitOpts } = opts;
    const client = this.client;
    if (tests && client.summary) return this.track((onCancel) => client.summary!(data, spec, { ...fitOpts, tests }, onCancel));
    return this.track((onCancel) => client.fit(data, spec, fitOpts, onCancel));
  }

  lrt(data: FitData, specs: string[], opts: { method: Method }): Promise<LrtResult> {
    return this.track((onCancel) => this.client.lrt(data, specs, opts, onCancel));
  }

  /** Group deletion only: the per-row leverages are not needed for the chart. */
  influence(data: FitData, spec: string, opts: { method: Method; groups?: string[] }): Promise<InfluenceResult> {
    const client = this.client;
    if (!client.influence) return Promise.reject(new Error("this worker cannot compute influence"));
    return this.track((onCancel) => client.influence!(data, spec, { ...opts, rows: false }, onCancel));
  }

  structures(data: FitData, spec: string): Promise<StructuresResult> {
    const client = this.client;
    if (!client.structures) return Promise.reject(new Error("this worker cannot rank structures"));
    return this.track((onCancel) => client.structures!(data, spec, {}, onCancel));
  }

  warm(): void {
    this.client.warm?.();
  }

  cancel(): void {
    const all = Array.from(this.running);
    this.running.clear();
    for (const job of all) {
      job.release?.();
      job.reject(cancelledError());
    }
  }

  private track<T>(start: (onCancel: (hook: () => void) => void) => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const job = { release: null as (() => void) | null, reject };
      this.running.add(job);
      let p: Promise<T>;
      try {
        p = start((hook) => (job.release = hook));
      } catch (e) {
        this.running.delete(job);
        reject(e);
        return;
      }
      p.then(
        (v) => {
          if (this.running.delete(job)) resolve(v);
        },
        (e) => {
          if (this.running.delete(job)) reject(e);
        },
      );
    });
  }
}
