// Model matrices as R's model.matrix and lme4's lFormula (names, order and values checked against
// R 4.2 / lme4 1.1), missing rows, rank deficiency, grouping factors, and the errors bad data get.
import { test } from "node:test";
import assert from "node:assert/strict";
import { parseSpec } from "../src/engine/formula";
import { tableFromRows } from "../src/engine/data";
import { buildDesign } from "../src/engine/model/design";
import type { DataTable, Design } from "../src/engine/types";
import { loadTable } from "./helpers/fixtures";

// R: d <- data.frame(y, x, z, a = rep(c("a1","a2","a3"), 8), b = rep(c("b1","b2"), each = 12),
//                    c = rep(rep(c("c1","c2"), each = 2), 6), t = rep(1:4, 6))
const toy = tableFromRows([
  ["y", "x", "z", "a", "b", "c", "t"],
  ...Array.from({ length: 24 }, (_, i) => [Math.sin(i + 1) * 3 + i, Math.cos(i * 1.7), Math.sin(i * 0.3) + i / 10, `a${(i % 3) + 1}`, i < 12 ? "b1" : "b2", Math.floor(i / 2) % 2 ? "c2" : "c1", (i % 4) + 1]),
]);
const design = (spec: string, t: DataTable = toy): Design => buildDesign(t, parseSpec(spec));
const names = (spec: string) => design(spec).xnames.concat(design(spec).aliased);
const row = (d: Design, i: number) => Array.from(d.X.subarray(i * d.p, (i + 1) * d.p));

