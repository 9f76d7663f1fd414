// Crossed random effects with a residual structure (no R package fits these): the engine's
// criterion against an independent dense computation, V = Z Lambda Lambda' Z' + R (relative to
// sigma^2, which is profiled out), on small simulated data at several parameter values; its
// optimum (the dense criterion's gradient there); and the crossed path against the ordinary one
// on a factor that is constant within the residual groups; and nlme where it can fit the model
// (test/fixtures/crossed.json).
import { test } from "node:test";
import assert from "node:assert/strict";
import { fitModel, tableFromRows } from "../src/engine";
import type { DataTable } from "../src/engine/types";
import { PreparedModel, Whitening, prepareFit } from "../src/engine/model/prepared";
import { fixedBasis } from "../src/engine/model/fixed-basis";
import { buildDesign } from "../src/engine/model/design";
import { buildReMats } from "../src/engine/model/remat";
import { BlockedModel } from "../src/engine/model/blocked";
import { buildResidual } from "../src/engine/model/residual";
import { parseSpec } from "../src/engine/formula/parse";
import { closeAbs, closeRel, loadTable, readJson } from "./helpers/fixtures";

/** Deterministic pseudo-random numbers (LCG) and normals (Box-Muller). */
function rng(seed: number): { unif: () => number; norm: () => number } {
  let s = seed >>> 0;
  const unif = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s + 0.5) / 4294967296;
  };
  return { unif, norm: () => Math.sqrt(-2 * Math.log(unif())) * Math.cos(2 * Math.PI * unif()) };
}

/**
 * Subjects see items over time (each subject a random subset of the items, in random order, at
 * times 1..T with gaps): item varies within subject. A site factor holds whole subjects.
 */
function simulate(nSubj: number, nItem: number, T: number, seed: number): DataTable {
  const r = rng(seed);
  const rows: unknown[][] = [["y", "x", "time", "subject", "item", "site", "g"]];
  const bItem = Array.from({ length: nItem }, () => 0.8 * r.norm());
  for (let s = 0; s < nSubj; s++) {
    const b = r.norm();
    let e = r.norm();
    for (let t = 1; t <= T; t++) {
      e = 0.6 * e + 0.8 * r.norm();
      if (r.unif() < 0.25) continue;
      const item = Math.floor(r.unif() * nItem);
      const x = r.norm();
      rows.push([1 + 0.5 * x + b + bItem[item] + e, x, t, `s${s}`, `i${item}`, `site${s % 3}`, s % 2 === 0 ? "a" : "b"]);
    }
  }
  return tableFromRows(rows);
}

// ---- the dense reference, written plainly --------------------------------------------------

type Mat = number[][];
const zeros = (a: number, b: number): Mat => Array.from({ length: a }, () => new Array<number>(b).fill(0));
function chol(A: Mat): Mat | null {
  const n = A.length, L = zeros(n, n);
  for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) {
    let s = A[i][j];
    for (let k = 0; k < j; k++) s -= L[i][k] * L[j][k];
    if (i === j) {
      if (!(s > 0)) return null;
      L[i][i] = Math.sqrt(s);
    } else L[i][j] = s / L[j][j];
  }
  return L;
}
/** Solve (L L') X = B for the columns of B. */
function cholSolve(L: Mat, B: Mat): Mat {
  const n = L.length, m = B[0].length, X = B.map((r) => r.slice());
  for (let c = 0; c < m; c++) {
    for (let i = 0; i < n; i++) {
      let s = X[i][c];
      for (let k = 0; k < i; k++) s -= L[i][k] * X[k][c];
      X[i][c] = s / L[i][i];
    }
    for (let i = n - 1; i >= 0; i--) {
      let s = X[i][c];
      for (let k = i + 1; k < n; k++) s -= L[k][i] * X[k][c];
      X[i][c] = s / L[i][i];
    }
  }
  return X;
}
const logdet = (L: Mat) => 2 * L.reduce((s, r, i) => s + Math.log(r[i]), 0);

interface DenseParts {
  X: Mat;
  y: number[];
  /** Random-effect indicator columns per term name. */
  Z: Record<string, Mat>;
  group: string[];
  time: number[];
  strat: number[];
}

