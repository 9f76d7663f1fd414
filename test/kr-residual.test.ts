// Kenward-Roger with residual structures (where R has nothing): the engine's blocked computation
// (inference/kr-clusters.ts) against a dense-V computation of pbkrtest's formulas on the same
// fit (test/helpers/dense-kr.ts), to 1e-6 relative: adjusted SEs, t-test df, the adjusted vcov,
// and Type III F tests (F with KR's scaling lambda, and their df). Plus invariance (CAR1 time
// unit, shifted y, permuted rows) and the cluster path against the dense Q x Q path.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { anovaModel, fitModel, parseCsv } from "../src/engine";
import type { DataTable } from "../src/engine/types";
import { fitPrepared, prepareFit } from "../src/engine/model/prepared";
import { krContext, krT } from "../src/engine/inference/kr";
import { termContrasts } from "../src/engine/inference/contrast";
import { ROOT } from "./helpers/fixtures";
import { denseKr } from "./helpers/dense-kr";

const TOL = 1e-6;

function rel(a: number | null | undefined, b: number, what: string, tol = TOL): void {
  assert.ok(a !== null && a !== undefined && Number.isFinite(a), `${what}: got ${a}`);
  const d = Math.abs(a - b) / Math.max(Math.abs(b), 1e-12);
  assert.ok(d <= tol, `${what}: engine ${a}, dense ${b} (relative difference ${d.toExponential(2)} > ${tol})`);
}

