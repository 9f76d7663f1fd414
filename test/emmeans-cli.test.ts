// `lmm emmeans`: the §5 JSON shape against R (test/fixtures/emmeans.json), emmeans's printed
// layout, and one-line errors for bad flags and names.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as path from "node:path";
import { spawnSync } from "node:child_process";
import { ROOT, closeRel, readJson } from "./helpers/fixtures";

const run = (...args: string[]) => spawnSync(process.execPath, [path.join(ROOT, "bin", "lmm.js"), ...args], { cwd: ROOT, encoding: "utf8" });
interface Fx { name: string; results: Record<string, { emmeans: { levels: Record<string, string>; estimate: number; SE: number; df: number }[]; pairs: Record<string, { contrast: string; by: Record<string, string>; estimate: number; "p.value": number }[]> }> }
const cases = readJson<{ cases: Fx[] }>("test/fixtures/emmeans.json").cases;
const SITKA = "assets/examples/sitka.csv", SPEC = "size ~ time*treat + (1|tree)";

test("lmm emmeans --json: the §5 shape, numbers as R's emtrends by treat (Kenward-Roger)", () => {
  const r = run("emmeans", SITKA, SPEC, "--specs", "treat", "--trend", "time", "--ddf", "kr", "--adjust", "holm", "--json");
  assert.equal(r.status, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  for (const k of ["specs", "by", "adjust", "ddf", "emmeans", "contrasts", "notes"]) assert.ok(k in j, k);
  assert.deepEqual(j.specs, ["treat"]);
  assert.equal(j.adjust, "holm");
  assert.equal(j.ddf, "Kenward-Roger");
  const fx = cases.find((c) => c.name === "sitka_trend")!.results["kenward-roger"];
  fx.emmeans.forEach((e, i) => {
    assert.deepEqual(j.emmeans[i].levels, e.levels);
    closeRel(j.emmeans[i]["time.trend"], e.estimate, 1e-4, "trend");
    closeRel(j.emmeans[i].SE, e.SE, 1e-4, "SE");
    closeRel(j.emmeans[i].df, e.df, 1e-4, "df");
    for (const k of ["lower.CL", "upper.CL"]) assert.equal(typeof j.emmeans[i][k], "number");
  });
  const c = fx.pairs.holm[0];
  assert.equal(j.contrasts[0].contrast, c.contrast);
  assert.deepEqual(j.contrasts[0].by, {});
  closeRel(j.contrasts[0]["p.value"], c["p.value"], 1e-4, "p");
  for (const k of ["estimate", "SE", "df", "t.ratio", "p.value"]) assert.equal(typeof j.contrasts[0][k], "number", k);
});

test("lmm emmeans: text laid out as emmeans prints, by groups and notes", () => {
  const r = run("emmeans", "test/data/oats.csv", "yield ~ N*Variety + (1|Block/Variety)", "--specs", "N", "--by", "Variety");
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^Variety = Golden Rain:\n N +emmean +SE +df +lower\.CL +upper\.CL\n N0\.0 /);
  assert.match(r.stdout, / contrast +estimate +SE +df +t\.ratio +p\.value\n N0\.0 - N0\.2 /);
  assert.match(r.stdout, /P value adjustment: tukey method for comparing a family of 4 estimates/);
  assert.match(r.stdout, /Confidence level used: 0\.95/);
});

test("lmm emmeans: bad input is one line on stderr with exit code 2", () => {
  for (const [args, re] of [
    [["--specs", "trat"], /unknown factor 'trat' in specs \(did you mean 'treat'\?\)/],
    [["--specs", "treat", "--at", "x=1"], /at names 'x', which is not a predictor/],
    [["--specs", "treat", "--at", "time"], /--at needs name=value pairs/],
    [["--specs", "treat", "--adjust", "tukee"], /adjust must be one of/],
    [["--specs", "treat", "--ddf", "kr", "--method", "ML"], /Kenward-Roger df need a REML fit/],
    [[], /needs --specs/],
    [["--spec", "treat"], /unknown flag --spec; did you mean --specs\?/],
  ] as const) {
    const r = run("emmeans", SITKA, SPEC, ...args);
    assert.equal(r.status, 2, `${args.join(" ")}: ${r.stdout}`);
    assert.match(r.stderr, re);
    assert.equal(r.stderr.trim().split("\n").length, 1);
  }
});
