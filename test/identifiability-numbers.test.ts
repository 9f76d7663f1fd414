// No non-finite number without a note (issue 14): p-values are upper tails in [0, 1] and agree
// with R; a Satterthwaite df below MIN_DF or not finite gives no df/p/interval and a note; every
// interval contains its estimate or is empty with a note; profile bounds are never NaN.
import test from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { fitModel, tableFromRows } from "../src/engine";
import type { DataTable, FitResult, FixefRow } from "../src/engine/types";
import { pChisqUpper, pFUpper, pT2 } from "../src/engine/inference/dist";
import { MIN_DF, reportDf } from "../src/engine/inference/fixef";
import { Rng } from "../src/engine/inference/rng";
import { closeRel, loadTable, readJson } from "./helpers/fixtures";

interface Fx {
  pt: { t: number; df: number; p: number }[];
  pchisq: { x: number; df: number; p: number }[];
  pf: { x: number; df1: number; df2: number; p: number }[];
  gls: { spec: string; fits: { method: "REML" | "ML"; estimate: number; lower: number; upper: number }[] };
  reml_profile: { spec: string; sigma: number; sd: number; lme4_sigma: number[]; lme4_sd: number[]; ml_sd: number[]; reml_sigma: number[]; reml_sd: number[] };
}
const FX = readJson<Fx>("test/fixtures/identifiability.json");
const SITKA = "assets/examples/sitka.csv";

test("upper tails agree with R's pt, pchisq, pf (lower.tail = FALSE) to 1e-8 relative", () => {
  // 1e-8: jStat's log-gamma (the prefactor) has ~1e-15 absolute error on values ~1e7 at df 1e6.
  for (const r of FX.pt) closeRel(pT2(r.t, r.df), r.p, 1e-8, `2 pt(-|${r.t}|, ${r.df})`, 1e-300);
  for (const r of FX.pchisq) closeRel(pChisqUpper(r.x, r.df), r.p, 1e-8, `pchisq(${r.x}, ${r.df})`, 1e-300);
  for (const r of FX.pf) closeRel(pFUpper(r.x, r.df1, r.df2), r.p, 1e-8, `pf(${r.x}, ${r.df1}, ${r.df2})`, 1e-300);
});

test("property: p-values are in [0, 1], 1 at t = 0, and fall as |t| grows", () => {
  const df = fc.oneof(fc.double({ min: 1e-8, max: 1e9, noNaN: true }), fc.constant(Infinity));
  fc.assert(
    fc.property(fc.double({ min: -1e3, max: 1e3, noNaN: true }), fc.double({ min: 0, max: 10, noNaN: true }), df, (t, dt, d) => {
      const p = pT2(t, d), q = pT2(Math.abs(t) + dt, d);
      assert.ok(p >= 0 && p <= 1, `pT2(${t}, ${d}) = ${p}`);
      assert.ok(q <= p + 1e-12, `not monotone at ${t}, ${d}`);
      assert.equal(pT2(0, d), 1);
      const c = pChisqUpper(t * t, d === Infinity ? 1e9 : d), f = pFUpper(t * t, 1, d === Infinity ? 1e9 : d);
      assert.ok(c >= 0 && c <= 1 && f >= 0 && f <= 1, `chisq ${c}, F ${f}`);
    }),
    { numRuns: 2000 },
  );
  // The cases: t ~ 0 with few df gave 1.0000000095 (2 * cdf rounding above 1/2).
  assert.ok(pT2(1e-9, 3) <= 1 && pT2(-0, 5) === 1 && pT2(3.735, 4.8e-8) <= 1);
});

const row = (estimate: number, se: number): FixefRow => ({ term: "b", estimate, se, df: null, t: estimate / se, p: null, lower: null, upper: null });

test("property: a df below MIN_DF or not finite gives no df, p or interval, and a note naming the coefficient", () => {
  const df = fc.oneof(fc.double({ min: 1e-12, max: 1e7, noNaN: true }), fc.constantFrom(4.8e-8, 6e-8, NaN, Infinity, -1, 0, MIN_DF, 0.4999));
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.double({ min: -1e6, max: 1e6, noNaN: true }), fc.double({ min: 1e-9, max: 1e6, noNaN: true }), df), { minLength: 1, maxLength: 6 }), fc.double({ min: 0.5, max: 0.999, noNaN: true }), (cases, level) => {
      const rows = cases.map(([e, s], i) => ({ ...row(e, s), term: `b${i}` }));
      const notes = reportDf(rows, cases.map((c) => c[2]), level);
      rows.forEach((r, i) => {
        const d = cases[i][2];
        if (Number.isFinite(d) && d >= MIN_DF) {
          assert.equal(r.df, d);
          assert.ok(r.p !== null && r.p >= 0 && r.p <= 1);
          assert.ok(r.lower !== null && r.upper !== null && Number.isFinite(r.lower) && Number.isFinite(r.upper), `${r.lower} ${r.upper} at df ${d}`);
          assert.ok(r.lower <= r.estimate && r.estimate <= r.upper);
        } else {
          assert.deepEqual([r.df, r.p, r.lower, r.upper], [null, null, null, null], `df ${d}`);
          assert.ok(notes.some((n) => n.includes(r.term)), `no note for ${r.term} (df ${d}): ${notes.join(" | ")}`);
        }
      });
    }),
    { numRuns: 500 },
  );
});

