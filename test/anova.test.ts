// Tests of fixed-effect terms against R (test/fixtures/make-fixtures-11.R): lmerTest's anova
// Types I/II/III with Satterthwaite df, lmerTest's contest, residual df (n - p), nlme's
// containment df; vcov. Tolerance: 1e-4 relative (1e-6 absolute for a value near 0) on every
// Sum Sq, Mean Sq, F, df and p-value; p-values are compared relatively even when tiny (upper tails).
import { test } from "node:test";
import assert from "node:assert/strict";
import { anovaModel, contestModel, fitModel } from "../src/engine";
import type { AnovaRow, Method } from "../src/engine/types";
import { loadTable, readJson } from "./helpers/fixtures";

interface FxRow { term: string; "Sum Sq": number; "Mean Sq": number; NumDF: number; DenDF: number; "F value": number; "Pr(>F)": number }
type Tables = Record<"1" | "2" | "3", FxRow[]>;
interface Fx {
  name: string; data: string; spec: string; method: Method; n: number;
  terms: string[]; beta: number[]; vcov: number[][]; sigma: number;
  anova?: Tables; residual: Tables; containment?: Tables; containment_fixef_df?: number[];
  r2?: { marginal: number; conditional: number };
  contest?: { L: number[][]; row: FxRow };
  contest1?: { L: number[]; estimate: number; se: number; df: number; t: number; p: number };
  anova_kr?: Tables; kr_fixef?: { se: number[]; df: number[]; p: number[] }; contest_kr?: FxRow;
}
const fx = readJson<{ fixtures: Fx[] }>("test/fixtures/anova.json").fixtures;

function near(actual: number | null | undefined, expected: number, what: string, absFloor = 1e-6): void {
  const tol = Math.max(1e-4 * Math.abs(expected), absFloor);
  assert.ok(actual !== null && actual !== undefined && Math.abs(actual - expected) <= tol,
    `${what}: got ${actual}, R has ${expected} (diff ${actual == null ? "n/a" : Math.abs(actual - expected).toExponential(2)} > ${tol.toExponential(2)})`);
}

/**
 * `ssScale` = (R's sigma / ours)^2 multiplies our Sum Sq and Mean Sq (F sigma^2 NumDF): with a
 * variance function sigma is the reference stratum's SD, which nlme takes as the first level in
 * data order and the engine as the first level in sorted order; 1 otherwise.
 */
function compareRow(ours: AnovaRow | undefined, r: FxRow, what: string, ssScale = 1): void {
  assert.ok(ours, `${what}: row missing`);
  near(ours["Sum Sq"]! * ssScale, r["Sum Sq"], `${what} Sum Sq`);
  near(ours["Mean Sq"]! * ssScale, r["Mean Sq"], `${what} Mean Sq`);
  for (const k of ["F value", "DenDF"] as const) near(ours[k], r[k], `${what} ${k}`);
  assert.equal(ours.NumDF, r.NumDF, `${what} NumDF`);
  // p-values relative to themselves, however small (0 would fail here).
  near(ours["Pr(>F)"], r["Pr(>F)"], `${what} Pr(>F)`, 0);
}

function compareTable(rows: AnovaRow[], expected: FxRow[], what: string, ssScale = 1): void {
  assert.deepEqual(rows.map((r) => r.term), expected.map((r) => r.term), `${what}: terms`);
  expected.forEach((r, i) => compareRow(rows[i], r, `${what} ${r.term}`, ssScale));
}

for (const f of fx) {
  const table = () => loadTable(f.data);
  test(`vcov and df of the fit (${f.name}: ${f.spec})`, () => {
    const fit = fitModel(table(), f.spec, { method: f.method, ci: "none" });
    assert.deepEqual(fit.fixef.map((r) => r.term), f.terms);
    assert.equal(fit.ddf, "Satterthwaite");
    const V = fit.vcov!;
    assert.equal(V.length, f.terms.length);
    f.vcov.forEach((row, i) => row.forEach((v, j) => {
      // Off-diagonal entries near 0 are compared on the scale of their variances.
      const scale = Math.sqrt(f.vcov[i][i] * f.vcov[j][j]);
      near(V[i][j], v, `vcov[${f.terms[i]}, ${f.terms[j]}]`, 1e-6 * scale);
    }));
    if (f.containment_fixef_df) {
      const fc = fitModel(table(), f.spec, { method: f.method, ci: "none", ddf: "containment" });
      assert.equal(fc.ddf, "containment");
      assert.deepEqual(fc.fixef.map((r) => r.df), f.containment_fixef_df, "nlme summary(lme) DF");
    }
  });

  if (f.anova) {
    for (const type of [1, 2, 3] as const) {
      test(`anova Type ${type}, Satterthwaite, as lmerTest (${f.name})`, () => {
        const res = anovaModel(table(), f.spec, { type, method: f.method });
        assert.equal(res.type, type);
        assert.equal(res.ddf, "Satterthwaite");
        compareTable(res.rows, f.anova![String(type) as "1"], `${f.name} type ${type}`);
      });
    }
  }
  test(`anova Types 1-3 with residual${f.containment ? " and containment" : ""} df (${f.name})`, () => {
    const sigma = fitModel(table(), f.spec, { method: f.method, ci: "none" }).sigma;
    const scale = (f.sigma / sigma) ** 2;
    for (const type of [1, 2, 3] as const) {
      compareTable(anovaModel(table(), f.spec, { type, method: f.method, ddf: "residual" }).rows, f.residual[String(type) as "1"], `${f.name} residual type ${type}`, scale);
      // No containment reference where nlme cannot fit the model (an aliased column).
      if (!f.containment) continue;
      const c = anovaModel(table(), f.spec, { type, method: f.method, ddf: "containment" });
      assert.equal(c.ddf, "containment");
      compareTable(c.rows, f.containment[String(type) as "1"], `${f.name} containment type ${type}`, scale);
    }
  });
  if (f.anova_kr) {
    test(`Kenward-Roger: anova Types 1-3, t tests and contest as pbkrtest / lmerTest (${f.name})`, () => {
      for (const type of [1, 2, 3] as const) {
        const res = anovaModel(table(), f.spec, { type, method: f.method, ddf: "kr" });
        assert.equal(res.ddf, "Kenward-Roger");
        compareTable(res.rows, f.anova_kr![String(type) as "1"], `${f.name} KR type ${type}`);
      }
      const fit = fitModel(table(), f.spec, { method: f.method, ci: "none", ddf: "kr" });
      assert.equal(fit.ddf, "Kenward-Roger");
      fit.fixef.forEach((r, i) => {
        near(r.se, f.kr_fixef!.se[i], `KR SE of ${r.term}`);
        near(r.df, f.kr_fixef!.df[i], `KR df of ${r.term}`);
        near(r.p, f.kr_fixef!.p[i], `KR p of ${r.term}`, 0);
      });
      if (f.contest_kr) compareRow(contestModel(table(), f.spec, f.contest!.L, { method: f.method, ddf: "kr" }), f.contest_kr, `${f.name} KR contest`);
    });
  }
  if (f.contest) {
    test(`contest: F test of an L matrix, as lmerTest (${f.name})`, () => {
      compareRow(contestModel(table(), f.spec, f.contest!.L, { method: f.method }), f.contest!.row, `${f.name} contest`);
      const c1 = f.contest1!;
      const one = contestModel(table(), f.spec, [c1.L], { method: f.method });
      near(one.DenDF, c1.df, "1-row contest df");
      near(one["F value"], c1.t * c1.t, "1-row contest F = t^2");
      near(one["Pr(>F)"], c1.p, "1-row contest p", 0);
    });
  }
}

