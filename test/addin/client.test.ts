// The shared client and the runners, without Excel: caching and in-flight sharing (counting the
// runner's calls), cancellation only when every waiting caller has cancelled, the worker pool
// (queue, reuse, termination on cancel, crashes) against fake workers, and the engine in real
// Node worker threads (same numbers as in-process; a cancelled fit leaves no thread alive).
import { test } from "node:test";
import assert from "node:assert/strict";
import { JobError, LmmClient, Runner, RunningJob, canonicalJob, jobKey } from "../../src/worker/client";
import { PoolRunner, WorkerPort } from "../../src/worker/pool";
import { NodeWorkerRunner, aliveWorkerThreads } from "../../src/worker/node-runner";
import { InProcessRunner } from "../../src/worker/inprocess";
import { DataCollector, dataFromRows } from "../../src/worker/data";
import type { Job, JobRequest, JobResponse, JobResult } from "../../src/worker/protocol";
import type { FitResultWithRows } from "../../src/engine/types";
import { csvRows } from "../helpers/fixtures";

const sitka = csvRows("assets/examples/sitka.csv");
const tick = () => new Promise((r) => setTimeout(r, 0));

/** A runner whose jobs finish when the test says so. */
class FakeRunner implements Runner {
  jobs: { job: Job; resolve(r: JobResult): void; reject(e: Error): void; cancelled: boolean }[] = [];
  start(job: Job): RunningJob {
    let resolve!: (r: JobResult) => void, reject!: (e: Error) => void;
    const promise = new Promise<JobResult>((res, rej) => ((resolve = res), (reject = rej)));
    const rec = { job, resolve, reject, cancelled: false };
    this.jobs.push(rec);
    return {
      promise,
      cancel: () => {
        rec.cancelled = true;
        reject(new JobError("CancelledError", "the calculation was cancelled"));
      },
    };
  }
  get calls() {
    return this.jobs.length;
  }
}
const fakeFit = { logLik: -1 } as unknown as FitResultWithRows;
const rows = [["y", "g"], [1, "a"], [2, "b"]];

/** Collects hooks as Excel's invocation.onCanceled would. */
function caller() {
  let hook: (() => void) | null = null;
  return { on: (h: () => void) => (hook = h), cancel: () => hook?.() };
}

test("client: identical requests share one job in flight and one cached result", async () => {
  const runner = new FakeRunner();
  const client = new LmmClient(runner);
  const a = client.fit(rows, "y ~ 1 + (1|g)", {});
  const b = client.fit(rows.map((r) => [...r]), "y ~ 1 + (1|g)", { method: "REML", level: 0.95 });
  const c = client.fit(rows, "y ~ 1 + (1|g)", { fitted: true });
  assert.equal(runner.calls, 1, "defaults spelled out or not, fitted or not: one job");
  assert.equal(client.running(), 1);
  runner.jobs[0].resolve(fakeFit);
  assert.deepEqual(await Promise.all([a, b, c]), [fakeFit, fakeFit, fakeFit]);
  assert.equal(await client.fit(rows, "y ~ 1 + (1|g)"), fakeFit);
  assert.equal(runner.calls, 1, "served from the cache");
  assert.equal(client.cached(), 1);
  client.fit(rows, "y ~ 1 + (1|g)", { method: "ML" });
  client.fit([["y", "g"], [1, "a"], [2, "c"]], "y ~ 1 + (1|g)");
  client.lrt(rows, ["y ~ 1 + (1|g)", "y ~ 1"]);
  client.rlrt(rows, "y ~ 1 + (1|g)", { nsim: 100 });
  assert.equal(runner.calls, 5, "other options, cells or kinds are other jobs");
  const sent = runner.jobs[0].job;
  assert.equal(sent.kind, "fit");
  assert.deepEqual(sent.kind === "fit" && sent.options, { method: "REML", level: 0.95, ci: "auto", fitted: true });
});

