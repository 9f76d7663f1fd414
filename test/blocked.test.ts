// The blocked Cholesky (nesting chain + dense crossed block + fixed block) against a plain dense
// computation of the same objective, conditional modes and conditional covariances, on random
// designs of every block structure: crossed, nested, both, and one factor with two terms.
import { test } from "node:test";
import assert from "node:assert/strict";
import { BlockedModel } from "../src/engine/model/blocked";
import { ReMat, buildReMats, fillTemplate } from "../src/engine/model/remat";
import { conditionalBlocks, fixedEffects, sphericalModes } from "../src/engine/model/solve";
import { Rng } from "../src/engine/inference/rng";
import type { ReTermDesign } from "../src/engine/types";
import { addGram } from "../src/engine/linalg/gram";

const rng = new Rng(7);
const n = 240;
const p = 2;

/** Dense [ZΛ X y] cross-product + I on the Z block, and its full Cholesky (test oracle). */
function denseSystem(remats: ReMat[], X: Float64Array, y: Float64Array, theta: number[]) {
  let Q = 0;
  const off: number[] = [];
  for (const r of remats) {
    off.push(Q);
    Q += r.ell * r.q;
  }
  const ZL = new Float64Array(n * Q);
  remats.forEach((r, t) => {
    const T = new Float64Array(r.q * r.q);
    fillTemplate(theta, r.thetaOffset, r.q, T);
    for (let i = 0; i < n; i++) for (let b = 0; b < r.q; b++) {
      let s = 0;
      for (let a = 0; a < r.q; a++) s += r.z[i * r.q + a] * T[a * r.q + b];
      ZL[i * Q + off[t] + r.refs[i] * r.q + b] += s;
    }
  });
  const N = Q + p + 1;
  const M = new Float64Array(N * N);
  const row = new Float64Array(N);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < Q; c++) row[c] = ZL[i * Q + c];
    for (let f = 0; f < p; f++) row[Q + f] = X[i * p + f];
    row[Q + p] = y[i];
    for (let a = 0; a < N; a++) for (let b = 0; b < N; b++) M[a * N + b] += row[a] * row[b];
  }
  for (let c = 0; c < Q; c++) M[c * N + c] += 1;
  return { M, N, Q, off };
}

function denseObjective(M0: Float64Array, N: number, Q: number, reml: boolean): number {
  const M = M0.slice();
  for (let i = 0; i < N; i++) for (let j = 0; j <= i; j++) {
    let s = M[i * N + j];
    for (let k = 0; k < j; k++) s -= M[i * N + k] * M[j * N + k];
    M[i * N + j] = i === j ? Math.sqrt(s) : s / M[j * N + j];
  }
  let ld = 0, ldx = 0;
  for (let c = 0; c < Q; c++) ld += 2 * Math.log(M[c * N + c]);
  for (let f = 0; f < p; f++) ldx += 2 * Math.log(M[(Q + f) * N + Q + f]);
  const r2 = M[(N - 1) * N + N - 1] ** 2;
  const dof = reml ? n - p : n;
  return ld + (reml ? ldx : 0) + dof * (1 + Math.log((2 * Math.PI * r2) / dof));
}

/** Inverse of the symmetric Z block (Gauss–Jordan), for modes and conditional covariances. */
function invertZBlock(M: Float64Array, N: number, Q: number): Float64Array {
  const A = new Float64Array(Q * Q), I = new Float64Array(Q * Q);
  for (let a = 0; a < Q; a++) {
    I[a * Q + a] = 1;
    for (let b = 0; b < Q; b++) A[a * Q + b] = M[a * N + b];
  }
  for (let c = 0; c < Q; c++) {
    const pv = A[c * Q + c];
    for (let j = 0; j < Q; j++) {
      A[c * Q + j] /= pv;
      I[c * Q + j] /= pv;
    }
    for (let r = 0; r < Q; r++) {
      if (r === c) continue;
      const f = A[r * Q + c];
      for (let j = 0; j < Q; j++) {
        A[r * Q + j] -= f * A[c * Q + j];
        I[r * Q + j] -= f * I[c * Q + j];
      }
    }
  }
  return I;
}

function term(group: string, refs: Int32Array, ell: number, q: number): ReTermDesign {
  const z = new Float64Array(n * q);
  for (let i = 0; i < n; i++) {
    z[i * q] = 1;
    for (let a = 1; a < q; a++) z[i * q + a] = rng.normal();
  }
  return { group, levels: Array.from({ length: ell }, (_, i) => String(i)), refs, effects: Array.from({ length: q }, (_, a) => (a === 0 ? "(Intercept)" : `x${a}`)), z, correlated: true };
}

