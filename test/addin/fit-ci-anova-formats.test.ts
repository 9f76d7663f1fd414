// =LMM.FIT's `ci` argument (profile-likelihood intervals of the estimates, against lme4's
// confint(method = "profile", parm = "beta_"): test/fixtures/krres.json from
// make-fixtures-krres.R), its cost check and its errors; and the number formats of =LMM.ANOVA,
// =LMM.EMMEANS and =LMM.CONTRAST on a host with data types (cells carry their format, values
// exact: the same numbers as the plain fallback).
import "./shim";
import { test } from "node:test";
import assert from "node:assert/strict";
import { expectValueError, invocation } from "./shim";
import { anova, contrast, emmeans, fit } from "../../src/functions/functions";
import type { DoubleValue, Requirements } from "../../src/functions/cell-values";
import * as NF from "../../src/functions/number-formats";
import { formatValue } from "../../src/taskpane/numfmt";
import { csvRows, readJson } from "../helpers/fixtures";

interface Fx { name: string; data: string; spec: string; method: "REML" | "ML"; intervals: { level: number; terms: string[]; lower: number[]; upper: number[] }[] }
const fx = readJson<{ fixtures: Fx[] }>("test/fixtures/krres.json").fixtures;

function near(a: unknown, b: number, what: string): void {
  const tol = Math.max(1e-4 * Math.abs(b), 1e-6);
  assert.ok(typeof a === "number" && Math.abs(a - b) <= tol, `${what}: got ${String(a)}, lme4 has ${b}`);
}

test("=LMM.FIT(data, spec, , , \"profile\"): profile-likelihood intervals of the estimates, as lme4's confint", async () => {
  for (const f of fx) {
    const iv = f.intervals.find((x) => x.level === 0.95)!;
    const t = await fit(csvRows(f.data), f.spec, f.method === "ML" ? "ML" : null, null, "profile", invocation());
    iv.terms.forEach((term, i) => {
      const row = t.find((r) => r[0] === term)!;
      near(row[6], iv.lower[i], `${f.name}: lower of ${term}`);
      near(row[7], iv.upper[i], `${f.name}: upper of ${term}`);
    });
    assert.ok(t.some((r) => r[0] === "note" && /profile likelihood/.test(String(r[1]))), `${f.name}: the note says how the intervals were made`);
  }
  // "wald" (and leaving it out) is the t interval: estimate ± t quantile × SE
  const sitka = csvRows("assets/examples/sitka.csv");
  const spec = "size ~ time*treat + (1|tree)";
  const w = await fit(sitka, spec, null, null, "wald", invocation());
  const d = await fit(sitka, spec, null, null, null, invocation());
  assert.deepEqual(w, d);
  const p = await fit(sitka, spec, null, null, "Profile", invocation());
  assert.notEqual(p[1][6], w[1][6], "the profile interval is not the t interval");
});

