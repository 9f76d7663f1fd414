// Exploration (not a test): runs fuzz cases FROM..TO in a worker thread with a wall-clock limit
// per case, and prints crashes, hangs, non-finite results and slow cases. Used to find what the
// fuzz test's regression list holds:
//   node build/test/helpers/gen-explore.js FROM TO [LIMIT_MS]
import { Worker, isMainThread, parentPort } from "node:worker_threads";
import { makeCase, runCase } from "./gen-case";

if (!isMainThread) {
  parentPort!.on("message", (id: number) => {
    const t0 = Date.now();
    const out = runCase(makeCase(id));
    parentPort!.postMessage({ id, ms: Date.now() - t0, out });
  });
} else {
  const from = Number(process.argv[2] ?? 0), to = Number(process.argv[3] ?? 1000), limit = Number(process.argv[4] ?? 10000);
  let worker: Worker | null = null;
  const counts = { fit: 0, error: 0, bad: 0, hang: 0, slow: 0 };
  const run = (id: number): Promise<void> =>
    new Promise((resolve) => {
      if (!worker) worker = new Worker(__filename);
      const w = worker;
      const timer = setTimeout(() => {
        counts.hang++;
        const c = makeCase(id);
        console.log(`HANG ${id} ${c.kind} ${JSON.stringify(c.specs)} ${JSON.stringify(c.opts)}`);
        w.removeAllListeners("message");
        void w.terminate();
        worker = null;
        resolve();
      }, limit);
      w.once("message", (m: { id: number; ms: number; out: ReturnType<typeof runCase> }) => {
        clearTimeout(timer);
        const c = makeCase(id);
        if (!m.out.ok) {
          counts.bad++;
          console.log(`BAD ${id} ${m.ms}ms ${c.kind} ${JSON.stringify(c.specs)} ${JSON.stringify(c.opts)}\n  ${m.out.why}`);
        } else counts[m.out.how]++;
        if (m.ms > 2000) {
          counts.slow++;
          console.log(`SLOW ${id} ${m.ms}ms ${c.kind} ${JSON.stringify(c.specs)} ${JSON.stringify(c.opts)} ${m.out.ok ? m.out.how : ""}`);
        }
        resolve();
      });
      w.postMessage(id);
    });
  void (async () => {
    const t0 = Date.now();
    for (let id = from; id < to; id++) await run(id);
    console.log(`cases ${from}..${to}: ${JSON.stringify(counts)} in ${Date.now() - t0} ms`);
    if (worker) void (worker as Worker).terminate();
  })();
}