/** A term whose levels all have the same rows' values (a balanced design: equal Z_c'Z_c). */
function balancedTerm(group: string, q: number, perLevel: number): ReTermDesign {
  const pattern = Float64Array.from({ length: perLevel * q }, (_, i) => (i % q === 0 ? 1 : rng.normal()));
  const refs = Int32Array.from({ length: n }, (_, i) => Math.floor(i / perLevel));
  const z = Float64Array.from({ length: n * q }, (_, i) => pattern[i % (perLevel * q)]);
  const ell = n / perLevel;
  return { group, levels: Array.from({ length: ell }, (_, i) => String(i)), refs, effects: Array.from({ length: q }, (_, a) => (a === 0 ? "(Intercept)" : `x${a}`)), z, correlated: true };
}

/** A scalar term (0 + x | group): every level's Z_c'Z_c is its own. */
function slopeOnly(group: string, refs: Int32Array, ell: number): ReTermDesign {
  return { group, levels: Array.from({ length: ell }, (_, i) => String(i)), refs, effects: ["x"], z: Float64Array.from({ length: n }, () => rng.normal()), correlated: true };
}

/** A random intercept on groups of 4, 8 and 12 rows (3 distinct Z_c'Z_c). */
function unequalGroups(): ReTermDesign {
  const refs = new Int32Array(n);
  let row = 0, level = 0;
  while (row < n) {
    const size = [4, 8, 12][level % 3];
    for (let i = 0; i < size; i++) refs[row++] = level;
    level++;
  }
  return { group: "g", levels: Array.from({ length: level }, (_, i) => String(i)), refs, effects: ["(Intercept)"], z: new Float64Array(n).fill(1), correlated: true };
}

const levels = (k: number) => Int32Array.from({ length: n }, () => Math.floor(rng.uniform() * k));
const a30 = levels(30), b8 = levels(8), c5 = levels(5);
const inner = levels(40), mid = inner.map((v) => Math.floor(v / 4)), top = mid.map((v) => Math.floor(v / 5));

function distinctSizes(refs: Int32Array): number {
  const size = new Map<number, number>();
  for (const c of refs) size.set(c, (size.get(c) ?? 0) + 1);
  return new Set(size.values()).size;
}

const scenarios: [string, ReTermDesign[], number, number, number?][] = [
  ["one scalar term (a random intercept: one level class per group size)", [term("a", a30, 30, 1)], 1, 0, distinctSizes(a30)],
  ["random intercept, groups of three sizes (three level classes)", [unequalGroups()], 1, 0, 3],
  ["intercept and slope, balanced (one level class)", [balancedTerm("a", 2, 8)], 1, 0, 1],
  ["vector-valued term, balanced (one level class)", [balancedTerm("a", 3, 12)], 1, 0, 1],
  ["one intercept-and-slope term (fast path)", [term("a", a30, 30, 2)], 1, 0],
  ["one vector-valued term (fast path)", [term("a", a30, 30, 3)], 1, 0],
  ["two crossed factors (the first factor's levels in classes by size)", [term("a", a30, 30, 1), term("b", b8, 8, 1)], 1, 8, distinctSizes(a30)],
  ["three crossed scalar factors (classes; two templates in the dense block)", [term("a", a30, 30, 1), term("b", b8, 8, 1), term("c", c5, 5, 1)], 1, 13, distinctSizes(a30)],
  ["two crossed factors, the first a slope without intercept (no classes)", [slopeOnly("a", a30, 30), term("b", b8, 8, 1)], 1, 8],
  ["three crossed factors, vector-valued", [term("a", a30, 30, 2), term("b", b8, 8, 2), term("c", c5, 5, 1)], 1, 21],
  ["three nested levels", [term("top", top, 2, 1), term("mid", mid, 10, 2), term("inner", inner, 40, 1)], 3, 0],
  ["nested chain with crossed factors", [term("mid", mid, 10, 1), term("inner", inner, 40, 2), term("x", b8, 8, 1), term("y", c5, 5, 2)], 2, 18],
  ["one factor, two uncorrelated terms", [term("a", a30, 30, 1), term("a", a30, 30, 1)], 2, 0],
];

