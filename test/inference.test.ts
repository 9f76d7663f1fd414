// Inference against R: lme4's profile CIs, lmerTest's Satterthwaite tests, lme4's conditional
// modes and SDs, nlme's and lme4's anova tables, and RLRsim's exact RLRT. Fixtures from
// test/fixtures/make-fixtures.R.
import { test } from "node:test";
import assert from "node:assert/strict";
import { compareModels, exactRlrt, fitModel } from "../src/engine";
import type { Method } from "../src/engine/types";
import { closeAbs, closeRel, loadTable, readJson } from "./helpers/fixtures";

interface Fx {
  profile: { spec: string; data: string; method: Method; rows: { name: string; lower: number; upper: number }[] }[];
  satterthwaite: { spec: string; data: string; coefficients: { term: string; estimate: number; se: number; df: number; t: number; p: number }[] }[];
  ranef: { spec: string; data: string; method: Method; tables: Record<string, { levels: string[]; effects: string[]; values: number[][]; se: number[][] }> }[];
  lrt: ({ data: string; method: Method; refit_ml: boolean } & Record<string, unknown>)[];
  rlrt: { spec: string; data: string; statistic: number; p_1e4: number; p_1e5: number }[];
}
const fx = readJson<Fx>("test/fixtures/inference.json");

for (const pr of fx.profile) {
  test(`profile CIs of the variance components (lme4 confint): ${pr.spec}`, () => {
    const fit = fitModel(loadTable(pr.data), pr.spec, { method: pr.method, ci: "profile" });
    let checked = 0;
    for (const row of pr.rows) {
      // lme4 names: sd_(Intercept)|tree, cor_Days.(Intercept)|Subject, sigma; fixed effects skipped.
      let ours;
      if (row.name === "sigma") ours = fit.varcomp.find((r) => r.group === "Residual");
      else if (row.name.startsWith("sd_")) {
        const [eff, grp] = row.name.slice(3).split("|");
        ours = fit.varcomp.find((r) => r.group === grp && r.effect === eff && r.effect2 === null);
      } else if (row.name.startsWith("cor_")) {
        const grp = row.name.split("|")[1];
        ours = fit.varcomp.find((r) => r.group === grp && r.effect2 !== null);
      } else continue;
      assert.ok(ours, `row ${row.name} missing`);
      closeRel(ours.sd_lower, row.lower, 1e-3, `lower end of ${row.name}`, 1e-3);
      closeRel(ours.sd_upper, row.upper, 1e-3, `upper end of ${row.name}`, 1e-3);
      checked++;
    }
    assert.ok(checked >= 2);
  });
}

test("the lecture's Table 1 (Sitka REML random intercept)", () => {
  const fit = fitModel(loadTable("assets/examples/sitka.csv"), "size ~ time*treat + (1|tree)");
  const tree = fit.varcomp.find((r) => r.group === "tree")!;
  const res = fit.varcomp.find((r) => r.group === "Residual")!;
  closeRel(tree.variance, 0.369909, 5e-6 / 0.369909 + 1e-6, "tree variance (printed 0.369909)");
  closeRel(res.variance, 0.037577, 5e-7 / 0.037577 + 1e-6, "residual variance (printed 0.037577)");
  closeRel(tree.sd_lower, 0.5157678, 1e-3, "tree SD lower");
  closeRel(tree.sd_upper, 0.7097095, 1e-3, "tree SD upper");
  closeRel(res.sd_lower, 0.1790943, 1e-3, "residual SD lower");
  closeRel(res.sd_upper, 0.2093368, 1e-3, "residual SD upper");
  assert.equal(tree.var_prop!.toFixed(3), "0.908");
  assert.equal(res.var_prop!.toFixed(3), "0.092");
});

for (const s of fx.satterthwaite) {
  test(`Satterthwaite t tests (lmerTest): ${s.spec}`, () => {
    const fit = fitModel(loadTable(s.data), s.spec, { ci: "none" });
    for (const c of s.coefficients) {
      const ours = fit.fixef.find((r) => r.term === c.term)!;
      closeRel(ours.df, c.df, 1e-3, `df of ${c.term}`);
      closeRel(ours.t, c.t, 1e-4, `t of ${c.term}`);
      closeRel(ours.p, c.p, 1e-3, `p of ${c.term}`, 1e-12);
    }
  });
}

