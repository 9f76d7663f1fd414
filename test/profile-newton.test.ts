// Newton's method on the profile system (inference/profile-newton.ts) on deviances whose profile
// ends are known: a quadratic in log-SD (the ends are the Wald ends on that scale), a
// non-quadratic one with correlated parameters (against a brute-force profile: golden-section
// inner minimization and bisection on zeta), and a profile that flattens before reaching the
// target as the SD goes to 0 (the lower end is 0; the upper one is left to the walk).
import { test } from "node:test";
import assert from "node:assert/strict";
import { newtonProfileEnds } from "../src/engine/inference/profile-newton";

const Z = 1.959963984540054;
const sd = { lo: 0, hi: Infinity };
const cor = { lo: -1, hi: 1 };

test("a quadratic deviance in log-SD: the ends are the Wald ends on the log scale", () => {
  const hat = Float64Array.from([0.5, 2]);
  // D = 10 + d' A d, d = log(phi / hat); with the 1/2 of a Taylor expansion H = 2A.
  const A = [40, 12, 12, 25];
  const dev = (phi: Float64Array) => {
    const d0 = Math.log(phi[0] / hat[0]), d1 = Math.log(phi[1] / hat[1]);
    return 10 + A[0] * d0 * d0 + 2 * A[1] * d0 * d1 + A[3] * d1 * d1;
  };
  const ends = newtonProfileEnds(dev, hat, [sd, sd], [0, 1], Z, 10);
  const det = A[0] * A[3] - A[1] * A[1];
  const inv = [A[3] / det, A[0] / det];
  for (const j of [0, 1]) {
    const half = Z * Math.sqrt(inv[j]);
    assert.ok(Math.abs(ends[j][0]! / (hat[j] * Math.exp(-half)) - 1) < 1e-6, `lower ${j}: ${ends[j][0]}`);
    assert.ok(Math.abs(ends[j][1]! / (hat[j] * Math.exp(half)) - 1) < 1e-6, `upper ${j}: ${ends[j][1]}`);
  }
});

/** min over x in [a, b] of f by golden sections (f unimodal there). */
function golden(f: (x: number) => number, a: number, b: number): number {
  const g = (Math.sqrt(5) - 1) / 2;
  let c = b - g * (b - a), d = a + g * (b - a);
  for (let it = 0; it < 200; it++) {
    if (f(c) < f(d)) b = d;
    else a = c;
    c = b - g * (b - a);
    d = a + g * (b - a);
  }
  return f((a + b) / 2);
}

test("a non-quadratic deviance with a correlation: the ends agree with a brute-force profile", () => {
  const hat = Float64Array.from([1.3, 0.4]);
  const eta = (phi: Float64Array) => [Math.log(phi[0] / hat[0]), Math.atanh(phi[1]) - Math.atanh(hat[1])];
  const dev = (phi: Float64Array) => {
    const [a, b] = eta(phi);
    return 50 + 30 * a * a + 16 * a * b + 20 * b * b + 9 * a * a * a + 4 * b * b * b * b + 3 * a * b * b;
  };
  const ends = newtonProfileEnds(dev, hat, [sd, cor], [0, 1], Z, 50);
  // Brute force: profile of parameter j at x, the other minimized on its eta.
  const profile = (j: number, x: number) => golden((e) => {
    const phi = new Float64Array(2);
    phi[j] = x;
    phi[1 - j] = j === 0 ? Math.tanh(Math.atanh(hat[1]) + e) : hat[0] * Math.exp(e);
    return dev(phi);
  }, -3, 3);
  const zeta = (j: number, x: number) => Math.sign(x - hat[j]) * Math.sqrt(Math.max(profile(j, x) - 50, 0));
  const root = (j: number, a: number, b: number, t: number) => {
    for (let it = 0; it < 100; it++) {
      const m = (a + b) / 2;
      if ((zeta(j, m) - t) * (zeta(j, a) - t) > 0) a = m;
      else b = m;
    }
    return (a + b) / 2;
  };
  const want = [[root(0, 0.5, hat[0], -Z), root(0, hat[0], 3, Z)], [root(1, -0.99, hat[1], -Z), root(1, hat[1], 0.99, Z)]];
  for (const j of [0, 1]) for (const s of [0, 1]) {
    assert.ok(Math.abs(ends[j][s]! - want[j][s]) < 1e-6 * Math.max(1, Math.abs(want[j][s])), `end ${j}/${s}: ${ends[j][s]} vs ${want[j][s]}`);
  }
});

test("a profile that flattens as the SD goes to 0: lower end 0, upper end left to the walk", () => {
  const hat = Float64Array.from([0.2, 1]);
  // In log(sd) the rise saturates at 3 < z^2: no crossing on either side, and at sd = 0 the
  // deviance is 13 - 1/40, short of the target.
  const dev = (phi: Float64Array) => {
    const a = phi[0] > 0 ? Math.log(phi[0] / hat[0]) : -Infinity, b = Math.log(phi[1] / hat[1]);
    return 10 + 3 * (1 - Math.exp(-a * a)) + 40 * b * b + 2 * Math.tanh(a) * b;
  };
  const ends = newtonProfileEnds(dev, hat, [sd, sd], [0], Z, 10);
  assert.equal(ends[0][0], 0);
  assert.equal(ends[0][1], undefined);
});

test("an estimate on its boundary: every end is left to the walk", () => {
  const hat = Float64Array.from([0, 1]);
  const ends = newtonProfileEnds((phi) => 10 + phi[0] + (phi[1] - 1) ** 2, hat, [sd, sd], [0, 1], Z, 10);
  assert.deepEqual(ends, [[undefined, undefined], [undefined, undefined]]);
});