test("client: a job is cancelled only when every caller waiting for it has cancelled", async () => {
  const runner = new FakeRunner();
  const client = new LmmClient(runner);
  const x = caller(), y = caller();
  const px = client.fit(rows, "y ~ 1 + (1|g)", {}, x.on);
  const py = client.fit(rows, "y ~ 1 + (1|g)", {}, y.on);
  x.cancel();
  x.cancel();
  assert.equal(runner.jobs[0].cancelled, false, "one caller still waits");
  y.cancel();
  assert.equal(runner.jobs[0].cancelled, true, "the last caller cancelled: the job is stopped");
  assert.equal(client.running(), 0);
  await assert.rejects(px, /cancelled/);
  await assert.rejects(py, /cancelled/);
  // Not cached: the next request starts afresh (Excel may cancel before it re-invokes).
  const z = client.fit(rows, "y ~ 1 + (1|g)");
  assert.equal(runner.calls, 2);
  runner.jobs[1].resolve(fakeFit);
  assert.equal(await z, fakeFit);
});

test("client: a new caller that arrives before the old one cancels keeps the job", async () => {
  const runner = new FakeRunner();
  const client = new LmmClient(runner);
  const old = caller();
  const p1 = client.fit(rows, "y ~ 1 + (1|g)", {}, old.on);
  const p2 = client.fit(rows, "y ~ 1 + (1|g)", {}, caller().on);
  old.cancel();
  assert.equal(runner.jobs[0].cancelled, false);
  runner.jobs[0].resolve(fakeFit);
  assert.equal(await p2, fakeFit);
  assert.equal(await p1, fakeFit, "the cancelled caller's promise settles too (Excel ignores it)");
  const late = caller();
  await client.fit(rows, "y ~ 1 + (1|g)", {}, late.on);
  late.cancel();
  assert.equal(client.cached(), 1, "cancelling after the result arrived changes nothing");
});

test("client: failures reach every waiting caller and are not cached", async () => {
  const runner = new FakeRunner();
  const client = new LmmClient(runner);
  const a = client.fit(rows, "y ~ x", {});
  const b = client.fit(rows, "y ~ x", {});
  runner.jobs[0].reject(new JobError("DataError", "unknown column 'x'"));
  await assert.rejects(a, (e: Error) => e.name === "DataError" && /unknown column 'x'/.test(e.message));
  await assert.rejects(b, /unknown column 'x'/);
  client.fit(rows, "y ~ x", {}).catch(() => undefined);
  assert.equal(runner.calls, 2);
});

test("client: the cache keeps the most recently used results and never drops a job in flight", async () => {
  const runner = new FakeRunner();
  const client = new LmmClient(runner, 3);
  const spec = (k: number) => `y ~ 1 + (1|g) + ${k}`;
  const pending = client.fit(rows, spec(0));
  for (let k = 1; k <= 2; k++) {
    const p = client.fit(rows, spec(k));
    runner.jobs[k].resolve(fakeFit);
    await p;
  }
  await client.fit(rows, spec(1)); // touch 1: now 2 is the least recently used
  const p3 = client.fit(rows, spec(3));
  runner.jobs[3].resolve(fakeFit);
  await p3;
  assert.equal(client.running(), 1, "the job in flight stays");
  assert.equal(client.cached(), 2);
  const calls = runner.calls;
  await client.fit(rows, spec(1));
  await client.fit(rows, spec(3));
  assert.equal(runner.calls, calls, "recent results are kept");
  client.fit(rows, spec(2)).catch(() => undefined);
  assert.equal(runner.calls, calls + 1, "the least recently used one was dropped");
  runner.jobs[0].resolve(fakeFit);
  assert.equal(await pending, fakeFit);
});

