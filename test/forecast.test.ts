// The forecast of a new occasion of a tree seen in the data (level "forecast"): equal to the
// dense conditional-normal computation (test/helpers/dense-blup.ts) to 1e-8, for the fit, its
// SE-based prediction-error variance, with AR1, CAR1, CS, ARH1 and UN residuals, with and without
// a random intercept, beyond the last occasion and in a gap of a tree's series.
import { test } from "node:test";
import assert from "node:assert/strict";
import { fitModel, predictModel, tableFromRows } from "../src/engine";
import { csvRows } from "./helpers/fixtures";
import { DenseRow, denseForecast } from "./helpers/dense-blup";

const all = csvRows("assets/examples/sitka.csv");
const header = all[0] as string[];
const col = (name: string) => header.indexOf(name);
const TIMES = [152, 174, 201, 227, 258];

function rel(a: number, b: number): number {
  return Math.abs(a - b) / Math.max(Math.abs(b), 1e-300);
}

interface Case { name: string; spec: string; drop?: { tree: number; time: number }; at: { tree: number; time: number; treat: string } }
const cases: Case[] = [
  { name: "lme AR1 beyond the last day", spec: "size ~ time*treat + (1|tree) ; AR1(time | tree)", at: { tree: 1, time: 300, treat: "ozone" } },
  { name: "lme AR1 in a gap", spec: "size ~ time*treat + (1|tree) ; AR1(time | tree)", drop: { tree: 1, time: 201 }, at: { tree: 1, time: 201, treat: "ozone" } },
  { name: "lme CAR1 beyond the last day", spec: "size ~ time*treat + (1|tree) ; CAR1(time | tree)", at: { tree: 7, time: 300, treat: "ozone" } },
  { name: "gls AR1", spec: "size ~ time*treat ; AR1(time | tree)", at: { tree: 60, time: 280, treat: "control" } },
  { name: "gls CS", spec: "size ~ time*treat ; CS(1 | tree)", at: { tree: 3, time: 300, treat: "ozone" } },
  { name: "gls ARH1 in a gap", spec: "size ~ time*treat ; ARH1(time | tree)", drop: { tree: 2, time: 227 }, at: { tree: 2, time: 227, treat: "ozone" } },
  { name: "gls UN in a gap", spec: "size ~ time*treat ; UN(time | tree)", drop: { tree: 1, time: 174 }, at: { tree: 1, time: 174, treat: "ozone" } },
];

for (const c of cases) {
  test(`forecast ${c.name}: equals the dense conditional-normal predictor to 1e-8`, () => {
    const rows = all.filter((r, i) => i === 0 || !c.drop || !(r[col("tree")] === c.drop.tree && r[col("time")] === c.drop.time));
    const table = tableFromRows(rows);
    const fit = fitModel(table, c.spec, { ci: "none" });
    const nd = tableFromRows([["time", "tree", "treat"], [c.at.time, c.at.tree, c.at.treat]]);
    const pr = predictModel(table, c.spec, nd, { level: "forecast", interval: "prediction", conf: 0.95 });
    const row = pr.rows[0];
    assert.equal(row.level, "forecast", `not a forecast: ${row.note}`);
    const params = fit.residual!.params;
    const type = fit.residual!.type;
    const phi = params.phi as number, rho = params.rho as number;
    const corrM = params.corr as number[][] | undefined;
    const ratio = params.sd_ratio as number[] | undefined;
    const tau2 = fit.varcomp.find((v) => v.group === "tree")?.variance ?? 0;
    const occ = (t: number) => (TIMES.includes(t) ? TIMES.indexOf(t) : TIMES.length);
    const model = {
      tau2, sigma2: fit.sigma ** 2,
      corr: (ta: number, tb: number, oa: number, ob: number) =>
        type === "AR1" || type === "ARH1" ? phi ** Math.abs(oa - ob) : type === "CAR1" ? phi ** Math.abs(ta - tb) : type === "CS" ? rho : corrM![oa][ob],
      sd: (o: number) => (ratio ? ratio[o] : 1),
    };
    const dRows: DenseRow[] = rows.slice(1).map((r) => ({ size: r[col("size")] as number, time: r[col("time")] as number, tree: String(r[col("tree")]), treat: String(r[col("treat")]) }));
    const ref = denseForecast(dRows, model, occ, { time: c.at.time, tree: String(c.at.tree), treat: c.at.treat });
    assert.ok(rel(row.fit!, ref.fit) < 1e-8, `fit ${row.fit} vs dense ${ref.fit} (rel ${rel(row.fit!, ref.fit).toExponential(2)})`);
    const z = (row.upper! - row.fit!) / 1.959963984540054;
    assert.ok(rel(z * z, ref.pev) < 1e-8, `prediction-error variance ${z * z} vs dense ${ref.pev} (rel ${rel(z * z, ref.pev).toExponential(2)})`);
    // The forecast moves the group-level prediction toward the tree's own residuals, and narrows its interval.
    const grp = predictModel(table, c.spec, nd, { level: "group", interval: "prediction" }).rows[0];
    assert.ok(row.upper! - row.lower! < grp.upper! - grp.lower!, "the forecast interval is narrower than the group-level one");
  });
}

