// =LMM.PREDICT and =LMM.FITTED's standardized types, called as Excel calls them: numbers against
// R (test/fixtures/predict.json), one row per new row, recalculation when the new rows change, and
// #VALUE! with a message for newdata without a header, a missing model column, an unseen level.
import "./addin/shim";
import { test } from "node:test";
import assert from "node:assert/strict";
import { expectValueError, invocation } from "./addin/shim";
import { fitted, predict } from "../src/functions/functions";
import { closeRel, csvRows, readJson } from "./helpers/fixtures";

interface LmerFx { name: string; data: string; newdata: string; spec: string; population: number[]; group: number[]; se_population: number[] }
interface GlsFx { name: string; data: string; spec: string; resid: Record<string, number[]> }
const fx = readJson<{ lmer: LmerFx[]; gls: GlsFx[] }>("test/fixtures/predict.json");


const sitkaFx = fx.lmer.find((f) => f.name === "sitka_ri")!;
const data = csvRows(sitkaFx.data);
const nd = csvRows(sitkaFx.newdata);

test("LMM.PREDICT: one row per new row, as lme4 at both levels; every cell a number or text", async () => {
  const pop = await predict(data, sitkaFx.spec, nd, null, "confidence", null, invocation());
  assert.deepEqual(pop[0], ["fit", "se", "lower 95%", "upper 95%", "level", "note"]);
  assert.equal(pop.length, nd.length);
  for (const r of pop) for (const c of r) assert.ok(typeof c === "string" || (typeof c === "number" && Number.isFinite(c)), `bad cell ${String(c)}`);
  sitkaFx.population.forEach((v, i) => closeRel(pop[i + 1][0] as number, v, 1e-6, `population ${i}`));
  sitkaFx.se_population.forEach((v, i) => closeRel(pop[i + 1][1] as number, v, 1e-4, `SE ${i}`));
  const grp = await predict(data, sitkaFx.spec, nd, "group", null, null, invocation());
  sitkaFx.group.forEach((v, i) => closeRel(grp[i + 1][0] as number, v, 1e-6, `group ${i}`));
  assert.match(String(grp[2][3]), /tree '80' is not in the data/);
  // A changed new row changes its prediction (the job is keyed by the new rows too).
  const nd2 = nd.map((r, i) => (i === 1 ? [301, r[1], r[2]] : r));
  const again = await predict(data, sitkaFx.spec, nd2, "group", null, null, invocation());
  assert.notEqual(again[1][0], grp[1][0]);
});

test("LMM.PREDICT: #VALUE! for newdata without a header, a missing model column, an unseen factor level", async () => {
  await expectValueError(predict(data, sitkaFx.spec, nd.slice(1), null, null, null, invocation()), /no header row/);
  await expectValueError(predict(data, sitkaFx.spec, nd.map((r) => [r[0], r[1]]), null, null, null, invocation()), /lack the column 'treat'/);
  await expectValueError(predict(data, sitkaFx.spec, [nd[0], [200, 1, "sulfur"]], null, null, null, invocation()), /level 'sulfur' of the fixed-effect factor 'treat'/);
  await expectValueError(predict(data, sitkaFx.spec, nd, "subject", null, null, invocation()), /level must be "population"/);
});

test("LMM.FITTED type pearson and normalized: nlme's resid() for gls with AR1", async () => {
  const g = fx.gls.find((f) => f.name === "sitka_gls_ar1")!;
  const p = await fitted(data, g.spec, "pearson", null, invocation());
  const z = await fitted(data, g.spec, "normalized", null, invocation());
  assert.equal(p[0][0], "Pearson residual");
  const val = (c: unknown) => (typeof c === "number" ? c : (c as { basicValue: number }).basicValue);
  g.resid.pearson_conditional.forEach((v, i) => closeRel(val(p[i + 1][0]), v, 1e-6, `pearson ${i}`, 1));
  g.resid.normalized_conditional.forEach((v, i) => closeRel(val(z[i + 1][0]), v, 1e-6, `normalized ${i}`, 1));
});
