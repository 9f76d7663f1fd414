// The helper thread of threads.ts (Node only; never bundled): waits for a row task on the shared
// control block, runs it on the shared arena with its own kernel scratch, answers, and waits again.
import { receiveMessageOnPort, workerData, type MessagePort } from "node:worker_threads";
import { attachShared } from "./simd";
import { runRows } from "./chol-blocked";
import { C_BYTE, C_DONE, C_I0, C_KIND, C_LD, C_LEN, C_MEM, C_OFF, C_OUT, C_RA, C_RB, C_SEQ, C_STATUS, STOP } from "./threads";

const { ctl, port } = workerData as { ctl: Int32Array; port: MessagePort };
let memId = 0;
let mem: WebAssembly.Memory | null = null;
let buf: ArrayBufferLike | null = null;
let out = -1;
let ok = false;
/** The last task's view of the arena (tasks of one factor all use the same). */
let view: Float64Array | null = null;

/** The memory of task `id`: the messages already sent hold it (the last one wins). */
function memoryFor(id: number): boolean {
  while (memId !== id) {
    const msg = receiveMessageOnPort(port);
    if (!msg) {
      // Sent just before the task: wait for it to arrive.
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
  const kind = ctl[C_KIND];
  if (kind === STOP) break;
  let status = 1;
  try {
    if (memoryFor(ctl[C_MEM])) {
      if (out !== ctl[C_OUT]) {
        out = ctl[C_OUT];
        ok = attachShared(mem!, buf!, out);
      }
      if (ok) {
        if (!view || view.byteOffset !== ctl[C_BYTE] || view.length !== ctl[C_LEN]) view = new Float64Array(buf!, ctl[C_BYTE], ctl[C_LEN]);
        runRows(view, ctl[C_OFF], ctl[C_LD], kind, ctl[C_I0], ctl[C_RA], ctl[C_RB]);
        status = 0;
      }
    }
  } catch {
    status = 1;
  }
  ctl[C_STATUS] = status;
  Atomics.store(ctl, C_DONE, seq);
  Atomics.notify(ctl, C_DONE);
}
