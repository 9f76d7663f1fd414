// Model matrices as R's model.matrix (names and order checked against R 4.2), missing rows,
// rank deficiency, grouping factors, and the errors bad data get.
import { test } from "node:test";
import assert from "node:assert/strict";
import { parseSpec, tableFromRows } from "../src/engine";
import { buildDesign } from "../src/engine/model/design";
import { loadTable } from "./helpers/fixtures";

const toy = tableFromRows([
  ["y", "x", "a", "b", "g"],
  ...Array.from({ length: 12 }, (_, i) => [Math.sin(i + 1) * 3 + i, Math.cos(i * 1.7), `a${(i % 3) + 1}`, i < 6 ? "b1" : "b2", `g${i % 4}`]),
]);
const names = (spec: string) => buildDesign(toy, parseSpec(spec)).xnames;

test("fixed-effect columns match R's model.matrix names and order", () => {
  assert.deepEqual(names("y ~ a*b"), ["(Intercept)", "aa2", "aa3", "bb2", "aa2:bb2", "aa3:bb2"]);
  assert.deepEqual(names("y ~ a:x"), ["(Intercept)", "aa1:x", "aa2:x", "aa3:x"]);
  assert.deepEqual(names("y ~ 0 + a + b"), ["aa1", "aa2", "aa3", "bb2"]);
  assert.deepEqual(names("y ~ a + a:b"), ["(Intercept)", "aa2", "aa3", "aa1:bb2", "aa2:bb2", "aa3:bb2"]);
  assert.deepEqual(names("y ~ x*a"), ["(Intercept)", "x", "aa2", "aa3", "x:aa2", "x:aa3"]);
  assert.deepEqual(names("y ~ 0 + x:a + a"), ["aa1", "aa2", "aa3", "x:aa1", "x:aa2", "x:aa3"]);
});

test("the lecture's Sitka design", () => {
  const d = buildDesign(loadTable("assets/examples/sitka.csv"), parseSpec("size ~ time*treat + (1|tree)"));
  assert.deepEqual(d.xnames, ["(Intercept)", "time", "treatozone", "time:treatozone"]);
  assert.equal(d.n, 395);
  assert.equal(d.reTerms[0].levels.length, 79);
  assert.equal(d.reTerms[0].group, "tree");
  // Row 1: 4.51, 152, tree 1, ozone.
  assert.deepEqual(Array.from(d.X.subarray(0, 4)), [1, 152, 1, 152]);
});

test("rows with missing values in used columns are dropped and counted", () => {
  const t = tableFromRows([["y", "x", "g", "unused"], [1, 2, "a", null], [2, null, "a", 1], [3, 1, "b", 1], [2.5, 3, "b", 1], [4, 5, "a", 1], [1, 1, "b", 1]]);
  const d = buildDesign(t, parseSpec("y ~ x + (1|g)"));
  assert.equal(d.n, 5);
  assert.equal(d.nDropped, 1);
  assert.deepEqual(Array.from(d.rows), [0, 2, 3, 4, 5]);
  assert.match(d.messages.join(" "), /dropped 1 row with missing values \(of 6\)/);
});

test("an aliased column is dropped with lme4's message", () => {
  const t = tableFromRows([["y", "x", "x2", "g"], ...Array.from({ length: 10 }, (_, i) => [i % 3 + i / 7, i, 2 * i + 1, `g${i % 2}`])]);
  const d = buildDesign(t, parseSpec("y ~ x + x2 + (1|g)"));
  assert.deepEqual(d.xnames, ["(Intercept)", "x"]);
  assert.deepEqual(d.aliased, ["x2"]);
  assert.match(d.messages.join(" "), /rank deficient so dropping 1 column \/ coefficient \(x2\)/);
});

test("grouping by an interaction uses R's level order (first factor slowest)", () => {
  const d = buildDesign(loadTable("test/data/pastes.csv"), parseSpec("strength ~ 1 + (1|batch/cask)"));
  const inner = d.reTerms.find((r) => r.group === "cask:batch")!;
  assert.equal(inner.levels.length, 30);
  assert.deepEqual(inner.levels.slice(0, 3), ["a:A", "a:B", "a:C"]);
});

test("bad data get errors that say what to fix", () => {
  const sitka = loadTable("assets/examples/sitka.csv");
  const bad = (spec: string, re: RegExp) => assert.throws(() => buildDesign(sitka, parseSpec(spec)), re);
  bad("sise ~ time + (1|tree)", /unknown column 'sise'; the data has: size, time, tree, treat/);
  bad("Size ~ time + (1|tree)", /did you mean 'size'\?/);
  bad("treat ~ time + (1|tree)", /response 'treat' has text/);
  bad("size ~ log(time - 200) + (1|tree)", /log\(time - 200\) is not defined for \d+ rows/);
  bad("size ~ time + (1|treat:tree:time)", /levels for 395 rows/);
  const one = tableFromRows([["y", "g"], [1, "a"], [2, "a"], [3, "a"]]);
  assert.throws(() => buildDesign(one, parseSpec("y ~ 1 + (1|g)")), /'g' has only 1 level/);
  const flat = tableFromRows([["y", "g"], [1, "a"], [1, "b"], [1, "a"]]);
  assert.throws(() => buildDesign(flat, parseSpec("y ~ 1 + (1|g)")), /response 'y' is constant/);
  const empty = tableFromRows([["y", "g"], [null, "a"], [1, null]]);
  assert.throws(() => buildDesign(empty, parseSpec("y ~ 1 + (1|g)")), /no rows are left/);
  const txt = tableFromRows([["y", "x", "g"], [1, "abc", "a"], [2, 2, "b"], [3, 3, "a"]]);
  assert.throws(() => buildDesign(txt, parseSpec("y ~ log(x) + (1|g)")), /has text/);
});