/** A CSV's header and the rows of every `k`-th distinct value of its `key` column (first seen order). */
function subsetCsv(rel: string, key: string, k: number, edit?: (cells: string[], header: string[]) => string[]): DataTable {
  const lines = fs.readFileSync(path.join(ROOT, rel), "utf8").trim().split(/\r?\n/);
  const header = lines[0].split(",").map((h) => h.replace(/"/g, ""));
  const ki = header.indexOf(key);
  const order = new Map<string, number>();
  const out = [lines[0]];
  for (const l of lines.slice(1)) {
    const cells = l.split(",");
    const v = cells[ki];
    if (!order.has(v)) order.set(v, order.size);
    if (order.get(v)! % k !== 0) continue;
    out.push((edit ? edit(cells, header) : cells).join(","));
  }
  return parseCsv(out.join("\n") + "\n");
}

const sitka = subsetCsv("assets/examples/sitka.csv", "tree", 3);
const sleep = subsetCsv("test/data/sleepstudy.csv", "Subject", 2);
const crossed = parseCsv(fs.readFileSync(path.join(ROOT, "test/data/crossed_ar1.csv"), "utf8"));

/** Compare fitModel(ddf kr) and anova(ddf kr) with the dense reference. */
function checkAgainstDense(table: DataTable, spec: string): void {
  const ref = denseKr(table, spec);
  const fit = fitModel(table, spec, { ddf: "kr", ci: "none" });
  assert.equal(fit.ddf, "Kenward-Roger");
  fit.fixef.forEach((r, i) => {
    const d = ref.t(i);
    rel(r.se, d.se, `${spec}: KR SE of ${r.term}`);
    rel(r.df, d.df, `${spec}: KR df of ${r.term}`);
  });
  // The fit's vcov is the adjusted one.
  const p = fit.fixef.length;
  for (let a = 0; a < p; a++) for (let b = 0; b < p; b++) {
    const scale = Math.sqrt(ref.PhiA[a][a] * ref.PhiA[b][b]);
    assert.ok(Math.abs(fit.vcov![a][b] - ref.PhiA[a][b]) <= TOL * scale, `${spec}: vcov[${a}][${b}] ${fit.vcov![a][b]} vs dense ${ref.PhiA[a][b]}`);
  }
  const an = anovaModel(table, spec, { type: 3, ddf: "kr" });
  const prep = prepareFit(table, spec);
  const cons = termContrasts(prep.design, 3, []);
  an.rows.forEach((row, i) => {
    const c = cons[i];
    const L = Array.from({ length: c.rows }, (_, r) => Array.from(c.L.subarray(r * p, r * p + p)));
    const d = ref.F(L);
    rel(row["F value"], d.F, `${spec}: KR F of ${row.term}`);
    rel(row.DenDF, d.df, `${spec}: KR DenDF of ${row.term}`);
  });
}

const CASES: [string, DataTable, string][] = [
  ["AR1 + random intercept", sitka, "size ~ time*treat + (1|tree) ; AR1(time | tree)"],
  ["AR1 GLS", sitka, "size ~ time*treat ; AR1(time | tree)"],
  ["CAR1 GLS", sitka, "size ~ time*treat ; CAR1(time | tree)"],
  ["CAR1 + random intercept", sitka, "size ~ time + treat + (1|tree) ; CAR1(time | tree)"],
  ["ARH1 GLS", sitka, "size ~ time*treat ; ARH1(time | tree)"],
  ["UN GLS", sitka, "size ~ time*treat ; UN(time | tree)"],
  ["CS GLS", sitka, "size ~ time*treat ; CS(1 | tree)"],
  ["varIdent + random intercept", sitka, "size ~ time*treat + (1|tree) ; varIdent(treat)"],
  ["AR1 + varIdent GLS", sitka, "size ~ time*treat ; AR1(time | tree) ; varIdent(treat)"],
  ["random slope + AR1", sleep, "Reaction ~ Days + (Days|Subject) ; AR1(Days | Subject)"],
  ["random slope, no residual structure", sleep, "Reaction ~ Days + (Days|Subject)"],
  ["varIdent GLS (diagonal R)", sitka, "size ~ time*treat ; varIdent(treat)"],
  ["crossed random intercepts + AR1 (one linked block)", crossed, "y ~ x + (1|subject) + (1|item) ; AR1(t | subject)"],
  ["crossed random intercepts, no residual structure", crossed, "y ~ x + (1|subject) + (1|item)"],
  // The generic path (model/residual-blocks.ts genericBlocks: derivatives of the structure's own maps).
  ["TOEP GLS", sitka, "size ~ time*treat ; TOEP(time | tree)"],
  ["TOEP(bands = 2) + random intercept", sitka, "size ~ time*treat + (1|tree) ; TOEP(time | tree, bands = 2)"],
  ["CSH GLS", sitka, "size ~ time*treat ; CSH(time | tree)"],
  // (Not with a nugget: on Sitka it sits at its bound 0, where KR depends on the parameterization.)
  ["EXP + random intercept", sitka, "size ~ time*treat + (1|tree) ; EXP(time | tree)"],
  ["ARMA(1,1) GLS", sitka, "size ~ time*treat ; ARMA(time | tree, p = 1, q = 1)"],
  ["AR1 + varPower(time) GLS", sitka, "size ~ time*treat ; AR1(time | tree) ; varPower(time)"],
  ["varPower(time) + random intercept", sitka, "size ~ time + treat + (1|tree) ; varPower(time)"],
  // A random term with a covariance structure (model/re-cov/, inference/kr-structured.ts).
  ["random intercept + ar1 over the days", sleep, "Reaction ~ Days + (1|Subject) + ar1(0 + factor(Days) | Subject)"],
];

for (const [name, table, spec] of CASES) {
  test(`Kenward-Roger equals the dense-V computation to 1e-6: ${name}`, () => checkAgainstDense(table, spec));
}

test("Kenward-Roger: the cluster sums equal the dense Q x Q path where both apply (no residual structure)", () => {
  for (const [table, spec] of [[sleep, "Reaction ~ Days + (Days|Subject)"], [sitka, "size ~ time*treat + (1|tree)"]] as const) {
    const fit = fitPrepared(prepareFit(table, spec), "REML");
    const a = krContext(fit, "clusters"), b = krContext(fit, "dense");
    const p = a.p;
    for (let i = 0; i < p; i++) {
      const l = new Float64Array(p);
      l[i] = 1;
      const ta = krT(a, l), tb = krT(b, l);
      rel(ta.se, tb.se, `${spec}: SE ${i}`, 1e-8);
      rel(ta.df, tb.df, `${spec}: df ${i}`, 1e-8);
    }
  }
});

function krRows(table: DataTable, spec: string) {
  return fitModel(table, spec, { ddf: "kr", ci: "none" }).fixef;
}

test("Kenward-Roger with CAR1: a change of time unit changes only the time coefficients (by the factor)", () => {
  const spec = "size ~ time + treat + (1|tree) ; CAR1(time | tree)";
  const a = krRows(sitka, spec);
  const scaled = subsetCsv("assets/examples/sitka.csv", "tree", 3, (c, h) => c.map((v, j) => (h[j] === "time" ? String(Number(v) / 100) : v)));
  const b = krRows(scaled, spec);
  a.forEach((r, i) => {
    const f = r.term === "time" ? 100 : 1;
    rel(b[i].se, r.se * f, `SE of ${r.term}`, 1e-5);
    rel(b[i].df, r.df!, `df of ${r.term}`, 1e-5);
  });
});

test("Kenward-Roger with residual structures: shifting y and permuting rows change nothing", () => {
  for (const spec of ["size ~ time*treat + (1|tree) ; AR1(time | tree)", "size ~ time*treat ; UN(time | tree)"]) {
    const a = krRows(sitka, spec);
    const shifted = subsetCsv("assets/examples/sitka.csv", "tree", 3, (c, h) => c.map((v, j) => (h[j] === "size" ? String(Number(v) + 1000) : v)));
    const b = krRows(shifted, spec);
    a.forEach((r, i) => {
      rel(b[i].se, r.se, `${spec} shifted: SE of ${r.term}`, 1e-5);
      rel(b[i].df, r.df!, `${spec} shifted: df of ${r.term}`, 1e-5);
    });
    const lines = fs.readFileSync(path.join(ROOT, "assets/examples/sitka.csv"), "utf8").trim().split(/\r?\n/);
    const body = lines.slice(1).filter((l) => (Number(l.split(",")[2]) - 1) % 3 === 0);
    // A fixed permutation (reverse, then interleave halves).
    const rev = body.reverse();
    const perm = rev.map((_, i) => rev[(i * 7) % rev.length]);
    assert.equal(new Set(perm).size, rev.length);
    const c = krRows(parseCsv([lines[0], ...perm].join("\n") + "\n"), spec);
    a.forEach((r, i) => {
      rel(c[i].se, r.se, `${spec} permuted: SE of ${r.term}`, 1e-5);
      rel(c[i].df, r.df!, `${spec} permuted: df of ${r.term}`, 1e-5);
    });
  }
});

test("Kenward-Roger with random-effect structures equals that of the same covariance written without them", () => {
  const machines = parseCsv(fs.readFileSync(path.join(ROOT, "test/data/machines.csv"), "utf8"));
  const full = parseCsv(fs.readFileSync(path.join(ROOT, "test/data/sleepstudy.csv"), "utf8"));
  for (const [table, a, b] of [
    [machines, "score ~ Machine + homcs(0 + Machine | Worker)", "score ~ Machine + (1|Worker) + (1|Worker:Machine)"],
    [full, "Reaction ~ Days + diag(1 + Days | Subject)", "Reaction ~ Days + (1 + Days || Subject)"],
  ] as const) {
    const x = krRows(table, a), y = krRows(table, b);
    x.forEach((r, i) => {
      rel(r.se, y[i].se, `${a}: KR SE of ${r.term}`, 1e-6);
      rel(r.df, y[i].df!, `${a}: KR df of ${r.term}`, 1e-6);
    });
  }
});

test("Kenward-Roger is refused with a message where it is undefined", () => {
  assert.throws(() => fitModel(sitka, "size ~ time + (1|tree) ; AR1(time | tree)", { ddf: "kr", method: "ML", ci: "none" }), /Kenward-Roger df need a REML fit.*use method REML/);
  // ar1 over every occasion on Sitka: sigma is estimated at its bound 0 (the residual AR1 model).
  assert.throws(() => fitModel(sitka, "size ~ time*treat + ar1(0 + factor(time) | tree)", { ddf: "kr", ci: "none" }), /Kenward-Roger is not defined here: the residual SD is estimated as \(nearly\) 0/);
  // CS and a random intercept on the same trees: the same covariance twice.
  assert.throws(() => fitModel(sitka, "size ~ time*treat + (1|tree) ; CS(1 | tree)", { ddf: "kr", ci: "none" }), /not identifiable from each other.*use ddf satterthwaite/);
});