test("=LMM.FIT's ci: a clear #VALUE! for a bad value, a residual structure, and data too large to profile (refused before the fit)", async () => {
  const sitka = csvRows("assets/examples/sitka.csv");
  await expectValueError(fit(sitka, "size ~ time + (1|tree)", null, null, "lr", invocation()), /ci must be "wald" \(the default.*or "profile"/);
  await expectValueError(fit(sitka, "size ~ time + (1|tree) ; AR1(time | tree)", null, null, "profile", invocation()), /without a residual structure.*t intervals/);
  // 120,000 rows in 1,500 groups with a random slope: the cost model refuses the profiles, with the time they would take.
  const rows: unknown[][] = [["y", "x", "g"]];
  for (let i = 0; i < 120000; i++) rows.push([0.1 * ((i * 7919) % 101) + ((i * 104729) % 997) / 997 + (i % 13) / 13, (i * 7919) % 101, `g${i % 1500}`]);
  const t0 = Date.now();
  await expectValueError(fit(rows, "y ~ x + (x|g)", null, null, "profile", invocation()), /profile-likelihood intervals for the 2 fixed effects would take about \d+ s/);
  assert.ok(Date.now() - t0 < 20000, "refused before fitting");
});

/** A host with data types in custom functions (CustomFunctionsRuntime 1.4, ExcelApi 1.19). */
const NEW: Requirements = { isSetSupported: (name, v = "1.1") => (name === "CustomFunctionsRuntime" ? Number(v.split(".")[1]) <= 5 : name === "ExcelApi" ? Number(v.split(".")[1]) <= 19 : false) };

async function withHost<T>(req: Requirements | undefined, f: () => Promise<T>): Promise<T> {
  const g = globalThis as { Office?: unknown };
  const before = g.Office;
  g.Office = req ? { context: { requirements: req } } : undefined;
  try {
    return await f();
  } finally {
    g.Office = before;
  }
}

const isValue = (c: unknown): c is DoubleValue => typeof c === "object" && c !== null && "basicValue" in c;

/** Every number of the rich table is a Double with a format, holding the plain table's exact value; returns the formats. */
function sameValues(rich: unknown[][], plain: unknown[][]): string[][] {
  assert.equal(rich.length, plain.length);
  return rich.map((row, i) =>
    row.map((c, j) => {
      const p = plain[i][j];
      if (typeof p !== "number") {
        assert.equal(c, p);
        return "";
      }
      assert.ok(isValue(c), `row ${i} col ${j}: a formatted cell value`);
      assert.equal(c.type, "Double");
      assert.equal(c.basicValue, p, "the exact value");
      return c.numberFormat;
    }),
  );
}

test("=LMM.ANOVA's cells carry formats: Sum Sq 4 digits, NumDF whole, DenDF 0.0, F 0.00, p as R prints it", async () => {
  const oats = csvRows("test/data/oats.csv");
  const spec = "yield ~ N*Variety + (1|Block/Variety)";
  const rich = await withHost(NEW, () => anova(oats, spec, null, null, null, invocation()));
  const plain = await withHost(undefined, () => anova(oats, spec, null, null, null, invocation()));
  const f = sameValues(rich, plain);
  const shown = (i: number) => [1, 2, 3, 4, 5, 6].map((j) => formatValue((rich[i][j] as DoubleValue).basicValue, f[i][j]));
  assert.deepEqual(rich.slice(1, 4).map((r) => r[0]), ["N", "Variety", "N:Variety"]);
  assert.deepEqual(shown(1), ["20021", "6674", "3", "45.0", "37.69", "2.5E-12"]);
  assert.deepEqual(shown(2), ["526.1", "263.0", "2", "10.0", "1.49", "0.272"]);
  for (let i = 1; i <= 3; i++) {
    assert.equal(f[i][3], NF.INTEGER);
    assert.equal(f[i][4], NF.DF);
    assert.equal(f[i][5], NF.T_VALUE);
    assert.equal(f[i][6], NF.P_VALUE);
  }
  // R's floor for the tiniest p-value (time in Sitka: 1.2e-143)
  const sitka = await withHost(NEW, () => anova(csvRows("assets/examples/sitka.csv"), "size ~ time*treat + (1|tree)", null, null, null, invocation()));
  const p = sitka[1][6] as DoubleValue;
  assert.ok(p.basicValue < 1e-140);
  assert.equal(formatValue(p.basicValue, p.numberFormat), "<2e-16");
});

test("=LMM.EMMEANS and =LMM.CONTRAST cells carry formats too: means and limits to their SE's precision, df 0.0, t 0.00, p as R", async () => {
  const sitka = csvRows("assets/examples/sitka.csv");
  const spec = "size ~ time*treat + (1|tree)";
  const rich = await withHost(NEW, () => emmeans(sitka, spec, "treat", null, null, null, null, null, null, invocation()));
  const plain = await withHost(undefined, () => emmeans(sitka, spec, "treat", null, null, null, null, null, null, invocation()));
  const f = sameValues(rich, plain);
  const control = rich.findIndex((r) => r[0] === "control");
  const shown = (i: number, j: number) => formatValue((rich[i][j] as DoubleValue).basicValue, f[i][j]);
  assert.deepEqual([1, 2, 3, 4, 5].map((j) => shown(control, j)), ["4.9851", "0.1229", "77.0", "4.7405", "5.2298"]);
  const pair = rich.findIndex((r) => r[0] === "control - ozone");
  assert.deepEqual([3, 4, 5].map((j) => shown(pair, j)), ["77.0", "1.42", "0.159"]);
  const c = await withHost(NEW, () => contrast(sitka, spec, [[0, 0, 1, 0], [0, 0, 0, 1]], true, null, invocation()));
  const cp = await withHost(undefined, () => contrast(sitka, spec, [[0, 0, 1, 0], [0, 0, 0, 1]], true, null, invocation()));
  const cf = sameValues(c, cp);
  assert.equal(cf[1][3], NF.DF);
  assert.equal(cf[1][5], NF.P_VALUE);
  const joint = c.findIndex((r) => r[0] === "joint F test");
  assert.equal(cf[joint][1], NF.INTEGER);
  assert.equal(cf[joint][4], NF.P_VALUE);
});