test("fixed-effect columns match R's model.matrix names and order", () => {
  // Expected: colnames(model.matrix(f, d)) in R 4.2.
  const cases: [string, string[]][] = [
    ["y ~ a*b", ["(Intercept)", "aa2", "aa3", "bb2", "aa2:bb2", "aa3:bb2"]],
    ["y ~ a:x", ["(Intercept)", "aa1:x", "aa2:x", "aa3:x"]],
    ["y ~ x + x:a", ["(Intercept)", "x", "x:aa2", "x:aa3"]],
    ["y ~ 0 + x + x:a", ["x", "x:aa1", "x:aa2", "x:aa3"]],
    ["y ~ 0 + a + b", ["aa1", "aa2", "aa3", "bb2"]],
    ["y ~ a + a:b", ["(Intercept)", "aa2", "aa3", "aa1:bb2", "aa2:bb2", "aa3:bb2"]],
    ["y ~ x*a", ["(Intercept)", "x", "aa2", "aa3", "x:aa2", "x:aa3"]],
    ["y ~ 0 + x:a + a", ["aa1", "aa2", "aa3", "x:aa1", "x:aa2", "x:aa3"]],
    ["y ~ a:b", ["(Intercept)", "aa1:bb1", "aa2:bb1", "aa3:bb1", "aa1:bb2", "aa2:bb2", "aa3:bb2"]],
    ["y ~ a:b + a:c", ["(Intercept)", "aa1:bb1", "aa2:bb1", "aa3:bb1", "aa1:bb2", "aa2:bb2", "aa3:bb2", "aa1:cc2", "aa2:cc2", "aa3:cc2"]],
    ["y ~ 0 + a:b", ["aa1:bb1", "aa2:bb1", "aa3:bb1", "aa1:bb2", "aa2:bb2", "aa3:bb2"]],
    ["y ~ b + a:b", ["(Intercept)", "bb2", "bb1:aa2", "bb2:aa2", "bb1:aa3", "bb2:aa3"]],
    ["y ~ a*b*c", ["(Intercept)", "aa2", "aa3", "bb2", "cc2", "aa2:bb2", "aa3:bb2", "aa2:cc2", "aa3:cc2", "bb2:cc2", "aa2:bb2:cc2", "aa3:bb2:cc2"]],
    ["y ~ a*b*c - a:b:c", ["(Intercept)", "aa2", "aa3", "bb2", "cc2", "aa2:bb2", "aa3:bb2", "aa2:cc2", "aa3:cc2", "bb2:cc2"]],
    ["y ~ a + a:b:c", ["(Intercept)", "aa2", "aa3", "aa1:bb1:cc1", "aa2:bb1:cc1", "aa3:bb1:cc1", "aa1:bb2:cc1", "aa2:bb2:cc1", "aa3:bb2:cc1", "aa1:bb1:cc2", "aa2:bb1:cc2", "aa3:bb1:cc2", "aa1:bb2:cc2", "aa2:bb2:cc2", "aa3:bb2:cc2"]],
    ["y ~ 0 + x:a:b", ["x:aa1:bb1", "x:aa2:bb1", "x:aa3:bb1", "x:aa1:bb2", "x:aa2:bb2", "x:aa3:bb2"]],
    ["y ~ b:x + a", ["(Intercept)", "aa2", "aa3", "bb1:x", "bb2:x"]],
    ["y ~ (a + b + x)^2", ["(Intercept)", "aa2", "aa3", "bb2", "x", "aa2:bb2", "aa3:bb2", "aa2:x", "aa3:x", "bb2:x"]],
    ["y ~ a/b", ["(Intercept)", "aa2", "aa3", "aa1:bb2", "aa2:bb2", "aa3:bb2"]],
    ["y ~ x + b:a + a", ["(Intercept)", "x", "aa2", "aa3", "bb2:aa1", "bb2:aa2", "bb2:aa3"]],
    ["y ~ 0 + b:a + a:c", ["bb1:aa1", "bb2:aa1", "bb1:aa2", "bb2:aa2", "bb1:aa3", "bb2:aa3", "aa1:cc2", "aa2:cc2", "aa3:cc2"]],
    ["y ~ b*c + a:b:c", ["(Intercept)", "bb2", "cc2", "bb2:cc2", "bb1:cc1:aa2", "bb2:cc1:aa2", "bb1:cc2:aa2", "bb2:cc2:aa2", "bb1:cc1:aa3", "bb2:cc1:aa3", "bb1:cc2:aa3", "bb2:cc2:aa3"]],
    ["y ~ 0 + c:x + a:b", ["cc1:x", "cc2:x", "aa1:bb1", "aa2:bb1", "aa3:bb1", "aa1:bb2", "aa2:bb2", "aa3:bb2"]],
    ["y ~ factor(t)*x", ["(Intercept)", "factor(t)2", "factor(t)3", "factor(t)4", "x", "factor(t)2:x", "factor(t)3:x", "factor(t)4:x"]],
    ["y ~ 0 + factor(t):b", ["factor(t)1:bb1", "factor(t)2:bb1", "factor(t)3:bb1", "factor(t)4:bb1", "factor(t)1:bb2", "factor(t)2:bb2", "factor(t)3:bb2", "factor(t)4:bb2"]],
    ["y ~ I(x^2) + log(abs(x)+1) + I((x+1)^2) + I(x/2) + I(-x) + I(x - 2*z)", ["(Intercept)", "I(x^2)", "log(abs(x) + 1)", "I((x + 1)^2)", "I(x/2)", "I(-x)", "I(x - 2 * z)"]],
    ["y ~ (z*x + b*c)^2", ["(Intercept)", "z", "x", "bb2", "cc2", "z:x", "z:bb2", "z:cc2", "x:bb2", "x:cc2", "bb2:cc2", "z:bb2:cc2", "x:bb2:cc2", "z:x:bb2", "z:x:cc2", "z:x:bb2:cc2"]],
    ["y ~ -1 + z : a * I(x^2) : a + (x * I(x^2) + (x * b)) + x", ["x", "I(x^2)", "bb1", "bb2", "z:aa1", "z:aa2", "z:aa3", "aa2:I(x^2)", "aa3:I(x^2)", "I(x^2):x", "x:bb2", "z:aa1:I(x^2)", "z:aa2:I(x^2)", "z:aa3:I(x^2)"]],
    ["y ~ (c / I(x^2) * x : b)^3", ["(Intercept)", "cc2", "cc1:I(x^2)", "cc2:I(x^2)", "x:bb1", "x:bb2", "cc2:x:bb1", "cc2:x:bb2", "cc1:I(x^2):x:bb1", "cc2:I(x^2):x:bb1", "cc1:I(x^2):x:bb2", "cc2:I(x^2):x:bb2"]],
    ["y ~ (c / (b + c + x / x)) - z", ["(Intercept)", "cc2", "cc1:bb2", "cc2:bb2", "cc1:x", "cc2:x"]],
  ];
  // Columns R keeps; several of these are rank deficient (R keeps them in model.matrix, we drop
  // the aliased ones after), so compare kept + aliased as a set, and kept in order.
  for (const [f, want] of cases) {
    const d = design(f);
    assert.deepEqual(d.xnames, want.filter((n) => !d.aliased.includes(n)), f);
    assert.deepEqual(names(f).slice().sort(), want.slice().sort(), f);
  }
});