test("client: large results are kept within a cell budget (the latest always)", async () => {
  const runner = new FakeRunner();
  const client = new LmmClient(runner, 32, 100);
  const data = (k: number) => [["y", "g"], ...Array.from({ length: 30 }, (_, i) => [i + k, `g${i % 3}`])]; // 62 cells
  for (let k = 0; k < 3; k++) {
    const p = client.fit(data(k), "y ~ 1 + (1|g)");
    runner.jobs[k].resolve(fakeFit);
    await p;
  }
  assert.equal(client.cached(), 1, "only the latest fits the budget");
  await client.fit(data(2), "y ~ 1 + (1|g)");
  assert.equal(runner.calls, 3, "the latest is kept");
  client.fit(data(1), "y ~ 1 + (1|g)").catch(() => undefined);
  assert.equal(runner.calls, 4, "older ones were dropped");
});

test("client: keys tell apart cells that only concatenate alike, and numbers from text", () => {
  const key = (r: unknown[][]) => jobKey(canonicalJob({ kind: "fit", rows: r, spec: "y ~ 1", options: {} }));
  assert.notEqual(key([["a", "b"], ["xstring", "y"]]), key([["a", "b"], ["x", "stringy"]]));
  assert.notEqual(key([["a", "b"], ["ab", "c"]]), key([["a", "b"], ["a", "bc"]]));
  assert.notEqual(key([["a"], [1]]), key([["a"], ["1"]]));
  assert.equal(key([["a"], [null]]), key([["a"], [""]]), "blank as null (functions) or \"\" (pane): one fit");
  assert.equal(key([["a"], [{ type: "Error" }]]), key([["a"], [null]]), "an error cell is missing, as a blank");
  assert.notEqual(key([["a", "b"], [1, 2], [3, 4]]), key([["a", "b", 1], [2, 3, 4]]));
});

test("client: the pane's typed columns (read in blocks) and the functions' rows share one job", async () => {
  const runner = new FakeRunner();
  const client = new LmmClient(runner);
  const spec = "size ~ time + (1|tree)";
  const viaRows = client.fit(sitka, spec);
  const blocks = new DataCollector(sitka[0], sitka.length - 1);
  for (let s = 1; s < sitka.length; s += 100) blocks.add(sitka.slice(s, s + 100));
  blocks.add([["", "", "", ""]]); // a trailing blank row is not data
  const viaBlocks = client.fit(blocks.finish(), ` ${spec}`, { method: "REML" });
  assert.equal(runner.calls, 1, "one fit for both");
  const sent = runner.jobs[0].job;
  assert.equal(sent.rows, undefined, "the runner gets typed columns, not rows");
  assert.equal(sent.data?.cells.nrow, 395);
  runner.jobs[0].resolve(fakeFit);
  assert.deepEqual(await Promise.all([viaRows, viaBlocks]), [fakeFit, fakeFit]);
  await client.fit(dataFromRows(sitka.map((r) => r.map((v) => (typeof v === "string" ? ` ${v} ` : v)))), spec);
  assert.equal(runner.calls, 1, "texts with spaces around them read alike: served from the cache");
  client.fit(dataFromRows(sitka.map((r, i) => (i === 395 ? [r[0], r[1], r[2], "ozone"] : r))), spec).catch(() => undefined);
  assert.equal(runner.calls, 2, "one cell changed in the last row: another job");
});

// ---------------------------------------------------------------------------------------------
// The pool, against fake workers

class FakePort implements WorkerPort {
  static all: FakePort[] = [];
  posted: JobRequest[] = [];
  terminated = false;
  idle: boolean | null = null;
  private onAnswer: (r: JobResponse) => void = () => undefined;
  private onFailure: (e: Error) => void = () => undefined;
  constructor() {
    FakePort.all.push(this);
  }
  post(req: JobRequest) {
    this.posted.push(req);
  }
  listen(a: (r: JobResponse) => void, f: (e: Error) => void) {
    this.onAnswer = a;
    this.onFailure = f;
  }
  terminate() {
    this.terminated = true;
  }
  setIdle(idle: boolean) {
    this.idle = idle;
  }
  answer(result: unknown) {
    this.onAnswer({ id: this.posted[this.posted.length - 1].id, result: result as JobResult });
  }
  fail(name: string, message: string) {
    this.onAnswer({ id: this.posted[this.posted.length - 1].id, error: { name, message } });
  }
  crash() {
    this.onFailure(new Error("boom"));
  }
}
const job = (spec: string): Job => ({ kind: "fit", rows, spec, options: {} });

