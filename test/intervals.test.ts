// Issue 15, "Intervals for structure parameters": nlme's intervals(gls) and intervals(lme) for
// AR1, CAR1, ARH1, UN, varIdent and varPower on Sitka, Orthodont, BodyWeight and Ovary
// (test/fixtures/make-fixtures-intervals.R: nlme's intervals() with its apVar Hessian taken by
// Richardson extrapolation, see there). The intervals are approximate (Wald on nlme's scales):
// bounds to 1e-3 relative, estimates to 1e-4 (measured: bounds agree to 5e-5, estimates to 1e-6).
import { test } from "node:test";
import assert from "node:assert/strict";
import { fitModel } from "../src/engine";
import type { FitResult, Method } from "../src/engine/types";
import { loadTable, readJson } from "./helpers/fixtures";
import { formatFit } from "../src/cli/format";
import { plain, varcompCells } from "../src/functions/format";

interface Row { name: string; lower: number; est: number; upper: number }
interface Case {
  name: string; data: string; spec: string; method: Method; logLik: number;
  sigma: { lower: number; est: number; upper: number };
  corStruct: Row[]; varStruct: Row[]; reStruct: Record<string, Row[]>;
}
const fx = readJson<{ level: number; cases: Case[] }>("test/fixtures/intervals.json");

const BOUND = 1e-3, EST = 1e-4;
function near(got: number | null | undefined, want: number, rel: number, what: string): void {
  assert.ok(typeof got === "number" && Math.abs(got - want) <= rel * Math.abs(want), `${what}: got ${got}, nlme ${want} (rel ${rel})`);
}

/** The varcomp row an nlme reStruct row names: sd(effect) or cor(a,b) of group g. */
function reRow(fit: FitResult, g: string, name: string) {
  const m = /^(sd|cor)\((.*)\)$/.exec(name)!;
  if (m[1] === "sd") return fit.varcomp.find((v) => v.group === g && v.effect === m[2] && v.effect2 === null);
  const [a, b] = m[2].split(",");
  return fit.varcomp.find((v) => v.group === g && v.effect === a && v.effect2 === b);
}

assert.ok(fx.cases.length >= 12);
for (const c of fx.cases) {
  test(`intervals ${c.name}: ${c.spec} (${c.method}) as nlme's intervals()`, () => {
    const fit = fitModel(loadTable(c.data), c.spec, { method: c.method, level: fx.level });
    assert.ok(Math.abs(fit.logLik - c.logLik) < 1e-6, `${c.name}: logLik ${fit.logLik} vs ${c.logLik}`);
    const res = fit.varcomp.find((v) => v.group === "Residual")!;
    near(res.sd, c.sigma.est, EST, "sigma");
    near(res.sd_lower, c.sigma.lower, BOUND, "sigma lower");
    near(res.sd_upper, c.sigma.upper, BOUND, "sigma upper");
    assert.equal(fit.residual?.intervals_level, fx.level);
    const params = fit.residual?.intervals ?? [];
    for (const part of ["corStruct", "varStruct"] as const) {
      assert.equal(params.filter((p) => p.part === part).length, c[part].length, `${part}: one interval per nlme row`);
      for (const row of c[part]) {
        // nlme names corARMA(p = 1, q = 0)'s coefficient "Phi"; ours keeps the ARMA name Phi1.
        const ours = /ARMA\(.*p = 1, q = 0\)/.test(c.spec) && row.name === "Phi" ? "Phi1" : row.name;
        const got = params.find((p) => p.part === part && p.name === ours);
        assert.ok(got, `${part} ${row.name}: reported`);
        near(got.estimate, row.est, EST, `${row.name} estimate`);
        near(got.lower, row.lower, BOUND, `${row.name} lower`);
        near(got.upper, row.upper, BOUND, `${row.name} upper`);
      }
    }
    for (const [g, rows] of Object.entries(c.reStruct)) {
      for (const row of rows) {
        const got = reRow(fit, g, row.name);
        assert.ok(got, `${g} ${row.name}: a varcomp row`);
        near(row.name.startsWith("sd") ? got.sd : got.corr, row.est, EST, `${g} ${row.name} estimate`);
        near(got.sd_lower, row.lower, BOUND, `${g} ${row.name} lower`);
        near(got.sd_upper, row.upper, BOUND, `${g} ${row.name} upper`);
      }
    }
    assert.ok(fit.messages.some((m) => m.includes("nlme's intervals()")), "said how they were computed");
  });
}

test("property: intervals are invariant to a shift of y and scale with y (SDs) or not at all (correlations, ratios)", () => {
  const data = loadTable("assets/examples/sitka.csv");
  const spec = "size ~ time*treat + (1|tree) ; ARH1(time | tree)";
  const a = fitModel(data, spec);
  const scaled = { ...data, columns: data.columns.map((c) => (c.name === "size" && c.kind === "numeric" ? { ...c, values: Float64Array.from(c.values, (v) => 10 * v + 3) } : c)) };
  const b = fitModel(scaled, spec);
  a.varcomp.forEach((r, i) => {
    const f = r.effect2 === null ? 10 : 1;
    near(b.varcomp[i].sd_lower, f * r.sd_lower!, 1e-5, `${r.group} lower`);
    near(b.varcomp[i].sd_upper, f * r.sd_upper!, 1e-5, `${r.group} upper`);
  });
  a.residual!.intervals!.forEach((p, i) => {
    near(b.residual!.intervals![i].lower, p.lower!, 1e-5, `${p.name} lower`);
    near(b.residual!.intervals![i].upper, p.upper!, 1e-5, `${p.name} upper`);
  });
});

test("the intervals reach lmm fit's text, its JSON keys and =LMM.VARCOMP's cells", () => {
  const data = loadTable("assets/examples/sitka.csv");
  const fit = fitModel(data, "size ~ time*treat + (1|tree) ; ARH1(time | tree)");
  const text = formatFit(fit, "sitka.csv");
  assert.match(text, /Approximate 95% intervals \(nlme's intervals\(\)\)/);
  assert.match(text, /correlation Phi\s+0\.93\d+\s+0\.96\d+\s+0\.98\d+/);
  assert.match(text, /variance 174\s/);
  // JSON: keys added beside params, never renamed.
  const json = JSON.parse(JSON.stringify(fit)) as FitResult;
  assert.ok(json.residual && "params" in json.residual && Array.isArray(json.residual.intervals) && json.residual.intervals_level === 0.95);
  assert.deepEqual(Object.keys(json.residual.intervals![0]).sort(), ["estimate", "lower", "name", "part", "upper"]);
  const cells = plain(varcompCells(fit, 0.95));
  assert.deepEqual(cells[0].slice(-1), ["estimate"]);
  const phi = cells.find((r) => r[1] === "Phi");
  assert.ok(phi && phi[0] === "ARH1 correlation", "a Phi row");
  const iv = fit.residual!.intervals!.find((p) => p.name === "Phi")!;
  assert.ok(Math.abs(Number(phi[4]) - iv.lower!) < 1e-12 && Math.abs(Number(phi[5]) - iv.upper!) < 1e-12 && Math.abs(Number(phi[phi.length - 1]) - iv.estimate) < 1e-12);
  const tree = cells.find((r) => r[0] === "tree")!;
  assert.ok(typeof tree[4] === "number" && typeof tree[5] === "number", "the tree SD has its interval");
});
