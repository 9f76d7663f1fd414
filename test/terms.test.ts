// Contrast codings (C(f, contr.sum) ...) and prior weights (; weights(w)) against R
// (test/fixtures/make-fixtures-terms.R): lme4's logLik, beta, SEs, sigma and variance components,
// lmerTest's Satterthwaite df and anova Types I and III, nlme's REML logLik with Helmert
// contrasts and with varFixed(~ 1/w). Tolerances: logLik 1e-6 relative; beta, SEs, sigma, SDs and
// df 1e-4 relative (beta: or 1e-4 of its SE); anova 1e-4 relative.
import { test } from "node:test";
import assert from "node:assert/strict";
import { anovaModel, fitModel } from "../src/engine";
import type { AnovaRow, FitResult, Method } from "../src/engine/types";
import { closeRel, loadTable, readJson } from "./helpers/fixtures";

interface FxRow { term: string; "Sum Sq": number; "Mean Sq": number; NumDF: number; DenDF: number; "F value": number; "Pr(>F)": number }
interface Fx {
  name: string; data: string; spec: string; method: Method; n: number; logLik: number; sigma: number;
  terms: string[]; beta: number[]; se: number[]; df?: number[];
  varcomp?: { group: string; var1: string | null; var2: string | null; sdcor: number }[];
  anova?: Record<"1" | "3", FxRow[]>;
  logLik_nlme?: number; logLik_dense?: number; logLik_nlme_treatment?: number; phi?: number;
}
const fixtures = readJson<{ fixtures: Fx[] }>("test/fixtures/terms.json").fixtures;

function compareCoefs(fit: FitResult, f: Fx): void {
  assert.deepEqual(fit.fixef.map((r) => r.term), f.terms, `${f.name}: coefficient names (R's model.matrix)`);
  f.terms.forEach((t, i) => {
    const r = fit.fixef[i];
    assert.ok(Math.abs(r.estimate - f.beta[i]) <= Math.max(1e-4 * Math.abs(f.beta[i]), 1e-4 * f.se[i]), `${f.name} ${t}: estimate ${r.estimate} vs ${f.beta[i]}`);
    closeRel(r.se, f.se[i], 1e-4, `${f.name} ${t}: SE`);
    if (f.df) closeRel(r.df, f.df[i], 1e-4, `${f.name} ${t}: Satterthwaite df`);
  });
}

function compareVarcomp(fit: FitResult, f: Fx): void {
  for (const v of f.varcomp ?? []) {
    if (v.group === "Residual") {
      closeRel(fit.sigma, v.sdcor, 1e-4, `${f.name}: sigma`);
      continue;
    }
    const row = fit.varcomp.find((r) => r.group === v.group && r.effect === v.var1 && r.effect2 === v.var2);
    assert.ok(row, `${f.name}: varcomp row ${v.group} ${v.var1} ${v.var2}`);
    if (v.var2 === null) closeRel(row.sd, v.sdcor, 1e-4, `${f.name}: SD ${v.group} ${v.var1}`);
    else assert.ok(Math.abs(row.corr! - v.sdcor) < 1e-4, `${f.name}: corr ${row.corr} vs ${v.sdcor}`);
  }
}

function compareAnova(rows: AnovaRow[], expected: FxRow[], what: string): void {
  assert.deepEqual(rows.map((r) => r.term), expected.map((r) => r.term), `${what}: terms`);
  expected.forEach((e, i) => {
    const r = rows[i];
    for (const k of ["Sum Sq", "Mean Sq", "F value", "DenDF"] as const) closeRel(r[k], e[k], 1e-4, `${what} ${e.term} ${k}`, 1e-8);
    assert.equal(r.NumDF, e.NumDF, `${what} ${e.term} NumDF`);
    closeRel(r["Pr(>F)"], e["Pr(>F)"], 1e-4, `${what} ${e.term} p`);
  });
}

