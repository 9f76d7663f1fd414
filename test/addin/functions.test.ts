// The =LMM.* functions called as Excel calls them, on the Sitka range as a 2-D array with its
// header row: every analysis of the lecture as one formula, values against the R fixtures, no
// null/undefined in any output, one fit shared by several functions, and cancellation.
import "./shim";
import { test } from "node:test";
import assert from "node:assert/strict";
import { invocation, runner } from "./shim";
import { blup, fit, fitted, lrt, rlrt, varcomp } from "../../src/functions/functions";
import { lmmClient } from "../../src/worker/shared";
import { EngineFx, closeAbs, closeRel, csvRows, readJson } from "../helpers/fixtures";

const sitka = csvRows("assets/examples/sitka.csv");
const engine = readJson<EngineFx[]>("test/fixtures/engine.json");
const fx = (name: string) => {
  const f = engine.find((e) => e.name === name);
  assert.ok(f, `fixture ${name}`);
  return f;
};

/** Rectangular, and every cell a finite number, a string or a boolean. */
function wellFormed(t: unknown[][]) {
  assert.ok(Array.isArray(t) && t.length > 0, "a non-empty table");
  const w = t[0].length;
  for (const row of t) {
    assert.equal(row.length, w, "rectangular");
    for (const c of row) {
      assert.ok(typeof c === "string" || typeof c === "boolean" || (typeof c === "number" && Number.isFinite(c)), `bad cell ${String(c)}`);
    }
  }
}
const rowOf = (t: unknown[][], label: string | RegExp) => {
  const r = t.find((x) => (typeof label === "string" ? x[0] === label : label.test(String(x[0]))));
  assert.ok(r, `a row labelled ${label}`);
  return r;
};
const num = (x: unknown) => x as number;

test("LMM.FIT: the lecture's random-intercept model, by REML and by ML, as lme4", async () => {
  for (const [method, name] of [[null, "sitka_ri_reml"], ["ML", "sitka_ri_ml"]] as const) {
    const t = await fit(sitka, "size ~ time*treat + (1|tree)", method, null, null, invocation());
    wellFormed(t);
    const want = fx(name);
    assert.deepEqual(t[0], ["", "Estimate", "Std. Error", "df", "t value", "Pr(>|t|)", "2.5 %", "97.5 %"]);
    assert.deepEqual(t.slice(1, 1 + want.fixef.length).map((r) => r[0]), want.fixef.map((f) => f.term), "R's term names, in order");
    for (const f of want.fixef) {
      const r = rowOf(t, f.term);
      closeAbs(num(r[1]), f.estimate, 1e-4 * f.se, f.term);
      closeRel(num(r[2]), f.se, 1e-4, `SE ${f.term}`);
      assert.ok(num(r[5]) >= 0 && num(r[5]) <= 1, "a p-value");
    }
    closeAbs(num(rowOf(t, "logLik")[1]), want.logLik, 1e-4, "logLik");
    closeAbs(num(rowOf(t, "AIC")[1]), want.AIC, 2e-4, "AIC");
    closeAbs(num(rowOf(t, "BIC")[1]), want.BIC, 2e-4, "BIC");
    assert.equal(rowOf(t, "method")[1], method ?? "REML");
    assert.equal(rowOf(t, "n")[1], 395);
    assert.match(String(rowOf(t, "groups")[1]), /tree: 79/);
    assert.equal(rowOf(t, "converged")[1], "yes");
    assert.equal(rowOf(t, "singular")[1], "no");
  }
});

test("LMM.FIT: the intra-tree correlation of the lecture (0.37 / (0.37 + 0.038))", async () => {
  const t = await fit(sitka, "size ~ time*treat + (1|tree)", null, null, null, invocation());
  closeAbs(num(rowOf(t, "ICC")[1]), 0.907, 1e-3, "ICC");
});

