// Residual correlation structures against nlme (gls and lme with correlation= / weights=):
// fixtures from test/fixtures/make-fixtures.R, tolerances as the engine's.
import { test } from "node:test";
import assert from "node:assert/strict";
import { fitModel, compareModels } from "../src/engine";
import { EngineFx, closeAbs, compareFit, loadTable, readJson } from "./helpers/fixtures";

const fixtures = readJson<EngineFx[]>("test/fixtures/residual.json");

for (const fx of fixtures) {
  test(`${fx.name}: ${fx.spec} (${fx.method}) matches ${fx.source}`, () => {
    const fit = fitModel(loadTable(fx.data), fx.spec, { method: fx.method, ci: "none" });
    compareFit(fit, fx);
    if (fx.residual?.type === "none") {
      assert.equal(fit.residual, null);
      return;
    }
    assert.ok(fit.residual, "the result reports the residual structure");
    const want = fx.residual?.params ?? {};
    for (const key of ["phi", "rho"]) {
      if (typeof want[key] === "number") closeAbs(fit.residual.params[key] as number, want[key] as number, 1e-3, `${key} of the residual structure`);
    }
  });
}

test("the lecture's GLS ladder: nlme's anova logLik and df", () => {
  const data = loadTable("assets/examples/sitka.csv");
  const specs = ["size ~ time*treat", "size ~ time*treat ; CS(1 | tree)", "size ~ time*treat ; AR1(time | tree)", "size ~ time*treat ; ARH1(time | tree)", "size ~ time*treat ; UN(time | tree)"];
  const res = compareModels(data, specs, { method: "REML" });
  assert.equal(res.refit_ml, false);
  assert.deepEqual(res.models.map((m) => m.df), [5, 6, 6, 10, 19]);
  [-394.2299, -81.7585, -34.9311, -15.7839, 21.5648].forEach((ll, i) => closeAbs(res.models[i].logLik, ll, 5e-5 + 1e-6, `logLik of ${specs[i]} (printed to 4 decimals)`));
});

test("a structure with varIdent fits at least as well as the structures nested in it", () => {
  // ARH1 alone is ARH1 + varIdent(treat) with the treatment ratio at 1: at a true optimum the
  // larger model's logLik cannot be lower (the search used to stop 11 units below ARH1 alone).
  const data = loadTable("assets/examples/sitka.csv");
  const pairs = [
    ["size ~ time*treat ; ARH1(time | tree)", "size ~ time*treat ; ARH1(time | tree) ; varIdent(treat)"],
    ["size ~ time*treat ; AR1(time | tree) ; varIdent(treat)", "size ~ time*treat ; ARH1(time | tree) ; varIdent(treat)"],
    ["size ~ time*treat ; CS(1 | tree)", "size ~ time*treat ; CS(1 | tree) ; varIdent(treat)"],
    ["size ~ time*treat + (1|tree) ; AR1(time | tree)", "size ~ time*treat + (1|tree) ; AR1(time | tree) ; varIdent(treat)"],
  ];
  for (const [small, large] of pairs) {
    const a = fitModel(data, small, { method: "REML", ci: "none" });
    const b = fitModel(data, large, { method: "REML", ci: "none" });
    assert.ok(b.logLik >= a.logLik - 1e-6, `${large} (${b.logLik}) is below ${small} (${a.logLik})`);
  }
});

test("variance-component intervals with a residual structure: nlme's intervals() for every ci choice, said in the notes; none with ci = none", () => {
  // Issue 15: these used to get no interval (a Wald interval at fixed residual parameters would be
  // too narrow); they now get nlme's, joint with the residual parameters (test/intervals.test.ts).
  const data = loadTable("assets/examples/sitka.csv");
  for (const ci of ["auto", "wald", "profile"] as const) {
    const fit = fitModel(data, "size ~ time*treat + (1|tree) ; AR1(time | tree)", { ci });
    assert.ok(fit.varcomp.every((r) => r.sd_lower !== null && r.sd_upper !== null), `ci = ${ci}: an interval for every row`);
    assert.ok(fit.messages.some((m) => m.includes("nlme's intervals()")), `ci = ${ci}: the note`);
    assert.ok(fit.residual?.intervals?.some((r) => r.name === "Phi"), `ci = ${ci}: phi's interval`);
  }
  const none = fitModel(data, "size ~ time*treat + (1|tree) ; AR1(time | tree)", { ci: "none" });
  assert.ok(none.varcomp.every((r) => r.sd_lower === null) && none.residual?.intervals === undefined);
});
