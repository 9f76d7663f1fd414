// Invariance of predictions and bad input. Shifting y shifts every prediction by the same amount
// and nothing else; rescaling a covariate in both the data and the new data changes nothing;
// permuting the data rows or the new rows changes nothing (but the order of the new rows).
import { test } from "node:test";
import assert from "node:assert/strict";
import { DataError, fitModel, predictModel, tableFromRows } from "../src/engine";
import type { PredictOptions } from "../src/engine/types";
import { csvRows } from "./helpers/fixtures";

const all = csvRows("assets/examples/sitka.csv");
const NEW = [["time", "tree", "treat"], [300, 1, "ozone"], [200, 80, "control"], [258, 5, "ozone"], [230, 44, "control"]];
const SPECS = ["size ~ time*treat + (1|tree)", "size ~ time*treat + (time|tree)", "size ~ time*treat + (1|tree) ; AR1(time | tree)"];
const OPTS: PredictOptions[] = [{ level: "population", interval: "prediction" }, { level: "group", interval: "prediction" }, { level: "forecast", interval: "prediction" }];

function close(a: number | null, b: number | null, tol: number, what: string): void {
  assert.ok(a !== null && b !== null && Math.abs(a - b) <= tol * Math.max(1, Math.abs(b)), `${what}: ${a} vs ${b}`);
}

for (const spec of SPECS) {
  test(`predict ${spec}: invariant to shifting y, rescaling time in both tables, permuting rows`, () => {
    const base = tableFromRows(all);
    const nd = tableFromRows(NEW);
    const shifted = tableFromRows(all.map((r, i) => (i === 0 ? r : [(r[0] as number) + 1000, ...r.slice(1)])));
    const scaledData = tableFromRows(all.map((r, i) => (i === 0 ? r : [r[0], (r[1] as number) / 7, ...r.slice(2)])));
    const scaledNew = tableFromRows(NEW.map((r, i) => (i === 0 ? r : [(r[0] as number) / 7, ...r.slice(1)])));
    const perm = [all[0], ...all.slice(1).map((r, i) => ({ r, k: (i * 7919) % 395 })).sort((a, b) => a.k - b.k).map((x) => x.r)];
    const permuted = tableFromRows(perm);
    const ndRev = tableFromRows([NEW[0], ...NEW.slice(1).reverse()]);
    for (const o of OPTS) {
      if (o.level === "forecast" && !spec.includes(";")) continue;
      const a = predictModel(base, spec, nd, o);
      const s = predictModel(shifted, spec, nd, o);
      const c = predictModel(scaledData, spec, scaledNew, o);
      const p = predictModel(permuted, spec, nd, o);
      const rv = predictModel(base, spec, ndRev, o);
      a.rows.forEach((r, i) => {
        const w = `${o.level} row ${i}`;
        close(s.rows[i].fit! - 1000, r.fit, 1e-7, `${w} shift fit`);
        close(s.rows[i].se, r.se, 1e-5, `${w} shift se`);
        close(c.rows[i].fit, r.fit, 1e-6, `${w} rescale fit`);
        close(c.rows[i].upper, r.upper, 1e-5, `${w} rescale upper`);
        close(p.rows[i].fit, r.fit, 1e-6, `${w} permute fit`);
        close(p.rows[i].se, r.se, 1e-4, `${w} permute se`);
        close(rv.rows[a.rows.length - 1 - i].fit, r.fit, 1e-12, `${w} new-row order`);
        assert.equal(c.rows[i].level, r.level);
      });
    }
  });
}

test("predict: the population SE is sqrt(x' vcov x) of the fit's own vcov", () => {
  const t = tableFromRows(all);
  const f = fitModel(t, SPECS[0], { ci: "none" });
  const pr = predictModel(t, SPECS[0], tableFromRows(NEW), { interval: "confidence" });
  NEW.slice(1).forEach((r, i) => {
    const oz = r[2] === "ozone" ? 1 : 0, time = r[0] as number;
    const x = [1, time, oz, oz * time];
    let v = 0;
    for (let a = 0; a < 4; a++) for (let b = 0; b < 4; b++) v += x[a] * f.vcov![a][b] * x[b];
    close(pr.rows[i].se, Math.sqrt(v), 1e-9, `row ${i}`);
  });
});

test("predict: bad input is a clear DataError; a missing covariate leaves one row empty with a note", () => {
  const t = tableFromRows(all);
  assert.throws(() => predictModel(t, SPECS[0], tableFromRows([["time", "tree"], [200, 1]])), (e: Error) => e instanceof DataError && /lack the column 'treat'/.test(e.message));
  assert.throws(() => predictModel(t, SPECS[0], tableFromRows([["time", "tree", "treat"], [200, 1, "sulfur"]])), /the level 'sulfur' of the fixed-effect factor 'treat'.*levels: 'control', 'ozone'/);
  assert.throws(() => predictModel(t, SPECS[0], tableFromRows([["time", "tree", "treat"], ["late", 1, "ozone"]])), /'time' is numeric in the data but the new data have text/);
  assert.throws(() => predictModel(t, SPECS[0], tableFromRows(NEW), { level: 0.9 as unknown as "group" }), /the confidence level is conf/);
  assert.throws(() => predictModel(t, SPECS[0], tableFromRows(NEW), { conf: 95 }), /write 0.95/);
  assert.throws(() => predictModel(t, SPECS[0], tableFromRows(NEW), { intervl: "none" } as unknown as PredictOptions), /did you mean 'interval'/);
  const pr = predictModel(t, SPECS[0], tableFromRows([["time", "tree", "treat"], [200, 1, "ozone"], [null, 1, "ozone"], [210, 2, "ozone"]]), { level: "group" });
  assert.equal(pr.rows[1].fit, null);
  assert.match(pr.rows[1].note!, /no value of 'time'/);
  assert.ok(pr.rows[0].fit !== null && pr.rows[2].fit !== null);
  assert.ok(pr.notes.some((n) => /row 3: row 3 has no value of 'time'/.test(n)) || pr.notes.some((n) => /no value of 'time'/.test(n)));
  // The grouping column is needed only at the group level.
  const popOnly = predictModel(t, SPECS[0], tableFromRows([["time", "treat"], [200, "ozone"]]));
  assert.ok(popOnly.rows[0].fit !== null);
  assert.throws(() => predictModel(t, SPECS[0], tableFromRows([["time", "treat"], [200, "ozone"]]), { level: "group" }), /lack the column 'tree'/);
});
