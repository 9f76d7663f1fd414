// =LMM.EMMEANS and =LMM.CONTRAST called as Excel calls them: numbers against R
// (test/fixtures/emmeans.json, test/fixtures/anova.json), no null in any cell, and #VALUE! with a
// message for bad arguments.
import "./addin/shim";
import { test } from "node:test";
import assert from "node:assert/strict";
import { expectValueError, invocation } from "./addin/shim";
import { contrast, emmeans } from "../src/functions/functions";
import { closeRel, csvRows, readJson } from "./helpers/fixtures";

interface Fx { name: string; results: Record<string, { emmeans: { estimate: number; SE: number; df: number }[]; pairs: Record<string, { estimate: number; "p.value": number }[]> }> }
const cases = readJson<{ cases: Fx[] }>("test/fixtures/emmeans.json").cases;
const sitka = csvRows("assets/examples/sitka.csv");
const SPEC = "size ~ time*treat + (1|tree)";


const val = (c: unknown): number => (typeof c === "number" ? c : (c as { basicValue: number }).basicValue);

test("LMM.EMMEANS: means then contrasts as emmeans at time = 200; every cell a number or text", async () => {
  const r = cases.find((c) => c.name === "sitka_treat_at200")!.results.satterthwaite;
  const out = await emmeans(sitka, SPEC, "treat", null, "time=200", null, null, null, null, invocation());
  assert.deepEqual(out[0], ["treat", "emmean", "SE", "df", "lower.CL", "upper.CL", ""]);
  r.emmeans.forEach((e, i) => {
    closeRel(val(out[1 + i][1]), e.estimate, 1e-4, "emmean");
    closeRel(val(out[1 + i][2]), e.SE, 1e-4, "SE");
    closeRel(val(out[1 + i][3]), e.df, 1e-4, "df");
  });
  assert.deepEqual(out[4].slice(0, 6), ["contrast", "estimate", "SE", "df", "t.ratio", "p.value"]);
  assert.equal(out[5][0], "control - ozone");
  closeRel(val(out[5][5]), r.pairs.tukey[0]["p.value"], 1e-4, "p");
  for (const row of out) for (const c of row) assert.ok(c !== null && c !== undefined, "no null cells");
  assert.ok(out.every((row) => row.length === out[0].length), "rectangular");
});

test("LMM.CONTRAST: each row a t test, joint adds the F test", async () => {
  const out = await contrast(sitka, SPEC, [[0, 0, 1, 0], [0, 0, 0, 1]], true, null, invocation());
  assert.deepEqual(out[0], ["", "Estimate", "Std. Error", "df", "t value", "Pr(>|t|)"]);
  assert.equal(out.length >= 5, true);
  assert.equal(out[3][0], "");
  assert.equal(out[4][0], "joint F test");
  assert.equal(val(out[4][1]), 2);
});

test("LMM.EMMEANS and LMM.CONTRAST: #VALUE! with a message for bad input", async () => {
  await expectValueError(emmeans(sitka, SPEC, "trat", null, null, null, null, null, null, invocation()), /unknown factor 'trat' in specs/);
  await expectValueError(emmeans(sitka, SPEC, "treat", null, "x=1", null, null, null, null, invocation()), /at names 'x', which is not a predictor/);
  await expectValueError(emmeans(sitka, SPEC, null, null, null, null, null, null, null, invocation()), /specs must name the factor/);
  await expectValueError(emmeans(sitka, SPEC, "treat", null, null, "tukee", null, null, null, invocation()), /adjust must be/);
  await expectValueError(emmeans(sitka, SPEC, "treat", null, null, null, "ML", "kr", null, invocation()), /Kenward-Roger df need a REML fit/);
  await expectValueError(contrast(sitka, SPEC, [[0, 1, 0]], null, null, invocation()), /row 1 of L has 3 numbers, but the model has 4 fixed-effect coefficients/);
  await expectValueError(contrast(sitka, SPEC, [[0, 1, "x", 0]], null, null, invocation()), /L\[1, 3\] is not a number/);
  await expectValueError(contrast(sitka, "size ~ time*treat + ar1(0 + factor(time) | tree)", [[0, 1, 0, 0]], null, "kr", invocation()), /Kenward-Roger is not defined here: the residual SD is estimated as \(nearly\) 0/);
});
