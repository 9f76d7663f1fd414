// Models whose random effects the data cannot tell apart from something else (issue 14,
// "Unidentifiable models look fine"): refused with a DataError that says what to change when a
// random effect lies in the span of the fixed effects (the fixed-effect SEs would be arbitrary
// too); noted, with no intervals, when only the split of one variance between two parameters is
// arbitrary. And a singular fit says which term is on the boundary and what to change.
import test from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { DataError, fitModel, tableFromRows } from "../src/engine";
import type { DataTable } from "../src/engine/types";
import { prepareFit } from "../src/engine/model/prepared";
import { checkIdentifiable, spannedEffects } from "../src/engine/model/confounding";
import { Rng } from "../src/engine/inference/rng";
import { loadTable } from "./helpers/fixtures";

const SITKA = "assets/examples/sitka.csv";

test("issue 14: size ~ time*treat + (1|treat) is refused, naming treat and what to change", () => {
  assert.throws(() => fitModel(loadTable(SITKA), "size ~ time*treat + (1|treat)"), (e: unknown) => {
    assert.ok(e instanceof DataError);
    assert.match(e.message, /'treat' is also in the fixed effects/);
    assert.match(e.message, /cannot be told apart from the fixed effects/);
    assert.match(e.message, /remove 'treat' from the fixed effects, or drop the random term \(1 \| treat\)/);
    return true;
  });
});

test("the same for a random slope whose per-group columns the fixed interaction already holds", () => {
  assert.throws(() => fitModel(loadTable(SITKA), "size ~ treat*time + (0 + time | treat)"), /random slopes 'time' of \(0 \+ time \| treat\)[\s\S]*remove 'treat:time' from the fixed effects/);
  // factor(tree) in the fixed part and (1|tree): named through the call.
  assert.throws(() => fitModel(loadTable(SITKA), "size ~ factor(tree) + time + (1|tree)"), /'tree' is also in the fixed effects \(factor\(tree\)\)/);
});

test("a refused model is refused by every entry point that reports a fit", async () => {
  const { compareModels, exactRlrt } = await import("../src/engine");
  const t = loadTable(SITKA);
  assert.throws(() => compareModels(t, ["size ~ time*treat + (1|tree)", "size ~ time*treat + (1|treat)"]), DataError);
  assert.throws(() => exactRlrt(t, "size ~ time*treat + (1|treat)", { nsim: 10 }), DataError);
});

test("the usual identifiable designs pass: a grouping factor nested in a fixed factor, random slopes", () => {
  const t = loadTable(SITKA);
  for (const spec of ["size ~ time*treat + (1|tree)", "size ~ time*treat + (time|tree)", "size ~ time + (1|treat)", "size ~ factor(time) + treat + (1|tree)"]) {
    assert.doesNotThrow(() => checkIdentifiable(prepareFit(t, spec)), spec);
  }
});

/** Random data: a fixed factor f with k levels, a grouping g that is a function of f (m of its levels), a finer grouping s nested in f. */
function confoundedData(seed: number, k: number, m: number, reps: number): { table: DataTable; fLevels: number } {
  const rng = new Rng(seed);
  // A map f -> g onto m levels (every g level used), shuffled by the seed.
  const map = Array.from({ length: k }, (_, i) => i % m);
  for (let i = k - 1; i > 0; i--) {
    const j = Math.floor(rng.uniform() * (i + 1));
    [map[i], map[j]] = [map[j], map[i]];
  }
  const rows: unknown[][] = [["y", "x", "f", "g", "s", "h"]];
  for (let i = 0; i < k; i++) {
    for (let sub = 0; sub < 2; sub++) {
      for (let r = 0; r < reps; r++) {
        // h random, but with both of its levels present (a one-level factor is another error).
        const first = i === 0 && sub === 0 && r < 2;
        const h = first ? (r === 0 ? "u" : "v") : rng.uniform() < 0.5 ? "u" : "v";
        rows.push([rng.normal() + i * 0.3, rng.normal(), `F${i}`, `G${map[i]}`, `S${i}_${sub}`, h]);
      }
    }
  }
  return { table: tableFromRows(rows), fLevels: k };
}

