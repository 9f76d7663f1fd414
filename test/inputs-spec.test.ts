// Issue 14, bad specs: deep nesting (parentheses, I(...), signs, powers, function calls, long
// chains) gives a parse or a clean SpecError, never a RangeError; formulas that would expand to
// an enormous number of terms stop with a message instead of hanging; and options that make no
// sense are rejected by the engine whatever face passes them.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { DataError, SpecError, fitModel, compareModels, exactRlrt, parseSpec } from "../src/engine";
import { MAX_DEPTH } from "../src/engine/formula/parse";
import { checkFitArgs } from "../src/engine/options";
import { loadTable } from "./helpers/fixtures";

const sitka = loadTable("assets/examples/sitka.csv");

/** Specs nested d levels deep in one of the ways the parser recurses. */
const NESTINGS: [string, (d: number) => string][] = [
  ["parentheses", (d) => `size ~ ${"(".repeat(d)}time${")".repeat(d)} + (1|tree)`],
  ["parentheses in I()", (d) => `size ~ I(${"(".repeat(d)}time${")".repeat(d)}) + (1|tree)`],
  ["minus signs", (d) => `size ~ I(${"-".repeat(d)}time) + (1|tree)`],
  ["powers", (d) => `size ~ I(time${"^1".repeat(d)}) + (1|tree)`],
  ["function calls", (d) => `size ~ ${"abs(".repeat(d)}time${")".repeat(d)} + (1|tree)`],
  ["a chain of +", (d) => `size ~ I(time${" + 0".repeat(d)}) + (1|tree)`],
  ["a chain of *", (d) => `size ~ I(time${" * 1".repeat(d)}) + (1|tree)`],
  ["the response", (d) => `${"(".repeat(d)}size${")".repeat(d)} ~ time + (1|tree)`],
  ["a random term", (d) => `size ~ time + (${"(".repeat(d)}time${")".repeat(d)} | tree)`],
  ["unclosed", (d) => `size ~ ${"(".repeat(d)}time`],
];

test("any nesting depth (up to 20000 at random, and 100000) parses or is a SpecError, never a RangeError", () => {
  fc.assert(
    fc.property(fc.constantFrom(...NESTINGS), fc.oneof(fc.integer({ min: 0, max: 400 }), fc.integer({ min: 0, max: 20000 })), ([what, make], d) => {
      try {
        parseSpec(make(d));
      } catch (e) {
        assert.ok(e instanceof SpecError, `${what} at depth ${d}: ${(e as Error).name}: ${(e as Error).message}`);
        if (what !== "unclosed") assert.match((e as Error).message, /nested too deeply/, `${what} at depth ${d}`);
      }
    }),
    { numRuns: 120 },
  );
  for (const [what, make] of NESTINGS) assert.throws(() => parseSpec(make(100000)), SpecError, what);
});

test("a nesting within the limit fits, with the same numbers as without it", () => {
  const plain = fitModel(sitka, "size ~ time + (1|tree)", { ci: "none" });
  for (const [what, make] of NESTINGS.slice(0, 7)) {
    const d = MAX_DEPTH - 10;
    const f = fitModel(sitka, make(d), { ci: "none" });
    const m = what === "minus signs" && d % 2 === 1 ? -1 : 1;
    assert.ok(Math.abs(f.fixef[1].estimate * m - plain.fixef[1].estimate) < 1e-9 * Math.abs(plain.fixef[1].estimate), what);
    assert.ok(Math.abs(f.logLik - plain.logLik) < 1e-6, what);
  }
  // One level beyond the limit is the clean error, at the column where it happens.
  assert.throws(() => parseSpec(NESTINGS[0][1](MAX_DEPTH + 1)), (e: Error) => e instanceof SpecError && /more than 200 levels/.test(e.message));
});

test("formulas that expand to enormous numbers of terms stop with a message, quickly", () => {
  const names = Array.from({ length: 30 }, (_, i) => `x${i}`);
  assert.throws(() => parseSpec(`y ~ ${names.join("*")}`), /expands to more than 10000 terms/);
  assert.throws(() => parseSpec(`y ~ (${names.join(" + ")})^30`), /expands to/);
  // A high power of a small sum is its square: no term is new after that.
  assert.deepEqual(parseSpec("y ~ (a + b)^1000000").formula.fixed.map((t) => t.label), ["a", "b", "a:b"]);
  // A long sum of distinct terms is read (9000 terms; the limit is 10000).
  const many = Array.from({ length: 9000 }, (_, i) => `v${i}`);
  assert.equal(parseSpec(`y ~ ${many.join(" + ")} - v5`).formula.fixed.length, 8999);
  assert.throws(() => parseSpec(`y ~ ${many.join(" + ")} + ${many.map((v) => `${v}b`).join(" + ")}`), /expands to more than 10000 terms/);
});

