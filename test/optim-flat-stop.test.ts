// BOBYQA's flatStop (optim/types.ts): on smooth objectives it ends where the model, accurate at
// the current radius, promises less than ftol, in fewer evaluations than going down to rhoend,
// and still at the minimum to the accuracy that ftol implies.
import { test } from "node:test";
import assert from "node:assert/strict";
import { bobyqa } from "../src/engine/optim";

/** A smooth, non-quadratic bowl with its minimum at m (value 1e5 there, like a deviance). */
const bowl = (m: number[]) => (x: Float64Array): number => {
  let s = 1e5;
  for (let i = 0; i < m.length; i++) s += 3e4 * (i + 1) * (x[i] - m[i]) ** 2 + 50 * (x[i] - m[i]) ** 4;
  s += 1e4 * (x[0] - m[0]) * (x[1] - m[1]) + Math.exp(x[0] - m[0]) - (x[0] - m[0]);
  return s;
};

for (const m of [[0.28, 0.44], [1.5, 0.07], [0.3, 2, 0.6]]) {
  test(`flatStop ends at the minimum of a smooth bowl in fewer evaluations (${m.length} parameters)`, () => {
    const f = bowl(m);
    const start = m.map((v) => v * 0.85 + 0.01);
    const opts = { lower: m.map(() => 0), rhobeg: 0.05, rhoend: 1e-7, ftolAbs: 1e-8, ftolRel: 1e-12 };
    const plain = bobyqa(f, start, opts);
    const flat = bobyqa(f, start, { ...opts, flatStop: true });
    assert.equal(flat.status, "converged");
    assert.ok(flat.nfev <= plain.nfev, `${flat.nfev} evaluations with flatStop, ${plain.nfev} without`);
    // ftol is 1e-7 here (1e-12 of 1e5): the value within a few ftol, x within sqrt(ftol / curvature).
    assert.ok(flat.fval - plain.fval < 1e-6, `value ${flat.fval} vs ${plain.fval}`);
    flat.x.forEach((v, i) => assert.ok(Math.abs(v - m[i]) < 1e-5, `x[${i}] = ${v}, minimum ${m[i]}`));
  });
}
