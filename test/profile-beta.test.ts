// Profile-likelihood intervals of the fixed effects against lme4's
// confint(fit, method = "profile", parm = "beta_") (test/fixtures/make-fixtures-krres.R ->
// krres.json): Sitka and sleepstudy, REML fits (profiled on the ML deviance of the ML refit, as
// lme4) and an ML fit, levels 0.95 and 0.9. Tolerance 1e-4 relative (lme4 interpolates a spline
// through its profile points; we find the crossing itself). Plus the option's checks, refusals
// and the CLI flag.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as path from "node:path";
import { spawnSync } from "node:child_process";
import { fitModel } from "../src/engine";
import type { Method } from "../src/engine/types";
import { ROOT, loadTable, readJson } from "./helpers/fixtures";

interface Fx {
  name: string; data: string; spec: string; method: Method; estimate: number[];
  intervals: { level: number; terms: string[]; lower: number[]; upper: number[] }[];
}
const fx = readJson<{ fixtures: Fx[] }>("test/fixtures/krres.json").fixtures;

function near(a: number | null, b: number, what: string): void {
  const tol = Math.max(1e-4 * Math.abs(b), 1e-6);
  assert.ok(a !== null && Math.abs(a - b) <= tol, `${what}: got ${a}, lme4 has ${b} (diff ${a === null ? "n/a" : Math.abs(a - b).toExponential(2)} > ${tol.toExponential(2)})`);
}

for (const f of fx) {
  test(`profile intervals of beta as lme4's confint(method = "profile"): ${f.name}`, () => {
    for (const iv of f.intervals) {
      const fit = fitModel(loadTable(f.data), f.spec, { method: f.method, ci: "none", fixefCi: "profile", level: iv.level });
      assert.equal(fit.fixef_ci, "profile");
      assert.ok(fit.messages.some((m) => /profile likelihood/.test(m)), fit.messages.join("; "));
      fit.fixef.forEach((r, i) => {
        assert.equal(r.term, iv.terms[i]);
        near(r.lower, iv.lower[i], `${f.name} ${iv.level} lower of ${r.term}`);
        near(r.upper, iv.upper[i], `${f.name} ${iv.level} upper of ${r.term}`);
      });
      // The estimates, SEs and t tests are the fit's own (REML fits keep their REML estimates).
      if (f.method === "REML") fit.fixef.forEach((r, i) => near(r.estimate, f.estimate[i], `estimate of ${r.term}`));
    }
  });
}

test("profile intervals of beta: shifting y shifts only the intercept's interval", () => {
  const t = loadTable("assets/examples/sitka.csv");
  const a = fitModel(t, "size ~ time + treat + (1|tree)", { ci: "none", fixefCi: "profile" });
  const col = t.columns.find((c) => c.name === "size")!;
  const shifted = { ...t, columns: t.columns.map((c) => (c === col && c.kind === "numeric" ? { ...c, values: c.values.map((v) => v + 100) } : c)) };
  const b = fitModel(shifted, "size ~ time + treat + (1|tree)", { ci: "none", fixefCi: "profile" });
  a.fixef.forEach((r, i) => {
    const s = r.term === "(Intercept)" ? 100 : 0;
    near(b.fixef[i].lower, r.lower! + s, `shifted lower of ${r.term}`);
    near(b.fixef[i].upper, r.upper! + s, `shifted upper of ${r.term}`);
  });
});

test("profile intervals of beta: the default stays t, bad values and unavailable cases are clear errors", () => {
  const t = loadTable("assets/examples/sitka.csv");
  const plain = fitModel(t, "size ~ time + (1|tree)", { ci: "none" });
  assert.equal(plain.fixef_ci, "t");
  assert.throws(() => fitModel(t, "size ~ time + (1|tree)", { fixefCi: "lr" as unknown as "t" }), /fixefCi .* must be 't' or 'profile'/);
  assert.throws(() => fitModel(t, "size ~ time + (1|tree) ; AR1(time | tree)", { ci: "none", fixefCi: "profile" }), /without a residual structure.*use the t intervals/);
});

test("profile intervals of beta on large data are refused before the fit, with the estimated time", () => {
  // 200,000 rows, 2,000 groups: the cost model puts the profiles well above the limit.
  const n = 200000;
  const y = new Float64Array(n), x = new Float64Array(n), g = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    g[i] = i % 2000;
    x[i] = (i * 7919) % 101;
    y[i] = 0.1 * x[i] + ((i * 104729) % 997) / 997 + (g[i] % 13) / 13;
  }
  const table = {
    nrow: n,
    columns: [
      { kind: "numeric" as const, name: "y", values: y },
      { kind: "numeric" as const, name: "x", values: x },
      { kind: "factor" as const, name: "g", levels: Array.from({ length: 2000 }, (_, i) => `g${String(i).padStart(4, "0")}`), codes: g },
    ],
  };
  const t0 = Date.now();
  assert.throws(() => fitModel(table, "y ~ x + (x|g)", { ci: "none", fixefCi: "profile" }), /profile-likelihood intervals for the 2 fixed effects would take about \d+ s.*use the t intervals/);
  assert.ok(Date.now() - t0 < 20000, "refused before the fit");
});

test("lmm fit --fixef-ci profile: the intervals in the JSON, and a bad value is a one-line error", () => {
  const run = (...args: string[]) => spawnSync(process.execPath, [path.join(ROOT, "bin", "lmm.js"), ...args], { cwd: ROOT, encoding: "utf8" });
  const f = fx.find((x) => x.name === "sleepstudy")!;
  const r = run("fit", f.data, f.spec, "--fixef-ci", "profile", "--ci", "none", "--json");
  assert.equal(r.status, 0, r.stderr);
  const j = JSON.parse(r.stdout) as { fixef_ci: string; fixef: { lower: number; upper: number }[] };
  assert.equal(j.fixef_ci, "profile");
  near(j.fixef[1].lower, f.intervals[0].lower[1], "CLI lower of Days");
  near(j.fixef[1].upper, f.intervals[0].upper[1], "CLI upper of Days");
  const bad = run("fit", f.data, f.spec, "--fixef-ci", "wald");
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /--fixef-ci must be t or profile/);
});
