// Marginal means against R's emmeans (test/fixtures/make-fixtures-emmeans.R): emmeans(), pairs()
// with each adjustment, emtrends() and contrasts of trends, Satterthwaite and Kenward-Roger df, on
// Sitka, sleepstudy, Machines, Oats (balanced, unbalanced, a missing cell). Tolerance 1e-4
// relative (1e-6 absolute near 0) on means, SE, df, CI, estimates, t and p. Then R's ptukey, the
// invariances, and bad input.
import { test } from "node:test";
import assert from "node:assert/strict";
import { emmeansModel } from "../src/engine";
import type { DataTable, EmmeansResult } from "../src/engine";
import { ptukeyUpper } from "../src/engine/inference/ptukey";
import { pT2 } from "../src/engine/inference/dist";
import { loadTable, readJson } from "./helpers/fixtures";

interface EmmFx { levels: Record<string, string>; estimate: number | null; SE: number | null; df: number | null; "lower.CL": number | null; "upper.CL": number | null }
interface ConFx { contrast: string; by: Record<string, string>; estimate: number | null; SE: number | null; df: number | null; "t.ratio": number | null; "p.value": number | null; "p.tukey"?: number | null }
interface CaseFx {
  name: string; data: string; spec: string; specs: string | string[]; by: string | string[] | null;
  at: Record<string, number | number[]> | null; trend: string | null;
  results: Record<string, { ddf: string; emmeans: EmmFx[]; pairs: Record<string, ConFx[]> }>;
}
const fx = readJson<{ cases: CaseFx[]; ptukey: { q: number; nmeans: number; df: number | null; p: number }[] }>("test/fixtures/emmeans.json");

function near(actual: number | null | undefined, expected: number | null, what: string): void {
  if (expected === null) {
    assert.ok(actual === null || actual === undefined, `${what}: R has NA, got ${actual}`);
    return;
  }
  const tol = Math.max(1e-4 * Math.abs(expected), 1e-6);
  assert.ok(actual !== null && actual !== undefined && Math.abs(actual - expected) <= tol,
    `${what}: got ${actual}, R has ${expected} (diff ${actual == null ? "n/a" : Math.abs(actual - expected).toExponential(2)} > ${tol.toExponential(2)})`);
}

const arr = <T>(x: T | T[] | null | undefined): T[] => (x === null || x === undefined ? [] : Array.isArray(x) ? x : [x]);

function run(c: CaseFx, ddf: string, adjust: string): EmmeansResult {
  const at: Record<string, number[]> = {};
  for (const [k, v] of Object.entries(c.at ?? {})) at[k] = arr(v);
  return emmeansModel(loadTable(c.data), c.spec, { specs: arr(c.specs), by: arr(c.by), at, trend: c.trend, ddf: ddf === "kenward-roger" ? "kr" : "satterthwaite", adjust });
}

for (const c of fx.cases) {
  for (const [ddf, r] of Object.entries(c.results)) {
    test(`emmeans ${c.name} (${ddf}) matches R`, () => {
      for (const [adjust, pairs] of Object.entries(r.pairs)) {
        const res = run(c, ddf, adjust);
        assert.equal(res.value, c.trend ? `${c.trend}.trend` : "emmean");
        assert.equal(res.emmeans.length, r.emmeans.length, "number of means");
        r.emmeans.forEach((e, i) => {
          const o = res.emmeans[i];
          assert.deepEqual(o.levels, e.levels, `mean ${i} levels`);
          const what = `${c.name} ${ddf} mean ${JSON.stringify(e.levels)}`;
          near(o.estimate, e.estimate, `${what} estimate`);
          near(o[res.value] as number | null, e.estimate, `${what} ${res.value}`);
          for (const k of ["SE", "df", "lower.CL", "upper.CL"] as const) near(o[k], e[k], `${what} ${k}`);
        });
        assert.equal(res.contrasts.length, pairs.length, "number of contrasts");
        // emmeans rounds the family's df with zapsmall before ptukey; with a non-estimable
        // contrast (df NA -> Inf) that rounds every df to an integer. We keep each contrast's
        // own df: there the reference is R's ptukey at that df (p.tukey).
        const ragged = pairs.some((p) => p.estimate === null);
        pairs.forEach((p, i) => {
          const o = res.contrasts[i];
          const what = `${c.name} ${ddf} ${adjust} ${p.contrast} ${JSON.stringify(p.by)}`;
          assert.equal(o.contrast, p.contrast, `${what} label`);
          assert.deepEqual(o.by, p.by, `${what} by`);
          for (const k of ["estimate", "SE", "df", "t.ratio"] as const) near(o[k], p[k], `${what} ${k}`);
          const ref = adjust === "tukey" && ragged ? p["p.tukey"] ?? null : p["p.value"];
          near(o["p.value"], p.estimate === null ? null : ref, `${what} p.value`);
        });
      }
    });
  }
}

