// Nakagawa R² (performance::r2_nakagawa, with Johnson's random slopes) against R
// (test/fixtures/make-fixtures-11.R): 1e-4 relative.
import { test } from "node:test";
import assert from "node:assert/strict";
import { fitModel } from "../src/engine";
import type { Method } from "../src/engine/types";
import { closeRel, loadTable, readJson } from "./helpers/fixtures";
import { pFUpper } from "../src/engine/inference/dist";

interface Fx { name: string; data: string; spec: string; method: Method; r2?: { marginal: number; conditional: number } }
const fx = readJson<{ fixtures: Fx[] }>("test/fixtures/anova.json").fixtures;

for (const f of fx.filter((x) => x.r2)) {
  test(`R² marginal and conditional as performance::r2_nakagawa (${f.name}: ${f.spec})`, () => {
    const fit = fitModel(loadTable(f.data), f.spec, { method: f.method, ci: "none" });
    assert.ok(fit.r2, "r2 present");
    closeRel(fit.r2.marginal, f.r2!.marginal, 1e-4, "marginal R²");
    closeRel(fit.r2.conditional, f.r2!.conditional, 1e-4, "conditional R²");
    assert.match(fit.r2.definition, /Nakagawa/);
  });
}

test("R² without random effects (GLS): conditional = marginal, between 0 and 1", () => {
  const fit = fitModel(loadTable("assets/examples/sitka.csv"), "size ~ time*treat ; AR1(time | tree)", { ci: "none" });
  assert.ok(fit.r2!.marginal > 0 && fit.r2!.marginal < 1);
  assert.equal(fit.r2!.conditional, fit.r2!.marginal);
});

test("R² does not depend on the units of the response or of a covariate", () => {
  const t = loadTable("assets/examples/sleepstudy.csv");
  const a = fitModel(t, "Reaction ~ Days + (Days|Subject)", { ci: "none" }).r2!;
  const b = fitModel(t, "I(Reaction/1000) ~ I(Days*24) + (I(Days*24)|Subject)", { ci: "none" }).r2!;
  closeRel(b.marginal, a.marginal, 1e-6, "marginal R² in other units");
  closeRel(b.conditional, a.conditional, 1e-6, "conditional R² in other units");
});

test("F p-values are upper tails, not 1 - cdf (R: pf(71.19, 1, 1e6, lower.tail = FALSE))", () => {
  closeRel(pFUpper(71.19, 1, 1e6), 3.24851055285355e-17, 1e-6, "tiny upper tail");
  closeRel(pFUpper(500, 4, 30), 5.52635975044257e-27, 1e-6, "tinier upper tail");
  closeRel(pFUpper(2.5, 3, 17.3), 9.36560957782538e-02, 1e-6, "ordinary p");
  assert.equal(pFUpper(0, 2, 10), 1);
});