test("issue 14: size ~ factor(tree) + time: the residual SD interval is nlme's intervals(gls) and contains the estimate", () => {
  for (const f of FX.gls.fits) {
    const r = fitModel(loadTable(SITKA), FX.gls.spec, { method: f.method, ci: "profile" });
    const s = r.varcomp[r.varcomp.length - 1];
    closeRel(s.sd, f.estimate, 1e-9, `${f.method} sigma`);
    closeRel(s.sd_lower, f.lower, 1e-9, `${f.method} lower`);
    closeRel(s.sd_upper, f.upper, 1e-9, `${f.method} upper`);
    assert.ok(s.sd_lower! < s.sd! && s.sd! < s.sd_upper!);
  }
  // Below level 0.5 the chi-square interval can miss the estimate: the likelihood-ratio interval then.
  for (const level of [0.05, 0.2, 0.5, 0.9]) {
    const r = fitModel(loadTable(SITKA), FX.gls.spec, { level, ci: "profile" });
    const s = r.varcomp[r.varcomp.length - 1];
    assert.ok(s.sd_lower! <= s.sd! && s.sd! <= s.sd_upper!, `level ${level}: [${s.sd_lower}, ${s.sd_upper}] vs ${s.sd}`);
  }
});

test("lme4's ML profile interval for sigma misses the REML estimate: the REML-criterion profile (R, direct) is shown, with a note", () => {
  const fx = FX.reml_profile;
  // R's confint really excludes the estimate here (the reason for the switch).
  assert.ok(fx.lme4_sigma[1] < fx.sigma);
  const r = fitModel(loadTable(SITKA), "size ~ factor(tree) + time + (1|time)", { ci: "profile" });
  const sigma = r.varcomp.find((v) => v.group === "Residual")!, sd = r.varcomp.find((v) => v.group === "time")!;
  closeRel(sigma.sd, fx.sigma, 1e-4, "sigma");
  closeRel(sigma.sd_lower, fx.reml_sigma[0], 1e-5, "REML profile lower of sigma");
  closeRel(sigma.sd_upper, fx.reml_sigma[1], 1e-5, "REML profile upper of sigma");
  // The SD's ML interval contains its REML estimate: lme4's definition is kept there (R's exact
  // crossing of its ML profile; confint's spline ends are within 3e-3 of it).
  closeRel(sd.sd_lower, fx.ml_sd[0], 1e-5, "ML profile lower of sd(time)");
  closeRel(sd.sd_upper, fx.ml_sd[1], 1e-5, "ML profile upper of sd(time)");
  closeRel(sd.sd_lower, fx.lme4_sd[0], 3e-3, "lme4 confint lower of sd(time)");
  assert.ok(r.messages.some((m) => /does not contain the REML estimate for the residual SD[\s\S]*REML-criterion profile/.test(m)), r.messages.join("\n"));
});