test("model-matrix values: indicators, products and the active cell of an interaction", () => {
  // Row 13 (i = 13): x = cos(13 * 1.7), a = a2, b = b2, c = c1, t = 2.
  const x13 = Math.cos(13 * 1.7);
  const d1 = design("y ~ x*a");
  assert.deepEqual(row(d1, 13), [1, x13, 1, 0, x13, 0]);
  const d2 = design("y ~ a:b + a:c");
  // (Intercept), aa1:bb1, aa2:bb1, aa3:bb1, aa1:bb2, aa2:bb2, aa3:bb2, aa1:cc2, aa2:cc2, aa3:cc2 -- before aliasing
  const full = ["(Intercept)", "aa1:bb1", "aa2:bb1", "aa3:bb1", "aa1:bb2", "aa2:bb2", "aa3:bb2", "aa1:cc2", "aa2:cc2", "aa3:cc2"];
  const r = row(d2, 13);
  const val = (n: string) => r[d2.xnames.indexOf(n)];
  for (const n of full.filter((n) => d2.xnames.includes(n))) assert.equal(val(n), n === "(Intercept)" || n === "aa2:bb2" ? 1 : 0, n);
  const d3 = design("y ~ 0 + factor(t):x");
  assert.deepEqual(d3.xnames, ["factor(t)1:x", "factor(t)2:x", "factor(t)3:x", "factor(t)4:x"]);
  assert.deepEqual(row(d3, 13), [0, x13, 0, 0]);
  const d4 = design("y ~ I((x+1)^2) + log(abs(x)+1)");
  assert.deepEqual(row(d4, 13), [1, (x13 + 1) ** 2, Math.log(Math.abs(x13) + 1)]);
  assert.equal(d4.y[13], toy.columns[0].kind === "numeric" ? toy.columns[0].values[13] : NaN);
});

test("the lecture's Sitka design", () => {
  const d = design("size ~ time*treat + (1|tree)", loadTable("assets/examples/sitka.csv"));
  assert.deepEqual(d.xnames, ["(Intercept)", "time", "treatozone", "time:treatozone"]);
  assert.equal(d.n, 395);
  assert.equal(d.p, 4);
  assert.equal(d.nDropped, 0);
  assert.deepEqual(d.messages, []);
  assert.equal(d.reTerms.length, 1);
  const re = d.reTerms[0];
  assert.equal(re.group, "tree");
  assert.equal(re.levels.length, 79);
  assert.deepEqual(re.levels.slice(0, 3), ["1", "2", "3"]);
  assert.deepEqual(re.effects, ["(Intercept)"]);
  assert.equal(re.refs[5], 1);
  // Row 1: 4.51, 152, tree 1, ozone.
  assert.deepEqual(row(d, 0), [1, 152, 1, 152]);
  assert.equal(d.y[0], 4.51);
  const s = design("log(size) ~ I(time/100) + I((time-152)^2) + treat + (0 + treat | tree)", loadTable("assets/examples/sitka.csv"));
  assert.deepEqual(s.xnames, ["(Intercept)", "I(time/100)", "I((time - 152)^2)", "treatozone"]);
  assert.deepEqual(s.reTerms[0].effects, ["treatcontrol", "treatozone"]);
  assert.deepEqual(Array.from(s.reTerms[0].z.subarray(0, 2)), [0, 1]);
  assert.ok(Math.abs(s.y[0] - Math.log(4.51)) < 1e-15);
});