test("pool: jobs beyond maxWorkers wait; finished workers are reused; the request carries the job", async () => {
  FakePort.all = [];
  const pool = new PoolRunner(() => new FakePort(), 2, 1);
  const j1 = pool.start(job("a")), j2 = pool.start(job("b")), j3 = pool.start(job("c"));
  assert.deepEqual(pool.stats(), { busy: 2, idle: 0, queued: 1, spawned: 2, terminated: 0 });
  const [p1, p2] = FakePort.all;
  assert.equal(p1.posted[0].kind, "fit");
  assert.deepEqual(p1.posted[0].kind === "fit" && [p1.posted[0].spec, p1.posted[0].rows], ["a", rows], "{id, kind, rows, spec, options}");
  p1.answer("r1");
  assert.equal(await j1.promise, "r1");
  await tick();
  assert.equal(p1.posted.length, 2, "the queued job went to the worker that finished");
  assert.equal(FakePort.all.length, 2, "no third worker");
  p1.answer("r3");
  p2.fail("DataError", "bad column");
  assert.equal(await j3.promise, "r3");
  await assert.rejects(j2.promise, (e: Error) => e.name === "DataError" && e.message === "bad column");
  await tick();
  const s = pool.stats();
  assert.equal(s.busy, 0);
  assert.equal(s.idle, 1, "one idle worker is kept");
  assert.equal(s.terminated, 1, "the surplus one is terminated");
  assert.equal(FakePort.all.filter((p) => p.idle === true && !p.terminated).length, 1);
});

test("pool: cancelling a running job terminates its worker; cancelling a queued one just drops it", async () => {
  FakePort.all = [];
  const pool = new PoolRunner(() => new FakePort(), 1, 1);
  const j1 = pool.start(job("a")), j2 = pool.start(job("b")), j3 = pool.start(job("c"));
  j2.cancel();
  await assert.rejects(j2.promise, (e: Error) => e.name === "CancelledError");
  assert.equal(pool.stats().queued, 1);
  j1.cancel();
  await assert.rejects(j1.promise, /cancelled/);
  assert.equal(FakePort.all[0].terminated, true, "the running job's worker is terminated");
  await tick();
  assert.equal(FakePort.all.length, 2, "a fresh worker for the next job");
  assert.equal(FakePort.all[1].posted[0].kind === "fit" && FakePort.all[1].posted[0].spec, "c");
  FakePort.all[0].answer("late");
  FakePort.all[1].answer("r3");
  assert.equal(await j3.promise, "r3");
  j3.cancel();
  await tick();
  assert.deepEqual(pool.stats(), { busy: 0, idle: 1, queued: 0, spawned: 2, terminated: 1 });
});

test("pool: warm starts one worker ahead of the first job, which then runs on it", async () => {
  FakePort.all = [];
  const pool = new PoolRunner(() => new FakePort(), 2, 1);
  const client = new LmmClient(pool);
  client.warm();
  client.warm();
  assert.deepEqual(pool.stats(), { busy: 0, idle: 1, queued: 0, spawned: 1, terminated: 0 }, "one worker, idle");
  const p = pool.start(job("a"));
  assert.equal(FakePort.all.length, 1, "the job went to the warm worker");
  FakePort.all[0].answer("r");
  assert.equal(await p.promise, "r");
  const none = new PoolRunner(() => new FakePort(), 1, 0);
  none.warm();
  assert.equal(none.stats().spawned, 0, "no idle worker may be kept: nothing to warm");
});

