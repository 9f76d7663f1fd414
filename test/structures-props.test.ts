// Properties of issue 15's residual structures: invariance (time rescaled for the continuous
// structures, y shifted, rows permuted), the lecture's ladder inside `lmm structures`, and the
// clear errors for structures the data cannot carry.
import { test } from "node:test";
import assert from "node:assert/strict";
import { compareStructures, fitModel } from "../src/engine";
import type { DataTable } from "../src/engine/types";
import { closeAbs, closeRel, loadTable } from "./helpers/fixtures";

const sitka = loadTable("assets/examples/sitka.csv");

function mapColumn(t: DataTable, name: string, f: (v: number) => number): DataTable {
  return { ...t, columns: t.columns.map((c) => (c.name === name && c.kind === "numeric" ? { ...c, values: c.values.map(f) } : c)) };
}
function permuteRows(t: DataTable, seed: number): DataTable {
  const n = t.nrow;
  const perm = Array.from({ length: n }, (_, i) => i);
  let s = seed;
  for (let i = n - 1; i > 0; i--) {
    s = (s * 1103515245 + 12345) % 2147483648;
    const j = s % (i + 1);
    [perm[i], perm[j]] = [perm[j], perm[i]];
  }
  return { ...t, columns: t.columns.map((c) => (c.kind === "numeric" ? { ...c, values: Float64Array.from(perm, (i) => c.values[i]) } : { ...c, codes: Int32Array.from(perm, (i) => c.codes[i]) })) };
}

const specs = [
  "size ~ time*treat ; CSH(time | tree)",
  "size ~ time*treat ; TOEP(time | tree)",
  "size ~ time*treat ; ARMA(time | tree, p = 1, q = 1)",
  "size ~ time*treat ; EXP(time | tree, nugget)",
  "size ~ time*treat ; SPHER(time | tree)",
  "size ~ time*treat ; AR1(time | tree) ; varIdent(treat) * varExp(time)",
];

test("shifting y and permuting rows change nothing but the intercept", () => {
  for (const spec of specs) {
    const a = fitModel(sitka, spec, { ci: "none" });
    const b = fitModel(permuteRows(mapColumn(sitka, "size", (v) => v + 10), 7), spec, { ci: "none" });
    closeRel(b.logLik, a.logLik, 1e-7, `${spec}: logLik`);
    for (const k of Object.keys(a.residual!.params)) {
      const x = a.residual!.params[k], y = b.residual!.params[k];
      if (typeof x === "number") closeAbs(y as number, x, 1e-4 * Math.max(1, Math.abs(x)), `${spec}: ${k}`);
    }
    a.fixef.slice(1).forEach((r, i) => closeAbs(b.fixef[i + 1].estimate, r.estimate, 1e-4 * r.se, `${spec}: ${r.term}`));
    closeAbs(b.fixef[0].estimate, a.fixef[0].estimate + 10, 1e-4 * a.fixef[0].se, `${spec}: intercept`);
  }
});

test("continuous structures: time in other units rescales the range, nothing else", () => {
  // size ~ treat (no time in the mean, so the fixed effects keep their meaning)
  for (const type of ["EXP", "GAUS", "SPHER", "LIN", "RATIO"]) {
    const spec = `size ~ treat ; ${type}(time | tree)`;
    const a = fitModel(sitka, spec, { ci: "none" });
    const b = fitModel(mapColumn(sitka, "time", (v) => v / 7), spec, { ci: "none" });
    closeRel(b.logLik, a.logLik, 1e-7, `${type}: logLik`);
    closeRel(b.residual!.params.range as number, (a.residual!.params.range as number) / 7, 1e-4, `${type}: range in weeks`);
  }
});

