// The =LMM.* functions called as Excel calls them, on the Sitka range as a 2-D array: every
// lecture analysis, values against the R fixtures, no null/undefined in any output, one fit for
// several functions on the same inputs, and cancellation.
import "./shim";
import { test } from "node:test";
import assert from "node:assert/strict";
import { invocation } from "./shim";
import { blup, fit, fitted, lrt, varcomp } from "../../src/functions/functions";
import { lmmClient } from "../../src/worker/shared";
import { EngineFx, closeAbs, closeRel, csvRows, readJson } from "../helpers/fixtures";

const sitka = csvRows("assets/examples/sitka.csv");
const engine = readJson<EngineFx[]>("test/fixtures/engine.json");
const fx = (name: string) => engine.find((e) => e.name === name)!;

function noBlanks(t: unknown[][]) {
  const w = t[0].length;
  for (const row of t) {
    assert.equal(row.length, w, "rectangular");
    for (const c of row) assert.ok(c !== null && c !== undefined && !(typeof c === "number" && !Number.isFinite(c)), `bad cell ${c}`);
  }
}
const cell = (t: unknown[][], label: string, col: number) => t.find((r) => r[0] === label)![col];

test("LMM.FIT: the lecture's random-intercept model (REML) and its ML fit", async () => {
  for (const [method, name] of [[null, "sitka_ri_reml"], ["ML", "sitka_ri_ml"]] as const) {
    const t = await fit(sitka, "size ~ time*treat + (1|tree)", method, invocation());
    noBlanks(t);
    const want = fx(name);
    assert.deepEqual(t[0], ["", "Estimate", "Std. Error", "df", "t value", "Pr(>|t|)", "2.5 %", "97.5 %"]);
    for (const f of want.fixef) {
      closeAbs(cell(t, f.term, 1) as number, f.estimate, 1e-4 * f.se, f.term);
      closeRel(cell(t, f.term, 2) as number, f.se, 1e-4, `SE ${f.term}`);
    }
    const stats = t.find((r) => String(r[0]).includes("logLik"))!;
    closeAbs(stats[1] as number, want.logLik, 1e-4, "logLik");
    closeAbs(stats[5] as number, want.AIC, 2e-4, "AIC");
    closeAbs(stats[7] as number, want.BIC, 2e-4, "BIC");
  }
});

test("LMM.FIT with a residual structure and the random-slope model lme4 cannot fit", async () => {
  const t = await fit(sitka, "size ~ time + (time|tree)", "REML", invocation());
  closeAbs(t.find((r) => String(r[0]).includes("logLik"))![1] as number, -62.48344, 5e-6, "logLik");
  const g = await fit(sitka, "size ~ time*treat ; AR1(time | tree)", null, invocation());
  noBlanks(g);
  closeAbs(g.find((r) => String(r[0]).includes("logLik"))![1] as number, -34.9311, 6e-5, "AR1 logLik");
  assert.ok(g.some((r) => r[0] === "residual" && String(r[2]).includes("phi")));
});

test("LMM.VARCOMP: Table 1", async () => {
  const t = await varcomp(sitka, "size ~ time*treat + (1|tree)", null, null, invocation());
  noBlanks(t);
  assert.deepEqual(t[0], ["group", "effect", "variance", "sd", "sd_2.5", "sd_97.5", "var_prop"]);
  closeRel(t[1][2] as number, 0.369909, 2e-5, "tree variance");
  closeRel(t[1][4] as number, 0.5157678, 1e-3, "sd_2.5");
  closeRel(t[1][5] as number, 0.7097095, 1e-3, "sd_97.5");
  assert.equal((t[2][6] as number).toFixed(3), "0.092");
  const s = await varcomp(sitka, "size ~ time + (time|tree)", null, 0.9, invocation());
  noBlanks(s);
  assert.equal(s[0].length, 8, "a corr column when there are correlations");
});

test("LMM.LRT: the lecture's two anova tables", async () => {
  const a = await lrt(sitka, [["size ~ time*treat + (1|tree)"], ["size ~ time + (1|tree)"]], "ML", invocation());
  noBlanks(a);
  closeAbs(a[2][6] as number, 16.45623, 6e-6, "L.Ratio");
  assert.equal(a[2][5], "1 vs 2");
  const b = await lrt(sitka, [["size ~ time + (1|tree)", "size ~ time + (time|tree)"]], null, invocation());
  noBlanks(b);
  closeAbs(b[2][6] as number, 39.80992, 6e-6, "L.Ratio");
  closeRel(b[2][8] as number, 1.273288e-9, 1e-4, "chi-bar-square p");
});

test("LMM.BLUP and LMM.FITTED", async () => {
  const b = await blup(sitka, "size ~ time*treat + (1|tree)", null, null, invocation());
  noBlanks(b);
  assert.deepEqual(b[0], ["tree", "(Intercept)", "cond. SD (Intercept)"]);
  assert.equal(b.length, 80);
  const f = await fitted(sitka, "size ~ time*treat + (1|tree)", null, null, invocation());
  noBlanks(f);
  assert.equal(f.length, sitka.length, "as tall as the data");
  const r = await fitted(sitka, "size ~ time*treat + (1|tree)", "residual", null, invocation());
  closeAbs((f[1][0] as number) + (r[1][0] as number), sitka[1][0] as number, 1e-9, "fitted + residual = y");
  await assert.rejects(blup(sitka, "size ~ time*treat + (1|tree)", "plot", null, invocation()), /no random effect is grouped by 'plot'/);
});

test("FIT, VARCOMP and BLUP on the same inputs fit once", async () => {
  const before = lmmClient.started;
  const spec = "size ~ time + treat + (1|tree)";
  await Promise.all([fit(sitka, spec, null, invocation()), varcomp(sitka, spec, null, null, invocation()), blup(sitka, spec, null, null, invocation())]);
  await fit(sitka, spec, null, invocation());
  assert.equal(lmmClient.started - before, 1);
  // Different options or data are different fits.
  await fit(sitka, spec, "ML", invocation());
  assert.equal(lmmClient.started - before, 2);
});

test("a cancelled call leaves no work running", async () => {
  const inv = invocation();
  const p = fit(sitka, "size ~ time*treat + (time|tree)", null, inv);
  assert.equal(lmmClient.running() >= 1, true);
  inv.cancel();
  await assert.rejects(p, /cancelled/);
  assert.equal(lmmClient.running(), 0);
  // A second caller on the same job keeps it alive when only the first cancels.
  const a = invocation(), b = invocation();
  const pa = fit(sitka, "size ~ time + (1|treat:tree)", null, a);
  const pb = fit(sitka, "size ~ time + (1|treat:tree)", null, b);
  a.cancel();
  const [ra, rb] = await Promise.allSettled([pa, pb]);
  assert.equal(ra.status, "fulfilled");
  assert.equal(rb.status, "fulfilled");
});