test("LMM.FIT: R² rows as performance::r2_nakagawa (1e-4), the df method, and the R² definition as a note", async () => {
  const fx = readJson<{ fixtures: { name: string; spec: string; r2?: { marginal: number; conditional: number } }[] }>("test/fixtures/anova.json").fixtures;
  for (const name of ["sitka_ri", "sitka_ri_ar1"]) {
    const f = fx.find((x) => x.name === name)!;
    const t = await fit(sitka, f.spec, null, null, null, invocation());
    closeRel(num(rowOf(t, "R² marginal")[1]), f.r2!.marginal, 1e-4, `${name}: R² marginal`);
    closeRel(num(rowOf(t, "R² conditional")[1]), f.r2!.conditional, 1e-4, `${name}: R² conditional`);
    assert.equal(rowOf(t, "df method")[1], "Satterthwaite");
    assert.ok(t.some((r) => r[0] === "note" && /^R²: .*Nakagawa/.test(String(r[1]))), `${name}: the definition is stated`);
  }
  const kr = await fit(sitka, "size ~ time*treat + (1|tree)", null, "kr", null, invocation());
  assert.equal(rowOf(kr, "df method")[1], "Kenward-Roger");
});

test("LMM.FIT: the lecture's covariance structures (independence, CS, AR1, ARH1, UN) and the fixed-tree model", async () => {
  const specs = ["size ~ time*treat", "size ~ time*treat ; CS(1 | tree)", "size ~ time*treat ; AR1(time | tree)", "size ~ time*treat ; ARH1(time | tree)", "size ~ time*treat ; UN(time | tree)", "size ~ factor(tree) + time"];
  for (const spec of specs) {
    const t = await fit(sitka, spec, null, null, null, invocation());
    wellFormed(t);
    assert.ok(Number.isFinite(num(rowOf(t, /logLik/)[1])), `${spec}: a logLik`);
    if (spec.includes(";")) assert.ok(String(rowOf(t, "residual")[1]).startsWith(spec.split(";")[1].trim().split("(")[0]), `${spec}: the residual structure is reported`);
  }
  const ar1 = await fit(sitka, "size ~ time*treat ; AR1(time | tree)", null, null, null, invocation());
  closeAbs(num(rowOf(ar1, /logLik/)[1]), -34.9311, 6e-5, "AR1 logLik (nlme gls)");
  const phi = ar1.find((r) => r[0] === "phi");
  assert.ok(phi && num(phi[1]) > 0.9 && num(phi[1]) < 1, "phi as a number");
  const un = await fit(sitka, "size ~ time*treat ; UN(time | tree)", null, null, null, invocation());
  wellFormed(un);
  const corr = un.filter((r) => String(r[0]).startsWith("corr row"));
  assert.equal(corr.length, 5, "the UN correlation matrix, one row per occasion");
  corr.forEach((r, i) => closeAbs(num(r[i + 1]), 1, 1e-12, "the diagonal"));
  const slope = await fit(sitka, "size ~ time + (time|tree)", "REML", null, null, invocation());
  closeAbs(num(rowOf(slope, /logLik/)[1]), -62.48344, 5e-6, "random slope logLik (nlme)");
});

test("LMM.VARCOMP: the lecture's Table 1", async () => {
  const spec = "size ~ time*treat + (1|tree)";
  // Table 1: 0.370 0.608 0.516 0.710 0.908 / 0.038 0.194 0.179 0.209 0.092 (profile intervals).
  const want = [
    [0.37, 0.608, 0.516, 0.71, 0.908],
    [0.038, 0.194, 0.179, 0.209, 0.092],
  ];
  const t = await varcomp(sitka, spec, null, null, "profile", invocation());
  wellFormed(t);
  assert.deepEqual(t[0], ["group", "effect", "variance", "sd", "sd_2.5", "sd_97.5", "var_prop"]);
  assert.deepEqual([t[1][0], t[1][1], t[2][0]], ["tree", "(Intercept)", "Residual"]);
  want.forEach((w, i) => w.forEach((x, j) => closeAbs(num(t[i + 1][j + 2]), x, 6e-4, `Table 1 row ${i + 1} col ${j + 3}`)));
  closeRel(num(t[1][2]), 0.369909, 2e-5, "tree variance");
  closeRel(num(t[1][4]), 0.515767789608259, 1e-3, "profile sd_2.5");
  closeRel(num(t[1][5]), 0.709709483493105, 1e-3, "profile sd_97.5");
  // The default ("auto") is profile too unless the engine expects profiling to take long; the
  // engine decides by measured time, so under heavy load it may show Wald intervals (then it
  // says so in a note of LMM.FIT). Either way the estimates are Table 1's.
  const d = await varcomp(sitka, spec, null, null, null, invocation());
  wellFormed(d);
  want.forEach((w, i) => w.forEach((x, j) => closeAbs(num(d[i + 1][j + 2]), x, j === 2 || j === 3 ? 3e-3 : 6e-4, `default row ${i + 1} col ${j + 3}`)));
  // Correlated random slope: a corr column and a correlation row; a narrower interval at level 0.9.
  const s = await varcomp(sitka, "size ~ time + (time|tree)", null, 0.9, null, invocation());
  wellFormed(s);
  assert.equal(s[0][7], "corr");
  const corr = s.find((r) => String(r[1]).includes(","));
  assert.ok(corr && num(corr[7]) >= -1 && num(corr[7]) <= 1, "a correlation row");
});

