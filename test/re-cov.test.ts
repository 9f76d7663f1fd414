// Random-effect covariance structures (model/re-cov/: diag, homdiag, cs, homcs, ar1) against R:
// nlme's pdCompSymm, pdIdent and pdDiag, glmmTMB's cs and ar1, lme4, and a dense-V REML
// likelihood maximized in R where glmmTMB does not converge (fixtures from
// test/fixtures/make-fixtures-restruct.R). Tolerances as the other fixtures: logLik 1e-6
// relative (where R's optimizer stops short, ours must be no lower than R's minus that), fixed
// effects within 1e-4 SE, SEs, sigma and the structure's parameters 1e-4 relative; Wald intervals
// 1e-3 relative (nlme's Hessian is a finite-difference one, as in inference.test.ts).
import { test } from "node:test";
import assert from "node:assert/strict";
import { fitModel, compareModels } from "../src/engine";
import type { FitResult } from "../src/engine/types";
import { closeAbs, closeRel, loadTable, readJson } from "./helpers/fixtures";

interface Case {
  data: string;
  spec: string;
  source: string;
  logLik: number;
  fixef: { names: string[]; estimate: number[]; se: number[] };
  sigma: number;
  params: Record<string, number>;
  wald?: { sd: number[]; rho: number[]; sigma: number[] };
  satterthwaite_df?: number[];
  varIdent?: number[];
}

const fx = readJson<{ cases: Record<string, Case> }>("test/fixtures/restruct.json");

/** The structure parameters of a fit, plus `sd_intercept`: the SD of an unstructured random intercept. */
function paramsOf(fit: FitResult): Record<string, number> {
  const out: Record<string, number> = {};
  const rs = fit.re_structures ?? [];
  for (const r of rs) Object.assign(out, r.params);
  const ri = fit.varcomp.find((v) => v.effect === "(Intercept)" && v.group !== "Residual" && !rs.some((r) => r.group === v.group));
  if (ri && ri.sd !== null) out.sd_intercept = ri.sd;
  return out;
}

for (const [name, c] of Object.entries(fx.cases)) {
  test(`${name}: ${c.spec} matches ${c.source}`, () => {
    const fit = fitModel(loadTable(c.data), c.spec, { ci: c.wald ? "wald" : "none" });
    assert.ok(fit.converged, `converged: ${fit.messages.join(" | ")}`);
    assert.ok(fit.re_structures && fit.re_structures.length > 0, "re_structures reported");
    // Sitka's ar1 optimum is the limit sigma -> 0 (the residual AR(1) model), which no optimizer
    // reaches: there ours must be no lower than glmmTMB's, the residual SD must be ~0 in both, and
    // the note must say so.
    const boundary = c.sigma < 1e-3 * Math.max(...Object.values(c.params));
    if (boundary) {
      assert.ok(fit.logLik >= c.logLik - 1e-6 * Math.abs(c.logLik), `logLik ${fit.logLik} below R's ${c.logLik}`);
      assert.ok(fit.sigma < 1e-3 * c.params.sd, `residual SD ~0: ${fit.sigma}`);
      assert.ok(fit.messages.some((m) => m.includes("residual SD is estimated as (nearly) 0")), "the note on the zero residual");
    } else {
      closeRel(fit.logLik, c.logLik, 1e-6, "logLik");
      closeRel(fit.sigma, c.sigma, 1e-4, "sigma");
    }
    c.fixef.names.forEach((term, i) => {
      const ours = fit.fixef.find((x) => x.term === term);
      assert.ok(ours, `fixed effect ${term}`);
      closeAbs(ours.estimate, c.fixef.estimate[i], 1e-4 * c.fixef.se[i], `estimate of ${term}`);
      closeRel(ours.se, c.fixef.se[i], 1e-4, `SE of ${term}`);
    });
    const got = paramsOf(fit);
    for (const [k, want] of Object.entries(c.params)) closeRel(got[k], want, 1e-4, `parameter ${k}`);
    if (c.wald) {
      const rs = fit.re_structures![0];
      closeRel(rs.lower!.sd, c.wald.sd[0], 1e-3, "Wald lower of sd");
      closeRel(rs.upper!.sd, c.wald.sd[1], 1e-3, "Wald upper of sd");
      closeRel(rs.lower!.rho, c.wald.rho[0], 1e-3, "Wald lower of rho");
      closeRel(rs.upper!.rho, c.wald.rho[1], 1e-3, "Wald upper of rho");
      const res = fit.varcomp[fit.varcomp.length - 1];
      closeRel(res.sd_lower, c.wald.sigma[0], 1e-3, "Wald lower of sigma");
      closeRel(res.sd_upper, c.wald.sigma[1], 1e-3, "Wald upper of sigma");
      // The rows the parameters determine carry the same intervals.
      for (const v of fit.varcomp.filter((v) => v.group === rs.group)) {
        if (v.effect2 === null) closeRel(v.sd_lower, rs.lower!.sd!, 1e-12, `row interval of ${v.effect}`);
        else closeRel(v.sd_upper, rs.upper!.rho!, 1e-12, `row interval of ${v.effect} ~ ${v.effect2}`);
      }
    }
    if (c.varIdent) {
      const v = fit.residual!.params.varIdent as number[];
      c.varIdent.forEach((x, i) => closeRel(v[i], x, 1e-4, `varIdent ratio ${i + 1}`));
    }
    if (c.satterthwaite_df) c.satterthwaite_df.forEach((df, i) => closeRel(fit.fixef[i].df, df, 1e-4, `Satterthwaite df of ${fit.fixef[i].term}`));
  });
}