test("sleepstudy: random slopes, uncorrelated terms, numeric IDs as levels", () => {
  const sleep = loadTable("assets/examples/sleepstudy.csv");
  const d = design("Reaction ~ Days + (Days | Subject)", sleep);
  assert.deepEqual(d.xnames, ["(Intercept)", "Days"]);
  assert.equal(d.n, 180);
  const re = d.reTerms[0];
  assert.deepEqual(re.levels, ["308", "309", "310", "330", "331", "332", "333", "334", "335", "337", "349", "350", "351", "352", "369", "370", "371", "372"]);
  assert.deepEqual(re.effects, ["(Intercept)", "Days"]);
  assert.equal(re.correlated, true);
  assert.deepEqual(Array.from(re.z.subarray(0, 6)), [1, 0, 1, 1, 1, 2]);
  const u = design("Reaction ~ factor(Days) + (Days || Subject)", sleep);
  assert.deepEqual(u.xnames, ["(Intercept)", ...Array.from({ length: 9 }, (_, k) => `factor(Days)${k + 1}`)]);
  assert.deepEqual(u.reTerms.map((r) => [r.group, r.effects]), [["Subject", ["(Intercept)"]], ["Subject", ["Days"]]]);
});

test("grouping factors: a:b levels as R's interaction (first factor slowest), present combinations only", () => {
  const d = design("strength ~ 1 + (1|batch/cask)", loadTable("test/data/pastes.csv"));
  assert.deepEqual(d.reTerms.map((r) => r.group), ["batch", "cask:batch"]);
  const inner = d.reTerms[1];
  assert.equal(inner.levels.length, 30);
  assert.deepEqual(inner.levels.slice(0, 4), ["a:A", "a:B", "a:C", "a:D"]);
  // Numeric levels sort numerically inside the combination (lme4: "2:u" "2:v" ... "10:u").
  const t = tableFromRows([["y", "g", "h"], ...Array.from({ length: 24 }, (_, i) => [i % 5, [10, 2, 33, 4][i % 4], ["u", "v", "w"][Math.floor(i / 8)]])]);
  const g = design("y ~ 1 + (1|g:h) + (1|h/g)", t);
  assert.deepEqual(g.reTerms[0].levels, ["2:u", "2:v", "2:w", "4:u", "4:v", "4:w", "10:u", "10:v", "10:w", "33:u", "33:v", "33:w"]);
  assert.deepEqual(g.reTerms.map((r) => r.group), ["g:h", "h", "g:h"]);
  // Only combinations present, and only levels of the used rows.
  const sparse = tableFromRows([["y", "a", "b"], [1, "x", "p"], [2, "x", "p"], [3, "y", "q"], [4, "y", "q"], [5, "z", "q"], [6, "z", "q"], [null, "w", "r"]]);
  const sd = design("y ~ 1 + (1|a:b)", sparse);
  assert.deepEqual(sd.reTerms[0].levels, ["x:p", "y:q", "z:q"]);
  assert.deepEqual(Array.from(sd.reTerms[0].refs), [0, 0, 1, 1, 2, 2]);
});

test("numbers as factor levels: integers as digits, other numbers as R's as.character", () => {
  const t = tableFromRows([["y", "id", "dose"], [1, 100000, 1e5], [2, 100000, 1.5], [3, 200000, 1.5], [4, 200000, 1e5], [5, 300000, 0.25], [6, 300000, 0.25]]);
  const d = design("y ~ factor(dose) + (1|id)", t);
  assert.deepEqual(d.xnames, ["(Intercept)", "factor(dose)1.5", "factor(dose)1e+05"]);
  assert.deepEqual(d.reTerms[0].levels, ["100000", "200000", "300000"]);
});