for (const [name, terms, chain, qd, classes = 0] of scenarios) {
  test(`blocked Cholesky equals the dense computation: ${name}`, () => {
    const X = new Float64Array(n * p), y = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      X[i * p] = 1;
      X[i * p + 1] = rng.normal();
      y[i] = rng.normal() + X[i * p + 1];
    }
    const remats = buildReMats(terms, n);
    const model = new BlockedModel(remats, X, y, p);
    assert.equal(model.m, chain, "length of the nesting chain");
    assert.equal(model.QD, qd, "size of the dense block");
    assert.equal(model.levelClassCount, classes, "levels grouped by equal Z_c'Z_c");
    const nth = remats.reduce((s, r) => s + (r.q * (r.q + 1)) / 2, 0);
    for (let k = 0; k < 4; k++) {
      const theta = Array.from({ length: nth }, () => rng.normal());
      const { M, N, Q, off } = denseSystem(remats, X, y, theta);
      for (const reml of [true, false]) {
        const ours = model.evaluate(theta, reml), want = denseObjective(M, N, Q, reml);
        assert.ok(Math.abs(ours - want) < 1e-9 * Math.abs(want), `objective ${ours} vs dense ${want}`);
      }
      model.factor(theta);
      const beta = fixedEffects(model);
      const u = sphericalModes(model);
      const cond = conditionalBlocks(model);
      const Oinv = invertZBlock(M, N, Q);
      // Dense modes: Ω u = Λ'Z'(y - X beta).
      const rhs = new Float64Array(Q);
      for (let a = 0; a < Q; a++) {
        let s = M[(Q + p) * N + a];
        for (let f = 0; f < p; f++) s -= beta[f] * M[(Q + f) * N + a];
        rhs[a] = s;
      }
      remats.forEach((r, t) => {
        for (let c = 0; c < r.ell; c++) for (let a = 0; a < r.q; a++) {
          const gi = off[t] + c * r.q + a;
          let s = 0;
          for (let b = 0; b < Q; b++) s += Oinv[gi * Q + b] * rhs[b];
          assert.ok(Math.abs(s - u[t][c * r.q + a]) < 1e-9, `mode of ${r.group} level ${c}`);
          for (let b = 0; b < r.q; b++) {
            assert.ok(Math.abs(Oinv[gi * Q + off[t] + c * r.q + b] - cond[t][c * r.q * r.q + a * r.q + b]) < 1e-9, `conditional covariance of ${r.group} level ${c}`);
          }
        }
      });
    }
  });
}

test("the SIMD dense kernels (when available) agree with the pure-JS ones, odd sizes included", async () => {
  const { arena } = await import("../src/engine/linalg/simd");
  const { cholLower, rdivLowerT } = await import("../src/engine/linalg/dense");
  for (const size of [67, 130]) {
    const rows = 7;
    const [a, b] = arena([size * size, rows * size]);
    const B = new Float64Array(size * 12);
    for (let i = 0; i < B.length; i++) B[i] = rng.normal();
    for (let i = 0; i < size; i++) {
      for (let j = 0; j <= i; j++) {
        let s = i === j ? 1 : 0;
        for (let k = 0; k < 12; k++) s += B[i * 12 + k] * B[j * 12 + k];
        a[i * size + j] = s;
      }
    }
    for (let i = 0; i < rows * size; i++) b[i] = rng.normal();
    const a2 = Float64Array.from(a), b2 = Float64Array.from(b);
    // Plain copies take the JS path; the textbook loop below is the oracle for both.
    assert.ok(cholLower(a, size) && cholLower(a2, size));
    rdivLowerT(b, rows, size, 0, size, a, 0, size);
    rdivLowerT(b2, rows, size, 0, size, a2, 0, size);
    const ref = new Float64Array(size * size);
    for (let i = 0; i < size; i++) {
      for (let j = 0; j <= i; j++) {
        let s = i === j ? 1 : 0;
        for (let k = 0; k < 12; k++) s += B[i * 12 + k] * B[j * 12 + k];
        for (let k = 0; k < j; k++) s -= ref[i * size + k] * ref[j * size + k];
        ref[i * size + j] = i === j ? Math.sqrt(s) : s / ref[j * size + j];
      }
    }
    for (let i = 0; i < size; i++) {
      for (let j = 0; j <= i; j++) {
        assert.ok(Math.abs(a[i * size + j] - ref[i * size + j]) < 1e-10);
        assert.ok(Math.abs(a2[i * size + j] - ref[i * size + j]) < 1e-10);
      }
    }
    for (let i = 0; i < rows * size; i++) assert.ok(Math.abs(b[i] - b2[i]) < 1e-10 * (1 + Math.abs(b2[i])));
  }
});

test("the Gram matrix four rows at a time equals the row-by-row sums (every n mod 4, with and without y)", () => {
  for (const rows of [0, 1, 2, 3, 4, 5, 6, 7, 41]) {
    for (const withY of [false, true]) {
      const cols = 5, X = Float64Array.from({ length: rows * cols }, () => rng.normal()), y = Float64Array.from({ length: rows }, () => rng.normal());
      const w = withY ? cols + 1 : cols;
      const got = new Float64Array(w * w).fill(0.5);
      addGram(X, cols, withY ? y : null, rows, got);
      for (let f = 0; f < w; f++) for (let g = 0; g < w; g++) {
        let want = 0.5;
        if (g <= f) for (let r = 0; r < rows; r++) want += (f < cols ? X[r * cols + f] : y[r]) * (g < cols ? X[r * cols + g] : y[r]);
        assert.ok(Math.abs(got[f * w + g] - want) <= 1e-12 * Math.max(1, Math.abs(want)), `n = ${rows}, entry (${f}, ${g}): ${got[f * w + g]} vs ${want}`);
      }
    }
  }
});
