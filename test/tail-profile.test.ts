// Profiling a small last crossed term out of the theta search (tail-profile.ts): on simulated
// InstEval-like ratings (students x lecturers, lecturers nested in a few departments), the
// explicit function of the departments' theta equals the full evaluation at every value, its
// minimum is the minimum, and the search over the other parameters with it profiled out ends
// at the optimum of the full 3-parameter search, with fewer evaluations, for REML and ML.
import { test } from "node:test";
import assert from "node:assert/strict";
import { tableFromRows } from "../src/engine";
import { prepareFit } from "../src/engine/model/prepared";
import { minimizeTheta } from "../src/engine/model/optimize";
import { thetaLowerBounds } from "../src/engine/model/remat";
import { tailObjective } from "../src/engine/model/tail-profile";
import { Gen } from "./helpers/gen";

const SPEC = "y ~ service + (1|s) + (1|d) + (1|dept)";

/** ns students each rating 4-9 of nd lecturers, lecturer j in department j mod ndept. */
function ratings(ns: number, nd: number, ndept: number, seed: number) {
  const g = new Gen(seed);
  const us = Array.from({ length: ns }, () => 0.35 * g.normal());
  const ud = Array.from({ length: nd }, () => 0.5 * g.normal());
  const up = Array.from({ length: ndept }, () => 0.15 * g.normal());
  const rows: string[][] = [["y", "service", "s", "d", "dept"]];
  for (let i = 0; i < ns; i++) {
    const k = 4 + Math.floor(g.u() * 6);
    const seen = new Set<number>();
    while (seen.size < k) seen.add(Math.floor(g.u() * nd));
    for (const j of seen) {
      const service = g.u() < 0.4 ? 1 : 0;
      const y = 3 + 0.1 * service + us[i] + ud[j] + up[j % ndept] + 1.1 * g.normal();
      rows.push([y.toFixed(6), String(service), `s${i}`, `d${j}`, `p${j % ndept}`]);
    }
  }
  return tableFromRows(rows);
}

test("tail profile: the explicit function of the departments' theta is the full objective", () => {
  const prep = prepareFit(ratings(500, 160, 7, 3), SPEC);
  const m = prep.model;
  assert.ok(m.tailIndex >= 0, "the departments are a profiled tail");
  for (const reml of [true, false]) {
    const theta = Float64Array.from([0.3, 0.45, 0.1]);
    const P = m.tailPieces(theta, reml)!;
    const S = new Float64Array(P.pp * P.pp);
    for (const t of [0, 0.01, 0.1, 0.5, 3]) {
      theta[m.tailIndex] = t;
      const full = m.evaluate(theta, reml);
      assert.ok(Math.abs(tailObjective(P, t, S) - full) < 1e-9 * Math.abs(full), `t = ${t}: ${tailObjective(P, t, S)} vs ${full}`);
    }
    const best = m.tailMinimum(theta, reml)!;
    for (let t = 0; t < 1; t += 0.01) {
      theta[m.tailIndex] = t;
      assert.ok(best.f <= m.evaluate(theta, reml) + 1e-9, `minimum ${best.f} above the objective at t = ${t}`);
    }
  }
});

for (const reml of [true, false]) {
  test(`tail profile: the profiled search ends at the full search's optimum (${reml ? "REML" : "ML"}), in fewer evaluations`, () => {
    const prep = prepareFit(ratings(600, 200, 9, 11), SPEC);
    const m = prep.model;
    const f = (th: Float64Array) => m.evaluate(th, reml);
    const lower = thetaLowerBounds(m.remats), start = Float64Array.from([0.25, 0.4, 0.1]);
    const plain = minimizeTheta(f, start, lower, undefined, 0, 0, 0.1, undefined, null);
    const profiled = minimizeTheta(f, start, lower, undefined, 0, 0, 0.1, undefined, m.tailProfile(reml));
    assert.ok(profiled.converged && plain.converged);
    const atProfiled = m.evaluate(profiled.theta, reml);
    assert.ok(atProfiled <= plain.objective + 1e-7, `profiled end ${atProfiled}, full search ${plain.objective}`);
    profiled.theta.forEach((v, i) => assert.ok(Math.abs(v - plain.theta[i]) < 1e-3 * Math.max(plain.theta[i], 0.01), `theta[${i}]: ${v} vs ${plain.theta[i]}`));
    assert.ok(profiled.evaluations < plain.evaluations, `${profiled.evaluations} evaluations profiled, ${plain.evaluations} without`);
  });
}

test("tail profile: only for a small scalar last term of crossed scalar terms", () => {
  const t = ratings(200, 60, 5, 5);
  assert.equal(prepareFit(t, "y ~ service + (1|s) + (1|d)").model.tailIndex, -1, "two crossed terms: no prefix before the tail");
  assert.ok(prepareFit(t, SPEC).model.tailIndex >= 0);
});