test("forecast: a tree not in the data, or a day it already has, falls back to group level with a note", () => {
  const table = tableFromRows(all);
  const nd = tableFromRows([["time", "tree", "treat"], [300, 99, "ozone"], [201, 1, "ozone"], [300, 1, "ozone"]]);
  const pr = predictModel(table, "size ~ time*treat + (1|tree) ; AR1(time | tree)", nd, { level: "forecast" });
  assert.equal(pr.rows[0].level, "population");
  assert.match(pr.rows[0].note!, /tree '99' is not in the data/);
  assert.equal(pr.rows[1].level, "group");
  assert.match(pr.rows[1].note!, /already has a row at time = 201/);
  assert.equal(pr.rows[2].level, "forecast");
});

for (const spec of ["size ~ time*treat + (1|tree)", "size ~ time*treat + (1|tree) ; AR1(time | tree)", "size ~ time*treat + (1|tree) ; CAR1(time | tree)"]) {
  test(`group-level SE of ${spec}: the joint conditional covariance of (beta, b) equals the dense computation to 1e-8`, () => {
    const table = tableFromRows(all);
    const fit = fitModel(table, spec, { ci: "none" });
    const nd = tableFromRows([["time", "tree", "treat"], [300, 1, "ozone"], [152, 44, "control"], [200, 79, "control"]]);
    const pr = predictModel(table, spec, nd, { level: "group", interval: "confidence" });
    const phi = (fit.residual?.params.phi as number | undefined) ?? 0;
    const type = fit.residual?.type;
    const occ = (t: number) => (TIMES.includes(t) ? TIMES.indexOf(t) : TIMES.length);
    const model = {
      tau2: fit.varcomp[0].variance!, sigma2: fit.sigma ** 2,
      corr: (ta: number, tb: number, oa: number, ob: number) => (type === "AR1" ? phi ** Math.abs(oa - ob) : type === "CAR1" ? phi ** Math.abs(ta - tb) : 0),
      sd: () => 1,
    };
    const dRows: DenseRow[] = all.slice(1).map((r) => ({ size: r[col("size")] as number, time: r[col("time")] as number, tree: String(r[col("tree")]), treat: String(r[col("treat")]) }));
    (nd.columns[0] as { values: Float64Array }).values.forEach((time, i) => {
      const tree = String((nd.columns[1] as { values: Float64Array }).values[i]);
      const treat = i === 0 ? "ozone" : "control";
      const ref = denseForecast(dRows, model, occ, { time, tree, treat }, false);
      const row = pr.rows[i];
      assert.equal(row.level, "group");
      assert.ok(rel(row.fit!, ref.fit) < 1e-8, `row ${i} fit ${row.fit} vs dense ${ref.fit}`);
      assert.ok(rel(row.se! ** 2, ref.pev) < 1e-8, `row ${i} SE^2 ${row.se! ** 2} vs dense ${ref.pev} (rel ${rel(row.se! ** 2, ref.pev).toExponential(2)})`);
    });
  });
}