function denseParts(table: DataTable, spec: string, resGroup: string): DenseParts {
  const design = buildDesign(table, parseSpec(spec));
  const n = design.n, p = design.p;
  const X = Array.from({ length: n }, (_, i) => Array.from(design.X.subarray(i * p, i * p + p)));
  const Z: Record<string, Mat> = {};
  for (const t of design.reTerms) {
    const M = zeros(n, t.levels.length);
    for (let i = 0; i < n; i++) M[i][t.refs[i]] = t.z[i];
    Z[t.group] = M;
  }
  const col = (name: string) => table.columns.find((c) => c.name === name)!;
  const gc = col(resGroup), tc = col("time"), sc = col("g");
  const label = (c: DataTable["columns"][number], r: number) => (c.kind === "numeric" ? String(c.values[r]) : c.levels[c.codes[r]]);
  const rows = Array.from(design.rows);
  return {
    X, y: Array.from(design.y), Z,
    group: rows.map((r) => label(gc, r)),
    time: rows.map((r) => (tc.kind === "numeric" ? tc.values[r] : NaN)),
    strat: rows.map((r) => (label(sc, r) === "a" ? 0 : 1)),
  };
}

interface ResPar { type: "AR1" | "CS" | "CAR1" | "UN"; phi: number; ratio: number; un?: Mat }

/** R (relative to sigma^2) for one pair of rows of the same group. */
function rEntry(d: DenseParts, rp: ResPar, times: number[], i: number, j: number): number {
  const si = d.strat[i] ? rp.ratio : 1, sj = d.strat[j] ? rp.ratio : 1;
  let c: number;
  if (rp.type === "UN") c = rp.un![times.indexOf(d.time[i])][times.indexOf(d.time[j])];
  else if (i === j) c = 1;
  else if (rp.type === "CS") c = rp.phi;
  else if (rp.type === "CAR1") c = Math.pow(rp.phi, Math.abs(d.time[i] - d.time[j]));
  else c = Math.pow(rp.phi, Math.abs(times.indexOf(d.time[i]) - times.indexOf(d.time[j])));
  return si * sj * c;
}

/** -2 log-likelihood (ML) or the REML criterion, sigma profiled, from V directly. */
function denseCriterion(d: DenseParts, sds: Record<string, number>, rp: ResPar, reml: boolean): number {
  const n = d.y.length, p = d.X[0].length;
  const times = Array.from(new Set(d.time)).sort((a, b) => a - b);
  const V = zeros(n, n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
    let v = d.group[i] === d.group[j] ? rEntry(d, rp, times, i, j) : 0;
    for (const [g, Zg] of Object.entries(d.Z)) for (let c = 0; c < Zg[0].length; c++) v += sds[g] * sds[g] * Zg[i][c] * Zg[j][c];
    V[i][j] = v;
  }
  const L = chol(V)!;
  const ViX = cholSolve(L, d.X), Viy = cholSolve(L, d.y.map((v) => [v]));
  const XtViX = zeros(p, p), XtViy = zeros(p, 1);
  for (let a = 0; a < p; a++) {
    for (let b = 0; b < p; b++) for (let i = 0; i < n; i++) XtViX[a][b] += d.X[i][a] * ViX[i][b];
    for (let i = 0; i < n; i++) XtViy[a][0] += d.X[i][a] * Viy[i][0];
  }
  const LX = chol(XtViX)!;
  const beta = cholSolve(LX, XtViy).map((r) => r[0]);
  const e = d.y.map((v, i) => v - d.X[i].reduce((s, x, a) => s + x * beta[a], 0));
  const Vie = cholSolve(L, e.map((v) => [v]));
  const r2 = e.reduce((s, v, i) => s + v * Vie[i][0], 0);
  const dof = reml ? n - p : n;
  return logdet(L) + (reml ? logdet(LX) : 0) + dof * (1 + Math.log((2 * Math.PI * r2) / dof));
}

// ---- the engine at given parameter values --------------------------------------------------

/** The engine's criterion for lme4-scale SDs (intercept-only terms: theta = SD ratio) and eta. */
function engineCriterion(prep: PreparedModel, sds: Record<string, number>, eta: number[], reml: boolean): number {
  const logdet = prep.residual!.apply(Float64Array.from(eta));
  const theta = prep.model.remats.map((r) => sds[r.group]);
  return prep.model.evaluate(theta, reml) + logdet;
}

/** Unconstrained eta for a correlation (and the varIdent ratio of stratum "b"). */
function etaOf(rp: ResPar, withRatio: boolean, maxSize: number, timeScale = 1): number[] {
  let e: number[];
  if (rp.type === "CS") {
    const inf = -1 / (maxSize - 1);
    e = [Math.log((rp.phi - inf) / (1 - rp.phi))];
  } else if (rp.type === "CAR1") {
    // CAR1's parameter is the correlation at the mean gap between times (residual.ts).
    const atGap = Math.pow(rp.phi, timeScale);
    e = [Math.log(atGap / (1 - atGap))];
  }
  else e = [2 * Math.atanh(rp.phi)];
  return withRatio ? [...e, Math.log(rp.ratio)] : e;
}

const table = simulate(9, 6, 8, 7);

