// `lmm anova` and `lmm fit --ddf`: the --json shapes of ARCHITECTURE.md §5 with numbers from
// lmerTest / nlme (test/fixtures/anova.json), the readable table, and one-line errors (exit 2).
import { test } from "node:test";
import assert from "node:assert/strict";
import * as path from "node:path";
import { spawnSync } from "node:child_process";
import { ROOT, closeRel, readJson } from "./helpers/fixtures";

const run = (...args: string[]) => spawnSync(process.execPath, [path.join(ROOT, "bin", "lmm.js"), ...args], { cwd: ROOT, encoding: "utf8" });
interface FxRow { term: string; "F value": number; DenDF: number; "Pr(>F)": number }
interface Fx { name: string; data: string; spec: string; anova: Record<string, FxRow[]>; containment: Record<string, FxRow[]>; containment_fixef_df: number[]; r2: { marginal: number; conditional: number }; vcov: number[][] }
const fx = readJson<{ fixtures: Fx[] }>("test/fixtures/anova.json").fixtures;
const oats = fx.find((f) => f.name === "oats_unbalanced")!;

test("lmm anova --json: Type III Satterthwaite by default, lmerTest's columns and numbers", () => {
  const r = run("anova", oats.data, oats.spec, "--json");
  assert.equal(r.status, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  assert.equal(j.type, 3);
  assert.equal(j.ddf, "Satterthwaite");
  assert.deepEqual(Object.keys(j.rows[0]).sort(), ["DenDF", "F value", "Mean Sq", "NumDF", "Pr(>F)", "Sum Sq", "term"].sort());
  oats.anova["3"].forEach((e, i) => {
    assert.equal(j.rows[i].term, e.term);
    closeRel(j.rows[i]["F value"], e["F value"], 1e-4, `F of ${e.term}`);
    closeRel(j.rows[i].DenDF, e.DenDF, 1e-4, `DenDF of ${e.term}`);
    closeRel(j.rows[i]["Pr(>F)"], e["Pr(>F)"], 1e-4, `p of ${e.term}`);
  });
});

test("lmm anova --type 1 --ddf containment --json: nlme's df", () => {
  const r = run("anova", oats.data, oats.spec, "--type", "1", "--ddf", "containment", "--json");
  assert.equal(r.status, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  assert.equal(j.type, 1);
  assert.equal(j.ddf, "containment");
  assert.deepEqual(j.rows.map((x: FxRow) => x.DenDF), oats.containment["1"].map((x) => x.DenDF));
});

test("lmm anova prints lmerTest's table; --L tests a contrast matrix", () => {
  const r = run("anova", oats.data, oats.spec);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /Type III Analysis of Variance Table with Satterthwaite's method/);
  assert.match(r.stdout, /N:Variety/);
  const l = run("anova", "assets/examples/sitka.csv", "size ~ time*treat + (1|tree)", "--L", "0,1,0,0;0,0,1,150", "--json");
  assert.equal(l.status, 0, l.stderr);
  const sitka = readJson<{ fixtures: { name: string; contest: { row: FxRow } }[] }>("test/fixtures/anova.json").fixtures.find((f) => f.name === "sitka_ri")!;
  closeRel(JSON.parse(l.stdout).rows[0]["F value"], sitka.contest.row["F value"], 1e-4, "contest F");
});

test("lmm fit --json has ddf, vcov and r2; --ddf containment gives nlme's df", () => {
  const r = run("fit", oats.data, oats.spec, "--json", "--ci", "none", "--ddf", "containment");
  assert.equal(r.status, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  assert.equal(j.ddf, "containment");
  assert.deepEqual(j.fixef.map((x: { df: number }) => x.df), oats.containment_fixef_df);
  assert.equal(j.vcov.length, j.fixef.length);
  closeRel(j.vcov[1][1], oats.vcov[1][1], 1e-4, "vcov[2,2]");
  closeRel(j.r2.marginal, oats.r2.marginal, 1e-4, "marginal R²");
  closeRel(j.r2.conditional, oats.r2.conditional, 1e-4, "conditional R²");
  const d = run("fit", oats.data, oats.spec, "--json", "--ci", "none");
  assert.equal(JSON.parse(d.stdout).ddf, "Satterthwaite");
});

test("lmm anova: bad --type, --ddf, --L give one line on stderr and exit 2", () => {
  for (const [args, re] of [
    [["--type", "4"], /type must be 1, 2 or 3/],
    [["--ddf", "wrong"], /ddf must be/],
    [["--L", "0,1"], /has 2 numbers, but the model has 12/],
    [["--L", "0,x"], /'x' is not a number/],
  ] as [string[], RegExp][]) {
    const r = run("anova", oats.data, oats.spec, ...args);
    assert.equal(r.status, 2, args.join(" "));
    assert.match(r.stderr, re);
  }
});
