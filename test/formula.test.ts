// The model-spec parser: R's term expansion and order, lme4's random terms, residual parts,
// and errors that point at the column of the problem.
import { test } from "node:test";
import assert from "node:assert/strict";
import { parseSpec } from "../src/engine";
import { SpecError } from "../src/engine/errors";

const labels = (s: string) => parseSpec(s).formula.fixed.map((t) => t.label);
const groups = (s: string) => parseSpec(s).formula.random.map((r) => `${r.text}`);

test("fixed terms expand and order as R's terms()", () => {
  assert.deepEqual(labels("size ~ time*treat"), ["time", "treat", "time:treat"]);
  assert.deepEqual(labels("y ~ a*b*c"), ["a", "b", "c", "a:b", "a:c", "b:c", "a:b:c"]);
  assert.deepEqual(labels("y ~ a:b + a"), ["a", "a:b"]);
  assert.deepEqual(labels("y ~ (a + b + c)^2"), ["a", "b", "c", "a:b", "a:c", "b:c"]);
  assert.deepEqual(labels("y ~ a/b"), ["a", "a:b"]);
  assert.deepEqual(labels("y ~ a*b - a:b"), ["a", "b"]);
  assert.deepEqual(labels("y ~ b:a + a:b"), ["b:a"]);
  assert.deepEqual(labels("y ~ log(x) + I(t^2) + factor(d) + sqrt(x)"), ["log(x)", "I(t^2)", "factor(d)", "sqrt(x)"]);
  assert.deepEqual(labels("y ~ I(t * 2 - 1)"), ["I(t * 2 - 1)"]);
});

test("intercept: 1, 0, -1", () => {
  assert.equal(parseSpec("y ~ x").formula.intercept, true);
  assert.equal(parseSpec("y ~ x - 1").formula.intercept, false);
  assert.equal(parseSpec("y ~ 0 + x").formula.intercept, false);
  assert.equal(parseSpec("y ~ -1 + x").formula.intercept, false);
  assert.equal(parseSpec("y ~ 1").formula.fixed.length, 0);
});

test("random terms: correlated, uncorrelated, no intercept, nested and crossed", () => {
  assert.deepEqual(groups("y ~ x + (x | g)"), ["1 + x | g"]);
  assert.deepEqual(groups("y ~ Days + (Days || Subject)"), ["1 | Subject", "0 + Days | Subject"]);
  assert.deepEqual(groups("y ~ (0 + x | g)"), ["0 + x | g"]);
  assert.deepEqual(groups("y ~ 1 + (1 | batch/cask)"), ["1 | batch", "1 | cask:batch"]);
  assert.deepEqual(groups("y ~ (1 | a:b)"), ["1 | a:b"]);
  assert.deepEqual(groups("y ~ (1 | a/b/c)"), ["1 | a", "1 | b:a", "1 | c:b:a"]);
  assert.deepEqual(groups("d ~ 1 + (1|plate) + (1|sample)"), ["1 | plate", "1 | sample"]);
  const nested = parseSpec("y ~ (1 | batch/cask)").formula.random;
  assert.deepEqual(nested[1].group, ["cask", "batch"]);
});

test("residual structures and varIdent, in either order", () => {
  const s = parseSpec("size ~ time*treat + (1|tree) ; AR1(time | tree) ; varIdent(treat)");
  assert.deepEqual(s.residual, { type: "AR1", time: "time", group: "tree" });
  assert.equal(s.varIdent, "treat");
  assert.deepEqual(parseSpec("y ~ x ; CS(1 | g)").residual, { type: "CS", time: null, group: "g" });
  assert.deepEqual(parseSpec("y ~ x + (1|g); varIdent(s); UN(t)").residual, { type: "UN", time: "t", group: null });
  assert.equal(parseSpec("y ~ x ; varIdent(s)").residual, null);
});

function errAt(spec: string, re: RegExp, column: number) {
  try {
    parseSpec(spec);
  } catch (e) {
    assert.ok(e instanceof SpecError, `not a SpecError: ${e}`);
    assert.match(e.message, re);
    assert.equal(e.column, column, `column for '${spec}': ${e.message}`);
    return;
  }
  assert.fail(`no error for '${spec}'`);
}

test("syntax errors say what and where", () => {
  errAt("size time", /no '~'/, 1);
  errAt("~ time", /response before '~'/, 1);
  errAt("size ~ time +", /expected a term/, 14);
  errAt("size ~ time + (1|tree", /expected '\)'/, 22);
  errAt("size ~ logg(time)", /unknown function 'logg'/, 8);
  errAt("size ~ time ; AR2(time | tree)", /unknown residual structure 'AR2'/, 15);
  errAt("size ~ ( | tree)", /empty random-effects term/, 10);
  errAt("size ~ time + (1 | )", /grouping column/, 20);
  errAt("size ~ time $ treat", /unexpected character '\$'/, 13);
  errAt("size ~ time treat", /join terms with '\+'/, 13);
  errAt("size ~ time)", /unmatched '\)'/, 12);
  errAt("", /empty/, 1);
  errAt("y ~ x ; ", /nothing after ';'/, 8);
  errAt("y ~ x ; AR1( | g)", /time column/, 14);
  errAt("y ~ 2", /number \(2\) cannot be a term/, 5);
});