test("property: (1|g) is detected as confounded for any fixed factor f and any g that is a function of f", () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 1e6 }), fc.integer({ min: 2, max: 9 }), fc.integer({ min: 2, max: 9 }), fc.integer({ min: 2, max: 4 }), (seed, k, mRaw, reps) => {
      const m = Math.min(mRaw, k);
      const { table } = confoundedData(seed, k, m, reps);
      for (const spec of ["y ~ x + f + (1|g)", "y ~ f*x + (1|g)", "y ~ x + f + h + (1|s) + (1|g)", "y ~ f:h + (1|g)"]) {
        assert.throws(() => checkIdentifiable(prepareFit(table, spec)), (e: unknown) => e instanceof DataError && /\(1 \| g\)/.test(e.message) && /To fix/.test(e.message), `${spec}: k ${k}, m ${m}`);
      }
      // A slope on x per g level is in span(X) when X holds f:x (g a function of f).
      assert.throws(() => checkIdentifiable(prepareFit(table, "y ~ f*x + (0 + x|g)")), /random slopes 'x'/);
    }),
    { numRuns: 60 },
  );
});

test("property: a grouping nested in (finer than) the fixed factor is not flagged, nor is g without f", () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 1e6 }), fc.integer({ min: 2, max: 9 }), fc.integer({ min: 2, max: 9 }), fc.integer({ min: 2, max: 4 }), (seed, k, mRaw, reps) => {
      const m = Math.min(mRaw, k);
      const { table } = confoundedData(seed, k, m, reps);
      for (const spec of ["y ~ x + f + (1|s)", "y ~ x + (1|g)", "y ~ x + h + (1|g)", "y ~ f*x + (1|s) + (0 + x|s)"]) {
        const prep = prepareFit(table, spec);
        assert.deepEqual(spannedEffects(prep.design), [], `${spec}: k ${k}, m ${m}`);
      }
    }),
    { numRuns: 60 },
  );
});

test("a random intercept on the CS residual groups, or two terms sharing an effect: noted, no intervals, fit kept", () => {
  const t = loadTable(SITKA);
  const cs = fitModel(t, "size ~ time + (1|tree) ; CS(1|tree)");
  assert.ok(cs.messages.some((m) => /not identifiable: the random intercept of \(1 \| tree\) and the CS residual structure/.test(m)), cs.messages.join("\n"));
  const dup = fitModel(t, "size ~ time + (1|tree) + (1|tree)", { ci: "profile" });
  assert.ok(dup.messages.some((m) => /only the sum of their two '\(Intercept\)' variances is estimable/.test(m)), dup.messages.join("\n"));
  for (const r of dup.varcomp.filter((v) => v.group.startsWith("tree"))) assert.equal(r.sd_lower, null, `${r.group} interval`);
  // The marginal model is that of one (1|tree): the same likelihood.
  const one = fitModel(t, "size ~ time + (1|tree)", { ci: "none" });
  assert.ok(Math.abs(dup.logLik - one.logLik) < 1e-6, `${dup.logLik} vs ${one.logLik}`);
  // (1|tree) + (0 + time|tree) share no effect: identifiable, no note.
  const indep = fitModel(t, "size ~ time + (1|tree) + (0 + time|tree)", { ci: "none" });
  assert.ok(!indep.messages.some((m) => /not identifiable/.test(m)));
});

test("a singular fit says which term is on the boundary and what to change", () => {
  const t = loadTable("test/data/slope-factor-singular.csv");
  const r = fitModel(t, "y ~ x*f + (x|g)", { ci: "none" });
  assert.equal(r.singular, true);
  assert.ok(r.messages.some((m) => /boundary \(singular\) fit: in \(1 \+ x \| g\) the correlation of \(\(Intercept\), x\) is ±1[\s\S]*Simplify the term/.test(m)), r.messages.join("\n"));
  const v0 = fitModel(t, "y ~ x + (1|g) + (0 + f|g)", { ci: "none" });
  assert.ok(v0.messages.some((m) => /the variance of \(1 \| g\) is estimated as 0[\s\S]*Drop the term/.test(m)), v0.messages.join("\n"));
});
