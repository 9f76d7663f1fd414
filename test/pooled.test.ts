// Issue 15 ("every residual structure on the 1M-row benchmark within 2x of AR1"): the
// pattern-pooled evaluator (src/engine/model/residual/pooled.ts) against the per-block one
// (residual-gradient.ts's DenseBlocks) and the blocked whitening path: the same objective and
// gradient at any point, the same optimum, on Sitka (one pattern) and on a simulated panel with
// missing occasions, varying covariates and strata (several patterns); and its fits invariant to
// row order, relabelled groups, and a rescaled and shifted response.
import { test } from "node:test";
import assert from "node:assert/strict";
import { fitModel, tableFromRows } from "../src/engine";
import type { DataTable } from "../src/engine/types";
import { prepareFit } from "../src/engine/model/prepared";
import { BlockEvaluator, DenseBlocks } from "../src/engine/model/residual-gradient";
import { fitByGradient } from "../src/engine/model/residual-fit";
import { Budget } from "../src/engine/model/cost";
import { thetaStart } from "../src/engine/model/remat";
import { residualStart } from "../src/engine/model/residual-start";
import { Rng } from "../src/engine/inference/rng";
import { loadTable } from "./helpers/fixtures";

const sitka = loadTable("assets/examples/sitka.csv");

/**
 * 240 subjects x 6 occasions; a subject misses occasions by one of four templates (so the blocks
 * fall into a few patterns per treatment), x varies by row, trt is a per-subject factor, and the
 * prior weight wt is a function of the occasion.
 */
function panelRows(seed = 3): string[][] {
  const rng = new Rng(seed);
  const rows: string[][] = [["y", "time", "x", "trt", "subj", "visit", "wt"]];
  const miss = [[], [5], [2, 3], [0]];
  for (let s = 0; s < 240; s++) {
    const b0 = 0.7 * rng.normal(), b1 = 0.15 * rng.normal(), trt = s % 3;
    const skip = miss[Math.floor(rng.uniform() * 4)] as number[];
    let e = 0;
    for (let t = 0; t < 6; t++) {
      e = 0.6 * e + 0.8 * rng.normal() * (1 + 0.1 * t) * (trt === 2 ? 1.5 : 1);
      const x = rng.normal();
      if (skip.includes(t)) continue;
      const y = 2 + 0.4 * t + 0.3 * x + [0, 0.5, -0.3][trt] + b0 + b1 * t + e;
      rows.push([y.toFixed(5), String(t), x.toFixed(4), ["a", "b", "c"][trt], `S${s}`, String(t + 1), String(1 + (t % 2))]);
    }
  }
  return rows;
}
const panel = tableFromRows(panelRows());

const PANEL_SPECS = [
  "y ~ time + x ; AR1(time | subj)",
  "y ~ time + x + (1 | subj) ; ARH1(time | subj)",
  "y ~ time + x ; UN(time | subj)",
  "y ~ time + x + (time | subj) ; CS(1 | subj) ; varIdent(trt)",
  "y ~ time + x ; EXP(time | subj, nugget) ; varExp(time)",
  "y ~ time + x ; TOEP(time | subj)",
  "y ~ time + x ; ARMA(time | subj, p = 1, q = 1) ; varPower(visit | trt)",
  "y ~ time + x ; CAR1(time | subj) ; varConstPower(visit)",
  "y ~ time + x + (1 | subj) ; varIdent(trt)",
  "y ~ time + x ; AR1(time | subj) ; weights(wt)",
];
const SITKA_SPECS = [
  "size ~ time*treat ; UN(time | tree)",
  "size ~ time*treat + (1|tree) ; AR1(time | tree)",
  "size ~ time*treat ; CSH(time | tree) ; varIdent(treat)",
  "size ~ time*treat ; SPHER(time | tree, nugget)",
];

function both(t: DataTable, spec: string): { prep: ReturnType<typeof prepareFit>; pooled: BlockEvaluator; dense: BlockEvaluator } {
  const prep = prepareFit(t, spec, false);
  const pooled = DenseBlocks.build(prep, "pooled"), dense = DenseBlocks.build(prep, "dense");
  assert.ok(pooled?.pooled && dense && !dense.pooled, `${spec}: both evaluators apply`);
  return { prep, pooled, dense };
}

function pointOf(prep: ReturnType<typeof prepareFit>): Float64Array {
  const th = thetaStart(prep.model.remats).map((v) => 0.6 * v);
  const eta = residualStart(prep.residual!.res, prep.basis.X, prep.basis.y, prep.design.p).map((v, i) => v + 0.1 * Math.cos(i + 2));
  return Float64Array.from([...th, ...eta]);
}