test("crossed + residual structure: the criterion equals the dense V computation", () => {
  const cases: { type: "AR1" | "CS" | "CAR1"; varIdent: boolean }[] = [
    { type: "AR1", varIdent: false }, { type: "AR1", varIdent: true }, { type: "CS", varIdent: false },
    { type: "CS", varIdent: true }, { type: "CAR1", varIdent: false },
  ];
  for (const c of cases) {
    const spec = `y ~ x + (1|subject) + (1|item) ; ${c.type}(${c.type === "CS" ? "1" : "time"} | subject)${c.varIdent ? " ; varIdent(g)" : ""}`;
    const prep = prepareFit(table, spec);
    assert.ok(prep.model.m < prep.model.k, "item is in the dense block");
    const d = denseParts(table, spec, "subject");
    const maxSize = prep.residual!.res.layout.maxSize;
    for (const [sSubj, sItem, phi, ratio] of [[0.7, 0.4, 0.5, 1.3], [1.5, 0.9, -0.1, 0.7], [0.2, 2, 0.85, 1], [0, 0.5, 0.2, 1.1]]) {
      if (c.type === "CAR1" && phi < 0) continue;
      const rp: ResPar = { type: c.type, phi, ratio: c.varIdent ? ratio : 1 };
      const sds = { subject: sSubj, item: sItem };
      for (const reml of [true, false]) {
        const ours = engineCriterion(prep, sds, etaOf(rp, c.varIdent, maxSize, prep.residual!.res.layout.timeScale), reml);
        const dense = denseCriterion(d, sds, rp, reml);
        assert.ok(Math.abs(ours - dense) < 1e-8 * Math.max(1, Math.abs(dense)), `${spec} ${reml ? "REML" : "ML"} at ${[sSubj, sItem, phi, ratio]}: ${ours} vs dense ${dense}`);
      }
    }
  }
});

test("crossed + UN: the criterion equals the dense V computation", () => {
  const small = simulate(12, 4, 3, 11);
  const spec = "y ~ x + (1|item) ; UN(time | subject)";
  const prep = prepareFit(small, spec);
  assert.equal(prep.model.m, 0, "item varies within subject: no chain, item in the dense block");
  const d = denseParts(small, spec, "subject");
  const eta = [0.3, -0.4, 0.8, 0.2, -0.1];
  const res = prep.residual!.res;
  const C = res.corr(Float64Array.from(eta)).corr!;
  const un = [0, 1, 2].map((a) => [0, 1, 2].map((b) => C[a * 3 + b]));
  // Per-occasion SD ratios enter through the whitening; the dense side multiplies them in here.
  const sdr = [1, Math.exp(eta[3]), Math.exp(eta[4])];
  const unS = un.map((r, a) => r.map((v, b) => v * sdr[a] * sdr[b]));
  for (const reml of [true, false]) {
    const ours = engineCriterion(prep, { item: 0.6 }, eta, reml);
    const dense = denseCriterion(d, { item: 0.6 }, { type: "UN", phi: 0, ratio: 1, un: unS }, reml);
    assert.ok(Math.abs(ours - dense) < 1e-8 * Math.abs(dense), `UN ${reml}: ${ours} vs dense ${dense}`);
  }
});

test("crossed + AR1: the fit is a stationary point of the dense criterion", () => {
  const spec = "y ~ x + (1|subject) + (1|item) ; AR1(time | subject)";
  for (const method of ["REML", "ML"] as const) {
    const fit = fitModel(table, spec, { method, ci: "none" });
    const sd = (g: string) => fit.varcomp.find((v) => v.group === g)!.sd! / fit.sigma;
    const x = [sd("subject"), sd("item"), fit.residual!.params.phi as number];
    const d = denseParts(table, spec, "subject");
    const f = (v: number[]) => denseCriterion(d, { subject: v[0], item: v[1] }, { type: "AR1", phi: v[2], ratio: 1 }, method === "REML");
    assert.ok(Math.abs(f(x) + 2 * fit.logLik) < 1e-6, `logLik ${fit.logLik} vs dense ${-f(x) / 2}`);
    const h = 1e-5;
    for (let i = 0; i < 3; i++) {
      const up = x.slice(), dn = x.slice();
      up[i] += h;
      dn[i] -= h;
      const g = (f(up) - f(dn)) / (2 * h);
      assert.ok(Math.abs(g) < 2e-3, `${method}: dense gradient ${g} in parameter ${i} at the fit ${x}`);
    }
  }
});

