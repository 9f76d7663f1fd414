// A second thread for the dense Cholesky (chol-blocked.ts), where the runtime has one to give:
// Node with worker_threads and shared WebAssembly memory. One worker per process, started on
// first use and unref'd (it never keeps a command alive); it waits on a shared control block
// (Atomics) and runs row tasks on the arena that holds the matrix (simd.ts's shared arena), with
// its own kernel scratch. Anywhere else (a browser or Excel's Web Worker, a bundle, no shared
// memory, one core, LMM_THREADS=0) helper() returns null and the factor runs on this thread
// alone, with the same row tasks and so the same numbers.
import { sharedArenaOf } from "./simd";
import type { Helper } from "./chol-blocked";

/** Control block (Int32): the task's sequence number, then its fields, then the worker's answer. */
export const C_SEQ = 0, C_DONE = 1, C_KIND = 2, C_I0 = 3, C_RA = 4, C_RB = 5, C_OFF = 6, C_LD = 7, C_BYTE = 8, C_LEN = 9, C_MEM = 10, C_STATUS = 11, C_OUT = 12;
export const CONTROL_INTS = 16;
/** C_KIND value that ends the worker. */
export const STOP = -1;
/** How long to wait for the worker before taking its rows back (it only ever takes milliseconds). */
const WAIT_MS = 20000;

interface NodeWorker {
  unref(): void;
  on(ev: string, f: (x: unknown) => void): void;
}
interface NodePort {
  postMessage(m: unknown): void;
  unref?(): void;
}
interface WorkerThreads {
  Worker: new (file: string, opts: { workerData: unknown; transferList: unknown[] }) => NodeWorker;
  MessageChannel: new () => { port1: NodePort; port2: unknown };
  isMainThread: boolean;
}

/** A Node built-in, without a require() a bundler would try to resolve (undefined outside Node). */
function builtin<T>(name: string): T | undefined {
  const proc = (globalThis as { process?: { getBuiltinModule?: (n: string) => unknown; versions?: { node?: string } } }).process;
  if (!proc?.versions?.node || typeof proc.getBuiltinModule !== "function") return undefined;
  try {
    return proc.getBuiltinModule(name) as T | undefined;
  } catch {
    return undefined;
  }
}

function threadsWanted(): boolean {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
  return !(env && env.LMM_THREADS === "0");
}

class WorkerHelper implements Helper {
  private seq = 0;
  private memId = 0;
  private lastMem: WebAssembly.Memory | null = null;
  broken = false;

  constructor(private readonly ctl: Int32Array, private readonly port: NodePort) {}

  share(a: Float64Array, off: number, ld: number, kind: number, i0: number, ra: number, rb: number, here: () => void): boolean {
    const arenaOf = sharedArenaOf(a);
    if (this.broken || !arenaOf || ra >= rb) return false;
    const ctl = this.ctl;
    if (arenaOf.mem !== this.lastMem) {
      // The worker keeps one memory at a time: a new arena is sent before its first task.
      this.lastMem = arenaOf.mem;
      this.memId++;
      this.port.postMessage({ id: this.memId, mem: arenaOf.mem });
    }
    ctl[C_KIND] = kind;
    ctl[C_I0] = i0;
    ctl[C_RA] = ra;
    ctl[C_RB] = rb;
    ctl[C_OFF] = off;
    ctl[C_LD] = ld;
    ctl[C_BYTE] = a.byteOffset;
    ctl[C_LEN] = a.length;
    ctl[C_MEM] = this.memId;
    ctl[C_OUT] = arenaOf.workerOut;
    const seq = ++this.seq;
    Atomics.store(ctl, C_SEQ, seq);
    Atomics.notify(ctl, C_SEQ);
    here();
    // Spin briefly (the halves are balanced), then sleep until the worker says it is done.
    const t0 = Date.now();
    for (let spins = 0; Atomics.load(ctl, C_DONE) !== seq; spins++) {
      if (spins < 2000) continue;
      Atomics.wait(ctl, C_DONE, Atomics.load(ctl, C_DONE), 50);
      if (Atomics.load(ctl, C_DONE) !== seq && Date.now() - t0 > WAIT_MS) {
        this.broken = true;
        return false;
      }
    }
    if (Atomics.load(ctl, C_STATUS) !== 0) {
      // The worker could not run it (no kernel for this memory, or an error): never again.
      this.broken = true;
      return false;
    }
    return true;
  }
}

let team: WorkerHelper | null | undefined;

/** The helper thread, started on first call; null where there is none (see above). */
export function helper(): Helper | null {
  if (team !== undefined) return team && !team.broken ? team : null;
  team = null;
  if (!threadsWanted() || typeof SharedArrayBuffer !== "function" || typeof Atomics !== "object") return null;
  const wt = builtin<WorkerThreads>("node:worker_threads");
  const os = builtin<{ availableParallelism?: () => number; cpus: () => unknown[] }>("node:os");
  const path = builtin<{ join: (...p: string[]) => string }>("node:path");
  if (!wt || !os || !path || !wt.isMainThread) return null;
  const cores = os.availableParallelism ? os.availableParallelism() : os.cpus().length;
  if (cores < 2) return null;
  try {
    const ctl = new Int32Array(new SharedArrayBuffer(CONTROL_INTS * 4));
    const { port1, port2 } = new wt.MessageChannel();
    const worker = new wt.Worker(path.join(__dirname, "chol-worker.js"), { workerData: { ctl, port: port2 }, transferList: [port2] });
    worker.unref();
    port1.unref?.();
    const t = new WorkerHelper(ctl, port1);
    worker.on("error", () => (t.broken = true));
    worker.on("exit", () => (t.broken = true));
    team = t;
  } catch {
    team = null;
  }
  return team;
}