for (const f of fixtures) {
  test(`terms: ${f.name} matches R`, () => {
    const table = loadTable(f.data);
    const fit = fitModel(table, f.spec, { method: f.method, ci: "none" });
    assert.equal(fit.n, f.n, "rows used");
    closeRel(fit.logLik, f.logLik, 1e-6, `${f.name}: logLik`);
    if (f.logLik_nlme !== undefined) closeRel(fit.logLik, f.logLik_nlme, 1e-6, `${f.name}: logLik against nlme`);
    if (f.logLik_dense !== undefined) closeRel(fit.logLik, f.logLik_dense, 1e-6, `${f.name}: logLik against the dense computation`);
    closeRel(fit.sigma, f.sigma, 1e-4, `${f.name}: sigma`);
    compareCoefs(fit, f);
    compareVarcomp(fit, f);
    if (f.phi !== undefined) closeRel(fit.residual!.params.phi as number, f.phi, 1e-4, `${f.name}: phi`);
    if (f.logLik_nlme_treatment !== undefined) {
      // The REML logLik depends on the coding (log|X'V^-1X|): treatment coding gives nlme's other value.
      const plain = fitModel(table, f.spec.replace(/C\((\w+), [\w.]+\)/g, "$1"), { method: f.method, ci: "none" });
      closeRel(plain.logLik, f.logLik_nlme_treatment, 1e-6, `${f.name}: logLik with treatment contrasts against nlme`);
    }
    if (f.anova) {
      for (const type of [1, 3] as const) {
        const a = anovaModel(table, f.spec, { type, method: f.method });
        compareAnova(a.rows, f.anova[type], `${f.name} anova type ${type}`);
      }
    }
  });
}

test("terms: Type III anova does not depend on the coding", () => {
  const table = loadTable("test/data/oats.csv");
  const specs = [
    "yield ~ N*Variety + (1|Block/Variety)",
    "yield ~ C(N, contr.poly)*C(Variety, contr.helmert) + (1|Block/Variety)",
    "yield ~ C(N, contr.sum)*C(Variety, contr.SAS) + (1|Block/Variety)",
    "yield ~ C(N, helmert)*Variety + (1|Block/Variety)",
  ];
  const tables = specs.map((s) => anovaModel(table, s, { type: 3 }).rows);
  for (const t of tables.slice(1)) {
    t.forEach((r, i) => {
      const base = tables[0][i];
      assert.equal(r.term, base.term);
      for (const k of ["F value", "DenDF", "Pr(>F)", "Sum Sq"] as const) closeRel(r[k], base[k]!, 1e-6, `${r.term} ${k}`, 1e-12);
    });
  }
  // And the fit: the same fitted values, variance components and sigma in every coding.
  const fits = specs.map((s) => fitModel(table, s, { ci: "none", fitted: true }));
  for (const f of fits.slice(1)) {
    closeRel(f.sigma, fits[0].sigma, 1e-6, "sigma");
    f.fitted!.conditional.forEach((v, i) => closeRel(v, fits[0].fitted!.conditional[i], 1e-6, `fitted ${i}`));
  }
});

test("terms: weights(w) is lme4's weights = on Sitka with ML, and a constant rescaling of w changes only sigma and the logLik", () => {
  const table = loadTable("test/data/sitka_w.csv");
  const a = fitModel(table, "size ~ time*treat + (1|tree) ; weights(w)", { method: "ML", ci: "none" });
  // w' = 4 w: sigma' = 2 sigma, the variance components relative to sigma and beta unchanged,
  // -2 logLik moves by -n log 4 (the weights' log-determinant) + 0 (the rest is the same model).
  const scaled = { nrow: table.nrow, columns: table.columns.map((c) => (c.name === "w" && c.kind === "numeric" ? { ...c, values: c.values.map((v) => 4 * v) } : c)) };
  const b = fitModel(scaled, "size ~ time*treat + (1|tree) ; weights(w)", { method: "ML", ci: "none" });
  closeRel(b.sigma, 2 * a.sigma, 1e-6, "sigma doubles");
  a.fixef.forEach((r, i) => {
    closeRel(b.fixef[i].estimate, r.estimate, 1e-6, `${r.term} estimate`, 1e-8);
    closeRel(b.fixef[i].se, r.se, 1e-6, `${r.term} SE`);
    closeRel(b.fixef[i].df, r.df!, 1e-5, `${r.term} df`);
  });
  closeRel(b.varcomp[0].sd, a.varcomp[0].sd!, 1e-6, "tree SD");
  closeRel(b.logLik, a.logLik, 1e-9, "logLik: the weights' determinant and sigma's scale cancel", 1);
});

