// The tiled inverse of the dense block (linalg/inverse.ts) against the row-by-row invFromChol
// and against A^{-1} A = I, on random SPD matrices of every size mod 4 around the tile limits.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Rng } from "../src/engine/inference/rng";
import { cholLower, invFromChol } from "../src/engine/linalg/dense";
import { invFromCholTiled } from "../src/engine/linalg/inverse";

const rng = new Rng(11);

/** A random SPD matrix B B' / k + I (full, row-major), k columns of B. */
function spd(n: number, k: number): Float64Array {
  const B = Float64Array.from({ length: n * k }, () => rng.normal());
  const A = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = i === j ? 1 : 0;
      for (let c = 0; c < k; c++) s += (B[i * k + c] * B[j * k + c]) / k;
      A[i * n + j] = A[j * n + i] = s;
    }
  }
  return A;
}

test("invFromCholTiled equals invFromChol and inverts A (sizes 5-133, every n mod 4)", () => {
  for (const n of [5, 63, 64, 65, 66, 67, 100, 130, 131, 133]) {
    const A = spd(n, Math.max(3, n >> 2));
    const L = Float64Array.from(A);
    assert.ok(cholLower(L, n));
    const ref = invFromChol(L, n), got = invFromCholTiled(L, n);
    let scale = 0;
    for (const v of ref) scale = Math.max(scale, Math.abs(v));
    for (let i = 0; i < n * n; i++) assert.ok(Math.abs(got[i] - ref[i]) <= 1e-10 * scale, `n = ${n}, entry ${i}: ${got[i]} vs ${ref[i]}`);
    // Symmetric, and A S = I.
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        assert.equal(got[i * n + j], got[j * n + i]);
        let s = 0;
        for (let k = 0; k < n; k++) s += A[i * n + k] * got[k * n + j];
        assert.ok(Math.abs(s - (i === j ? 1 : 0)) < 1e-9, `n = ${n}: (A S)[${i}][${j}] = ${s}`);
      }
    }
  }
});

test("invFromCholTiled reads only the lower triangle of L", () => {
  const n = 70;
  const L = spd(n, 20);
  assert.ok(cholLower(L, n));
  const ref = invFromCholTiled(L, n);
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) L[i * n + j] = 1e300;
  assert.deepEqual(invFromCholTiled(L, n), ref);
});