test("LMM.LRT: the lecture's two anova tables, with the chi-bar-square p", async () => {
  const a = await lrt(sitka, [["size ~ time*treat + (1|tree)"], ["size ~ time + (1|tree)"]], "ML", invocation());
  wellFormed(a);
  assert.deepEqual(a[0], ["", "Model", "df", "AIC", "BIC", "logLik", "Test", "L.Ratio", "p-value", "p (chi-bar-square)"]);
  // m1 1 6 142.1890 166.0623 -65.09451 / mm1 2 4 154.6453 170.5608 -73.32263 1 vs 2 16.45623 3e-04
  assert.deepEqual(a[1].slice(0, 3), ["size ~ time*treat + (1|tree)", 1, 6]);
  closeAbs(num(a[1][3]), 142.189, 1e-3, "AIC m1");
  closeAbs(num(a[2][4]), 170.5608, 1e-3, "BIC mm1");
  closeAbs(num(a[2][5]), -73.32263, 1e-4, "logLik mm1");
  assert.equal(a[2][6], "1 vs 2");
  closeAbs(num(a[2][7]), 16.45623, 6e-6, "L.Ratio");
  closeRel(num(a[2][8]), 0.00026703943808119, 1e-3, "p-value");
  // The specs as one row of an array constant: {"...","..."}.
  const b = await lrt(sitka, [["size ~ time + (1|tree)", "size ~ time + (time|tree)"]], null, invocation());
  wellFormed(b);
  closeAbs(num(b[1][5]), -82.3884, 1e-4, "logLik mm1 (REML)");
  closeAbs(num(b[2][7]), 39.80992, 6e-6, "L.Ratio");
  closeRel(num(b[2][9]), 1.273288e-9, 1e-4, "chi-bar-square p (the lecture's 1.273288e-09)");
  assert.ok(b.some((r) => r[0] === "note" && /chi2\(1\).*chi2\(2\)/.test(String(r[1]))), "the mixture is named");
  // A random intercept against none: 1/2 chi2(0) + 1/2 chi2(1) (the lecture's "divide the p-value by two").
  const c = await lrt(sitka, [["size ~ time"], ["size ~ time + (1|tree)"], [""]], null, invocation());
  wellFormed(c);
  assert.equal(c.filter((r) => typeof r[1] === "number").length, 2, "the blank spec cell is skipped");
  assert.ok(num(c[2][9]) <= num(c[2][8]), "the mixture p is the smaller one");
});

test("LMM.RLRT: the exact RLRT of one variance component (RLRsim), with blank cells dropped", async () => {
  const air = csvRows("test/data/airquality.csv");
  const t = await rlrt(air, "Ozone ~ Temp + (1|Month)", null, null, invocation());
  wellFormed(t);
  assert.deepEqual(t[0], ["RLRT", "p-value", "nsim"]);
  closeRel(num(t[1][0]), 3.36346320330426, 1e-4, "RLRT statistic");
  // RLRsim with 1e5 simulations: 0.02142; ours uses another generator, so allow 5 SEs of a 1e4 run.
  closeAbs(num(t[1][1]), 0.02142, 0.0075, "p-value");
  assert.equal(t[1][2], 10000);
  const strong = await rlrt(sitka, "size ~ time + (1|tree)", 1000, 7, invocation());
  wellFormed(strong);
  assert.equal(strong[1][1], 0);
  assert.equal(strong[1][2], 1000);
  assert.match(String(rowOf(strong, "note")[1]), /p-value < 0\.001/);
});