/** Checks the acceptance properties on one result; `ci` says whether intervals were asked for. */
function assertSane(r: FitResult, what: string, ci: boolean): void {
  const notes = r.messages.join("\n");
  for (const x of [r.logLik, r.AIC, r.BIC, r.sigma]) assert.ok(Number.isFinite(x), `${what}: ${x}`);
  for (const f of r.fixef) {
    for (const v of [f.estimate, f.se, f.t]) assert.ok(Number.isFinite(v), `${what}: ${f.term} ${v}`);
    for (const v of [f.df, f.p, f.lower, f.upper]) assert.ok(v === null || Number.isFinite(v), `${what}: ${f.term} has ${v}`);
    if (f.p !== null) assert.ok(f.p >= 0 && f.p <= 1, `${what}: p ${f.p}`);
    if (f.df !== null) assert.ok(f.df >= MIN_DF, `${what}: df ${f.df}`);
    else assert.match(notes, new RegExp(`no df[^\\n]*${f.term.replace(/[()]/g, "\\$&")}`), `${what}: ${f.term} has no df and no note`);
    if (f.lower !== null) assert.ok(f.lower <= f.estimate && f.estimate <= f.upper!, `${what}: ${f.term} [${f.lower}, ${f.upper}] vs ${f.estimate}`);
  }
  for (const v of r.varcomp) {
    const est = v.effect2 !== null ? v.corr : v.sd;
    for (const x of [v.variance, v.sd, v.corr, v.sd_lower, v.sd_upper]) assert.ok(x === null || Number.isFinite(x), `${what}: ${v.group} ${v.effect} has ${x}`);
    if (est !== null && v.sd_lower !== null && v.sd_upper !== null) {
      const tol = 1e-7 * Math.max(Math.abs(est), v.effect2 !== null ? 1 : 0) + 1e-12;
      assert.ok(v.sd_lower <= est + tol && est <= v.sd_upper + tol, `${what}: ${v.group} ${v.effect} ${v.effect2} [${v.sd_lower}, ${v.sd_upper}] vs ${est}`);
    }
    if (ci && est !== null && (v.sd_lower === null || v.sd_upper === null)) assert.match(notes, /interval|bound/, `${what}: ${v.group} ${v.effect} ${v.effect2} has no interval and no note`);
  }
}

test("the NaN family (a random slope on a factor, singular): every profile bound is finite or empty with a note", () => {
  // Before: cor(fa, fb) had lower end NaN and the residual SD an upper end NaN. lme4's confint
  // stops with an error on these data, so there is no R number to match.
  const t = loadTable("test/data/slope-factor-singular.csv");
  const r = fitModel(t, "y ~ x + f + (0+f|g)", { ci: "profile" });
  assertSane(r, "y ~ x + f + (0+f|g)", true);
  const sigma = r.varcomp[r.varcomp.length - 1];
  assert.ok(sigma.sd_lower !== null && sigma.sd_upper !== null, "the residual SD's profile is computable here");
});

/** Simulated grouped data: x, a 3-level factor f, groups g (with a random intercept and an f slope), 2-level h. */
function simulate(seed: number, G: number, reps: number): DataTable {
  const rng = new Rng(seed);
  const rows: unknown[][] = [["y", "x", "f", "g", "h"]];
  const a = Array.from({ length: G }, () => rng.normal()), b = Array.from({ length: G }, () => 0.5 * rng.normal());
  for (let i = 0; i < G * reps; i++) {
    const g = i % G, f = ["a", "b", "c"][Math.floor(rng.uniform() * 3)], x = rng.normal();
    rows.push([1 + x + a[g] + (f === "b" ? b[g] : 0) + 0.7 * rng.normal(), x, f, `g${g}`, g % 2 ? "p" : "q"]);
  }
  return tableFromRows(rows);
}

test("property: over random data and specs every number is finite or null with a note, p in [0,1], intervals contain estimates (Wald)", () => {
  const specs = ["y ~ x + (1|g)", "y ~ x + (x|g)", "y ~ x + f + (0+f|g)", "y ~ x + (1|g) + (1|h)", "y ~ x*f + (x||g)", "y ~ x + (1|g) ; varIdent(h)", "y ~ x + (1|g) ; AR1(x | g)"];
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 1e6 }), fc.integer({ min: 4, max: 10 }), fc.integer({ min: 4, max: 8 }), fc.constantFrom(...specs), fc.constantFrom("REML" as const, "ML" as const), (seed, G, reps, spec, method) => {
      const r = fitModel(simulate(seed, G, reps), spec, { method, ci: "wald" });
      assertSane(r, `${spec} ${method} seed ${seed} G ${G} reps ${reps}`, true);
    }),
    { numRuns: 40 },
  );
});

test("property: the same with profile intervals (small specs: each run refits the profile)", () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 1e6 }), fc.integer({ min: 3, max: 8 }), fc.integer({ min: 3, max: 6 }), fc.constantFrom("y ~ x + (1|g)", "y ~ x + (x|g)", "y ~ f + (1|g) + (1|h)"), (seed, G, reps, spec) => {
      const r = fitModel(simulate(seed, G, reps), spec, { ci: "profile" });
      assertSane(r, `${spec} seed ${seed} G ${G} reps ${reps}`, true);
    }),
    { numRuns: 12 },
  );
});

test("a confidence level outside (0, 1) is a DataError, not an infinite interval", () => {
  for (const level of [0, 1, 1.5, -0.2, NaN]) {
    assert.throws(() => fitModel(loadTable(SITKA), "size ~ time + (1|tree)", { level, ci: "none" }), /level must be a number between 0 and 1/, `level ${level}`);
  }
});