test("pool: a crashed worker fails its job with a message and is replaced", async () => {
  FakePort.all = [];
  const pool = new PoolRunner(() => new FakePort(), 1, 1);
  const j1 = pool.start(job("a"));
  FakePort.all[0].crash();
  await assert.rejects(j1.promise, (e: Error) => e.name === "WorkerError" && /the engine's worker failed: boom/.test(e.message));
  assert.equal(FakePort.all[0].terminated, true);
  const j2 = pool.start(job("b"));
  FakePort.all[1].answer("ok");
  assert.equal(await j2.promise, "ok");
  let n = 0;
  const broken = new PoolRunner(() => {
    n++;
    throw new Error("blocked by policy");
  });
  await assert.rejects(broken.start(job("a")).promise, /could not start the engine's worker: blocked by policy/);
  assert.equal(n, 1);
});

// ---------------------------------------------------------------------------------------------
// The engine in real worker threads

test("worker threads: the same numbers as in-process, errors with the engine's message", async () => {
  const spec = "size ~ time*treat + (1|tree)";
  const pool = new NodeWorkerRunner({ maxWorkers: 2 });
  const threads = new LmmClient(pool);
  const local = new LmmClient(new InProcessRunner());
  const [a, b] = await Promise.all([threads.fit(sitka, spec), local.fit(sitka, spec)]);
  assert.equal(a.logLik, b.logLik);
  assert.deepEqual(a.fixef, b.fixef);
  assert.deepEqual(a.fitted?.conditional.slice(0, 5), b.fitted?.conditional.slice(0, 5));
  await assert.rejects(threads.fit(sitka, "size ~ tme + (1|tree)"), (e: Error) => e.name === "DataError" && /unknown column 'tme'/.test(e.message));
  const l = await threads.lrt(sitka, ["size ~ time + (1|tree)", "size ~ time + (time|tree)"]);
  assert.equal(l.models.length, 2);
  assert.ok(pool.stats().spawned <= 2, "threads are reused");
  pool.dispose();
  for (let i = 0; i < 100 && aliveWorkerThreads() > 0; i++) await new Promise((r) => setTimeout(r, 20));
  assert.equal(aliveWorkerThreads(), 0, "dispose ends the idle threads");
});

test("worker threads: typed columns go as transferred copies, fitted values come back as typed arrays", async () => {
  const spec = "size ~ time*treat + (1|tree)";
  const pool = new NodeWorkerRunner({ maxWorkers: 1 });
  const data = dataFromRows(sitka);
  const [a, b] = await Promise.all([new LmmClient(pool).fit(data, spec), new LmmClient(new InProcessRunner()).fit(sitka, spec)]);
  assert.equal(data.cells.columns[0].num?.length, 395, "the page's columns are not detached by the transfer");
  assert.ok(a.fitted?.conditional instanceof Float64Array && a.fitted.rows instanceof Int32Array);
  assert.deepEqual(a, b, "the same result through a thread as in-process");
  pool.dispose();
  for (let i = 0; i < 100 && aliveWorkerThreads() > 0; i++) await new Promise((r) => setTimeout(r, 20));
});

test("worker threads: a cancelled job stops at once and leaves no thread running", async () => {
  const runner = new NodeWorkerRunner({ maxWorkers: 1, maxIdle: 0 });
  const client = new LmmClient(runner);
  const c = caller();
  const t0 = Date.now();
  // An exact RLRT with a million simulations takes many seconds, and nothing inside the engine
  // can stop it: only terminating the thread does.
  const p = client.rlrt(sitka, "size ~ time + (1|tree)", { nsim: 90000 }, c.on);
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(runner.stats().busy, 1, "the job is running in a thread");
  c.cancel();
  await assert.rejects(p, /cancelled/);
  assert.ok(Date.now() - t0 < 5000, "cancelled promptly");
  for (let i = 0; i < 100 && aliveWorkerThreads() > 0; i++) await new Promise((r) => setTimeout(r, 20));
  assert.equal(aliveWorkerThreads(), 0, "no thread left");
  assert.equal(client.running(), 0);
  assert.deepEqual({ ...runner.stats(), spawned: 0, terminated: 0 }, { busy: 0, idle: 0, queued: 0, spawned: 0, terminated: 0 });
});