const machines = () => loadTable("test/data/machines.csv");

test("homcs(0 + Machine | Worker) is (1 | Worker/Machine): logLik, Satterthwaite df and BLUPs agree", () => {
  const cs = fitModel(machines(), "score ~ Machine + homcs(0 + Machine | Worker)", { ci: "none" });
  const nested = fitModel(machines(), "score ~ Machine + (1 | Worker/Machine)", { ci: "none" });
  closeRel(cs.logLik, nested.logLik, 1e-9, "logLik");
  cs.fixef.forEach((f, i) => closeRel(f.df, nested.fixef[i].df!, 1e-5, `df of ${f.term}`));
  // BLUP of worker w on machine m: b_w + b_(m:w).
  const bw = nested.blups.Worker, bwm = nested.blups["Machine:Worker"];
  const tab = cs.blups.Worker;
  tab.levels.forEach((w, i) => {
    tab.effects.forEach((e, k) => {
      const m = e.replace(/^Machine/, "");
      const j = bwm.levels.indexOf(`${m}:${w}`);
      assert.ok(j >= 0, `level ${m}:${w}`);
      closeAbs(tab.values[i][k], bw.values[bw.levels.indexOf(w)][0] + bwm.values[j][0], 1e-5, `BLUP ${w} ${e}`);
    });
  });
  // rho = var(Worker) / (var(Worker) + var(Worker:Machine)).
  const vW = nested.varcomp.find((v) => v.group === "Worker")!.variance!, vWM = nested.varcomp.find((v) => v.group === "Machine:Worker")!.variance!;
  closeRel(cs.re_structures![0].params.rho, vW / (vW + vWM), 1e-5, "rho");
});

test("profile intervals of a structure's parameters contain the estimates and reach the same rows", () => {
  const fit = fitModel(machines(), "score ~ Machine + homcs(0 + Machine | Worker)", { ci: "profile" });
  const rs = fit.re_structures![0];
  for (const k of ["sd", "rho"]) {
    const lo = rs.lower![k], hi = rs.upper![k];
    assert.ok(lo !== null && hi !== null && lo < rs.params[k] && rs.params[k] < hi, `${k}: [${lo}, ${hi}] around ${rs.params[k]}`);
  }
  // Profile (ML deviance, lme4's definition) vs Wald (nlme's): close on these data.
  const wald = fitModel(machines(), "score ~ Machine + homcs(0 + Machine | Worker)", { ci: "wald" }).re_structures![0];
  assert.ok(Math.abs(rs.lower!.sd! - wald.lower!.sd!) < 0.5, "profile and Wald lower ends of sd are of the same size");
});

test("ar1 correlation rows are rho^lag and carry the image of rho's interval", () => {
  const fit = fitModel(loadTable("test/data/sleepstudy.csv"), "Reaction ~ Days + (1 | Subject) + ar1(0 + factor(Days) | Subject)", { ci: "wald" });
  const rs = fit.re_structures![0];
  const rho = rs.params.rho;
  const rows = fit.varcomp.filter((v) => v.group === rs.group && v.effect2 !== null);
  assert.equal(rows.length, 45);
  for (const v of rows) {
    const lag = Math.abs(Number(v.effect2!.replace("factor(Days)", "")) - Number(v.effect!.replace("factor(Days)", "")));
    closeRel(v.corr, Math.pow(rho, lag), 1e-9, `corr of ${v.effect} ~ ${v.effect2}`);
    closeRel(v.sd_lower, Math.pow(rs.lower!.rho!, lag), 1e-9, `lower of lag ${lag}`);
  }
});