test("backticked names, with spaces or symbols, parse and label as R deparses them", () => {
  const s = parseSpec("`tree size` ~ `time (days)` + (1 | `tree id`)");
  assert.deepEqual(s.formula.response, { kind: "var", name: "tree size" });
  assert.deepEqual(s.formula.fixed.map((t) => t.label), ["`time (days)`"]);
  assert.deepEqual(s.formula.random[0].group, ["tree id"]);
  assert.throws(() => parseSpec("size ~ `time"), /a column name in backticks is not closed/);
  assert.throws(() => parseSpec("(1 | tree id) ~ x"), SpecError);
  assert.throws(() => parseSpec("y ~ x + (1 | tree id)"), /if 'tree id' is one column name, write it in backticks: `tree id`/);
  // Characters a word processor substitutes are named.
  assert.throws(() => parseSpec("size ~ time \u2212 1 + (1|tree)"), /unexpected character '\u2212' \(a typographic minus sign: type the plain '-'\)/);
  assert.throws(() => parseSpec("size ~ \u201ctime\u201d + (1|tree)"), /a typographic quote: column names are not quoted/);
  assert.throws(() => parseSpec("size \uff5e time"), /a full-width tilde/);
});

// ---------------------------------------------------------------------------------------------
// Options

const badLevel = fc.oneof(
  fc.double({ noNaN: false }).filter((x) => !(x > 0 && x < 1)),
  fc.constantFrom<unknown>("0.95", null, true, [0.95], { level: 0.95 }, 95, 0, 1, -0.5, Infinity, NaN),
);

test("any level outside (0, 1) is a DataError (it gave ±Infinity bounds); any inside is accepted", () => {
  fc.assert(
    fc.property(badLevel, (level) => {
      assert.throws(() => checkFitArgs(sitka, "y ~ x", { level }), (e: Error) => e instanceof DataError && /^level must be a number between 0 and 1 \(exclusive\)/.test(e.message));
    }),
  );
  fc.assert(fc.property(fc.double({ min: 1e-9, max: 1 - 1e-9, noNaN: true }), (level) => checkFitArgs(sitka, "y ~ x", { level })));
  assert.throws(() => fitModel(sitka, "size ~ time + (1|tree)", { level: 95 }), /not 95 \(for 95 % write 0\.95\)/);
  // A level that is accepted is used: the 90 % interval is narrower than the 95 % one.
  const f90 = fitModel(sitka, "size ~ time + (1|tree)", { level: 0.9, ci: "none" });
  const f95 = fitModel(sitka, "size ~ time + (1|tree)", { ci: "none" });
  assert.ok(f90.fixef[1].upper! - f90.fixef[1].lower! < f95.fixef[1].upper! - f95.fixef[1].lower!);
});

test("a bad method, ci, fitted flag, option name, table or spec is a DataError that names it", () => {
  const SPEC = "size ~ time + (1|tree)";
  const cases: [() => unknown, RegExp][] = [
    [() => fitModel(sitka, SPEC, { method: "reml" as never }), /^method must be 'REML' or 'ML', not 'reml' \(write it in capitals: 'REML'\)$/],
    [() => fitModel(sitka, SPEC, { method: "OLS" as never }), /^method must be 'REML' or 'ML', not 'OLS'$/],
    [() => fitModel(sitka, SPEC, { method: 1 as never }), /^method must be 'REML' or 'ML', not 1$/],
    [() => fitModel(sitka, SPEC, { ci: "bootstrap" as never }), /^ci must be 'auto', 'profile', 'wald' or 'none', not 'bootstrap'$/],
    [() => fitModel(sitka, SPEC, { fitted: "yes" as never }), /^fitted must be true or false/],
    [() => fitModel(sitka, SPEC, { levl: 0.9 } as never), /^unknown fit option 'levl' \(did you mean 'level'\?\)/],
    [() => fitModel(sitka, SPEC, "ML" as never), /^the fit options must be an object/],
    [() => fitModel(null as never, SPEC), /^the data must be a table made by parseCsv or tableFromRows/],
    [() => fitModel(sitka, 42 as never), /^the model spec must be text/],
    [() => compareModels(sitka, SPEC as never), /^the model specs must be a list/],
    [() => compareModels(sitka, [SPEC, SPEC], { method: "ml" as never }), /^method must be 'REML' or 'ML', not 'ml'/],
    [() => exactRlrt(sitka, SPEC, { nsim: 0 }), /^nsim \(the number of simulated draws\) must be a whole number from 1 to 1000000, such as 10000, not 0$/],
    [() => exactRlrt(sitka, SPEC, { nsim: 2.5 }), /^nsim .* not 2\.5$/],
    [() => exactRlrt(sitka, SPEC, { nsim: 1e9 }), /^nsim .* not 1000000000$/],
    [() => exactRlrt(sitka, SPEC, { seed: -1 }), /^seed must be a whole number from 0 to 4294967295, not -1$/],
    [() => exactRlrt(sitka, SPEC, { nsims: 100 } as never), /did you mean 'nsim'/],
  ];
  for (const [f, re] of cases) assert.throws(f, (e: Error) => e instanceof DataError && re.test(e.message), re.source);
  // nsim = 1 is a valid (if coarse) simulation: p is 0 or 1, never NaN.
  const r = exactRlrt(sitka, SPEC, { nsim: 1 });
  assert.ok(r.p === 0 || r.p === 1);
});
