// Issue 15 ("Speed"): the analytic gradient of the profiled objective over (theta, eta)
// (src/engine/model/residual-gradient.ts) against central differences of the same objective,
// for every family of residual structure and variance function; its objective against the
// blocked one (equal up to a constant); the varpar Hessian it gives Satterthwaite against the
// Richardson Hessian of the deviance; and the fits it makes invariant to row order and shifts.
import { test } from "node:test";
import assert from "node:assert/strict";
import { fitModel, tableFromRows } from "../src/engine";
import type { DataTable } from "../src/engine/types";
import { prepareFit, fitPrepared } from "../src/engine/model/prepared";
import { BlockEvaluator, DenseBlocks } from "../src/engine/model/residual-gradient";
import { thetaStart } from "../src/engine/model/remat";
import { residualStart } from "../src/engine/model/residual-start";
import { varparHessian } from "../src/engine/inference/varpar-hessian";
import { devianceVarpar, factoredAt, varparHat, varparScales } from "../src/engine/inference/fixef";
import { hessian } from "../src/engine/inference/numderiv";
import { loadTable } from "./helpers/fixtures";

const sitka = loadTable("assets/examples/sitka.csv");
const SPECS = [
  "size ~ time*treat ; UN(time | tree)",
  "size ~ time*treat + (1|tree) ; AR1(time | tree)",
  "size ~ time*treat + (time|tree) ; ARH1(time | tree)",
  "size ~ time*treat ; CSH(time | tree) ; varIdent(treat)",
  "size ~ time*treat + (1|tree) ; varIdent(treat)",
  "size ~ time*treat ; EXP(time | tree, nugget) ; varExp(time)",
  "size ~ time*treat ; AR1(time | tree) ; varConstPower(time)",
  "size ~ time*treat ; AR1(time | tree) ; varPower(time | treat)",
  "size ~ time*treat ; TOEP(time | tree)",
  "size ~ time*treat ; ARMA(time | tree, p = 1, q = 1)",
  "size ~ time*treat ; CAR1(time | tree)",
  "size ~ time*treat + (1|tree) ; CS(1 | tree)",
  "size ~ time*treat ; GAUS(time | tree)",
];

/** A point away from the optimum: theta shrunk, eta moved from its start. */
function point(t: DataTable, spec: string): { d: BlockEvaluator; x: Float64Array; prep: ReturnType<typeof prepareFit> } {
  const prep = prepareFit(t, spec, false);
  const d = DenseBlocks.of(prep);
  assert.ok(d, `${spec}: small blocks take the gradient path`);
  const th = thetaStart(prep.model.remats).map((v) => 0.7 * v);
  const eta = residualStart(prep.residual!.res, prep.basis.X, prep.basis.y, prep.design.p).map((v, i) => v + 0.1 * Math.sin(i + 1));
  return { d, x: Float64Array.from([...th, ...eta]), prep };
}

for (const spec of SPECS) {
  test(`gradient of ${spec}: analytic = central differences (REML and ML, 1e-6 relative)`, () => {
    const { d, x, prep } = point(sitka, spec);
    for (const reml of [true, false]) {
      const g = new Float64Array(x.length);
      const f = d.evaluate(x, reml, g);
      assert.ok(Number.isFinite(f));
      for (let i = 0; i < x.length; i++) {
        const h = 1e-5 * Math.max(1, Math.abs(x[i]));
        const xp = Float64Array.from(x), xm = Float64Array.from(x);
        xp[i] += h;
        xm[i] -= h;
        const num = (d.evaluate(xp, reml) - d.evaluate(xm, reml)) / (2 * h);
        assert.ok(Math.abs(num - g[i]) <= 1e-6 * (1 + Math.abs(num)), `${spec} ${reml ? "REML" : "ML"} d/dx${i}: analytic ${g[i]}, differences ${num}`);
      }
      // The same objective as the blocked path, up to a constant in the parameters.
      const blocked = (y: Float64Array): number => {
        const nth = d.nTheta;
        prep.residual!.apply(y.subarray(nth));
        return prep.model.evaluate(y.subarray(0, nth), reml) + prep.residual!.logdet;
      };
      const y = Float64Array.from(x, (v, i) => v + 0.05 * Math.cos(i));
      const c1 = blocked(x) - f, c2 = blocked(y) - d.evaluate(y, reml);
      assert.ok(Math.abs(c1 - c2) < 1e-7, `${spec}: constant offset ${c1} vs ${c2}`);
    }
  });
}

test("varpar Hessian from the gradient = Richardson Hessian of the deviance (1e-6 of its largest entry)", () => {
  for (const spec of ["size ~ time*treat ; UN(time | tree)", "size ~ time*treat + (1|tree) ; ARH1(time | tree)", "size ~ time*treat ; CSH(time | tree) ; varIdent(treat)"]) {
    for (const method of ["REML", "ML"] as const) {
      const fit = fitPrepared(prepareFit(sitka, spec, false), method);
      const vp = varparHat(fit);
      const H1 = varparHessian(fit, vp);
      assert.ok(H1, spec);
      const H2 = hessian(devianceVarpar(fit, factoredAt(fit)), vp, 4, varparScales(fit, vp));
      const big = Math.max(...Array.from(H2, Math.abs));
      H2.forEach((v, i) => assert.ok(Math.abs(H1[i] - v) <= 1e-6 * big, `${spec} ${method} H[${i}]: ${H1[i]} vs ${v}`));
    }
  }
});

test("property: the gradient-path fits are invariant to row order and to a shift of y", () => {
  const rows: string[][] = [["size", "time", "tree", "treat"]];
  const cols = sitka.columns;
  const get = (name: string, r: number): string => {
    const c = cols.find((x) => x.name === name)!;
    return c.kind === "numeric" ? String(c.values[r]) : c.levels[c.codes[r]];
  };
  const n = cols[0].kind === "numeric" ? cols[0].values.length : cols[0].codes.length;
  // A fixed permutation (reversed blocks of 7) and y + 1000.
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => (a % 7) - (b % 7) || b - a);
  for (const r of order) rows.push([String(Number(get("size", r)) + 1000), get("time", r), get("tree", r), get("treat", r)]);
  const moved = tableFromRows(rows);
  for (const spec of ["size ~ time*treat ; UN(time | tree)", "size ~ time*treat + (1|tree) ; ARH1(time | tree)"]) {
    const a = fitModel(sitka, spec, { ci: "none" }), b = fitModel(moved, spec, { ci: "none" });
    assert.ok(a.converged && b.converged, spec);
    assert.ok(Math.abs(a.logLik - b.logLik) < 1e-7, `${spec}: logLik ${a.logLik} vs ${b.logLik}`);
    const pa = a.residual!.params, pb = b.residual!.params;
    const flat = (v: unknown): number[] => (Array.isArray(v) ? (v as unknown[]).flatMap(flat) : typeof v === "number" ? [v] : []);
    for (const key of Object.keys(pa)) {
      const va = flat(pa[key]), vb = flat(pb[key]);
      va.forEach((v, i) => assert.ok(Math.abs(v - vb[i]) < 1e-5, `${spec} ${key}[${i}]: ${v} vs ${vb[i]}`));
    }
    assert.ok(Math.abs(a.sigma - b.sigma) < 1e-6 * a.sigma, `${spec}: sigma`);
  }
});
