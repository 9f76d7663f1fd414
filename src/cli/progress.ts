// Long work in the `lmm` command: the engine is synchronous, so it runs in a worker thread while
// the main thread stays free to answer Ctrl-C at once (one line on stderr, exit code 130) and to
// show progress. The progress line goes to stderr only when stderr is a terminal, so --json
// output, pipes and tests stay clean. The worker is this same file (isMainThread decides).
import { Worker, isMainThread, parentPort, workerData } from "node:worker_threads";
import { compareModels, compareStructures, exactRlrt, fitModel } from "../engine";
import type { DataTable, FitOptions } from "../engine/types";

export type EngineCall =
  | { kind: "fit"; table: DataTable; spec: string; options: Omit<FitOptions, "signal" | "onProgress"> }
  | { kind: "lrt"; table: DataTable; specs: string[]; options: { method?: FitOptions["method"] } }
  | { kind: "rlrt"; table: DataTable; spec: string; options: { nsim?: number; seed?: number } }
  | { kind: "structures"; table: DataTable; spec: string; options: { candidates?: string[] | null } };

type Message = { progress: [number, string] } | { result: unknown } | { error: { name: string; message: string } };

/** Minimum milliseconds between progress lines (display only; the engine never reads the clock for this). */
const PROGRESS_EVERY_MS = 500;

/** Runs one engine call in a worker thread; Ctrl-C ends the command with exit code 130. */
export function runEngine<T>(call: EngineCall): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const worker = new Worker(__filename, { workerData: call });
    const tty = !!process.stderr.isTTY;
    let shown = false, last = 0;
    const clear = () => {
      if (shown) process.stderr.write("\r\x1b[K");
      shown = false;
    };
    const onSigint = () => {
      clear();
      process.stderr.write("lmm: cancelled\n");
      void worker.terminate();
      process.exit(130);
    };
    process.once("SIGINT", onSigint);
    const done = () => {
      process.removeListener("SIGINT", onSigint);
      clear();
    };
    worker.on("message", (m: Message) => {
      if ("progress" in m) {
        const now = Date.now();
        if (!tty || now - last < PROGRESS_EVERY_MS) return;
        last = now;
        shown = true;
        process.stderr.write(`\r\x1b[Klmm: ${m.progress[1]}: ${m.progress[0]} evaluations (Ctrl-C cancels)`);
        return;
      }
      done();
      void worker.terminate();
      if ("result" in m) resolve(m.result as T);
      else {
        const e = new Error(m.error.message);
        e.name = m.error.name;
        reject(e);
      }
    });
    worker.on("error", (e) => {
      done();
      reject(e);
    });
  });
}

function work(call: EngineCall): unknown {
  const onProgress = (evaluations: number, phase: string) => parentPort!.postMessage({ progress: [evaluations, phase] } satisfies Message);
  switch (call.kind) {
    case "fit":
      return fitModel(call.table, call.spec, { ...call.options, onProgress });
    case "lrt":
      return compareModels(call.table, call.specs, { ...call.options, onProgress });
    case "rlrt":
      return exactRlrt(call.table, call.spec, call.options);
    case "structures":
      return compareStructures(call.table, call.spec, { ...call.options, onProgress });
  }
}

if (!isMainThread && parentPort && (workerData as EngineCall | undefined)?.kind) {
  try {
    parentPort.postMessage({ result: work(workerData as EngineCall) } satisfies Message);
  } catch (e) {
    const err = e as Error;
    parentPort.postMessage({ error: { name: err?.name ?? "Error", message: err?.message ?? String(e) } } satisfies Message);
  }
}
