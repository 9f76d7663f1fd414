// The model-spec parser: R's term expansion, order and labels (checked against R 4.2's terms()),
// lme4's random terms, residual parts, and errors that point at the column of the problem.
import { test } from "node:test";
import assert from "node:assert/strict";
import { parseSpec } from "../src/engine/formula";
import { SpecError } from "../src/engine/errors";

const labels = (s: string) => parseSpec(s).formula.fixed.map((t) => t.label);
const intercept = (s: string) => parseSpec(s).formula.intercept;
const randoms = (s: string) => parseSpec(s).formula.random.map((r) => r.text);

test("fixed terms expand and order as R's terms()", () => {
  // Expected labels from R 4.2: attr(terms(f), "term.labels").
  const cases: [string, string[]][] = [
    ["size ~ time*treat", ["time", "treat", "time:treat"]],
    ["y ~ a*b*c", ["a", "b", "c", "a:b", "a:c", "b:c", "a:b:c"]],
    ["y ~ a:b + a", ["a", "a:b"]],
    ["y ~ (a + b + c)^2", ["a", "b", "c", "a:b", "a:c", "b:c"]],
    ["y ~ (a+b+c)^2 - a:b", ["a", "b", "c", "a:c", "b:c"]],
    ["y ~ a/b", ["a", "a:b"]],
    ["y ~ a*b/c", ["a", "b", "a:b", "a:b:c"]],
    ["y ~ a/b*c", ["a", "c", "a:b", "a:c", "a:b:c"]],
    ["y ~ (a+b)/c", ["a", "b", "a:b:c"]],
    ["y ~ a/(b+c)", ["a", "a:b", "a:c"]],
    ["y ~ a*b - a:b", ["a", "b"]],
    ["y ~ a + b - a", ["b"]],
    ["y ~ a*b*c - a", ["b", "c", "a:b", "a:c", "b:c", "a:b:c"]],
    ["y ~ b:a + a:b", ["b:a"]],
    ["y ~ c:b + a:c + b", ["b", "c:b", "c:a"]],
    ["y ~ log(x)*a", ["log(x)", "a", "log(x):a"]],
    ["y ~ (z*x + b*c)^2", ["z", "x", "b", "c", "z:x", "z:b", "z:c", "x:b", "x:c", "b:c", "z:b:c", "x:b:c", "z:x:b", "z:x:c", "z:x:b:c"]],
    ["y ~ (a + b + c)^3", ["a", "b", "c", "a:b", "a:c", "b:c", "a:b:c"]],
  ];
  for (const [f, want] of cases) assert.deepEqual(labels(f), want, f);
});

test("labels of expressions read as R deparses them", () => {
  assert.deepEqual(labels("y ~ log(x) + I(t^2) + factor(d) + sqrt(x) + exp(z)"), ["log(x)", "I(t^2)", "factor(d)", "sqrt(x)", "exp(z)"]);
  assert.deepEqual(labels("y ~ I(t * 2 - 1) + I(x/2) + I((x+1)^2) + I(-x) + log(abs(x)+1)"), ["I(t * 2 - 1)", "I(x/2)", "I((x + 1)^2)", "I(-x)", "log(abs(x) + 1)"]);
  assert.deepEqual(labels("y ~ I((a+b)*c/d - -e^2 + 1e5 + 0.5 + 1e-10)"), ["I((a + b) * c/d - -e^2 + 1e+05 + 0.5 + 1e-10)"]);
  assert.deepEqual(labels("y ~ `my x` * `2nd` + x.1 + x_2"), ["`my x`", "`2nd`", "x.1", "x_2", "`my x`:`2nd`"]);
  const s = parseSpec("log(size) ~ time");
  assert.deepEqual(s.formula.response, { kind: "call", fn: "log", args: [{ kind: "var", name: "size" }] });
  // Letters of any alphabet.
  assert.deepEqual(labels("größe ~ zeit*behandlung"), ["zeit", "behandlung", "zeit:behandlung"]);
});

