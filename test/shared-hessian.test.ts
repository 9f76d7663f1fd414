// The pull-back of a Hessian through a parameter map (inference/shared-hessian.ts): at a point
// where the gradient vanishes, the Hessian of f(g(eta)) is J' H J. Checked against numDeriv-style
// Hessians of the composed function on a nonlinear map like varcomp's (exp of log-SDs over sigma).
import { test } from "node:test";
import assert from "node:assert/strict";
import { pullBack } from "../src/engine/inference/shared-hessian";
import { hessian } from "../src/engine/inference/numderiv";

const A = Float64Array.from([4, 1, 0.5, 1, 3, -0.2, 0.5, -0.2, 2]);
// varpar = (sd1 / sigma, sd2 / sigma, sigma) from eta = (log sd1, log sd2, log sigma).
const g = (e: Float64Array): Float64Array => Float64Array.from([Math.exp(e[0] - e[2]), Math.exp(e[1] - e[2]), Math.exp(e[2])]);
const eta0 = Float64Array.from([-0.4, 0.3, 0.2]);
const vp0 = g(eta0);
const f = (vp: Float64Array): number => {
  let s = 0;
  for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) s += 0.5 * (vp[i] - vp0[i]) * A[i * 3 + j] * (vp[j] - vp0[j]);
  return s;
};

test("pullBack equals the Hessian of the composed function at a stationary point", () => {
  const H = pullBack(A, vp0, eta0, g);
  assert.ok(H);
  const ref = hessian((e) => f(g(e)), eta0, 4);
  for (let i = 0; i < 9; i++) assert.ok(Math.abs(H[i] - ref[i]) < 1e-6 * (1 + Math.abs(ref[i])), `entry ${i}: ${H[i]} vs ${ref[i]}`);
  for (let a = 0; a < 3; a++) for (let b = 0; b < 3; b++) assert.equal(H[a * 3 + b], H[b * 3 + a]);
});

test("pullBack refuses a map that does not reproduce the Hessian's point, or fails near it", () => {
  assert.equal(pullBack(A, Float64Array.from([1, 1, 1]), eta0, g), null);
  assert.equal(pullBack(A, vp0, eta0, (e) => (e[0] > eta0[0] ? null : g(e))), null);
});

test("hessian's shared stencil agrees with numDeriv's four-point one on a smooth function", () => {
  const fn = (v: Float64Array): number => Math.exp(0.3 * v[0] - 0.2 * v[1]) + v[0] * v[0] * v[2] + Math.sin(v[1] * v[2]) + Math.log(1 + v[2] * v[2]);
  const x0 = [0.4, -1.1, 0.8];
  for (const levels of [1, 2, 4]) {
    const four = hessian(fn, x0, levels), two = hessian(fn, x0, levels, undefined, true);
    const tol = levels === 4 ? 1e-7 : levels === 2 ? 1e-4 : 2e-2;
    for (let i = 0; i < 9; i++) assert.ok(Math.abs(four[i] - two[i]) < tol * (1 + Math.abs(four[i])), `levels ${levels}, entry ${i}: ${two[i]} vs ${four[i]}`);
  }
});
