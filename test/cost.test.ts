// Issue 14, "Crashes and hangs": every model that used to give no answer within 20 s on at most
// 1,200 rows is now either refused up front (a DataError that says what makes it expensive and
// what would work) or fitted within the cost model's allowance. The cost model is deterministic
// (src/engine/model/cost.ts never reads the clock), so these tests assert on what was decided,
// not on timings: times are measured in bench/, not here.
import { test } from "node:test";
import assert from "node:assert/strict";
import { DataError, exactRlrt, fitModel, tableFromRows } from "../src/engine";
import type { DataTable } from "../src/engine/types";
import { fitCost, REFUSE_MS } from "../src/engine/model/cost";
import { prepareFit } from "../src/engine/model/prepared";
import { Gen } from "./helpers/gen";

/** ng groups seen at nocc occasions; f cycles over nf levels, h over nh levels, x continuous. */
function panel(ng: number, nocc: number, nf = 5, nh = 5, seed = 7): DataTable {
  const g = new Gen(seed);
  const rows: string[][] = [["y", "time", "g", "f", "h", "x"]];
  for (let i = 0; i < ng; i++) {
    const b = g.normal();
    for (let t = 0; t < nocc; t++) {
      rows.push([String(1 + 0.3 * t + b + g.normal() * (1 + t / 5)), String(t), `g${i}`, `f${(i * 7 + t) % nf}`, `h${(i + t) % nh}`, String(10 * g.u())]);
    }
  }
  return tableFromRows(rows);
}

function refused(t: DataTable, spec: string, says: RegExp[]): void {
  assert.throws(() => fitModel(t, spec), (e: unknown) => {
    assert.ok(e instanceof DataError, `${spec}: a DataError, not ${String(e)}`);
    for (const re of says) assert.match(e.message, re, `${spec}`);
    return true;
  });
}

/** Fitted, and within the allowance the cost model gives a fit (estimated before it starts). */
function fitsWithinAllowance(t: DataTable, spec: string): void {
  const prep = prepareFit(t, spec);
  assert.ok(fitCost(prep).typicalMs <= REFUSE_MS, `${spec}: estimated ${fitCost(prep).typicalMs} ms`);
  const fit = fitModel(t, spec);
  assert.ok(Number.isFinite(fit.logLik), `${spec}: a finite logLik`);
  assert.ok(fit.converged || fit.messages.some((m) => /converge|budget/.test(m)), `${spec}: converged, or says it did not`);
}

// Issue 15 ("Speed"): with the analytic gradient of the residual parameters (residual-gradient.ts)
// the UN and varIdent models that issue 14 had to refuse now fit within the allowance, and are
// fitted to the optimum (the gradient check of residual-fit.ts). What stays refused is what the
// gradient path cannot make affordable: UN over many more occasions.
test("UN with 10-12 occasions (600-960 rows) now fits within the allowance, converged", () => {
  fitsWithinAllowance(panel(80, 12), "y ~ time ; UN(time | g)");
  fitsWithinAllowance(panel(80, 12), "y ~ time + (1|g) ; UN(time | g)");
  fitsWithinAllowance(panel(60, 10), "y ~ time ; UN(time | g)");
  for (const spec of ["y ~ time ; UN(time | g)", "y ~ time + (1|g) ; UN(time | g)"]) assert.ok(fitModel(panel(80, 12), spec).converged, spec);
});

test("UN over 30 occasions is still refused up front, naming the parameter count and what would work", () => {
  refused(panel(80, 30), "y ~ time ; UN(time | g)", [/UN with 30 occasions/, /435 correlation/, /use AR1, CAR1 or ARH1/]);
});

test("varIdent with 60 or 80 strata now fits within the allowance; a continuous column is still refused", () => {
  fitsWithinAllowance(panel(80, 12, 5, 60), "y ~ time + (1|g) ; varIdent(h)");
  fitsWithinAllowance(panel(80, 12), "y ~ time + (1|g) ; varIdent(g)");
  assert.ok(fitModel(panel(80, 12, 5, 60), "y ~ time + (1|g) ; varIdent(h)").converged);
  refused(panel(80, 12), "y ~ time + (1|g) ; varIdent(x)", [/'x' is a continuous measurement/]);
});

test("a random slope on a 50-level factor and many random terms are refused with what to change", () => {
  refused(panel(20, 50, 50), "y ~ time + (f|g)", [/\(1 \+ f \| g\)/, /fewer effects per group/]);
  refused(panel(40, 24, 10), "y ~ time + (f|g)", [/55 covariance parameters/, /'\|\|'|fewer random terms/]);
  refused(panel(80, 12, 50, 60), "y ~ time + (1|g) + (1|f) + (1|h) + (time|g) + (x|f) + (time|h)", [/covariance parameters/, /fewer random terms/]);
});

test("the affordable neighbours of those models fit, within the cost model's allowance", () => {
  fitsWithinAllowance(panel(100, 5), "y ~ time + (1|g) ; UN(time | g)");
  fitsWithinAllowance(panel(100, 6), "y ~ time ; UN(time | g)");
  fitsWithinAllowance(panel(80, 12, 5, 15), "y ~ time + (1|g) ; varIdent(h)");
  fitsWithinAllowance(panel(80, 12), "y ~ time + (1|g) ; ARH1(time | g)");
  fitsWithinAllowance(panel(40, 24, 5), "y ~ time + (f|g)");
});

test("rlrt: nsim beyond what the data allow in a few seconds is refused with the largest that works", () => {
  const t = panel(80, 12);
  assert.throws(() => exactRlrt(t, "y ~ time + (1|g)", { nsim: 1000000 }), (e: unknown) => {
    assert.ok(e instanceof DataError);
    const m = /use nsim up to (\d+)/.exec(e.message);
    assert.ok(m, e.message);
    const max = Number(m[1]);
    assert.ok(max >= 10000, `10000 must still be allowed (max ${max})`);
    return true;
  });
});