test("rows with missing values in any used column are dropped and counted", () => {
  const t = tableFromRows([
    ["y", "x", "g", "unused", "t", "w"],
    [1, 2, "a", null, 1, "p"],
    [2, null, "a", 1, 2, "p"],
    [3, 1, "b", 1, 1, "q"],
    [2.5, 3, "b", 1, null, "q"],
    [4, 5, "a", 1, 3, "p"],
    [1, 1, "b", 1, 3, "#N/A"],
    [2, 2, "c", 1, 1, "q"],
    [3, 4, "c", 1, 2, "p"],
  ]);
  const d = design("y ~ x + (1|g)", t);
  assert.equal(d.n, 7);
  assert.equal(d.nDropped, 1);
  assert.deepEqual(Array.from(d.rows), [0, 2, 3, 4, 5, 6, 7]);
  assert.deepEqual(d.messages, ["dropped 1 row with missing values (of 8)"]);
  const r = design("y ~ x + (1|g) ; AR1(t | g) ; varIdent(w)", t);
  assert.deepEqual(Array.from(r.rows), [0, 2, 4, 6, 7]);
  assert.deepEqual(r.messages, ["dropped 3 rows with missing values (of 8)"]);
  // A level seen only in dropped rows is not a level of the model (as lme4's model frame).
  const lv = tableFromRows([["y", "f", "g"], [1, "a", "u"], [2, "b", "u"], [3, "a", "v"], [4, "b", "v"], [null, "c", "w"], [5, "a", "w"], [6, "b", "w"]]);
  const dl = design("y ~ f + (1|g)", lv);
  assert.deepEqual(dl.xnames, ["(Intercept)", "fb"]);
});

test("an aliased column is dropped with lme4's message (the earlier column is kept)", () => {
  // Expected: lme4's lFormula(...)$X column names for the same data (a3:b2 cell empty).
  const cells: unknown[][] = [["y", "a", "b", "g", "x", "x2"]];
  let i = 0;
  for (const g of ["g1", "g2", "g3"]) {
    for (const b of ["b1", "b2"]) {
      for (const a of ["a1", "a2", "a3"]) {
        if (a === "a3" && b === "b2") continue;
        for (let rep = 0; rep < 4; rep++) {
          i++;
          cells.push([Math.sin(i * 1.3) + i / 50, a, b, g, i / 7, (2 * i) / 7 + 1]);
        }
      }
    }
  }
  const t = tableFromRows(cells);
  const d = design("y ~ a*b + (1|g)", t);
  assert.deepEqual(d.xnames, ["(Intercept)", "aa2", "aa3", "bb2", "aa2:bb2"]);
  assert.deepEqual(d.aliased, ["aa3:bb2"]);
  assert.equal(d.p, 5);
  assert.equal(d.X.length, d.n * 5);
  assert.deepEqual(d.messages, ["fixed-effect model matrix is rank deficient so dropping 1 column / coefficient (aa3:bb2)"]);
  assert.deepEqual(design("y ~ x + x2 + a + (1|g)", t).xnames, ["(Intercept)", "x", "aa2", "aa3"]);
  assert.deepEqual(design("y ~ x2 + x + (1|g)", t).xnames, ["(Intercept)", "x2"]);
  assert.deepEqual(design("y ~ 0 + a + b + a:b + (1|g)", t).xnames, ["aa1", "aa2", "aa3", "bb2", "aa2:bb2"]);
  // Large, differently scaled columns, as R's qr(X, tol = 1e-7)$rank decides: v = 3t^2 - 2t + 5
  // (+ e in one row) is aliased for e = 0, 1e-3, 1 and kept for e = 10, 40.
  const quad = (e: number) =>
    tableFromRows([["y", "t", "u", "v", "g"], ...Array.from({ length: 40 }, (_, k) => {
      const tt = 1000 + k * 13.7;
      return [Math.cos(k), tt, tt * tt, 3 * tt * tt - 2 * tt + 5 + (k === 7 ? e : 0), `g${k % 4}`];
    })]);
  for (const e of [0, 1e-3, 1]) assert.deepEqual(design("y ~ t + u + v + (1|g)", quad(e)).aliased, ["v"], `e = ${e}`);
  for (const e of [10, 40]) assert.deepEqual(design("y ~ t + u + v + (1|g)", quad(e)).aliased, [], `e = ${e}`);
  assert.deepEqual(design("y ~ t + I(t * 2) + (1|g)", quad(0)).aliased, ["I(t * 2)"]);
});