test("lmm structures on Sitka: the lecture's ladder inside the ranked table", () => {
  const res = compareStructures(sitka, "size ~ time*treat ; AR1(time | tree)", { candidates: ["independence", "CS", "AR1", "ARH1", "CSH", "TOEP", "UN"] });
  const ll = (s: string) => res.rows.find((r) => r.structure === s)!.logLik;
  [["independence", -394.2299], ["AR1", -34.9311], ["ARH1", -15.7839], ["UN", 21.5648]].forEach(([s, v]) => closeAbs(ll(s as string), v as number, 5e-5, `${s} logLik (printed to 4 decimals)`));
  for (let i = 1; i < res.rows.length; i++) assert.ok(res.rows[i].AIC >= res.rows[i - 1].AIC, "ranked by AIC");
  const arh1 = res.rows.find((r) => r.structure === "ARH1")!;
  assert.equal(arh1.Test, "AR1 vs ARH1");
  closeAbs(arh1["L.Ratio"]!, 2 * (ll("ARH1") - ll("AR1")), 1e-9, "L.Ratio");
  assert.equal(arh1.df, 10);
  assert.equal(res.rows.find((r) => r.structure === "independence")!.Test, "");
});

test("bad input gets a clear error", () => {
  const err = (spec: string, re: RegExp, data: DataTable = sitka) => assert.throws(() => fitModel(data, spec, { ci: "none" }), re, spec);
  err("size ~ time ; ARMA(time | tree, p = 5)", /ARMA\(5, 0\) has an order larger than the series: 'time' has 5 occasions, so p and q can be at most 4/);
  err("size ~ time ; ARMA(time | tree)", /ARMA needs its orders/);
  err("size ~ time ; EXP(treat | tree)", /column 'treat' of a spatial structure EXP has text; it must be numeric/);
  err("size ~ time ; TOEP(time | tree, bands = 1)", /TOEP\(1\) has no correlation/);
  err("size ~ time ; TOEP(time | tree, nugget)", /TOEP has the options bands/);
  err("size ~ time ; varFixed(fitted)", /varFixed\(fitted\): a known variance cannot depend on the fit/);
  err("size ~ time ; varFixed(size)", /varFixed\(size\) needs positive values/, mapColumn(sitka, "size", (v) => v - 5));
  err("size ~ time ; varPower(time)", /varPower\(time\) needs nonzero values/, mapColumn(sitka, "time", (v) => v - 152));
  err("size ~ time ; AR1(time | tree) ; varPower(time) * banana(x)", /expected a variance function/);
});

test("lmm structures --json rows, its text table, and LMM.STRUCTURES's cells", async () => {
  const { splitCandidates, formatStructures } = await import("../src/cli/structures");
  const { structuresCells, candidatesArg } = await import("../src/functions/structures-format");
  assert.deepEqual(splitCandidates("CS, AR1,TOEP(bands = 2), EXP(nugget)"), ["CS", "AR1", "TOEP(bands = 2)", "EXP(nugget)"]);
  assert.deepEqual(candidatesArg("AR1, ARMA(p = 1, q = 1)"), ["AR1", "ARMA(p = 1, q = 1)"]);
  assert.equal(candidatesArg(null), null);
  const res = compareStructures(sitka, "size ~ time*treat + (1|tree) ; AR1(time | tree)", { candidates: ["independence", "AR1", "TOEP(bands = 2)", "UN"] });
  for (const r of res.rows) for (const k of ["structure", "spec", "df", "AIC", "BIC", "logLik", "Test", "L.Ratio", "p"]) assert.ok(k in r, `row key ${k}`);
  assert.ok(res.rows.some((r) => r.structure === "TOEP(bands = 2)" && r.spec.includes("TOEP(time | tree, bands = 2)")));
  const text = formatStructures(res);
  assert.match(text, /^Residual structures by REML, ranked by AIC/);
  const cells = structuresCells(res);
  assert.deepEqual(cells[0].slice(0, 8), ["Structure", "df", "AIC", "BIC", "logLik", "Test", "L.Ratio", "p-value"]);
  assert.equal(cells[1][0], res.rows[0].structure);
});
