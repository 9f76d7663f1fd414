// The model builder: the pane's choices -> the spec string (ARCHITECTURE §5) for the lecture's
// models, and back from a typed spec to the choices.
import { test } from "node:test";
import assert from "node:assert/strict";
import { parseSpec } from "../../src/engine";
import { BuildError, ModelChoices, buildSpec, choicesFromSpec, describeColumns, emptyChoices, guessRoles, sameModel, specName } from "../../src/taskpane/spec-builder";
import { csvRows } from "../helpers/fixtures";

const sitka: ModelChoices = { ...emptyChoices(), response: "size", fixed: ["time", "treat"], interaction: true, groups: ["tree"], time: "time" };

test("the lecture's models as specs", () => {
  // lmer(size ~ time*treat + (1|tree)): the lecture's Table 1
  assert.equal(buildSpec(sitka), "size ~ time*treat + (1|tree)");
  // lme(size ~ time, random = ~ 1|tree) and random = ~ time|tree
  assert.equal(buildSpec({ ...sitka, fixed: ["time"], interaction: false }), "size ~ time + (1|tree)");
  assert.equal(buildSpec({ ...sitka, fixed: ["time"], randomSlope: true }), "size ~ time + (time|tree)");
  // additive fixed effects
  assert.equal(buildSpec({ ...sitka, interaction: false }), "size ~ time + treat + (1|tree)");
  // correlated errors without random effects (gls): the group of the residuals must be named
  assert.equal(buildSpec({ ...sitka, groups: [], residual: "AR1", residualGroup: "tree" }), "size ~ time*treat ; AR1(time | tree)");
  assert.equal(buildSpec({ ...sitka, groups: [], residual: "CS", residualGroup: "tree" }), "size ~ time*treat ; CS(1 | tree)");
  assert.equal(buildSpec({ ...sitka, groups: [], residual: "ARH1", residualGroup: "tree" }), "size ~ time*treat ; ARH1(time | tree)");
  assert.equal(buildSpec({ ...sitka, groups: [], residual: "UN", residualGroup: "tree" }), "size ~ time*treat ; UN(time | tree)");
  assert.equal(buildSpec({ ...sitka, groups: [], residual: "CAR1", residualGroup: "tree" }), "size ~ time*treat ; CAR1(time | tree)");
  // the brief's example: random intercept, AR1 within tree, one residual SD per treatment
  assert.equal(buildSpec({ ...sitka, residual: "AR1", varIdent: "treat" }), "size ~ time*treat + (1|tree) ; AR1(time | tree) ; varIdent(treat)");
  // nested and crossed grouping
  assert.equal(buildSpec({ ...emptyChoices(), response: "strength", groups: ["batch", "cask"] }), "strength ~ 1 + (1|batch/cask)");
  assert.equal(buildSpec({ ...emptyChoices(), response: "strength", groups: ["batch", "cask"], residual: "CS" }), "strength ~ 1 + (1|batch/cask) ; CS(1 | cask:batch)");
  assert.equal(buildSpec({ ...emptyChoices(), response: "diameter", groups: ["plate", "sample"], nesting: "crossed" }), "diameter ~ 1 + (1|plate) + (1|sample)");
  // every built spec parses
  for (const c of [sitka, { ...sitka, residual: "UN" as const, varIdent: "treat" }]) assert.doesNotThrow(() => parseSpec(buildSpec(c)));
});

test("column names that need quoting are written in backticks", () => {
  assert.equal(specName("log size"), "`log size`");
  assert.equal(specName("size.cm"), "size.cm");
  assert.equal(specName("2010"), "`2010`");
  const spec = buildSpec({ ...emptyChoices(), response: "log size", fixed: ["days since"], groups: ["tree id"] });
  assert.equal(spec, "`log size` ~ `days since` + (1|`tree id`)");
  assert.equal(parseSpec(spec).formula.random[0].group[0], "tree id");
});

test("a choice that cannot make a model says which control is wrong", () => {
  const err = (c: ModelChoices) => {
    try {
      buildSpec(c);
    } catch (e) {
      assert.ok(e instanceof BuildError);
      return [e.field, e.message];
    }
    return null;
  };
  assert.deepEqual(err({ ...sitka, response: "" })?.[0], "response");
  assert.deepEqual(err({ ...sitka, time: null, residual: "AR1" })?.[0], "time");
  assert.deepEqual(err({ ...sitka, groups: [], residual: "AR1" })?.[0], "residualGroup");
  assert.deepEqual(err({ ...sitka, time: null, randomSlope: true })?.[0], "time");
  assert.deepEqual(err({ ...sitka, groups: ["tree", "tree"] })?.[0], "groups");
  assert.match(err({ ...sitka, groups: [], residual: "AR1" })![1], /choose the column that groups them/);
});