test("ptukey's upper tail matches R's ptukey (df >= 5) and the exact t for two means", () => {
  for (const r of fx.ptukey) {
    const ours = ptukeyUpper(r.q, r.nmeans, r.df ?? Infinity);
    // R's ptukey loses about 1e-4 at df 2 and 1e-6 at df 3.5 (its quadrature in df is coarse
    // there); with two means Q/sqrt(2) is |t|, so the exact value is known at every df.
    if (r.df === null || r.df >= 5) assert.ok(Math.abs(ours - r.p) < 1e-6, `ptukey(${r.q}, ${r.nmeans}, ${r.df}): ${ours} vs R ${r.p}`);
    else assert.ok(Math.abs(ours - r.p) < 2e-4, `ptukey(${r.q}, ${r.nmeans}, ${r.df}): ${ours} vs R ${r.p}`);
    if (r.nmeans === 2 && r.df !== null) {
      const exact = pT2(r.q / Math.SQRT2, r.df);
      assert.ok(Math.abs(ours - exact) <= 1e-9 * exact + 1e-13, `k = 2, df ${r.df}, q ${r.q}: ${ours} vs exact ${exact}`);
    }
  }
  assert.equal(ptukeyUpper(0, 3, 10), 1);
  assert.equal(ptukeyUpper(Infinity, 3, 10), 0);
  const tiny = ptukeyUpper(30, 3, 50);
  assert.ok(tiny > 0 && tiny < 1e-15, `a far tail keeps its digits (upper tail computed directly): ${tiny}`);
});

// ---------------------------------------------------------------------------------------------
// Invariance: rescaling a covariate, shifting y, relabelling levels, permuting rows.

function transform(t: DataTable, f: (name: string, values: Float64Array) => Float64Array | null, order?: number[]): DataTable {
  const idx = order ?? Array.from({ length: t.nrow }, (_, i) => i);
  return {
    nrow: t.nrow,
    columns: t.columns.map((c) => {
      if (c.kind === "numeric") {
        const v = Float64Array.from(idx, (i) => c.values[i]);
        return { ...c, values: f(c.name, v) ?? v };
      }
      return { ...c, codes: Int32Array.from(idx, (i) => c.codes[i]) };
    }),
  };
}

const SITKA = "assets/examples/sitka.csv";
const SPEC = "size ~ time*treat + (1|tree)";

