// A second thread for the dense Cholesky (chol-blocked.ts), where the runtime has one to give:
// Node with worker_threads and shared WebAssembly memory. One worker per process, started on
// first use and unref'd (it never keeps a command alive). For each step the main thread posts
// the step on a shared control block and wakes the worker; both then take chunks from a shared
// counter until none are left, and the main thread waits only for a chunk the worker still has
// in hand. The counter carries the step's sequence number, so a worker that wakes late can never
// take a chunk of a later step. Anywhere else (a browser or Excel's Web Worker, a bundle, no
// shared memory, one core, LMM_THREADS=0) helper() returns null and every chunk runs on this
// thread: the same chunks, so the same numbers. So does a busy machine (coreFree).
import { sharedArenaOf } from "./simd";
import { Helper, chunksOf, runChunk } from "./chol-blocked";

/** Control block (Int32): the step's sequence number and fields, the chunk counter, the worker's count and answer. */
export const C_SEQ = 0, C_KIND = 1, C_I0 = 2, C_I1 = 3, C_OFF = 4, C_LD = 5, C_BYTE = 6, C_LEN = 7, C_MEM = 8, C_OUT = 9;
export const C_NEXT = 10, C_WDONE = 11, C_FAIL = 12;
export const CONTROL_INTS = 16;
/** C_FAIL values: the worker could not start a step (took no chunk), or failed inside one. */
export const FAIL_START = 1, FAIL_IN_CHUNK = 2;
/** The chunk counter: step sequence (low 16 bits) above, chunk index below. */
export const SEQ_SHIFT = 16;
export const SEQ_MASK = 0xffff;
/** How long to wait for a chunk the worker has in hand (it takes milliseconds) before giving up on threads. */
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

/** LMM_THREADS=0: never a second thread; =1: one whatever the machine's load (tests, benchmarks). */
function threadsSetting(): string | undefined {
  return (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.LMM_THREADS;
}

function threadsWanted(): boolean {
  return threadsSetting() !== "0";
}

/** Take the next chunk of step `seq` from the counter, or -1 when none is left (or the step is over). */
export function takeChunk(ctl: Int32Array, seq: number, count: number): number {
  for (;;) {
    const v = Atomics.load(ctl, C_NEXT);
    const idx = v & ((1 << SEQ_SHIFT) - 1);
    if (v >>> SEQ_SHIFT !== (seq & SEQ_MASK) || idx >= count) return -1;
    if (Atomics.compareExchange(ctl, C_NEXT, v, v + 1) === v) return idx;
  }
}

class WorkerHelper implements Helper {
  private seq = 0;
  private memId = 0;
  private lastMem: WebAssembly.Memory | null = null;
  broken = false;

  constructor(private readonly ctl: Int32Array, private readonly port: NodePort) {}

  share(a: Float64Array, off: number, ld: number, kind: number, i0: number, i1: number): boolean {
    const arenaOf = sharedArenaOf(a);
    if (this.broken || !arenaOf) return false;
    const ctl = this.ctl;
    if (arenaOf.mem !== this.lastMem) {
      // The worker keeps one memory at a time: a new arena is sent before its first step.
      this.lastMem = arenaOf.mem;
      this.memId++;
      this.port.postMessage({ id: this.memId, mem: arenaOf.mem });
    }
    const seq = (this.seq = (this.seq + 1) & SEQ_MASK);
    ctl[C_KIND] = kind;
    ctl[C_I0] = i0;
    ctl[C_I1] = i1;
    ctl[C_OFF] = off;
    ctl[C_LD] = ld;
    ctl[C_BYTE] = a.byteOffset;
    ctl[C_LEN] = a.length;
    ctl[C_MEM] = this.memId;
    ctl[C_OUT] = arenaOf.workerOut;
    Atomics.store(ctl, C_WDONE, 0);
    // Publishing the counter with the new sequence opens the step's chunks.
    Atomics.store(ctl, C_NEXT, seq << SEQ_SHIFT);
    Atomics.store(ctl, C_SEQ, seq);
    Atomics.notify(ctl, C_SEQ);
    const count = chunksOf(i0, i1);
    let mine = 0;
    for (let c; (c = takeChunk(ctl, seq, count)) >= 0; mine++) runChunk(a, off, ld, kind, i0, i1, c);
    // Every chunk is taken: wait for those the worker has in hand.
    const t0 = Date.now();
    for (let spins = 0; mine + Atomics.load(ctl, C_WDONE) < count; spins++) {
      if (Atomics.load(ctl, C_FAIL) === FAIL_IN_CHUNK) {
        // Rows it had half done cannot be redone from where they are (never seen: no chunk allocates or throws).
        this.broken = true;
        throw new Error("the dense Cholesky's helper thread failed");
      }
      if (spins < 1000) continue;
      Atomics.wait(ctl, C_WDONE, Atomics.load(ctl, C_WDONE), 20);
      if (Date.now() - t0 > WAIT_MS) {
        this.broken = true;
        throw new Error("the dense Cholesky's helper thread stopped answering");
      }
    }
    // A worker that could not take part (no kernel for this memory) took no chunk: go on without it.
    if (Atomics.load(ctl, C_FAIL) !== 0) this.broken = true;
    return true;
  }
}

let team: WorkerHelper | null | undefined;
/** The machine's load and core count, when known (Node). */
let loadAvg: (() => number[]) | null = null;
let coreCount = 1;

/**
 * Whether a second core is likely to be had: the run queue's 1-minute average (which counts
 * this thread) at most one above the cores. On a machine busier than that the worker gets
 * descheduled holding a chunk and the main thread waits for it at every step, so the factor
 * then runs here alone. Measured on InstEval, 2 cores: at load ~2.2 two threads 1.28 s against
 * 1.46 s for one; at load ~6 two threads no faster or slower. Results are the same either way
 * (chol-blocked.ts).
 */
function coreFree(): boolean {
  if (!loadAvg || threadsSetting() === "1") return true;
  try {
    return loadAvg()[0] <= coreCount + 0.5;
  } catch {
    return true;
  }
}

/** The helper thread, started on first call; null where there is none (see above) or the machine is busy. */
export function helper(): Helper | null {
  if (team !== undefined) return team && !team.broken && coreFree() ? team : null;
  team = null;
  if (!threadsWanted() || typeof SharedArrayBuffer !== "function" || typeof Atomics !== "object") return null;
  const wt = builtin<WorkerThreads>("node:worker_threads");
  const os = builtin<{ availableParallelism?: () => number; cpus: () => unknown[]; loadavg?: () => number[] }>("node:os");
  const path = builtin<{ join: (...p: string[]) => string }>("node:path");
  if (!wt || !os || !path || !wt.isMainThread) return null;
  const cores = os.availableParallelism ? os.availableParallelism() : os.cpus().length;
  if (cores < 2) return null;
  coreCount = cores;
  loadAvg = typeof os.loadavg === "function" ? os.loadavg : null;
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
  return team && coreFree() ? team : null;
}
