// The worker thread of the `lmm` command (progress.ts starts it): it loads the engine while the
// main thread reads the data file, then runs the one call it is sent and posts the result back.
import { parentPort } from "node:worker_threads";
import { compareModels, compareStructures, exactRlrt, fitModel } from "../engine";
import type { EngineCall, Message } from "./progress";

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

parentPort?.once("message", (call: EngineCall) => {
  try {
    parentPort!.postMessage({ result: work(call) } satisfies Message);
  } catch (e) {
    const err = e as Error;
    parentPort!.postMessage({ error: { name: err?.name ?? "Error", message: err?.message ?? String(e) } } satisfies Message);
  }
});