test("intercept: 1, 0, -1, - 0", () => {
  assert.equal(intercept("y ~ x"), true);
  assert.equal(intercept("y ~ x - 1"), false);
  assert.equal(intercept("y ~ 0 + x"), false);
  assert.equal(intercept("y ~ x + 0"), false);
  assert.equal(intercept("y ~ -1 + x"), false);
  assert.equal(intercept("y ~ 1 + x - 1"), false);
  assert.equal(intercept("y ~ x - 1 + 1"), true);
  assert.equal(intercept("y ~ 1 + x"), true);
  assert.deepEqual(labels("y ~ 1"), []);
  assert.deepEqual(labels("y ~ a*b - 1"), ["a", "b", "a:b"]);
});

test("random terms: correlated, uncorrelated, no intercept, nested and crossed", () => {
  assert.deepEqual(randoms("y ~ x + (x | g)"), ["1 + x | g"]);
  assert.deepEqual(randoms("y ~ Days + (Days || Subject)"), ["1 | Subject", "0 + Days | Subject"]);
  assert.deepEqual(randoms("y ~ (1 + a + b || g)"), ["1 | g", "0 + a | g", "0 + b | g"]);
  assert.deepEqual(randoms("y ~ (0 + a + b || g)"), ["0 + a | g", "0 + b | g"]);
  assert.deepEqual(randoms("y ~ (0 + x | g)"), ["0 + x | g"]);
  assert.deepEqual(randoms("y ~ (x - 1 | g)"), ["0 + x | g"]);
  assert.deepEqual(randoms("y ~ 1 + (1 | batch/cask)"), ["1 | batch", "1 | cask:batch"]);
  assert.deepEqual(randoms("y ~ (1 | a:b)"), ["1 | a:b"]);
  assert.deepEqual(randoms("y ~ (1 | a/b/c)"), ["1 | a", "1 | b:a", "1 | c:b:a"]);
  assert.deepEqual(randoms("d ~ 1 + (1|plate) + (1|sample)"), ["1 | plate", "1 | sample"]);
  const s = parseSpec("y ~ x + (1 | batch/cask) + (x | g)").formula.random;
  assert.deepEqual(s.map((r) => r.group), [["batch"], ["cask", "batch"], ["g"]]);
  assert.deepEqual(parseSpec("y ~ (1 | a:b)").formula.random[0].group, ["a", "b"]);
  const u = parseSpec("y ~ (Days || Subject)").formula.random;
  assert.deepEqual(u.map((r) => [r.intercept, r.terms.map((t) => t.label), r.correlated]), [[true, [], true], [false, ["Days"], true]]);
  const c = parseSpec("y ~ (1 + t + I(t^2) | g)").formula.random[0];
  assert.deepEqual([c.intercept, c.terms.map((t) => t.label), c.correlated], [true, ["t", "I(t^2)"], true]);
});

test("the fixed part's variable order leaves the random terms out (lme4's nobars)", () => {
  assert.deepEqual(labels("y ~ (x | g) + g:x"), ["g:x"]);
  assert.deepEqual(labels("y ~ (1 | g) + b:a + a"), ["a", "b:a"]);
});

test("residual structures and varIdent, in either order", () => {
  const s = parseSpec("size ~ time*treat + (1|tree) ; AR1(time | tree) ; varIdent(treat)");
  assert.deepEqual(s.residual, { type: "AR1", time: "time", group: "tree" });
  assert.equal(s.varIdent, "treat");
  assert.deepEqual(parseSpec("y ~ x ; CS(1 | g)").residual, { type: "CS", time: null, group: "g" });
  assert.deepEqual(parseSpec("y ~ x ; CS(1)").residual, { type: "CS", time: null, group: null });
  assert.deepEqual(parseSpec("y ~ x + (1|g); varIdent(s); UN(t)").residual, { type: "UN", time: "t", group: null });
  assert.deepEqual(parseSpec("y ~ x ; CAR1(t | a:b)").residual, { type: "CAR1", time: "t", group: "a:b" });
  assert.deepEqual(parseSpec("y ~ x ; ARH1(~ t | g)").residual, { type: "ARH1", time: "t", group: "g" });
  assert.deepEqual(parseSpec("y ~ x ; ar1(t | g)").residual, { type: "AR1", time: "t", group: "g" });
  assert.equal(parseSpec("y ~ x ; varIdent(s)").residual, null);
  assert.equal(parseSpec("y ~ x ; varIdent(1 | s)").varIdent, "s");
  assert.equal(parseSpec("  y ~ x  ").text, "y ~ x");
});

