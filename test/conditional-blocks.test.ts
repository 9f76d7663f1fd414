// conditionalCovariances (model/conditional-blocks.ts) against solve.ts's conditionalBlocks, whose
// numbers blocked.test.ts checks against a dense inverse: every block structure (chain, dense
// block, both, vector-valued terms), and a dense block of more than 64 rows, where the inverse
// takes the tiled path.
import { test } from "node:test";
import assert from "node:assert/strict";
import { BlockedModel } from "../src/engine/model/blocked";
import { buildReMats } from "../src/engine/model/remat";
import { conditionalBlocks } from "../src/engine/model/solve";
import { conditionalCovariances } from "../src/engine/model/conditional-blocks";
import { Rng } from "../src/engine/inference/rng";
import type { ReTermDesign } from "../src/engine/types";

const rng = new Rng(11);
const n = 600;
const p = 2;

function term(group: string, refs: Int32Array, ell: number, q: number): ReTermDesign {
  const z = new Float64Array(n * q);
  for (let i = 0; i < n; i++) {
    z[i * q] = 1;
    for (let a = 1; a < q; a++) z[i * q + a] = rng.normal();
  }
  return { group, levels: Array.from({ length: ell }, (_, i) => String(i)), refs, effects: Array.from({ length: q }, (_, a) => (a === 0 ? "(Intercept)" : `x${a}`)), z, correlated: true };
}

const levels = (k: number) => Int32Array.from({ length: n }, () => Math.floor(rng.uniform() * k));
const a60 = levels(60), b80 = levels(80), c5 = levels(5);
const inner = levels(40), mid = inner.map((v) => Math.floor(v / 4)), top = mid.map((v) => Math.floor(v / 5));

const scenarios: [string, ReTermDesign[]][] = [
  ["one term", [term("a", a60, 60, 2)]],
  ["crossed scalar factors, dense block of 85 rows", [term("b", b80, 80, 1), term("a", a60, 60, 1), term("c", c5, 5, 1)]],
  ["crossed vector-valued factors", [term("a", a60, 60, 2), term("b", b80, 80, 1), term("c", c5, 5, 2)]],
  ["three nested levels", [term("top", top, 2, 1), term("mid", mid, 10, 2), term("inner", inner, 40, 1)]],
  ["nested chain with crossed factors", [term("mid", mid, 10, 1), term("inner", inner, 40, 2), term("x", b80, 80, 1), term("y", c5, 5, 2)]],
];

for (const [name, terms] of scenarios) {
  test(`conditional covariance blocks equal solve.ts's: ${name}`, () => {
    const X = new Float64Array(n * p), y = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      X[i * p] = 1;
      X[i * p + 1] = rng.normal();
      y[i] = rng.normal() + X[i * p + 1];
    }
    const remats = buildReMats(terms, n);
    const model = new BlockedModel(remats, X, y, p);
    const nth = remats.reduce((s, r) => s + (r.q * (r.q + 1)) / 2, 0);
    for (let k = 0; k < 3; k++) {
      const theta = Array.from({ length: nth }, () => 0.3 + rng.uniform());
      assert.ok(model.factor(theta));
      const want = conditionalBlocks(model), got = conditionalCovariances(model);
      assert.equal(got.length, want.length);
      want.forEach((w, t) => {
        assert.equal(got[t].length, w.length);
        for (let i = 0; i < w.length; i++) assert.ok(Math.abs(got[t][i] - w[i]) <= 1e-12 * Math.max(1, Math.abs(w[i])), `term ${t} entry ${i}: ${got[t][i]} vs ${w[i]}`);
      });
    }
  });
}
