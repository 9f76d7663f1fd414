// =LMM.ANOVA and the ddf argument of =LMM.FIT, called as Excel calls them: numbers against R
// (test/fixtures/anova.json), the table's shape (no null in any cell), and #VALUE! with a message
// for bad arguments.
import "./addin/shim";
import { test } from "node:test";
import assert from "node:assert/strict";
import { expectValueError, invocation } from "./addin/shim";
import { anova, fit } from "../src/functions/functions";
import { closeRel, csvRows, readJson } from "./helpers/fixtures";

interface FxRow { term: string; "Sum Sq": number; "Mean Sq": number; NumDF: number; DenDF: number; "F value": number; "Pr(>F)": number }
interface Fx { name: string; data: string; spec: string; anova: Record<string, FxRow[]>; residual: Record<string, FxRow[]>; containment_fixef_df: number[] }
const fx = readJson<{ fixtures: Fx[] }>("test/fixtures/anova.json").fixtures;
const oats = fx.find((f) => f.name === "oats_unbalanced")!;
const rows = csvRows(oats.data);


test("LMM.ANOVA: Type III (default) and Type I as lmerTest, residual df; every cell a number or text", async () => {
  for (const [type, ddf, want] of [[null, null, oats.anova["3"]], [1, null, oats.anova["1"]], ["II", "residual", oats.residual["2"]]] as const) {
    const t = await anova(rows, oats.spec, type, ddf, null, invocation());
    assert.deepEqual(t[0], ["", "Sum Sq", "Mean Sq", "NumDF", "DenDF", "F value", "Pr(>F)"]);
    const w = t[0].length;
    for (const r of t) {
      assert.equal(r.length, w, "rectangular");
      for (const c of r) assert.ok(typeof c === "string" || typeof c === "boolean" || (typeof c === "number" && Number.isFinite(c)), `bad cell ${String(c)}`);
    }
    want.forEach((e, i) => {
      const r = t[1 + i];
      assert.equal(r[0], e.term);
      closeRel(r[1] as number, e["Sum Sq"], 1e-4, `Sum Sq ${e.term}`);
      closeRel(r[4] as number, e.DenDF, 1e-4, `DenDF ${e.term}`);
      closeRel(r[5] as number, e["F value"], 1e-4, `F ${e.term}`);
      closeRel(r[6] as number, e["Pr(>F)"], 1e-4, `p ${e.term}`);
    });
  }
});

test("LMM.FIT with ddf \"containment\": nlme's df in the df column", async () => {
  const t = await fit(rows, oats.spec, null, "containment", null, invocation());
  const dfs = t.slice(1, 1 + oats.containment_fixef_df.length).map((r) => r[3]);
  assert.deepEqual(dfs, oats.containment_fixef_df);
});

test("LMM.ANOVA and LMM.FIT with ddf \"kr\": Kenward-Roger as pbkrtest", async () => {
  const f = fx.find((x) => x.name === "oats_unbalanced") as Fx & { anova_kr: Record<string, FxRow[]>; kr_fixef: { se: number[]; df: number[] } };
  const t = await anova(rows, oats.spec, 3, "kr", null, invocation());
  f.anova_kr["3"].forEach((e, i) => {
    closeRel(t[1 + i][4] as number, e.DenDF, 1e-4, `KR DenDF ${e.term}`);
    closeRel(t[1 + i][5] as number, e["F value"], 1e-4, `KR F ${e.term}`);
  });
  const ft = await fit(rows, oats.spec, null, "kr", null, invocation());
  f.kr_fixef.df.forEach((d, i) => {
    closeRel(ft[1 + i][2] as number, f.kr_fixef.se[i], 1e-4, `KR SE ${ft[1 + i][0]}`);
    closeRel(ft[1 + i][3] as number, d, 1e-4, `KR df ${ft[1 + i][0]}`);
  });
});

test("LMM.ANOVA and LMM.FIT: bad type, ddf, method or spec give #VALUE! with what to fix", async () => {
  await expectValueError(anova(rows, oats.spec, 4, null, null, invocation()), /type must be 1 \(sequential\), 2 or 3/);
  await expectValueError(anova(rows, oats.spec, "IV", null, null, invocation()), /type must be/);
  await expectValueError(anova(rows, oats.spec, null, "kenward", null, invocation()), /ddf must be "satterthwaite"/);
  await expectValueError(anova(rows, oats.spec, null, "kr", "ML", invocation()), /Kenward-Roger df need a REML fit/);
  await expectValueError(anova(rows, oats.spec, null, null, "GLS", invocation()), /method must be "REML" or "ML"/);
  await expectValueError(anova(rows, "yield ~ Nx*Variety + (1|Block)", null, null, null, invocation()), /unknown column 'Nx'/);
  await expectValueError(fit(rows, oats.spec, null, "between", null, invocation()), /ddf must be/);
});
