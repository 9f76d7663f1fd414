// The Diagnostics sheet's plan (src/taskpane/diagnostics.ts): one chart per diagnostic with a
// title, axis titles and data-scaled bounds, its series on ranges of the right length, and an
// evenly spread subset (said in the title) past MAX_POINTS rows.
import { test } from "node:test";
import assert from "node:assert/strict";
import { fitModel } from "../../src/engine";
import { diagnostics } from "../../src/engine/inference/diagnostics";
import { MAX_POINTS, diagnosticsPlan } from "../../src/taskpane/diagnostics";
import { loadTable } from "../helpers/fixtures";

const rowsOf = (range: string) => {
  const m = /^[A-Z]+(\d+):[A-Z]+(\d+)$/.exec(range)!;
  return Number(m[2]) - Number(m[1]) + 1;
};

test("diagnostics plan: residuals, QQ of residuals and of each effect's BLUPs, caterpillars", () => {
  const fit = fitModel(loadTable("test/data/sleepstudy.csv"), "Reaction ~ Days + (Days|Subject)", { fitted: true, ci: "none" });
  const d = diagnostics(fit);
  const plan = diagnosticsPlan(d, "Reaction", fit.spec);
  assert.deepEqual(plan.charts.map((c) => c.title), [
    "Residuals vs fitted values",
    "Normal QQ plot: residuals",
    "Normal QQ plot: BLUPs of Subject: (Intercept)",
    "Caterpillar plot: Subject: (Intercept), sorted",
    "Normal QQ plot: BLUPs of Subject: Days",
    "Caterpillar plot: Subject: Days, sorted",
  ]);
  for (const c of plan.charts) {
    assert.ok(c.xTitle && c.yTitle, c.title);
    assert.ok(c.x.min < c.x.max && c.y.min < c.y.max, `bounds of ${c.title}`);
    for (const s of c.series) assert.equal(rowsOf(s.x), rowsOf(s.y), `${c.title}: ${s.name}`);
  }
  assert.equal(rowsOf(plan.charts[0].series[0].y), 180);
  assert.equal(rowsOf(plan.charts[3].series[1].y), 18);
  assert.equal(rowsOf(plan.charts[3].series[0].y), 54, "18 segments, each two points and a blank");
  // The residuals fall inside the axis bounds, and the reference line spans the x axis.
  const r = plan.charts[0].y;
  assert.ok(Math.min(...d.residual) >= r.min && Math.max(...d.residual) <= r.max);
  // Charts do not overlap: distinct anchors.
  assert.equal(new Set(plan.charts.map((c) => c.anchor.from)).size, plan.charts.length);
});

test("diagnostics plan: past MAX_POINTS rows an evenly spread subset, said in the title", () => {
  const n = 3 * MAX_POINTS;
  const fitted = Array.from({ length: n }, (_, i) => i / n);
  const residual = fitted.map((x, i) => Math.sin(i) * 0.1);
  const sorted = [...residual].sort((a, b) => a - b);
  const d = { fitted, residual, residualQQ: { theoretical: sorted.map((_, i) => (i - n / 2) / n), sample: sorted, intercept: 0, slope: 0.1 }, effects: [] };
  const plan = diagnosticsPlan(d, "y", "y ~ x + (1|g)");
  assert.equal(plan.charts[0].title, `Residuals vs fitted values (${MAX_POINTS} of ${n} rows shown)`);
  assert.equal(rowsOf(plan.charts[0].series[0].y), MAX_POINTS);
  assert.match(plan.charts[1].title, new RegExp(`${MAX_POINTS} of ${n} values shown`));
});