for (const r of fx.ranef) {
  test(`BLUPs and conditional SDs (lme4 ranef condVar): ${r.spec}`, () => {
    const fit = fitModel(loadTable(r.data), r.spec, { method: r.method, ci: "none" });
    for (const [group, want] of Object.entries(r.tables)) {
      const ours = fit.blups[group];
      assert.ok(ours, `BLUP table ${group} missing; ours: ${Object.keys(fit.blups).join(", ")}`);
      assert.deepEqual(ours.levels, want.levels, `levels of ${group}`);
      assert.deepEqual(ours.effects, want.effects, `effects of ${group}`);
      want.values.forEach((row, i) => row.forEach((v, j) => {
        const scale = Math.max(...want.values.map((x) => Math.abs(x[j])));
        closeRel(ours.values[i][j], v, 1e-4, `${group} ${want.levels[i]} ${want.effects[j]}`, scale);
        closeRel(ours.se[i][j], want.se[i][j], 1e-4, `cond. SD of ${group} ${want.levels[i]} ${want.effects[j]}`);
      }));
    }
  });
}

test("the lecture's ML likelihood-ratio test (nlme anova): time*treat vs time", () => {
  const want = fx.lrt[0] as unknown as { models: { spec: string; df: number; AIC: number; BIC: number; logLik: number }[]; "L.Ratio": number; p: number };
  const res = compareModels(loadTable("assets/examples/sitka.csv"), want.models.map((m) => m.spec), { method: "ML" });
  assert.equal(res.refit_ml, false);
  want.models.forEach((m, i) => {
    assert.equal(res.models[i].df, m.df);
    closeAbs(res.models[i].logLik, m.logLik, 1e-4, `logLik ${i + 1}`);
    closeAbs(res.models[i].AIC, m.AIC, 2e-4, `AIC ${i + 1}`);
    closeAbs(res.models[i].BIC, m.BIC, 2e-4, `BIC ${i + 1}`);
  });
  closeAbs(res.tests[0]["L.Ratio"], want["L.Ratio"], 2e-4, "L.Ratio");
  closeAbs(res.tests[0]["L.Ratio"], 16.45623, 5e-6 + 1e-6, "L.Ratio as printed in the lecture");
  closeRel(res.tests[0].p, want.p, 1e-3, "p-value");
  assert.equal(res.tests[0].p_mixture, null, "no boundary: fixed effects differ");
});

test("the lecture's REML test of the random slope, with the chi-bar-square p", () => {
  const want = fx.lrt[1] as unknown as { models: { df: number; logLik: number }[]; "L.Ratio": number; p_mixture: number };
  const res = compareModels(loadTable("assets/examples/sitka.csv"), ["size ~ time + (1|tree)", "size ~ time + (time|tree)"]);
  assert.equal(res.method, "REML");
  assert.equal(res.refit_ml, false);
  closeAbs(res.tests[0]["L.Ratio"], want["L.Ratio"], 2e-4, "L.Ratio");
  closeAbs(res.tests[0]["L.Ratio"], 39.80992, 5e-6 + 1e-6, "L.Ratio as printed in the lecture");
  closeRel(res.tests[0].p_mixture, 1.273288e-09, 1e-4, "mixture p as printed in the lecture");
  assert.match(res.tests[0].mixture ?? "", /1\/2 chi2\(1\) \+ 1\/2 chi2\(2\)/);
});

test("lme4's anova refits REML fits with different fixed effects by ML (sleepstudy)", () => {
  const want = fx.lrt[2] as unknown as { specs: string[]; Chisq: number; df: number; p: number; logLik: number[] };
  const res = compareModels(loadTable("assets/examples/sleepstudy.csv"), want.specs);
  // Same fixed effects here, so REML is kept, as the lecture does; refit explicitly by ML to match lme4.
  assert.equal(res.refit_ml, false);
  const ml = compareModels(loadTable("assets/examples/sleepstudy.csv"), want.specs, { method: "ML" });
  closeAbs(ml.tests[0]["L.Ratio"], want.Chisq, 2e-4, "Chisq");
  assert.equal(ml.tests[0].df, want.df);
  closeRel(ml.tests[0].p, want.p, 1e-3, "p");
  const diffX = compareModels(loadTable("assets/examples/sleepstudy.csv"), ["Reaction ~ 1 + (1|Subject)", "Reaction ~ Days + (1|Subject)"]);
  assert.equal(diffX.refit_ml, true);
  assert.equal(diffX.method, "ML");
  assert.match(diffX.messages.join(" "), /refitting/);
});

for (const r of fx.rlrt) {
  test(`exact RLRT (RLRsim exactRLRT): ${r.spec}`, () => {
    const t0 = Date.now();
    const res = exactRlrt(loadTable(r.data), r.spec, { nsim: 10000, seed: 1 });
    closeRel(res.statistic, r.statistic, 1e-4, "RLRT statistic", 1e-6);
    closeAbs(res.p, r.p_1e5, 0.01, "p-value (Monte Carlo error)");
    assert.equal(res.nsim, 10000);
    assert.ok(Date.now() - t0 < 5000);
  });
}