test("emmeans: invariant to rescaling time, shifting y, permuting rows and relabelling levels", () => {
  const base = loadTable(SITKA);
  const ref = emmeansModel(base, SPEC, { specs: ["treat"], at: { time: [200] } });
  const refT = emmeansModel(base, SPEC, { specs: ["treat"], trend: "time" });
  const rel = (a: number | null, b: number | null, s = 1, what = "") => assert.ok(a !== null && b !== null && Math.abs(a - s * b) <= 1e-6 * Math.max(1, Math.abs(s * b)), `${what}: ${a} vs ${s} x ${b}`);
  // time in tens of days: the means at the same time are unchanged, trends scale by 10.
  const scaled = transform(base, (n, v) => (n === "time" ? v.map((x) => x / 10) : null));
  const m1 = emmeansModel(scaled, SPEC, { specs: ["treat"], at: { time: [20] } });
  const t1 = emmeansModel(scaled, SPEC, { specs: ["treat"], trend: "time" });
  ref.emmeans.forEach((r, i) => {
    rel(m1.emmeans[i].estimate, r.estimate, 1, "rescaled mean");
    rel(m1.emmeans[i].SE, r.SE, 1, "rescaled SE");
    rel(t1.emmeans[i].estimate, refT.emmeans[i].estimate, 10, "rescaled trend");
  });
  rel(t1.contrasts[0]["p.value"], refT.contrasts[0]["p.value"], 1, "rescaled trend contrast p");
  // y + 1000: means shift by 1000, SEs, contrasts and p-values do not change.
  const shifted = transform(base, (n, v) => (n === "size" ? v.map((x) => x + 1000) : null));
  const m2 = emmeansModel(shifted, SPEC, { specs: ["treat"], at: { time: [200] } });
  ref.emmeans.forEach((r, i) => {
    rel(m2.emmeans[i].estimate! - 1000, r.estimate, 1, "shifted mean");
    rel(m2.emmeans[i].SE, r.SE, 1, "shifted SE");
  });
  rel(m2.contrasts[0].estimate, ref.contrasts[0].estimate, 1, "shifted contrast");
  rel(m2.contrasts[0]["p.value"], ref.contrasts[0]["p.value"], 1, "shifted p");
  // Rows in reverse order.
  const perm = transform(base, () => null, Array.from({ length: base.nrow }, (_, i) => base.nrow - 1 - i));
  const m3 = emmeansModel(perm, SPEC, { specs: ["treat"], at: { time: [200] } });
  ref.emmeans.forEach((r, i) => rel(m3.emmeans[i].estimate, r.estimate, 1, "permuted mean"));
  // treat relabelled so that ozone sorts first: the same means, the contrast's sign flips.
  const relabel: DataTable = { ...base, columns: base.columns.map((c) => (c.kind === "factor" && c.name === "treat" ? { ...c, levels: c.levels.map((l) => (l === "ozone" ? "a_ozone" : "b_control")) } : c)) };
  const fixLevels = (t: DataTable): DataTable => ({ ...t, columns: t.columns.map((c) => {
    if (c.kind !== "factor" || c.name !== "treat") return c;
    const order = c.levels.map((l, i) => ({ l, i })).sort((a, b) => (a.l < b.l ? -1 : 1));
    const map = new Int32Array(c.levels.length);
    order.forEach((o, k) => (map[o.i] = k));
    return { ...c, levels: order.map((o) => o.l), codes: c.codes.map((k) => (k < 0 ? k : map[k])) };
  }) });
  const m4 = emmeansModel(fixLevels(relabel), SPEC, { specs: ["treat"], at: { time: [200] } });
  const byName = new Map(m4.emmeans.map((r) => [r.levels.treat, r]));
  rel(byName.get("b_control")!.estimate, ref.emmeans.find((r) => r.levels.treat === "control")!.estimate, 1, "relabelled control");
  rel(byName.get("a_ozone")!.estimate, ref.emmeans.find((r) => r.levels.treat === "ozone")!.estimate, 1, "relabelled ozone");
  rel(m4.contrasts[0].estimate, ref.contrasts[0].estimate, -1, "relabelled contrast");
  assert.equal(m4.contrasts[0].contrast, "a_ozone - b_control");
});

test("emmeans: bad input is a clear error", () => {
  const t = loadTable(SITKA);
  const err = (f: () => unknown, re: RegExp) => assert.throws(f, (e: Error) => re.test(e.message), String(re));
  err(() => emmeansModel(t, SPEC, { specs: ["trat"] }), /unknown factor 'trat' in specs \(did you mean 'treat'\?\)/);
  err(() => emmeansModel(t, SPEC, { specs: ["treat"], by: ["tree"] }), /unknown factor 'tree' in by/);
  err(() => emmeansModel(t, SPEC, { specs: ["treat"], at: { x: [1] } }), /at names 'x', which is not a predictor/);
  err(() => emmeansModel(t, SPEC, { specs: ["treat"], at: { treat: ["ozon"] } }), /'ozon' is not a level of 'treat'/);
  err(() => emmeansModel(t, SPEC, { specs: ["treat"], at: { time: ["soon"] } }), /'soon' is not a number/);
  err(() => emmeansModel(t, SPEC, { specs: ["treat"], trend: "treat" }), /trend variable 'treat' is a factor/);
  err(() => emmeansModel(t, SPEC, { specs: ["treat"], trend: "size" }), /trend variable 'size' is not a predictor/);
  err(() => emmeansModel(t, SPEC, { specs: ["treat"], adjust: "tukee" }), /adjust must be one of tukey, holm/);
  err(() => emmeansModel(t, SPEC, { specs: ["treat"], by: ["treat"] }), /in both specs and by/);
  err(() => emmeansModel(t, SPEC, { specs: ["treat"], ddf: "kr", method: "ML" }), /Kenward-Roger df need a REML fit/);
  err(() => emmeansModel(t, SPEC, { specs: ["treat"], level: 95 }), /confidence level must be between 0 and 1/);
});

test("emmeans: a non-estimable mean is null with a note, and its contrasts too", () => {
  const res = emmeansModel(loadTable("test/data/oats_missing_cell.csv"), "yield ~ N*Variety + (1|Block/Variety)", { specs: ["N"] });
  const bad = res.emmeans.filter((r) => !r.estimable);
  assert.deepEqual(bad.map((r) => r.levels.N), ["N0.6"]);
  assert.equal(bad[0].estimate, null);
  assert.ok(res.notes.some((n) => /not estimable \(NA\): N0.6/.test(n)), res.notes.join("; "));
  assert.equal(res.contrasts.filter((c) => c.estimate === null).length, 3);
});
