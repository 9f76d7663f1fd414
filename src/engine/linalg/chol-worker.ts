// The helper thread of threads.ts (Node only; never bundled): waits for a step on the shared
// control block, takes its chunks from the shared counter with the main thread, and waits again.
import { receiveMessageOnPort, workerData, type MessagePort } from "node:worker_threads";
import { attachShared } from "./simd";
import { chunksOf, runChunk } from "./chol-blocked";
import { C_BYTE, C_FAIL, C_I0, C_I1, C_KIND, C_LD, C_LEN, C_MEM, C_OFF, C_OUT, C_SEQ, C_WDONE, FAIL_IN_CHUNK, FAIL_START, takeChunk } from "./threads";

const { ctl, port } = workerData as { ctl: Int32Array; port: MessagePort };
let memId = 0;
let mem: WebAssembly.Memory | null = null;
let buf: ArrayBufferLike | null = null;
let out = -1;
let ok = false;
/** The last step's view of the arena (the steps of one factor all use the same). */
let view: Float64Array | null = null;

/** The memory of a step: the messages already sent hold it (the last one wins). */
function memoryFor(id: number): boolean {
  const t0 = Date.now();
  while (memId !== id) {
    const msg = receiveMessageOnPort(port);
    if (!msg) {
      // Sent just before the step: it is on its way.
      if (Date.now() - t0 > 1000) return false;
      Atomics.wait(ctl, C_SEQ, Atomics.load(ctl, C_SEQ), 1);
      continue;
    }
    const m = msg.message as { id: number; mem: WebAssembly.Memory };
    memId = m.id;
    mem = m.mem;
    buf = mem.buffer;
    out = -1;
    view = null;
  }
  return mem !== null;
}

let seen = 0;
for (;;) {
  Atomics.wait(ctl, C_SEQ, seen);
  const seq = Atomics.load(ctl, C_SEQ);
  if (seq === seen) continue;
  seen = seq;
  // The fields are read before the first chunk is taken; a taken chunk proves they were this step's.
  const kind = ctl[C_KIND], i0 = ctl[C_I0], i1 = ctl[C_I1], off = ctl[C_OFF], ld = ctl[C_LD];
  const byte = ctl[C_BYTE], len = ctl[C_LEN], id = ctl[C_MEM], outByte = ctl[C_OUT];
  if (!memoryFor(id)) {
    Atomics.store(ctl, C_FAIL, FAIL_START);
    continue;
  }
  if (out !== outByte) {
    out = outByte;
    ok = attachShared(mem!, buf!, out);
  }
  if (!ok) {
    Atomics.store(ctl, C_FAIL, FAIL_START);
    continue;
  }
  if (!view || view.byteOffset !== byte || view.length !== len) view = new Float64Array(buf!, byte, len);
  const count = chunksOf(i0, i1);
  for (let c; (c = takeChunk(ctl, seq, count)) >= 0; ) {
    try {
      runChunk(view, off, ld, kind, i0, i1, c);
    } catch {
      Atomics.store(ctl, C_FAIL, FAIL_IN_CHUNK);
      break;
    }
    Atomics.add(ctl, C_WDONE, 1);
    Atomics.notify(ctl, C_WDONE);
  }
}
