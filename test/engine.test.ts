// The engine against R (lme4 / nlme) on real data sets: fixtures made by
// test/fixtures/make-fixtures.R. Tolerances (issue 2): logLik 1e-4 absolute; beta within
// 1e-4 x its SE; SEs and variance components 1e-4 relative.
import { test } from "node:test";
import { fitModel } from "../src/engine";
import { EngineFx, compareFit, loadTable, readJson } from "./helpers/fixtures";

const fixtures = readJson<EngineFx[]>("test/fixtures/engine.json");

for (const fx of fixtures) {
  test(`${fx.name}: ${fx.spec} (${fx.method}) matches ${fx.source}`, () => {
    const fit = fitModel(loadTable(fx.data), fx.spec, { method: fx.method, ci: "none" });
    compareFit(fit, fx);
  });
}