test("LMM.BLUP and LMM.FITTED", async () => {
  const spec = "size ~ time*treat + (1|tree)";
  const b = await blup(sitka, spec, null, null, invocation());
  wellFormed(b);
  assert.deepEqual(b[0], ["tree", "(Intercept)", "cond. SD (Intercept)"]);
  assert.equal(b.length, 80, "79 trees and a header");
  assert.equal(b[1][0], 1, "numeric levels stay numbers, so lookups match the data");
  const s = await blup(sitka, "size ~ time + (time|tree)", "tree", null, invocation());
  wellFormed(s);
  assert.deepEqual(s[0], ["tree", "(Intercept)", "cond. SD (Intercept)", "time", "cond. SD time"]);
  const f = await fitted(sitka, spec, null, null, invocation());
  wellFormed(f);
  assert.equal(f.length, sitka.length, "as tall as the data, header included");
  assert.equal(f[0][0], "fitted");
  const m = await fitted(sitka, spec, "marginal", null, invocation());
  const r = await fitted(sitka, spec, "Residual", null, invocation());
  for (let i = 1; i < sitka.length; i += 37) {
    closeAbs(num(f[i][0]) + num(r[i][0]), num(sitka[i][0]), 1e-9, `fitted + residual = y (row ${i})`);
  }
  // Trees 1 and 2 share treatment (ozone) and times, so their marginal fits agree row by row.
  closeAbs(num(m[1][0]), num(m[6][0]), 1e-12, "marginal fit depends only on the fixed effects");
  await assert.rejects(blup(sitka, spec, "plot", null, invocation()), /no random effect is grouped by 'plot'/);
});

test("LMM.FITTED: rows with missing values are blank, and trailing blank rows are not spilled", async () => {
  const data = sitka.map((r) => [...r]);
  data[3][0] = null;
  data[8][1] = "";
  for (let k = 0; k < 200; k++) data.push([null, null, null, null]);
  const f = await fitted(data, "size ~ time + (1|tree)", null, null, invocation());
  wellFormed(f);
  assert.equal(f.length, sitka.length, "the trailing blank rows are not part of the output");
  assert.equal(f[3][0], "");
  assert.equal(f[8][0], "");
  assert.equal(typeof f[4][0], "number");
});

test("one fit serves FIT, VARCOMP, BLUP and FITTED on the same inputs (in flight and afterwards)", async () => {
  const spec = "size ~ time + treat + (1|tree)";
  const before = runner.calls;
  // Separate copies of the range, as Excel passes each function its own array.
  const copy = () => sitka.map((r) => [...r]);
  await Promise.all([fit(copy(), spec, null, null, null, invocation()), varcomp(copy(), spec, "REML", null, null, invocation()), blup(copy(), spec, null, null, invocation()), fitted(copy(), spec, "marginal", null, invocation())]);
  assert.equal(runner.calls - before, 1, "one fit for the four concurrent calls");
  await fit(copy(), ` ${spec}`, "reml", null, null, invocation());
  await varcomp(copy(), spec, null, 0.95, "auto", invocation());
  assert.equal(runner.calls - before, 1, "later calls with the same inputs use the cached fit");
  // Different options or data are different fits.
  await fit(copy(), spec, "ML", null, null, invocation());
  assert.equal(runner.calls - before, 2, "ML is another fit");
  const changed = copy();
  changed[5][0] = 4.9;
  await fit(changed, spec, null, null, null, invocation());
  assert.equal(runner.calls - before, 3, "a changed cell is another fit");
});

test("a cancelled call leaves no work running; a shared job survives one caller cancelling", async () => {
  const inv = invocation();
  const p = fit(sitka, "size ~ time*treat + (time|tree)", null, null, null, inv);
  assert.equal(lmmClient.running(), 1);
  inv.cancel();
  await assert.rejects(p, /cancelled/);
  assert.equal(lmmClient.running(), 0);
  const a = invocation();
  const b = invocation();
  const pa = fit(sitka, "size ~ time + (1|treat:tree)", null, null, null, a);
  const pb = varcomp(sitka, "size ~ time + (1|treat:tree)", null, null, null, b);
  a.cancel();
  const [ra, rb] = await Promise.allSettled([pa, pb]);
  assert.equal(ra.status, "fulfilled", "the first caller still gets the shared result");
  assert.equal(rb.status, "fulfilled");
  assert.equal(lmmClient.running(), 0);
});