test("terms: weights of 1 are no weights; weight 0 leaves the row out", () => {
  const table = loadTable("test/data/sitka_w.csv");
  const ones = { nrow: table.nrow, columns: table.columns.map((c) => (c.name === "w" && c.kind === "numeric" ? { ...c, values: c.values.map(() => 1) } : c)) };
  const a = fitModel(ones, "size ~ time*treat + (1|tree) ; weights(w)", { ci: "none" });
  const b = fitModel(table, "size ~ time*treat + (1|tree)", { ci: "none" });
  closeRel(a.logLik, b.logLik, 1e-9, "logLik");
  closeRel(a.sigma, b.sigma, 1e-7, "sigma");
  const zero = { nrow: table.nrow, columns: table.columns.map((c) => (c.name === "w" && c.kind === "numeric" ? { ...c, values: c.values.map((v, i) => (i === 3 ? 0 : v)) } : c)) };
  const z = fitModel(zero, "size ~ time*treat + (1|tree) ; weights(w)", { ci: "none" });
  assert.equal(z.n, table.nrow - 1);
  assert.ok(z.messages.some((m) => /weight 0/.test(m)), z.messages.join("\n"));
});

test("terms: invariance of a coded factor to row order and relabelled levels, and of weights to row order", () => {
  const table = loadTable("test/data/oats.csv");
  const perm = Array.from({ length: table.nrow }, (_, i) => (i * 37) % table.nrow);
  const permuted = {
    nrow: table.nrow,
    columns: table.columns.map((c) => (c.kind === "numeric" ? { ...c, values: Float64Array.from(perm, (i) => c.values[i]) } : { ...c, codes: Int32Array.from(perm, (i) => c.codes[i]) })),
  };
  for (const spec of ["yield ~ C(N, contr.poly) + C(Variety, contr.sum) + (1|Block/Variety)", "yield ~ C(N, contr.helmert)*Variety + (1|Block)"]) {
    const a = fitModel(table, spec, { ci: "none" });
    const b = fitModel(permuted, spec, { ci: "none" });
    closeRel(b.logLik, a.logLik, 1e-9, `${spec}: logLik`);
    a.fixef.forEach((r, i) => closeRel(b.fixef[i].estimate, r.estimate, 1e-6, `${spec} ${r.term}`, 1e-8));
  }
  // Relabelled block names (the grouping factor) change nothing; relabelling a contrast-coded
  // factor's levels in the same order changes only the names of treatment-coded columns.
  const relabel = { nrow: table.nrow, columns: table.columns.map((c) => (c.name === "Block" && c.kind === "factor" ? { ...c, levels: c.levels.map((l) => `b_${l}`) } : c)) };
  const spec = "yield ~ C(N, contr.sum) + (1|Block)";
  const a = fitModel(table, spec, { ci: "none" });
  const c = fitModel(relabel, spec, { ci: "none" });
  closeRel(c.logLik, a.logLik, 1e-12, "relabelled logLik");
  assert.deepEqual(c.fixef.map((r) => r.term), ["(Intercept)", "N1", "N2", "N3"]);
  // Weights follow their rows.
  const sw = loadTable("test/data/sleepstudy_w.csv");
  const p2 = Array.from({ length: sw.nrow }, (_, i) => (i * 7) % sw.nrow);
  const swp = { nrow: sw.nrow, columns: sw.columns.map((col) => (col.kind === "numeric" ? { ...col, values: Float64Array.from(p2, (i) => col.values[i]) } : { ...col, codes: Int32Array.from(p2, (i) => col.codes[i]) })) };
  const wa = fitModel(sw, "Reaction ~ Days + (Days|Subject) ; weights(w)", { ci: "none" });
  const wb = fitModel(swp, "Reaction ~ Days + (Days|Subject) ; weights(w)", { ci: "none" });
  closeRel(wb.logLik, wa.logLik, 1e-9, "weighted logLik, permuted rows");
});

