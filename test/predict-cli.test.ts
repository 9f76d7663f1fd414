// `lmm predict` and `lmm fit --rows`: the --json shapes of ARCHITECTURE.md §5 with numbers from
// lme4 / nlme (test/fixtures/predict.json), the readable table, and one-line errors (exit 2).
import { test } from "node:test";
import assert from "node:assert/strict";
import * as path from "node:path";
import { spawnSync } from "node:child_process";
import { ROOT, closeRel, readJson } from "./helpers/fixtures";

const run = (...args: string[]) => spawnSync(process.execPath, [path.join(ROOT, "bin", "lmm.js"), ...args], { cwd: ROOT, encoding: "utf8" });
interface LmerFx { name: string; data: string; newdata: string; spec: string; population: number[]; group: number[]; se_population: number[] }
interface GlsFx { name: string; data: string; spec: string; resid: Record<string, number[]> }
const fx = readJson<{ lmer: LmerFx[]; gls: GlsFx[] }>("test/fixtures/predict.json");
const sleep = fx.lmer.find((f) => f.name === "sleepstudy_slope")!;

test("lmm predict --json: {rows: [{fit, se, lower, upper, level}], notes} as lme4", () => {
  const r = run("predict", sleep.data, sleep.spec, sleep.newdata, "--level", "group", "--interval", "prediction", "--conf", "0.9", "--json");
  assert.equal(r.status, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  for (const k of ["fit", "se", "lower", "upper", "level"]) assert.ok(k in j.rows[0], k);
  assert.ok(Array.isArray(j.notes));
  assert.equal(j.conf, 0.9);
  sleep.group.forEach((v, i) => closeRel(j.rows[i].fit, v, 1e-6, `group ${i}`));
  assert.equal(j.rows[2].level, "population");
  assert.ok(j.notes.some((n: string) => /Subject '999' is not in the data/.test(n)));
  const p = JSON.parse(run("predict", sleep.data, sleep.spec, sleep.newdata, "--interval", "confidence", "--json").stdout);
  sleep.se_population.forEach((v, i) => closeRel(p.rows[i].se, v, 1e-4, `SE ${i}`));
});

test("lmm predict prints a table; --level 0.9 says to use --conf; a missing new data file is an error", () => {
  const r = run("predict", sleep.data, sleep.spec, sleep.newdata);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /Predictions \(population level\)/);
  const bad = run("predict", sleep.data, sleep.spec, sleep.newdata, "--level", "0.9");
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /--conf 0.9/);
  const none = run("predict", sleep.data, sleep.spec);
  assert.equal(none.status, 2);
  assert.match(none.stderr, /missing the new data file/);
});

test("lmm fit --rows --json: fitted rows with pearson and normalized residuals as nlme", () => {
  const g = fx.gls.find((f) => f.name === "sitka_gls_ar1")!;
  const r = run("fit", g.data, g.spec, "--rows", "--json", "--ci", "none");
  assert.equal(r.status, 0, r.stderr);
  const f = JSON.parse(r.stdout).fitted;
  for (const k of ["rows", "conditional", "marginal", "residual", "pearson", "normalized"]) assert.ok(Array.isArray(f[k]), k);
  g.resid.normalized_conditional.forEach((v, i) => closeRel(f.normalized[i], v, 1e-6, `normalized ${i}`, 1));
});