test("Type III does not depend on the order of a factor's levels (contrast-coding invariance)", () => {
  // Oats with the reference level of N changed by renaming: the Type III tables must agree.
  const t = loadTable("test/data/oats_unbalanced.csv");
  const a = anovaModel(t, "yield ~ N*Variety + (1|Block/Variety)", { type: 3 });
  const col = t.columns.find((c) => c.name === "N")!;
  assert.equal(col.kind, "factor");
  if (col.kind !== "factor") return;
  // Reverse the level order: the last level becomes the reference.
  const k = col.levels.length;
  const renamed = { ...t, columns: t.columns.map((c) => (c !== col ? c : { ...col, levels: col.levels.map((_, i) => col.levels[k - 1 - i]), codes: col.codes.map((x) => k - 1 - x) })) };
  const b = anovaModel(renamed, "yield ~ N*Variety + (1|Block/Variety)", { type: 3 });
  a.rows.forEach((r, i) => {
    near(b.rows[i]["F value"], r["F value"]!, `F of ${r.term}`);
    near(b.rows[i].DenDF, r.DenDF!, `DenDF of ${r.term}`);
  });
});

test("Type III with an empty cell (an aliased interaction column) says so, as lmerTest", () => {
  const a = anovaModel(loadTable("test/data/oats_missing_cell.csv"), "yield ~ N*Variety + (1|Block/Variety)", { type: 3 });
  assert.ok(a.messages.some((m) => /missing cells for: NN0\.6:VarietyVictory/.test(m)), a.messages.join("; "));
});

test("anova and contest: bad input is a DataError that says what to fix", () => {
  const t = loadTable("test/data/machines.csv");
  const spec = "score ~ Machine + (1|Worker/Machine)";
  assert.throws(() => anovaModel(t, spec, { type: 4 as unknown as 3 }), /type must be 1, 2 or 3/);
  assert.throws(() => anovaModel(t, spec, { ddf: "bogus" as unknown as "residual" }), /ddf must be/);
  assert.throws(() => anovaModel(t, spec, { terms: ["Worker"] }), /unknown term 'Worker'.*Machine/);
  assert.throws(() => contestModel(t, spec, [[0, 1]]), /has 2 numbers, but the model has 3/);
  assert.throws(() => contestModel(t, spec, []), /at least one row/);
  assert.throws(() => anovaModel(loadTable("test/data/penicillin.csv"), "diameter ~ 1 + (1|plate) + (1|sample)", { ddf: "containment" }), /containment df need nested grouping factors/);
  assert.throws(() => anovaModel(t, spec, { ddf: "kr", method: "ML" }), /Kenward-Roger df need a REML fit/);
});

test("Satterthwaite with a residual structure: a 1-df F test is the t test squared, with its df", () => {
  const t = loadTable("assets/examples/sitka.csv");
  const spec = "size ~ time*treat + (1|tree) ; AR1(time | tree)";
  const fit = fitModel(t, spec, { ci: "none" });
  const a = anovaModel(t, spec, { type: 3 });
  // time:treat is tested by its own coefficient.
  const row = a.rows.find((r) => r.term === "time:treat")!;
  const fr = fit.fixef.find((r) => r.term === "time:treatozone")!;
  near(row["F value"], fr.t * fr.t, "F = t^2");
  near(row.DenDF, fr.df!, "df");
  near(row["Pr(>F)"], fr.p!, "p", 0);
  assert.ok(row.DenDF! > 2 && row.DenDF! < 395);
});
