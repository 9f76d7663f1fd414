// The `lmm` command: --json shapes (ARCHITECTURE.md §5), readable tables, the demo, and one-line
// errors with exit code 2.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as path from "node:path";
import { spawnSync } from "node:child_process";
import { ROOT, closeAbs } from "./helpers/fixtures";

const run = (...args: string[]) => spawnSync(process.execPath, [path.join(ROOT, "bin", "lmm.js"), ...args], { cwd: ROOT, encoding: "utf8" });
const SITKA = "assets/examples/sitka.csv";

test("lmm fit --json prints the result object with the documented keys", () => {
  const r = run("fit", SITKA, "size ~ time*treat + (1|tree)", "--json");
  assert.equal(r.status, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  for (const k of ["spec", "method", "n", "n_dropped", "groups", "logLik", "df", "AIC", "BIC", "sigma", "converged", "singular", "messages", "fixef", "varcomp", "residual", "blups"]) {
    assert.ok(k in j, `key ${k}`);
  }
  closeAbs(j.logLik, -81.75852, 5e-6, "logLik");
  assert.deepEqual(j.groups, { tree: 79 });
  assert.deepEqual(Object.keys(j.fixef[0]).sort(), ["df", "estimate", "lower", "p", "se", "t", "term", "upper"]);
  assert.deepEqual(Object.keys(j.varcomp[0]).sort(), ["corr", "effect", "effect2", "group", "sd", "sd_lower", "sd_upper", "var_prop", "variance"]);
  assert.equal(j.varcomp[1].group, "Residual");
  assert.equal(j.blups.tree.levels.length, 79);
});

test("lmm fit prints readable tables; --method ML", () => {
  const r = run("fit", SITKA, "size ~ time + (1|tree)", "--method", "ML");
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /maximum likelihood/);
  assert.match(r.stdout, /-73\.32263/);
  assert.match(r.stdout, /Fixed effects:/);
});

test("lmm lrt --json and lmm rlrt --json", () => {
  const r = run("lrt", SITKA, "size ~ time + (1|tree)", "size ~ time + (time|tree)", "--json");
  assert.equal(r.status, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  assert.deepEqual(Object.keys(j).sort(), ["messages", "method", "models", "refit_ml", "tests"]);
  closeAbs(j.tests[0]["L.Ratio"], 39.80992, 1e-5, "L.Ratio");
  assert.ok(Math.abs(j.tests[0].p_mixture - 1.273288e-9) < 1e-13);
  const s = run("rlrt", SITKA, "size ~ time*treat + (1|tree)", "--json", "--nsim", "2000");
  assert.equal(s.status, 0, s.stderr);
  const k = JSON.parse(s.stdout);
  assert.deepEqual(Object.keys(k).sort(), ["nsim", "p", "statistic"]);
  assert.equal(k.nsim, 2000);
});

// The lecture's tables as R printed them (seed/week6-linear-mixed-models.txt: mixedup's Table 1 and
// nlme's anova), and the GLS ladder's logLik column as nlme's anova prints it (issue 3). The demo
// must print the same rows to the last digit (row names aside: R's are the object names).
const LECTURE_ROWS = [
  "tree Intercept 0.370 0.608 0.516 0.710 0.908",
  "Residual 0.038 0.194 0.179 0.209 0.092", // R prints NA as the residual's effect; the demo leaves it blank
  "1 6 142.1890 166.0623 -65.09451",
  "2 4 154.6453 170.5608 -73.32263 1 vs 2 16.45623 3e-04",
  "1 4 172.7768 188.6720 -82.38840",
  "2 6 136.9669 160.8098 -62.48344 1 vs 2 39.80992 <.0001",
];
const LADDER_LOGLIK = ["-394.2299", "-81.7585", "-34.9311", "-15.7839", "21.5648"];

test("lmm demo prints the lecture's tables, digit for digit", () => {
  const r = run("demo");
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.split("\n").map((l) => l.trim().split(/\s+/).join(" "));
  for (const row of LECTURE_ROWS) {
    // our anova adds a last column, p (mixture)
    const same = (l: string) => l === row || l.startsWith(row + " ");
    assert.ok(lines.some((l) => same(l) || same(l.replace(/^\S+ /, ""))), `demo output lacks the lecture's row: ${row}`);
  }
  const ladder = lines.slice(lines.findIndex((l) => l.startsWith("Linear model with correlated errors")));
  const ll = ladder.filter((l) => /^m[1-5] /.test(l)).slice(0, 5).map((l) => l.split(" ")[5]);
  assert.deepEqual(ll, LADDER_LOGLIK);
  for (const s of ["175.5170", "199.3293", "-81.75852", "1.27329e-09", "Intra-class correlation: 0.908"]) {
    assert.ok(r.stdout.includes(s), `demo output lacks ${s}`);
  }
});

test("bad input: one line on stderr, exit code 2", () => {
  const cases: [string[], RegExp][] = [
    [["fit", "nope.csv", "y ~ x"], /cannot read 'nope.csv'/],
    [["fit", SITKA, "size ~ time +"], /expected a column name after '\+'/],
    [["fit", SITKA, "size ~ tim + (1|tree)"], /unknown column 'tim'/],
    [["fit", SITKA], /missing the model spec/],
    [["fit", SITKA, "size ~ time", "--method", "OLS"], /--method must be REML or ML/],
    [["frobnicate"], /unknown command/],
    [["fit", "test/data/bad-ragged.csv", "y ~ x"], /cannot read|fields/],
  ];
  for (const [args, re] of cases) {
    const r = run(...args);
    assert.equal(r.status, 2, `exit code for ${args.join(" ")}`);
    assert.match(r.stderr.split("\n")[0], re);
    assert.equal(r.stdout, "");
  }
});
