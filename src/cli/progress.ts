// Long work in the `lmm` command: the engine is synchronous, so it runs in a worker thread while
// the main thread stays free to answer Ctrl-C at once (one line on stderr, exit code 130) and to
// show progress. The progress line goes to stderr only when stderr is a terminal, so --json
// output, pipes and tests stay clean. The worker (engine-worker.ts) is started before the data
// file is read: its loading of the engine (~0.1 s) overlaps the main thread's reading and parsing
// of the file, and the main thread never loads the engine for these commands.
import * as path from "node:path";
import { Worker } from "node:worker_threads";
import type { DataTable, FitOptions } from "../engine/types";

export type EngineCall =
  | { kind: "fit"; table: DataTable; spec: string; options: Omit<FitOptions, "signal" | "onProgress"> }
  | { kind: "lrt"; table: DataTable; specs: string[]; options: { method?: FitOptions["method"] } }
  | { kind: "rlrt"; table: DataTable; spec: string; options: { nsim?: number; seed?: number } }
  | { kind: "structures"; table: DataTable; spec: string; options: { candidates?: string[] | null } };

export type Message = { progress: [number, string] } | { result: unknown } | { error: { name: string; message: string } };

/** Minimum milliseconds between progress lines (display only; the engine never reads the clock for this). */
const PROGRESS_EVERY_MS = 500;

/**
 * Runs one engine call in a worker thread; Ctrl-C ends the command with exit code 130. `make`
 * builds the call (reads the data file) once the worker is starting; if it throws, the worker is
 * stopped and the promise rejects with its error.
 */
export function runEngine<T>(make: () => EngineCall): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const worker = new Worker(path.join(__dirname, "engine-worker.js"));
    let call: EngineCall;
    try {
      call = make();
    } catch (e) {
      void worker.terminate();
      reject(e);
      return;
    }
    worker.postMessage(call);
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
