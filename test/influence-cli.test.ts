// `lmm influence`: the --json shape of ARCHITECTURE.md §5 ({hat, cooks, groups: {g: {levels,
// cooks}}}) with lme4's numbers (test/fixtures/influence.json), the readable output, and one-line
// errors (exit 2) for an unknown group and bad flags.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as path from "node:path";
import { spawnSync } from "node:child_process";
import { ROOT, closeRel, readJson } from "./helpers/fixtures";

const run = (...args: string[]) => spawnSync(process.execPath, [path.join(ROOT, "bin", "lmm.js"), ...args], { cwd: ROOT, encoding: "utf8" });
interface Fx { observations: { name: string; data: string; spec: string; hat: number[]; cooks: number[] }[]; groups: { name: string; group: string; levels: string[]; cooks: number[] }[] }
const fx = readJson<Fx>("test/fixtures/influence.json");
const obs = fx.observations.find((o) => o.name === "sleepstudy_slopes")!;
const grp = fx.groups.find((g) => g.name === "sleepstudy_subject")!;

test("lmm influence --group Subject --json: hat, cooks and the group's Cook's distances as lme4", () => {
  const r = run("influence", obs.data, obs.spec, "--group", "Subject", "--json");
  assert.equal(r.status, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  for (const k of ["hat", "cooks", "groups"]) assert.ok(k in j, k);
  assert.equal(j.hat.length, 180);
  obs.hat.forEach((h, i) => closeRel(j.hat[i], h, 1e-4, `hat[${i + 1}]`));
  obs.cooks.forEach((c, i) => closeRel(j.cooks[i], c, 1e-4, `cooks[${i + 1}]`, 1e-3 * Math.max(...obs.cooks)));
  assert.deepEqual(Object.keys(j.groups), ["Subject"]);
  const g = j.groups.Subject;
  grp.levels.forEach((l, i) => closeRel(g.cooks[g.levels.indexOf(l)], grp.cooks[i], 1e-4, `Cook's distance of ${l}`));
  assert.equal(g.dfbeta.length, 18);
});

test("lmm influence prints the largest Cook's distances of rows and groups", () => {
  const r = run("influence", obs.data, obs.spec);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /Leverage \(hat values\): min 0\.09101, max 0\.2932/);
  assert.match(r.stdout, /Largest Cook's distances \(of 180 rows\)/);
  // Row 60 (subject 332, day 9) is the most influential observation: 4.33 in lme4.
  assert.match(r.stdout, /\n60 +[\d.]+ +-98\.34 +0\.2932 +4\.332/);
  assert.match(r.stdout, /Deleting each Subject \(18 refits\)/);
});

test("lmm influence: an unknown group, a bad method or flag is one line on stderr, exit 2", () => {
  const bad = run("influence", obs.data, obs.spec, "--group", "Subjet");
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /^lmm: unknown group 'Subjet'.*did you mean 'Subject'/);
  assert.equal(bad.stderr.trim().split("\n").length, 1);
  const m = run("influence", obs.data, obs.spec, "--method", "OLS");
  assert.equal(m.status, 2);
  assert.match(m.stderr, /--method must be REML or ML/);
  const f = run("influence", obs.data, obs.spec, "--groups", "Subject");
  assert.equal(f.status, 2);
  assert.match(f.stderr, /unknown flag --groups; did you mean --group\?/);
  const s = run("influence", obs.data);
  assert.equal(s.status, 2);
  assert.match(s.stderr, /missing the model spec/);
});
