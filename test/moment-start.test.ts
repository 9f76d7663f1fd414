// The moment start for one random-effects term (moment-start.ts): computed from the cross-product
// blocks alone, it should land close to the REML optimum on real data, much closer than the
// identity start, and stay finite and positive when the moment estimate of a variance is negative.
import { test } from "node:test";
import assert from "node:assert/strict";
import { loadTable } from "./helpers/fixtures";
import { prepareFit, fitPrepared, PreparedModel } from "../src/engine/model/prepared";
import { momentStart } from "../src/engine/model/moment-start";
import { thetaStart } from "../src/engine/model/remat";

function startOf(prep: PreparedModel): Float64Array | null {
  const m = prep.model, r = m.remats[0];
  return momentStart({ n: m.n, p: m.p, q: r.q, ell: r.ell, A: m.Ajj[0], AF: m.AFj[0], AFF: m.AFF });
}

const cases: [string, string][] = [
  ["assets/examples/sleepstudy.csv", "Reaction ~ Days + (Days | Subject)"],
  ["assets/examples/sleepstudy.csv", "Reaction ~ Days + (1 | Subject)"],
  ["assets/examples/sitka.csv", "size ~ time + (time | tree)"],
  ["assets/examples/sitka.csv", "size ~ time*treat + (1 | tree)"],
  ["test/data/orthodont.csv", "distance ~ age + Sex + (age | Subject)"],
  ["test/data/airquality.csv", "Ozone ~ Temp + (1 | Month)"],
];

for (const [data, spec] of cases) {
  test(`moment start near the REML optimum: ${spec}`, () => {
    const prep = prepareFit(loadTable(data), spec);
    const start = startOf(prep);
    assert.ok(start, "a start is found");
    const fit = fitPrepared(prep, "REML");
    const atStart = prep.model.evaluate(start, true), atIdentity = prep.model.evaluate(thetaStart(prep.model.remats), true);
    assert.ok(atStart - fit.objective < 0.1, `REML criterion at the start is ${atStart - fit.objective} above the optimum`);
    assert.ok(atStart < atIdentity, `the start (${atStart}) is no better than the identity (${atIdentity})`);
    start.forEach((v, i) => assert.ok(Math.abs(v - fit.theta[i]) < 0.1, `theta[${i}]: start ${v}, optimum ${fit.theta[i]}`));
  });
}

test("moment start when the moment estimate of the variance is negative (Dyestuff2): the floor, and the fit still reaches 0", () => {
  const prep = prepareFit(loadTable("test/data/dyestuff2.csv"), "Yield ~ 1 + (1 | Batch)");
  const start = startOf(prep);
  assert.ok(start);
  assert.equal(start.length, 1);
  assert.ok(Math.abs(start[0] - 0.1) < 1e-12, `start ${start[0]} (the floor is a relative variance of 0.01)`);
  assert.equal(fitPrepared(prep, "REML").theta[0], 0);
});
