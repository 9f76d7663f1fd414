// A WebAssembly SIMD kernel for the one O(n^3) loop of the engine: the dot products of the dense
// Cholesky factorization (the Schur block of crossed factors). The module is tiny and written
// here as bytes by our own encoder below (no toolchain, no downloaded binary); it runs in Node
// and in a browser Web Worker. Where WebAssembly SIMD is missing, `arena` hands out plain
// Float64Arrays and dense.ts uses its pure-JS kernels: same results up to rounding order.
//
// The kernel, tile42(p0, p1, p2, p3, q0, q1, len, out): for four rows p_r and two rows q_c
// (byte addresses of doubles in the module's memory) and a length `len` in bytes (a multiple of
// 16), stores the eight dot products sum_k p_r[k] q_c[k] at out (row-major 4 x 2). Each loaded
// pair of doubles feeds four or two multiply-adds, with all eight sums held in registers.

const I32 = 0x7f;
const V128 = 0x7b;

function u32(v: number): number[] {
  const o: number[] = [];
  do {
    let b = v & 0x7f;
    v >>>= 7;
    if (v) b |= 0x80;
    o.push(b);
  } while (v);
  return o;
}

function s32(v: number): number[] {
  const o: number[] = [];
  for (;;) {
    const b = v & 0x7f;
    v >>= 7;
    if ((v === 0 && !(b & 0x40)) || (v === -1 && b & 0x40)) {
      o.push(b);
      return o;
    }
    o.push(b | 0x80);
  }
}

const vec = (items: number[][]): number[] => [...u32(items.length), ...items.flat()];
const name = (s: string): number[] => vec(Array.from(s, (c) => [c.charCodeAt(0)]));
const section = (id: number, body: number[]): number[] => [id, ...u32(body.length), ...body];
const get = (i: number) => [0x20, ...u32(i)];
const set = (i: number) => [0x21, ...u32(i)];
const tee = (i: number) => [0x22, ...u32(i)];
const i32const = (v: number) => [0x41, ...s32(v)];
const I32_ADD = 0x6a, I32_LT_S = 0x48, I32_LE_S = 0x4c, F64_ADD = 0xa0;
const simd = (op: number) => [0xfd, ...u32(op)];
const v128load = [...simd(0), 4, 0];
const F64X2_ADD = simd(240), F64X2_MUL = simd(242);
const lane = (l: number) => [...simd(33), l];
const f64store = (off: number) => [0x39, 3, ...u32(off)];

function tileBody(): number[] {
  const P = [0, 1, 2, 3], Q = [4, 5], LEN = 6, OUT = 7, K = 8, ACC = 9, X = 17, B = 21;
  const b: number[] = [];
  b.push(0x02, 0x40); // block
  b.push(...get(LEN), ...i32const(16), I32_LT_S, 0x0d, 0); // nothing to do when len < 16
  b.push(0x03, 0x40); // loop
  for (let r = 0; r < 4; r++) b.push(...get(P[r]), ...get(K), I32_ADD, ...v128load, ...set(X + r));
  for (let c = 0; c < 2; c++) b.push(...get(Q[c]), ...get(K), I32_ADD, ...v128load, ...set(B + c));
  for (let r = 0; r < 4; r++) {
    for (let c = 0; c < 2; c++) {
      const a = ACC + 2 * r + c;
      b.push(...get(a), ...get(X + r), ...get(B + c), ...F64X2_MUL, ...F64X2_ADD, ...set(a));
    }
  }
  // k += 16; continue while k + 16 <= len
  b.push(...get(K), ...i32const(16), I32_ADD, ...tee(K), ...i32const(16), I32_ADD, ...get(LEN), I32_LE_S, 0x0d, 0);
  b.push(0x0b, 0x0b); // end loop, end block
  for (let t = 0; t < 8; t++) b.push(...get(OUT), ...get(ACC + t), ...lane(0), ...get(ACC + t), ...lane(1), F64_ADD, ...f64store(8 * t));
  b.push(0x0b);
  // Locals after the 8 parameters: k (i32), 8 accumulators, 4 + 2 loaded vectors (v128, zeroed).
  const code = [...vec([[...u32(1), I32], [...u32(14), V128]]), ...b];
  return [...u32(code.length), ...code];
}

/** Largest memory a module may import, in 64 KiB pages (all of wasm32's 4 GiB). */
const MAX_PAGES = 65536;

