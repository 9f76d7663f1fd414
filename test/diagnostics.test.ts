// The statistics of the diagnostic charts (issue 12): qqnorm's quantiles and qqline's reference
// line as R 4.2 computes them (values printed by R for the vectors below), the caterpillar rows
// and the diagnostics of a fit.
import { test } from "node:test";
import assert from "node:assert/strict";
import { fitModel } from "../src/engine";
import { caterpillar, diagnostics, qqNormal } from "../src/engine/inference/diagnostics";
import { closeAbs, loadTable } from "./helpers/fixtures";

const X = [3.1, -2, 0.5, 7, 1.2, -0.3, 2.2, 4.4, -1.1, 0.9, 5.5, 2.5];

test("qqNormal: R's qqnorm quantiles (ppoints a = 1/2 above 10 values, 3/8 up to 10) and qqline", () => {
  const q = qqNormal(X);
  const r = [-1.731664, -1.150349, -0.8122178, -0.5485223, -0.3186394, -0.1046335, 0.1046335, 0.3186394, 0.5485223, 0.8122178, 1.150349, 1.731664];
  r.forEach((v, i) => closeAbs(q.theoretical[i], v, 1e-6, `quantile ${i + 1}`));
  assert.deepEqual(q.sample, [...X].sort((a, b) => a - b));
  closeAbs(q.slope, 2.316566, 1e-6, "qqline slope");
  closeAbs(q.intercept, 1.8625, 1e-6, "qqline intercept");
  const q7 = qqNormal(X.slice(0, 7));
  [-1.364489, -0.7582926, -0.352934, 0, 0.352934, 0.7582926, 1.364489].forEach((v, i) => closeAbs(q7.theoretical[i], v, 1e-6, `7 values: quantile ${i + 1}`));
  assert.equal(qqNormal([1, NaN, 2, 3]).sample.length, 3, "missing values are left out");
  assert.throws(() => qqNormal([1]), /at least two/);
});

test("caterpillar: BLUPs sorted, +- 1.96 conditional SD; diagnostics of the sleepstudy fit", () => {
  const fit = fitModel(loadTable("test/data/sleepstudy.csv"), "Reaction ~ Days + (Days|Subject)", { fitted: true, ci: "none" });
  const d = diagnostics(fit);
  assert.equal(d.fitted.length, 180);
  assert.equal(d.effects.length, 2);
  assert.deepEqual(d.effects.map((e) => e.effect), ["(Intercept)", "Days"]);
  const t = fit.blups.Subject;
  const c = caterpillar(t, 1);
  for (let i = 1; i < c.length; i++) assert.ok(c[i].value >= c[i - 1].value, "sorted");
  const i = t.levels.indexOf(c[0].level);
  closeAbs(c[0].upper - c[0].value, 1.959963984540054 * t.se[i][1], 1e-12, "half-width");
  // Shifting y moves no residual: the QQ data of the residuals are unchanged.
  const rows = loadTable("test/data/sleepstudy.csv");
  const shifted = { ...rows, columns: rows.columns.map((col) => (col.name === "Reaction" && col.kind === "numeric" ? { ...col, values: col.values.map((v) => v + 1000) } : col)) };
  const d2 = diagnostics(fitModel(shifted, "Reaction ~ Days + (Days|Subject)", { fitted: true, ci: "none" }));
  d.residualQQ.sample.forEach((v, k) => closeAbs(d2.residualQQ.sample[k], v, 1e-6, `residual ${k}`));
});