for (const [name, t, specs] of [["panel with missing occasions", panel, PANEL_SPECS], ["Sitka", sitka, SITKA_SPECS]] as const) {
  for (const spec of specs) {
    test(`pooled = per-block evaluator on the ${name}: ${spec} (objective, gradient, sigma variant; REML and ML)`, () => {
      const { prep, pooled, dense } = both(t, spec);
      const x = pointOf(prep);
      for (const reml of [true, false]) {
        for (const sigma of [undefined, 1.3]) {
          const g1 = new Float64Array(x.length + 1), g2 = new Float64Array(x.length + 1);
          const f1 = pooled.evaluate(x, reml, g1, sigma), f2 = dense.evaluate(x, reml, g2, sigma);
          assert.ok(Number.isFinite(f1) && Math.abs(f1 - f2) <= 1e-9 * Math.abs(f2), `${spec}: f ${f1} vs ${f2}`);
          const big = Math.max(1, ...Array.from(g2, Math.abs));
          g2.forEach((v, i) => assert.ok(Math.abs(g1[i] - v) <= 1e-6 * big, `${spec} ${reml ? "REML" : "ML"} sigma ${sigma}: d/dx${i} ${g1[i]} vs ${v}`));
        }
      }
      // And the blocked whitening path's objective, up to the same constant at two points.
      const blocked = (y: Float64Array): number => {
        prep.residual!.apply(y.subarray(pooled.nTheta));
        return prep.model.evaluate(y.subarray(0, pooled.nTheta), true) + prep.residual!.logdet;
      };
      const y = Float64Array.from(x, (v, i) => v + 0.04 * Math.sin(i));
      const c1 = blocked(x) - pooled.evaluate(x, true), c2 = blocked(y) - pooled.evaluate(y, true);
      assert.ok(Math.abs(c1 - c2) < 1e-7, `${spec}: constant ${c1} vs ${c2}`);
    });
  }
}

test("the panel's blocks fall into several patterns, and the pooled path is what the fit takes", () => {
  const prep = prepareFit(panel, "y ~ time + x + (1 | subj) ; ARH1(time | subj)", false);
  const d = DenseBlocks.of(prep) as BlockEvaluator & { nPatterns?: number };
  assert.ok(d?.pooled, "pooled");
  assert.equal(d.nPatterns, 4);
  const v = DenseBlocks.of(prepareFit(panel, "y ~ time + x ; AR1(time | subj) ; varPower(visit | trt)", false)) as BlockEvaluator & { nPatterns?: number };
  assert.equal(v.nPatterns, 12, "4 templates x 3 treatments");
  // x varies by row: no two subjects share V, so the per-block evaluator is used.
  const r = DenseBlocks.of(prepareFit(panel, "y ~ time + x ; AR1(time | subj) ; varExp(x)", false));
  assert.ok(r && !r.pooled);
});

for (const spec of [PANEL_SPECS[1], PANEL_SPECS[2], PANEL_SPECS[3], PANEL_SPECS[6]]) {
  test(`same optimum by the pooled and the per-block gradient fit: ${spec}`, () => {
    const { prep, pooled, dense } = both(panel, spec);
    for (const reml of [true, false]) {
      const a = fitByGradient(prep, pooled, reml, new Budget(1, 1e9));
      const b = fitByGradient(prep, dense, reml, new Budget(1, 1e9));
      const fa = dense.evaluate(Float64Array.from([...a.theta, ...a.eta]), reml), fb = dense.evaluate(Float64Array.from([...b.theta, ...b.eta]), reml);
      assert.ok(Math.abs(fa - fb) < 1e-6, `${spec}: objective ${fa} vs ${fb}`);
      a.eta.forEach((v, i) => assert.ok(Math.abs(v - b.eta[i]) < 2e-3 * Math.max(1, Math.abs(v)), `${spec} eta[${i}] ${v} vs ${b.eta[i]}`));
    }
  });
}

test("property: pooled fits are invariant to row order, relabelled subjects, and y -> 10 y + 100", () => {
  const base = panelRows();
  const head = base[0], body = base.slice(1);
  const rng = new Rng(11);
  const perm = body.map((r) => [rng.uniform(), r] as const).sort((a, b) => a[0] - b[0]).map(([, r]) => r);
  const moved = tableFromRows([head, ...perm.map((r) => [String(10 * Number(r[0]) + 100), r[1], r[2], r[3], `Q${1000 - Number(r[4].slice(1))}`, r[5], r[6]])]);
  for (const spec of ["y ~ time + x + (1 | subj) ; ARH1(time | subj)", "y ~ time + x ; UN(time | subj)", "y ~ time + x ; EXP(time | subj, nugget) ; varPower(visit | trt)"]) {
    const a = fitModel(panel, spec, { ci: "none" }), b = fitModel(moved, spec, { ci: "none" });
    assert.ok(a.converged && b.converged, spec);
    // REML: log-likelihood shifts by -(n - p) log 10 under y -> 10 y.
    const n = panel.nrow, p = a.fixef.length;
    assert.ok(Math.abs(a.logLik - (n - p) * Math.log(10) - b.logLik) < 1e-6, `${spec}: logLik ${a.logLik} vs ${b.logLik}`);
    assert.ok(Math.abs(10 * a.sigma - b.sigma) < 1e-5 * b.sigma, `${spec}: sigma`);
    const flat = (v: unknown): number[] => (Array.isArray(v) ? (v as unknown[]).flatMap(flat) : typeof v === "number" ? [v] : []);
    for (const key of Object.keys(a.residual!.params)) {
      const va = flat(a.residual!.params[key]), vb = flat(b.residual!.params[key]);
      va.forEach((v, i) => assert.ok(Math.abs(v - vb[i]) < 1e-4 * Math.max(1, Math.abs(v)), `${spec} ${key}[${i}]: ${v} vs ${vb[i]}`));
    }
  }
});