function errAt(spec: string, re: RegExp, column: number) {
  try {
    parseSpec(spec);
  } catch (e) {
    assert.ok(e instanceof SpecError, `not a SpecError: ${e}`);
    assert.match(e.message, re, spec);
    assert.equal(e.column, column, `column for '${spec}': ${e.message}`);
    return;
  }
  assert.fail(`no error for '${spec}'`);
}

test("syntax errors say what and where", () => {
  errAt("size time", /the formula has no '~'/, 1);
  errAt("~ time", /response before '~'/, 1);
  errAt("size ~ time +", /expected a column name after '\+'/, 14);
  errAt("size ~", /expected a column name after '~'/, 7);
  errAt("y ~ x +* z", /expected a column name after '\+' but found '\*'/, 8);
  errAt("y ~ x*", /expected a column name after '\*'/, 7);
  errAt("y ~ x:", /expected a column name after ':'/, 7);
  errAt("size ~ time + (1|tree", /missing '\)'.*'\(' of the random-effects term at column 15/, 22);
  errAt("y ~ (x", /missing '\)'/, 7);
  errAt("y ~ log(x", /missing '\)'/, 10);
  errAt("size ~ time)", /unmatched '\)'/, 12);
  errAt("size ~ logg(time)", /unknown function 'logg'/, 8);
  errAt("y ~ Log(x)", /unknown function 'Log' \(did you mean log\?\)/, 5);
  errAt("y ~ log()", /log\(\) needs a column/, 9);
  errAt("size ~ time ; AR2(time | tree)", /unknown residual structure 'AR2': use CS, AR1, CAR1, ARH1, UN, CSH, TOEP, ARMA/, 15);
  errAt("size ~ ( | tree)", /empty random-effects term/, 10);
  errAt("size ~ time + (1 | )", /expected a grouping column after '\|'/, 20);
  errAt("y ~ (1 | a/)", /expected a grouping column after '\/'/, 12);
  errAt("y ~ x + (1|g h)", /unexpected 'h' in the grouping factor/, 14);
  errAt("y ~ (0 | g)", /has no effects/, 5);
  errAt("size ~ time $ treat", /unexpected character '\$'/, 13);
  errAt("size ~ time treat", /join terms with '\+'/, 13);
  errAt("y ~ x | g", /'\|' outside parentheses/, 7);
  errAt("y ~ x*(1|g)", /cannot be part of another term/, 7);
  errAt("y ~ (1|g) x", /must be added to the formula with '\+'/, 11);
  errAt("y ~ x - (1|g)", /cannot be removed/, 9);
  errAt("y ~ 2x", /cannot start with a digit.*`2x`/, 5);
  errAt("y ~ 2", /a number \(2\) cannot be a term/, 5);
  errAt("y ~ .", /'\.' \(all other columns\) is not supported/, 5);
  errAt("y ~ x %in% z", /%in% is not supported/, 7);
  errAt("y ~ `x", /backticks is not closed/, 5);
  errAt("y ~ x^b", /whole number after '\^'/, 7);
  errAt("y ~ factor(x + 1)", /factor\(\) takes a column name/, 12);
  errAt("", /the model spec is empty/, 1);
  errAt("y ~ x ; ", /nothing after ';'/, 7);
  errAt("y ~ x ; AR1( | g)", /AR1 needs a time column/, 14);
  errAt("y ~ x ; AR1(1 | g)", /AR1 needs a time column/, 13);
  errAt("y ~ x ; AR1 t", /expected '\(' after AR1/, 13);
  errAt("y ~ x ; AR1(t | g) x", /unexpected 'x' after AR1\(\.\.\.\)/, 20);
  errAt("y ~ x ; AR1(t | g) ; CS(1|g)", /only one residual correlation structure/, 22);
  errAt("y ~ x ; varIdent()", /varIdent needs a column/, 18);
  errAt("y ~ x ; varIdent(a) ; varIdent(b)", /only one varIdent/, 23);
  errAt("y ~ x ; 3", /expected a residual structure/, 9);
});