test("bad data get errors that say what to fix", () => {
  const sitka = loadTable("assets/examples/sitka.csv");
  const bad = (spec: string, re: RegExp, t: DataTable = sitka) => assert.throws(() => design(spec, t), re, spec);
  bad("sise ~ time + (1|tree)", /^DataError: unknown column 'sise' \(did you mean size\?\); the data has: size, time, tree, treat$/);
  bad("Size ~ time + (1|tree)", /unknown column 'Size' \(did you mean 'size'\? names are case-sensitive\); the data has: size, time, tree, treat/);
  bad("size ~ time + (1|plot)", /unknown column 'plot'/);
  bad("size ~ time ; AR1(time | plot)", /unknown column 'plot'/);
  bad("treat ~ time + (1|tree)", /the response 'treat' has text in 395 rows \(first: row 2 'ozone'\); it must be numeric/);
  bad("size ~ log(time - 200) + (1|tree)", /log\(time - 200\) is not defined for 158 rows \(zero or negative values of time - 200; first: row 2, where time - 200 is -48\)/);
  bad("size ~ I(1/(time - 152)) + (1|tree)", /1\/\(time - 152\) is not defined for 79 rows \(division by zero; first: row 2\)/);
  bad("size ~ sqrt(time - 200) + (1|tree)", /negative values/);
  bad("size ~ I(treat * 2) + (1|tree)", /the column 'treat' has text in 395 rows/);
  bad("size ~ time + (1|treat:tree:time)", /has 395 levels for 395 rows.*must be < number of observations/);
  bad("size ~ time + (0 + factor(time) | tree)", /the random term \(0 \+ factor\(time\) \| tree\) has 395 random effects \(79 levels x 5\) for 395 observations/);
  const withText = tableFromRows([["y", "x", "g"], [1, 1, "a"], ["abc", 2, "b"], [3, 3, "a"], ["n/a", 4, "b"], [5, 5, "a"]]);
  bad("y ~ x + (1|g)", /the response 'y' has text in 2 rows \(first: row 3 'abc'\); it must be numeric/, withText);
  const one = tableFromRows([["y", "g"], [1, "a"], [2, "a"], [3, "a"]]);
  bad("y ~ 1 + (1|g)", /the grouping factor 'g' has only 1 level \('a'\) in the rows used; a random effect needs at least 2 groups/, one);
  const oneLevel = tableFromRows([["y", "f", "g"], [1, "a", "u"], [2, "a", "v"], [3, "a", "u"], [4, "a", "v"]]);
  bad("y ~ f + (1|g)", /the factor 'f' in the fixed effects has only 1 level \('a'\) in the rows used/, oneLevel);
  const flat = tableFromRows([["y", "g"], [1, "a"], [1, "b"], [1, "a"], [1, "b"]]);
  bad("y ~ 1 + (1|g)", /the response 'y' is constant \(1\) in the 4 rows used; there is nothing to model/, flat);
  const empty = tableFromRows([["y", "g"], [null, "a"], [1, null]]);
  bad("y ~ 1 + (1|g)", /no rows are left after dropping rows with missing values/, empty);
  const few = tableFromRows([["y", "a", "g"], [1, "p", "u"], [2, "q", "v"], [3, "r", "u"]]);
  bad("y ~ a + (1|g)", /3 fixed-effect columns but only 3 rows/, few);
  bad("y ~ 0 + (1|g)", /no fixed effects/, few);
});

test("a 1,000,000-row design is built quickly", () => {
  const n = 1_000_000;
  const y = new Float64Array(n);
  const time = new Float64Array(n);
  const subject = new Float64Array(n);
  const x = new Float64Array(n);
  const codes = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    time[i] = i % 10;
    subject[i] = Math.floor(i / 10);
    codes[i] = Math.floor(i / 10) % 2;
    x[i] = Math.sin(i);
    y[i] = Math.cos(i) + time[i];
  }
  const t: DataTable = {
    nrow: n,
    columns: [
      { kind: "numeric", name: "y", values: y },
      { kind: "numeric", name: "time", values: time },
      { kind: "numeric", name: "subject", values: subject },
      { kind: "factor", name: "treat", levels: ["control", "ozone"], codes },
      { kind: "numeric", name: "x", values: x },
    ],
  };
  const t0 = Date.now();
  const d = design("y ~ time*treat + x + (time|subject)", t);
  const ms = Date.now() - t0;
  assert.deepEqual(d.xnames, ["(Intercept)", "time", "treatozone", "x", "time:treatozone"]);
  assert.equal(d.reTerms[0].levels.length, 100000);
  // Generous bound (shared CI machines); typically a few hundred ms.
  assert.ok(ms < 5000, `took ${ms} ms`);
});