/** `shared`: the module imports a shared memory (one that worker threads also see, threads.ts). */
function moduleBytes(shared: boolean): ArrayBuffer {
  const type = section(1, vec([[0x60, ...vec(Array.from({ length: 8 }, () => [I32])), ...vec([])]]));
  const limits = shared ? [0x03, ...u32(1), ...u32(MAX_PAGES)] : [0x00, ...u32(1)];
  const imports = section(2, vec([[...name("env"), ...name("mem"), 0x02, ...limits]]));
  const funcs = section(3, vec([u32(0)]));
  const exports = section(7, vec([[...name("tile42"), 0x00, ...u32(0)]]));
  const code = section(10, vec([tileBody()]));
  return new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, ...type, ...imports, ...funcs, ...exports, ...code]).buffer as ArrayBuffer;
}

type Tile = (p0: number, p1: number, p2: number, p3: number, q0: number, q1: number, len: number, out: number) => void;

/** The kernel bound to one memory, and the 8-double scratch it writes its sums to. */
export interface Kernel {
  tile: Tile;
  out: Float64Array;
  outByte: number;
}

const compiled: (WebAssembly.Module | null | undefined)[] = [undefined, undefined];
function module(shared: boolean): WebAssembly.Module | null {
  const i = shared ? 1 : 0;
  if (compiled[i] !== undefined) return compiled[i]!;
  compiled[i] = null;
  try {
    const bytes = moduleBytes(shared);
    if (typeof WebAssembly === "object" && WebAssembly.validate(bytes)) compiled[i] = new WebAssembly.Module(bytes);
  } catch {
    compiled[i] = null;
  }
  return compiled[i]!;
}

const kernels = new WeakMap<ArrayBufferLike, Kernel>();
/** Shared arenas: their memory and where a second thread's kernel writes its sums. */
const sharedArenas = new WeakMap<ArrayBufferLike, { mem: WebAssembly.Memory; workerOut: number }>();

/** Set LMM_NO_SIMD=1 (Node) to force the pure-JS kernels, e.g. to compare them. */
function disabled(): boolean {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
  return !!env && !!env.LMM_NO_SIMD;
}

function bind(mod: WebAssembly.Module, mem: WebAssembly.Memory, outByte: number): Kernel {
  const inst = new WebAssembly.Instance(mod, { env: { mem } });
  return { tile: inst.exports.tile42 as Tile, out: new Float64Array(mem.buffer, outByte, 8), outByte };
}

/**
 * Float64Arrays of the given lengths, all in one WebAssembly memory when SIMD is available (so
 * the kernel can read them), else ordinary arrays. Allocated once per model, never grown.
 * `shared`: in a shared memory where the runtime has one (Node), so that a worker thread can
 * work on the same arrays (threads.ts); it then also holds a second thread's scratch.
 */
export function arena(lengths: number[], shared = false): Float64Array[] {
  const canShare = shared && typeof SharedArrayBuffer === "function";
  const mod = disabled() ? null : module(canShare);
  let total = 0;
  for (const len of lengths) total += Math.ceil(len / 2) * 2;
  if (!mod || total < 4096) return lengths.map((len) => new Float64Array(len));
  const outByte = total * 8;
  const pages = Math.ceil((outByte + 128) / 65536);
  let mem: WebAssembly.Memory;
  try {
    mem = new WebAssembly.Memory(canShare ? { initial: pages, maximum: pages, shared: true } : { initial: pages });
  } catch {
    return canShare ? arena(lengths, false) : lengths.map((len) => new Float64Array(len));
  }
  kernels.set(mem.buffer, bind(mod, mem, outByte));
  if (canShare) sharedArenas.set(mem.buffer, { mem, workerOut: outByte + 64 });
  let at = 0;
  return lengths.map((len) => {
    const a = new Float64Array(mem.buffer, at * 8, len);
    at += Math.ceil(len / 2) * 2;
    return a;
  });
}

/** The kernel that can read `a`, if it lives in an arena. */
export function kernelFor(a: Float64Array): Kernel | null {
  return kernels.get(a.buffer) ?? null;
}

/** The shared memory holding `a` and the second thread's scratch byte, if `a` is in a shared arena. */
export function sharedArenaOf(a: Float64Array): { mem: WebAssembly.Memory; workerOut: number } | null {
  return sharedArenas.get(a.buffer) ?? null;
}

/** In a worker thread: bind the kernel to a shared arena's memory, writing its sums at outByte. */
export function attachShared(mem: WebAssembly.Memory, buf: ArrayBufferLike, outByte: number): boolean {
  const mod = disabled() ? null : module(true);
  if (!mod) return false;
  const inst = new WebAssembly.Instance(mod, { env: { mem } });
  kernels.set(buf, { tile: inst.exports.tile42 as Tile, out: new Float64Array(buf, outByte, 8), outByte });
  return true;
}
