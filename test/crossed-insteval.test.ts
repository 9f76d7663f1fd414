// Crossed random intercepts on a committed subsample of lme4's InstEval (6,883 ratings, 938
// lecturers x 250 students x 14 departments; test/fixtures/make-fixtures-crossed.R): the size at
// which the students and departments form a dense block of 264 rows, factored by the tile kernel
// (SIMD where available), with the lecturers' level classes below it. Against lme4 / lmerTest
// with the tolerances of issue 2: logLik 1e-4 absolute; beta within 1e-4 x SE; SEs, SDs, sigma
// 1e-4 relative; Satterthwaite df 1e-3 relative (lmerTest's numDeriv Hessian); BLUPs within
// 1e-4 x their conditional SD, conditional SDs 1e-4 relative.
import { test } from "node:test";
import { fitModel } from "../src/engine";
import { closeAbs, closeRel, loadTable, readJson } from "./helpers/fixtures";

interface Fx {
  data: string; spec: string; n: number; logLik: number; sigma: number;
  fixef: { term: string; estimate: number; se: number; df: number }[];
  varcomp: { group: string; sd: number }[];
  blups: { group: string; level: string; value: number; condsd: number }[];
}

test("InstEval subsample, y ~ service + (1|s) + (1|d) + (1|dept), REML: lme4 and lmerTest's numbers", () => {
  const fx = readJson<Fx>("test/fixtures/crossed-insteval.json");
  const fit = fitModel(loadTable(fx.data), fx.spec, { method: "REML" });
  closeAbs(fit.n, fx.n, 0, "n");
  closeAbs(fit.logLik, fx.logLik, 1e-4, "logLik");
  closeRel(fit.sigma, fx.sigma, 1e-4, "sigma");
  fx.fixef.forEach((f, i) => {
    const r = fit.fixef[i];
    closeAbs(r.estimate, f.estimate, 1e-4 * f.se, `${f.term} estimate`);
    closeRel(r.se, f.se, 1e-4, `${f.term} se`);
    closeRel(r.df, f.df, 1e-3, `${f.term} df`);
  });
  for (const v of fx.varcomp) {
    const row = fit.varcomp.find((r) => r.group === v.group);
    closeRel(row?.sd, v.sd, 1e-4, `sd ${v.group}`);
  }
  for (const b of fx.blups) {
    const t = fit.blups[b.group];
    const at = t.levels.indexOf(b.level);
    closeAbs(t.values[at][0], b.value, 1e-4 * b.condsd, `BLUP ${b.group} ${b.level}`);
    closeRel(t.se[at][0], b.condsd, 1e-4, `conditional SD ${b.group} ${b.level}`);
  }
});
