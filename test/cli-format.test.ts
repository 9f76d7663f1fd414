// The terminal output's wording and layout (src/cli/format.ts, demo.ts): what a model is called,
// the residual rows, one number of decimals per printed matrix, and the demo's progress line.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as path from "node:path";
import { spawnSync } from "node:child_process";
import { ROOT } from "./helpers/fixtures";
import { fitModel, parseCsv } from "../src/engine";
import { formatFit, modelTitle } from "../src/cli/format";
import { stderrProgress } from "../src/cli/demo";
import * as fs from "node:fs";

const run = (...args: string[]) => spawnSync(process.execPath, [path.join(ROOT, "bin", "lmm.js"), ...args], { cwd: ROOT, encoding: "utf8" });
const sitka = parseCsv(fs.readFileSync(path.join(ROOT, "assets/examples/sitka.csv"), "utf8"));

test("a model is titled for what it is: mixed model, GLS, or linear model; only a mixed model has a random-effects section", () => {
  const cases: [string, RegExp, boolean][] = [
    ["size ~ time*treat + (1|tree)", /^Linear mixed model fit by REML$/, true],
    ["size ~ time + (time|tree) ; AR1(time | tree)", /^Linear mixed model fit by REML$/, true],
    ["size ~ time*treat ; AR1(time | tree)", /^Generalized least squares fit by REML$/, false],
    ["size ~ time*treat", /^Linear model \(no random effects\) fit by REML$/, false],
  ];
  for (const [spec, title, mixed] of cases) {
    const fit = fitModel(sitka, spec, { method: "REML", ci: "none" });
    const text = formatFit(fit, "sitka.csv");
    assert.match(modelTitle(fit), title, spec);
    assert.equal(text.split("\n")[0], modelTitle(fit), `${spec}: the first line is the title`);
    assert.equal(text.includes("Random effects:"), mixed, `${spec}: random-effects section`);
    if (!mixed) {
      // The residual SD is the one variance; printed as lm/gls print it, with the engine's sigma.
      const line = text.split("\n").find((l) => l.startsWith("Residual standard error: "));
      assert.ok(line, `${spec}: a residual standard error line`);
      assert.ok(line.includes(fit.sigma.toPrecision(5)), `${spec}: ${line} shows sigma ${fit.sigma}`);
    }
  }
  const ml = fitModel(sitka, "size ~ time*treat", { method: "ML", ci: "none" });
  assert.equal(modelTitle(ml), "Linear model (no random effects) fit by maximum likelihood");
});

test("the UN correlation matrix prints every entry with the same decimals (1.000 beside 0.926)", () => {
  const fit = fitModel(sitka, "size ~ time*treat ; UN(time | tree)", { method: "REML" });
  const lines = formatFit(fit).split("\n");
  const at = lines.findIndex((l) => l.trim() === "corr:");
  assert.ok(at > 0, "a corr: line with the matrix below it");
  const corr = fit.residual!.params.corr as number[][];
  const rows = lines.slice(at + 1, at + 1 + corr.length).map((l) => l.trim().split(/\s+/));
  rows.forEach((r, i) => {
    assert.equal(r.length, corr.length, `row ${i + 1} has one entry per occasion`);
    r.forEach((c, j) => {
      assert.match(c, /^-?\d\.\d{3}$/, `entry ${i + 1},${j + 1}: ${c}`);
      assert.equal(c, corr[i][j].toFixed(3));
    });
    assert.equal(r[i], "1.000", "the diagonal");
  });
  // A vector (sd_ratio) also shares one number of decimals.
  const sd = lines.find((l) => l.trim().startsWith("sd_ratio:"));
  assert.ok(sd);
  const decimals = new Set(sd.trim().split(/\s+/).slice(1).map((c) => c.split(".")[1]?.length ?? 0));
  assert.equal(decimals.size, 1, sd);
});

test("lmm demo: the residual's effect is blank, not NA; one progress line on stderr, the tables on stdout", () => {
  const r = run("demo");
  assert.equal(r.status, 0, r.stderr);
  assert.ok(!/\bNA\b/.test(r.stdout), "no NA anywhere in the demo");
  const residual = r.stdout.split("\n").find((l) => /^Residual\s+0\.038\s/.test(l));
  assert.ok(residual, "Table 1's residual row starts with the group, then the variance");
  assert.equal(r.stderr.trim().split("\n").length, 1, `one line of progress: ${r.stderr}`);
  assert.match(r.stderr, /^lmm demo: fitting the lecture's models/);
});

test("demo progress on a terminal: one line rewritten in place and erased at the end", () => {
  const written: string[] = [];
  const tty = { isTTY: true, write: (s: string) => written.push(s) } as unknown as NodeJS.WriteStream;
  const p = stderrProgress(tty);
  p(1, 2, "first");
  p(2, 2, "second");
  p(3, 2, "done");
  assert.deepEqual(written, ["\r\x1b[Klmm demo: first (1 of 2)...", "\r\x1b[Klmm demo: second (2 of 2)...", "\r\x1b[K"]);
  const piped: string[] = [];
  const pipe = stderrProgress({ isTTY: false, write: (s: string) => piped.push(s) } as unknown as NodeJS.WriteStream);
  pipe(1, 2, "first");
  pipe(2, 2, "second");
  pipe(3, 2, "done");
  assert.equal(piped.length, 1, "off a terminal, one line at the start");
});