test("terms: poly contrasts are orthonormal with R's names", () => {
  const table = loadTable("test/data/sleepstudy.csv");
  const fit = fitModel(table, "Reaction ~ C(factor(Days), contr.poly) + (1|Subject)", { ci: "none" });
  assert.deepEqual(fit.fixef.map((r) => r.term), ["(Intercept)", "factor(Days).L", "factor(Days).Q", "factor(Days).C", ...[4, 5, 6, 7, 8, 9].map((k) => `factor(Days)^${k}`)]);
  // The linear contrast is the Days slope times sqrt(sum (d - mean)^2) (orthonormal scores).
  const lin = fitModel(table, "Reaction ~ Days + (1|Subject)", { ci: "none" });
  closeRel(fit.fixef[1].estimate, lin.fixef[1].estimate * Math.sqrt(82.5), 1e-6, ".L");
});

test("terms: bad input says what to fix", () => {
  const table = loadTable("test/data/oats.csv");
  assert.throws(() => fitModel(table, "yield ~ C(N, contr.bogus) + (1|Block)"), /unknown contrasts 'contr.bogus' in C\(\): use one of contr.treatment, contr.sum/);
  assert.throws(() => fitModel(table, "yield ~ C(N) + (1|Block)"), /C\(\) needs the contrasts after a comma/);
  assert.throws(() => fitModel(table, "yield ~ C(nitro, contr.sum) + (1|Block)"), /C\(\) needs a factor, but 'nitro' is numeric: write C\(factor\(nitro\), contr.sum\)/);
  assert.throws(() => fitModel(table, "yield ~ C(N, contr.sum) + N:Variety + (1|Block)"), /'N' is used with two codings/);
  assert.throws(() => fitModel(table, "yield ~ C(log(nitro), contr.sum) + (1|Block)"), /C\(\) takes a factor column or factor\(x\)/);
  const w = loadTable("test/data/sitka_w.csv");
  const neg = { nrow: w.nrow, columns: w.columns.map((c) => (c.name === "w" && c.kind === "numeric" ? { ...c, values: c.values.map((v, i) => (i === 5 ? -1 : v)) } : c)) };
  assert.throws(() => fitModel(neg, "size ~ time + (1|tree) ; weights(w)"), /weights column 'w' has a negative weight \(row 7, -1\)/);
  assert.throws(() => fitModel(w, "size ~ time + (1|tree) ; weights(treat)"), /weights column 'treat' has text/);
  assert.throws(() => fitModel(w, "size ~ time + (1|tree) ; weights(wt)"), /unknown column 'wt'/);
  assert.throws(() => fitModel(w, "size ~ time + (1|tree) ; weights(w) ; weights(w)"), /only one weights/);
  assert.throws(() => fitModel(w, "size ~ time + (1|tree) ; weights(size)"), /is the response/);
});

test("terms: the pane's R code carries the contrasts and the weights", async () => {
  const { rCode } = await import("../src/taskpane/rcode");
  const lmer = rCode("yield ~ C(N, contr.poly)*C(factor(nitro), sum) + (1|Block) ; weights(w)", "REML");
  assert.match(lmer, /lmer\(yield ~ N\*factor\(nitro\) \+ \(1\|Block\), data = data, REML = TRUE, contrasts = list\(N = "contr.poly", `factor\(nitro\)` = "contr.sum"\), weights = w\)/);
  assert.match(lmer, /data <- data\[!\(data\$w %in% 0\), \]/);
  const gls = rCode("size ~ time*treat ; AR1(time | tree) ; weights(w)", "REML");
  assert.match(gls, /weights = varFixed\(~ 1 \/ w\)/);
});