test("a typed spec moves the controls when they can describe it", () => {
  const roundTrip = (c: ModelChoices) => {
    const back = choicesFromSpec(parseSpec(buildSpec(c)), c);
    assert.ok(back, `no choices for ${buildSpec(c)}`);
    assert.equal(buildSpec(back), buildSpec(c));
  };
  roundTrip(sitka);
  roundTrip({ ...sitka, randomSlope: true });
  roundTrip({ ...sitka, residual: "ARH1", varIdent: "treat" });
  roundTrip({ ...sitka, groups: [], residual: "AR1", residualGroup: "tree" });
  roundTrip({ ...emptyChoices(), response: "strength", groups: ["batch", "cask"] });
  roundTrip({ ...emptyChoices(), response: "diameter", groups: ["plate", "sample"], nesting: "crossed" });
  // written differently, same model
  const c = choicesFromSpec(parseSpec("size ~ treat*time + (1 | tree) ; AR1(time)"), emptyChoices())!;
  assert.deepEqual([c.response, c.fixed, c.interaction, c.groups, c.residual, c.residualGroup, c.time], ["size", ["treat", "time"], true, ["tree"], "AR1", null, "time"]);
  // beyond the controls: transformations, a partial interaction, uncorrelated effects
  for (const s of ["log(size) ~ time + (1|tree)", "size ~ time + treat + time:treat + I(time^2) + (1|tree)", "size ~ time + (time||tree)", "size ~ time + (1|tree) + (0 + time|tree)"]) {
    assert.equal(choicesFromSpec(parseSpec(s)), null, s);
  }
  // the time column the spec does not use stays as it was
  assert.equal(choicesFromSpec(parseSpec("size ~ treat + (1|tree)"), sitka)!.time, "time");
});

test("sameModel compares models, not spellings", () => {
  assert.ok(sameModel(parseSpec("y ~ a*b + (1|g)"), parseSpec("y ~ b + a + a:b + (1 | g)")));
  assert.ok(sameModel(parseSpec("y ~ x + (1|g) ; AR1(t)"), parseSpec("y ~ x + (1|g) ; AR1(t | g)")));
  assert.ok(!sameModel(parseSpec("y ~ x + (1|g)"), parseSpec("y ~ x + (x|g)")));
  assert.ok(!sameModel(parseSpec("y ~ x ; varIdent(a)"), parseSpec("y ~ x")));
});

test("a first guess on the Sitka data: size ~ time + treat + (1|tree)", () => {
  const cols = describeColumns(csvRows("assets/examples/sitka.csv"));
  assert.deepEqual(cols.map((c) => [c.name, c.kind, c.distinct]), [["size", "numeric", cols[0].distinct], ["time", "numeric", 5], ["tree", "numeric", 79], ["treat", "text", 2]]);
  const g = guessRoles(cols);
  assert.equal(buildSpec(g), "size ~ time + treat + (1|tree)");
  assert.equal(g.time, "time");
  // no telling names: the grouping column is the one with many repeated levels
  const rows: unknown[][] = [["y", "x", "unit"]];
  for (let i = 0; i < 60; i++) rows.push([Math.sin(i) + 2.5, i % 6, `u${Math.floor(i / 6)}`]);
  assert.equal(buildSpec(guessRoles(describeColumns(rows))), "y ~ x + (1|unit)");
});

test("AR1 with a grouping column: a random intercept plus AR1 (lme), or AR1 alone (GLS, the lecture's model)", () => {
  const lme = { ...sitka, residual: "AR1" as const };
  assert.equal(buildSpec(lme), "size ~ time*treat + (1|tree) ; AR1(time | tree)");
  assert.equal(buildSpec({ ...lme, gls: true }), "size ~ time*treat ; AR1(time | tree)");
  // a typed GLS moves the controls to the GLS choice, with tree as the grouping column
  const back = choicesFromSpec(parseSpec("size ~ time*treat ; AR1(time | tree)"));
  assert.ok(back);
  assert.equal(back.gls, true);
  assert.deepEqual(back.groups, ["tree"]);
  assert.equal(buildSpec(back), "size ~ time*treat ; AR1(time | tree)");
  assert.equal(choicesFromSpec(parseSpec("size ~ time*treat + (1|tree) ; AR1(time | tree)"))!.gls, false);
  assert.throws(() => buildSpec({ ...lme, gls: true, randomSlope: true }), (e: BuildError) => e.field === "residual");
});