test("LRT between nested structures: homdiag < homcs < cs < us on the same effects", () => {
  const specs = ["homdiag", "homcs", "cs", "us"].map((s) => `score ~ Machine + (1 | Worker) + ${s}(0 + Machine | Worker)`);
  const lrt = compareModels(machines(), specs.slice(1).map((s) => s.replace(" + (1 | Worker)", "")));
  assert.deepEqual(lrt.models.map((m) => m.df), [6, 8, 10]);
  for (const t of lrt.tests) {
    assert.equal(t.df, 2);
    assert.ok(t["L.Ratio"] >= -1e-8, "a larger model fits no worse");
    assert.equal(t.p_mixture, null, "no boundary mixture claimed between structures");
  }
});

test("bad structure specs get clear errors", () => {
  const t = machines();
  const bad: [string, RegExp][] = [
    ["score ~ Machine + ar1(1 + Machine | Worker)", /ar1\(\.\.\.\) needs the indicator columns of one factor/],
    ["score ~ Machine + cs(1 | Worker)", /cs\(1 \| …\) has one effect/],
    ["score ~ Machine + homcs(0 + Machine || Worker)", /'\|\|' inside homcs/],
    ["score ~ Machine + ar1(0 + Machine:Worker | Worker)", /ar1\(\.\.\.\) needs the indicator columns of one factor/],
  ];
  for (const [spec, re] of bad) {
    assert.throws(() => fitModel(t, spec, { ci: "none" }), (e: Error) => re.test(e.message) && e.name !== "InternalError", spec);
  }
  // A numeric column has one column, not a factor's indicator set.
  assert.throws(() => fitModel(loadTable("test/data/orthodont.csv"), "distance ~ age + ar1(0 + age | Subject)"), /ar1\(0 \+ age \| Subject\) has one effect column/);
  // homcs over every occasion of a group cannot be told from the residual: refused, as lme4 does.
  assert.throws(() => fitModel(loadTable("test/data/sleepstudy.csv"), "Reaction ~ Days + homcs(0 + factor(Days) | Subject)"), /random effects .* for 180 observations/);
  // Kenward-Roger with a structured term (kr-structured.ts; test/kr-residual.test.ts checks it
  // against a dense computation and the equivalent unstructured models): defined here, and
  // refused where sigma sits at its bound 0.
  const kr = fitModel(t, "score ~ Machine + homcs(0 + Machine | Worker)", { ddf: "kr", ci: "none" });
  assert.equal(kr.ddf, "Kenward-Roger");
});

test("us(...) and diag(...) on one column are the plain term", () => {
  const t = loadTable("test/data/orthodont.csv");
  const a = fitModel(t, "distance ~ age + us(1 + age | Subject)", { ci: "none" });
  const b = fitModel(t, "distance ~ age + (1 + age | Subject)", { ci: "none" });
  assert.equal(a.logLik, b.logLik);
  assert.equal(a.re_structures, undefined);
  const c = fitModel(t, "distance ~ age + diag(1 | Subject)", { ci: "none" });
  const d = fitModel(t, "distance ~ age + (1 | Subject)", { ci: "none" });
  assert.equal(c.logLik, d.logLik);
  // diag(1 + age | Subject) is lme4's (1 + age || Subject).
  const e = fitModel(t, "distance ~ age + diag(1 + age | Subject)", { ci: "none" });
  const f = fitModel(t, "distance ~ age + (1 + age || Subject)", { ci: "none" });
  closeRel(e.logLik, f.logLik, 1e-9, "diag = ||");
});

test("profile interval of rho: the ML deviance profiled at each end is the minimum plus z^2", async () => {
  const { prepareFit, fitPrepared } = await import("../src/engine/model/prepared");
  const { qNorm } = await import("../src/engine/inference/dist");
  const spec = "score ~ Machine + homcs(0 + Machine | Worker)";
  const fit = fitModel(machines(), spec, { ci: "profile" });
  const rs = fit.re_structures![0];
  const prep = prepareFit(machines(), spec);
  const ml = fitPrepared(prep, "ML");
  const z = qNorm(0.975);
  // homcs on 3 effects: rho = lo + (1 - lo) logistic(eta), lo = -1/2; theta = [s, eta].
  const etaOf = (rho: number) => Math.log((rho + 0.5) / (1 - rho));
  const profiled = (rho: number): number => {
    // Golden-section search over the relative SD (sigma is profiled out by the objective).
    let a = 0, b = 50;
    const g = 0.5 * (Math.sqrt(5) - 1);
    const f = (s: number) => prep.model.evaluate([s, etaOf(rho)], false);
    for (let it = 0; it < 200; it++) {
      const c = b - g * (b - a), d = a + g * (b - a);
      if (f(c) < f(d)) b = d;
      else a = c;
    }
    return f((a + b) / 2);
  };
  for (const end of [rs.lower!.rho!, rs.upper!.rho!]) closeAbs(profiled(end) - ml.objective, z * z, 1e-4, `profile at rho = ${end}`);
});

