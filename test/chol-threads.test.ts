// The dense block's Cholesky by row blocks (chol-blocked.ts), alone and with the second thread
// of threads.ts: the two give the same factor to the last bit, it agrees with cholLower up to
// rounding, it refuses a matrix that is not positive definite, and the plain-array path (no
// SIMD arena, as in a runtime without WebAssembly SIMD) factors too.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { arena } from "../src/engine/linalg/simd";
import { cholLower } from "../src/engine/linalg/dense";
import { BLOCK_ROWS, cholBlocked } from "../src/engine/linalg/chol-blocked";
import { helper } from "../src/engine/linalg/threads";
import { Rng } from "../src/engine/inference/rng";

// The helper whatever the machine's load (threads.ts otherwise leaves it out on a busy machine).
if (process.env.LMM_THREADS === undefined) process.env.LMM_THREADS = "1";

/** A random symmetric positive definite n x n (lower triangle), well conditioned. */
function spd(n: number, seed: number): Float64Array {
  const rng = new Rng(seed);
  const k = 30;
  const B = Float64Array.from({ length: n * k }, () => rng.normal());
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) {
    let s = 0;
    for (let m = 0; m < k; m++) s += B[i * k + m] * B[j * k + m];
    a[i * n + j] = s / k + (i === j ? 1 : 0);
  }
  return a;
}

function maxDiffLower(x: Float64Array, y: Float64Array, n: number): number {
  let d = 0;
  for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) d = Math.max(d, Math.abs(x[i * n + j] - y[i * n + j]));
  return d;
}

for (const n of [2 * BLOCK_ROWS + 37, 3 * BLOCK_ROWS, 517]) {
  test(`blocked Cholesky n = ${n}: with and without the second thread bit for bit, and cholLower's factor up to rounding`, () => {
    const src = spd(n, n);
    const [a] = arena([n * n], true);
    a.set(src);
    assert.ok(cholBlocked(a, n, 0, n, null));
    const serial = Float64Array.from(a);
    const h = helper();
    // Node from 20.16 has what threads.ts needs (getBuiltinModule, shared memory, workers).
    if (typeof (process as { getBuiltinModule?: unknown }).getBuiltinModule === "function" && process.env.LMM_THREADS === "1") assert.ok(h, "a helper thread");
    a.set(src);
    assert.ok(cholBlocked(a, n, 0, n, h));
    for (let i = 0; i < n * n; i++) if (a[i] !== serial[i]) assert.fail(`entry ${i}: ${a[i]} with the helper, ${serial[i]} without`);
    const ref = Float64Array.from(src);
    assert.ok(cholLower(ref, n));
    assert.ok(maxDiffLower(serial, ref, n) < 1e-12, "same factor as cholLower");
  });
}

test("blocked Cholesky refuses a matrix that is not positive definite, in any block", () => {
  const n = 3 * BLOCK_ROWS + 5;
  for (const bad of [3, BLOCK_ROWS + 10, n - 1]) {
    const [a] = arena([n * n], true);
    a.set(spd(n, 3));
    a[bad * n + bad] = -1;
    assert.equal(cholBlocked(a, n, 0, n, helper()), false);
  }
});

test("blocked Cholesky on plain arrays (no arena, no SIMD kernel) and on a block inside a larger matrix", () => {
  const n = 2 * BLOCK_ROWS + 11, ld = n + 7, off = 3 * ld + 5;
  const src = spd(n, 11);
  const big = new Float64Array(ld * (n + 4));
  for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) big[off + i * ld + j] = src[i * n + j];
  assert.ok(cholBlocked(big, n, off, ld, helper()));
  const ref = Float64Array.from(src);
  assert.ok(cholLower(ref, n));
  let d = 0;
  for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) d = Math.max(d, Math.abs(big[off + i * ld + j] - ref[i * n + j]));
  assert.ok(d < 1e-12);
});

test("the helper thread never keeps the process alive, and LMM_THREADS=0 means none", () => {
  const dir = path.join(__dirname, "..", "src", "engine", "linalg");
  const code = [
    `const t = require(${JSON.stringify(path.join(dir, "threads.js"))});`,
    `const c = require(${JSON.stringify(path.join(dir, "chol-blocked.js"))});`,
    `const s = require(${JSON.stringify(path.join(dir, "simd.js"))});`,
    "const n = 400, [a] = s.arena([n * n], true);",
    "for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) a[i * n + j] = i === j ? n : 1;",
    "const h = t.helper(); const ok = c.cholBlocked(a, n, 0, n, h);",
    "console.log(h ? 'helper' : 'none', ok);",
  ].join("\n");
  const r = spawnSync(process.execPath, ["-e", code], { encoding: "utf8", timeout: 20000 });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^(helper|none) true/);
  const r1 = spawnSync(process.execPath, ["-e", code], { encoding: "utf8", timeout: 20000, env: { ...process.env, LMM_THREADS: "1" } });
  assert.equal(r1.status, 0, r1.stderr);
  if (typeof (process as { getBuiltinModule?: unknown }).getBuiltinModule === "function") assert.equal(r1.stdout.trim(), "helper true");
  const off = spawnSync(process.execPath, ["-e", code], { encoding: "utf8", timeout: 20000, env: { ...process.env, LMM_THREADS: "0" } });
  assert.equal(off.stdout.trim(), "none true");
});

test("a crossed model's objective and estimates are the same to the last bit with and without the helper thread", () => {
  const engine = path.join(__dirname, "..", "src", "engine");
  const code = [
    `const { tableFromRows } = require(${JSON.stringify(path.join(engine, "index.js"))});`,
    `const { prepareFit, fitPrepared } = require(${JSON.stringify(path.join(engine, "model", "prepared.js"))});`,
    "let seed = 7; const u = () => (seed = (seed * 16807) % 2147483647) / 2147483647;",
    "const nd = 420, ud = Array.from({ length: nd }, () => u() - 0.5), rows = [['y', 's', 'd', 'g']];",
    "for (let i = 0; i < 900; i++) { const us = u() - 0.5, k = 3 + Math.floor(u() * 5);",
    "  for (let j = 0; j < k; j++) { const d = Math.floor(u() * nd); rows.push([String(us + ud[d] + 0.3 * (d % 9) / 9 + u()), 's' + i, 'd' + d, 'g' + (d % 9)]); } }",
    "const prep = prepareFit(tableFromRows(rows), 'y ~ 1 + (1|s) + (1|d) + (1|g)');",
    "const vals = [[0.5, 0.7, 0.2], [1, 1, 1], [0.1, 2, 0.05]].map((th) => prep.model.evaluate(th, true));",
    "const fit = fitPrepared(prep, 'REML');",
    "console.log(JSON.stringify({ QD: prep.model.QD, vals, theta: Array.from(fit.theta), obj: fit.objective }));",
  ].join("\n");
  const run = (threads: string) => {
    const r = spawnSync(process.execPath, ["-e", code], { encoding: "utf8", timeout: 120000, env: { ...process.env, LMM_THREADS: threads } });
    assert.equal(r.status, 0, r.stderr);
    return JSON.parse(r.stdout.trim().split("\n").pop()!) as { QD: number; vals: number[]; theta: number[]; obj: number };
  };
  const one = run("0"), two = run("1");
  assert.ok(one.QD >= 384, `a dense block of ${one.QD} rows, large enough for the helper`);
  assert.deepEqual(two, one);
});