test("crossed path equals the ordinary path for a factor constant within the residual groups", () => {
  // site holds whole subjects: the ordinary path keeps it in the nesting chain; forced into the
  // dense block, the per-group path must give the same criterion.
  for (const structure of ["AR1(time | subject)", "CS(1 | subject)", "CAR1(time | subject) ; varIdent(g)"]) {
    const spec = `y ~ x + (1|subject) + (1|site) ; ${structure}`;
    const ordinary = prepareFit(table, spec);
    assert.equal(ordinary.model.m, 2, "site is nested: both terms in the chain");
    const design = buildDesign(table, parseSpec(spec));
    const res = buildResidual(table, parseSpec(spec), design)!;
    const remats = buildReMats(design.reTerms, design.n, design.reTerms.map((t) => t.group === "site"));
    const basis = fixedBasis(design.X, design.y, design.n, design.p);
    const model = new BlockedModel(remats, basis.X, basis.y, design.p, 1);
    model.fixedMap = basis.map;
    const forced: PreparedModel = { spec: ordinary.spec, design, model, residual: new Whitening(res, basis, model, true), basis };
    for (const [a, b, e0] of [[0.5, 0.3, 0.4], [1.2, 0.8, -0.7], [0.1, 1.5, 1.5]]) {
      const eta = res.nPar === 2 ? [e0, 0.2] : [e0];
      for (const reml of [true, false]) {
        const want = engineCriterion(ordinary, { subject: a, site: b }, eta, reml);
        const got = engineCriterion(forced, { subject: a, site: b }, eta, reml);
        assert.ok(Math.abs(got - want) < 1e-9 * Math.abs(want), `${structure}: crossed path ${got} vs ordinary ${want}`);
      }
    }
  }
});

interface CrossedFx {
  name: string; data: string; spec: string; method: "REML" | "ML"; source: string; n: number;
  logLik: number; df: number; sigma: number; fixef: { term: string; estimate: number; se: number }[];
  variance: { subject: number; item: number }; phi: number;
}

// nlme can fit crossed effects with AR1 residuals when the residual group is the whole data
// (pdBlocked on one dummy group): both factors then vary within the one residual group.
for (const fx of readJson<CrossedFx[]>("test/fixtures/crossed.json")) {
  test(`${fx.name}: ${fx.spec} (${fx.method}) matches ${fx.source}`, () => {
    const fit = fitModel(loadTable(fx.data), fx.spec, { method: fx.method, ci: "none" });
    assert.equal(fit.n, fx.n);
    closeAbs(fit.logLik, fx.logLik, 1e-4, "logLik");
    assert.equal(fit.df, fx.df, "df");
    closeRel(fit.sigma, fx.sigma, 1e-4, "sigma");
    for (const r of fx.fixef) {
      const ours = fit.fixef.find((x) => x.term === r.term)!;
      closeAbs(ours.estimate, r.estimate, 1e-4 * r.se, `estimate of ${r.term}`);
      closeRel(ours.se, r.se, 1e-4, `SE of ${r.term}`);
    }
    for (const g of ["subject", "item"] as const) {
      closeRel(fit.varcomp.find((v) => v.group === g)!.variance, fx.variance[g], 1e-4, `variance of ${g}`);
    }
    closeAbs(fit.residual!.params.phi as number, fx.phi, 1e-4, "phi");
  });
}

test("crossed path equals the ordinary path for a correlated random slope", () => {
  // (x | site) forced into the dense block: q = 2 blocks, the off-diagonal template entry too.
  const spec = "y ~ x + (1|subject) + (x|site) ; ARH1(time | subject)";
  const ordinary = prepareFit(table, spec);
  const design = buildDesign(table, parseSpec(spec));
  const res = buildResidual(table, parseSpec(spec), design)!;
  const remats = buildReMats(design.reTerms, design.n, design.reTerms.map((t) => t.group === "site"));
  const basis = fixedBasis(design.X, design.y, design.n, design.p);
  const model = new BlockedModel(remats, basis.X, basis.y, design.p, 1);
  model.fixedMap = basis.map;
  const forced = new Whitening(res, basis, model, true);
  assert.deepEqual(model.remats.map((r) => r.group), ordinary.model.remats.map((r) => r.group));
  assert.equal(model.m, 1);
  const eta = Float64Array.from({ length: res.nPar }, (_, i) => 0.3 - 0.15 * i);
  for (const theta of [[0.6, 0.5, -0.3, 0.4], [1.1, 0.2, 0.6, 0.9]]) {
    for (const reml of [true, false]) {
      // apply() first: it re-accumulates the blocks that evaluate() factors.
      const ldWant = ordinary.residual!.apply(eta), ldGot = forced.apply(eta);
      const want = ordinary.model.evaluate(theta, reml) + ldWant;
      const got = model.evaluate(theta, reml) + ldGot;
      assert.ok(Math.abs(got - want) < 1e-9 * Math.abs(want), `crossed path ${got} vs ordinary ${want}`);
    }
  }
});