test("LRT: adding homdiag / diag terms is adding independent variances (chi-bar-square mixture)", () => {
  const one = compareModels(machines(), ["score ~ Machine + (1 | Worker)", "score ~ Machine + (1 | Worker) + homdiag(0 + Machine | Worker)"]);
  const same = compareModels(machines(), ["score ~ Machine + (1 | Worker)", "score ~ Machine + (1 | Worker) + (1 | Worker:Machine)"]);
  closeRel(one.tests[0]["L.Ratio"], same.tests[0]["L.Ratio"], 1e-8, "homdiag(0 + Machine | Worker) is (1 | Worker:Machine)");
  closeRel(one.tests[0].p_mixture, same.tests[0].p_mixture!, 1e-8, "same mixture p");
  const orth = loadTable("test/data/orthodont.csv");
  const three = compareModels(orth, ["distance ~ age + (1 | Subject)", "distance ~ age + (1 | Subject) + diag(0 + age + Sex | Subject)"]);
  assert.deepEqual(three.tests[0].mixture?.match(/chi2\(\d\)/g), ["chi2(0)", "chi2(1)", "chi2(2)", "chi2(3)"]);
});

test("homcs beside a random intercept of the same groups: said to be a ridge, its intervals removed", () => {
  const fit = fitModel(machines(), "score ~ Machine + (1 | Worker) + homcs(0 + Machine | Worker)");
  const plain = fitModel(machines(), "score ~ Machine + homcs(0 + Machine | Worker)", { ci: "none" });
  closeRel(fit.logLik, plain.logLik, 1e-7, "same likelihood: the intercept adds nothing homcs cannot");
  assert.ok(fit.messages.some((m) => /^not identifiable: the random intercept of 'Worker' and the common correlation of homcs/.test(m)), fit.messages.join(" | "));
  for (const v of fit.varcomp.filter((v) => v.group !== "Residual")) assert.equal(v.sd_lower, null, `no interval on the ridge: ${v.group} ${v.effect}`);
  assert.equal(fit.re_structures![0].lower!.rho, null);
  // homdiag beside the intercept is identified (it is (1 | Worker) + (1 | Worker:Machine)): no note.
  const ok = fitModel(machines(), "score ~ Machine + (1 | Worker) + homdiag(0 + Machine | Worker)", { ci: "none" });
  assert.ok(!ok.messages.some((m) => m.startsWith("not identifiable")));
});

test("Satterthwaite df in a structure's parameters equal those in lme4's theta where the models coincide", () => {
  const t = loadTable("test/data/orthodont.csv");
  for (const [a, b] of [
    ["distance ~ age + Sex + cs(1 + age | Subject)", "distance ~ age + Sex + (1 + age | Subject)"],
    ["distance ~ age + Sex + diag(1 + age | Subject)", "distance ~ age + Sex + (1 + age || Subject)"],
  ]) {
    const x = fitModel(t, a, { ci: "none" }), y = fitModel(t, b, { ci: "none" });
    x.fixef.forEach((r, i) => closeRel(r.df, y.fixef[i].df!, 1e-4, `${a}: df of ${r.term}`));
  }
});

test("toep: the lag-k correlation rows show rho_k and carry its interval; cs <= toep <= us in logLik", () => {
  const fit = fitModel(machines(), "score ~ Machine + toep(0 + Machine | Worker)", { ci: "wald" });
  const rs = fit.re_structures![0];
  for (const v of fit.varcomp.filter((v) => v.group === rs.group && v.effect2 !== null)) {
    const lag = "ABC".indexOf(v.effect2!.slice(-1)) - "ABC".indexOf(v.effect!.slice(-1));
    closeRel(v.corr, rs.params[`rho${lag}`], 1e-9, `corr of ${v.effect} ~ ${v.effect2}`);
    closeRel(v.sd_lower, rs.lower![`rho${lag}`]!, 1e-12, `interval of lag ${lag}`);
  }
  const ll = ["cs", "toep", "us"].map((s) => fitModel(machines(), `score ~ Machine + ${s}(0 + Machine | Worker)`, { ci: "none" }).logLik);
  assert.ok(ll[0] <= ll[1] + 1e-8 && ll[1] <= ll[2] + 1e-8, `nested: ${ll.join(", ")}`);
  assert.throws(() => fitModel(machines(), "score ~ Machine + toep(1 + Machine | Worker)"), /toep\(\.\.\.\) needs the indicator columns of one factor/);
});
