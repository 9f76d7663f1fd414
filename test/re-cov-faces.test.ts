// The random-effect covariance structures in Excel and the CLI: =LMM.FIT shows each structured
// term and its parameters (value and interval) under the fit statistics, =LMM.VARCOMP its implied
// SDs and correlations, `lmm fit --json` carries them in `re_structures`, all equal to the
// engine's fit (whose numbers re-cov.test.ts checks against R).
import "./addin/shim";
import { test } from "node:test";
import assert from "node:assert/strict";
import * as path from "node:path";
import { spawnSync } from "node:child_process";
import { invocation, expectValueError } from "./addin/shim";
import { fit, varcomp } from "../src/functions/functions";
import { fitModel } from "../src/engine";
import { ROOT, closeRel, csvRows, loadTable } from "./helpers/fixtures";

const SPEC = "size ~ time*treat + (1 | tree) + ar1(0 + factor(time) | tree)";
const DATA = "assets/examples/sitka.csv";

test("=LMM.FIT lists the ar1 term with sd and rho and their interval ends; =LMM.VARCOMP its rows", async () => {
  const rows = csvRows(DATA);
  const ref = fitModel(loadTable(DATA), SPEC);
  const st = ref.re_structures![0];
  assert.equal(st.type, "ar1");
  const t = await fit(rows, SPEC, null, null, null, invocation());
  const at = t.findIndex((r) => r[0] === "random structure");
  assert.ok(at > 0, "a 'random structure' row");
  assert.equal(t[at][1], "ar1(0 + factor(time) | tree)");
  for (const [k, i] of [["sd", 1], ["rho", 2]] as const) {
    const r = t[at + i];
    assert.equal(r[0], `${st.group} ${k}`);
    closeRel(r[1] as number, st.params[k], 1e-12, k);
    closeRel(r[2] as number, st.lower![k]!, 1e-12, `${k} lower`);
    closeRel(r[3] as number, st.upper![k]!, 1e-12, `${k} upper`);
  }
  for (const r of t) for (const c of r) assert.ok(c !== null && c !== undefined, "no null cell");
  const v = await varcomp(rows, SPEC, null, null, null, invocation());
  const corrRows = v.filter((r) => r[0] === st.group && String(r[1]).includes(", "));
  assert.equal(corrRows.length, 10, "one row per pair of the 5 occasions");
  // The lag-1 rows show rho itself.
  const lag1 = corrRows.find((r) => r[1] === "factor(time)152, factor(time)174")!;
  closeRel(lag1[7] as number, st.params.rho, 1e-12, "lag-1 correlation = rho");
  await expectValueError(fit(rows, "size ~ time + ar1(1 + factor(time) | tree)", null, null, null, invocation()), /ar1\(\.\.\.\) needs the indicator columns of one factor/);
});

test("lmm fit --json: re_structures with sd and rho, and the text output names the structure", () => {
  const run = (...args: string[]) => spawnSync(process.execPath, [path.join(ROOT, "bin", "lmm.js"), ...args], { cwd: ROOT, encoding: "utf8" });
  const ref = fitModel(loadTable(DATA), SPEC);
  const j = run("fit", DATA, SPEC, "--json");
  assert.equal(j.status, 0, j.stderr);
  const out = JSON.parse(j.stdout) as { re_structures: { group: string; term: string; type: string; params: Record<string, number> }[]; varcomp: unknown[] };
  assert.equal(out.re_structures.length, 1);
  const s = out.re_structures[0];
  assert.deepEqual([s.type, s.term, Object.keys(s.params)], ["ar1", "ar1(0 + factor(time) | tree)", ["sd", "rho"]]);
  closeRel(s.params.rho, ref.re_structures![0].params.rho, 1e-12, "rho");
  const txt = run("fit", DATA, SPEC);
  assert.equal(txt.status, 0, txt.stderr);
  assert.match(txt.stdout, /Structure ar1\(0 \+ factor\(time\) \| tree\): sd [0-9.]+ \[[0-9.]+, [0-9.]+\], rho 0\.[0-9]+ \[/);
  const bad = run("fit", DATA, "size ~ time + cs(1 | tree)");
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /cs\(1 \| …\) has one effect/);
});

test("Copy as R code: structured random terms give the glmmTMB call", async () => {
  const { rCode } = await import("../src/taskpane/rcode");
  const code = rCode(SPEC, "REML");
  assert.match(code, /library\(glmmTMB\)\nfit <- glmmTMB\(size ~ time\*treat \+ \(1 \| tree\) \+ ar1\(0 \+ factor\(time\) \| tree\), data = data, REML = TRUE\)/);
  assert.match(rCode("score ~ Machine + homcs(0 + Machine | Worker)", "ML"), /homcs and homdiag need glmmTMB >= 1\.1\.10[\s\S]*REML = FALSE/);
});

test("the pane keeps a structured spec as typed: no controls for it, and it differs from the plain term", async () => {
  const { choicesFromSpec, emptyChoices, sameModel } = await import("../src/taskpane/spec-builder");
  const { parseSpec } = await import("../src/engine/formula/parse");
  assert.equal(choicesFromSpec(parseSpec("size ~ time + diag(1 + time | tree)"), emptyChoices()), null);
  assert.equal(sameModel(parseSpec("size ~ time + diag(1 + time | tree)"), parseSpec("size ~ time + (1 + time | tree)")), false);
  assert.equal(sameModel(parseSpec("size ~ time + us(1 + time | tree)"), parseSpec("size ~ time + (1 + time | tree)")), true);
});
