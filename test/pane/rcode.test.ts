// "Copy as R code": lmer for random effects only, nlme's lme/gls with corCompSymm, corAR1,
// corCAR1, corSymm and varIdent for residual structures. Where Rscript with lme4 and nlme is
// installed, the generated code is run and its logLik compared with the engine's (CI does not
// need R: that part is skipped there).
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { spawnSync } from "node:child_process";
import { fitModel, parseCsv } from "../../src/engine";
import { fixedFormula, formulaPart, rCode, rName } from "../../src/taskpane/rcode";
import { parseSpec } from "../../src/engine";
import { ROOT } from "../helpers/fixtures";

test("random effects only: lme4::lmer with the spec's formula", () => {
  assert.equal(
    rCode("size ~ time*treat + (1|tree)", "REML", { source: "Sheet1!A1:D396" }),
    [
      '# data: a data frame with the columns of Sheet1!A1:D396 (e.g. data <- read.csv("data.csv"))',
      "library(lme4)",
      "fit <- lmer(size ~ time*treat + (1|tree), data = data, REML = TRUE)",
      "summary(fit)",
    ].join("\n"),
  );
  assert.match(rCode("size ~ time + (1|tree)", "ML"), /lmer\(size ~ time \+ \(1\|tree\), data = data, REML = FALSE\)/);
  // random slopes: bobyqa, as the engine (lme4's default optimizer stops early on raw time scales)
  assert.match(rCode("size ~ time + (time|tree)", "REML"), /REML = TRUE,\n\s+control = lmerControl\(optimizer = "bobyqa"\)\)/);
  assert.match(rCode("strength ~ 1 + (1|batch/cask)", "REML"), /lmer\(strength ~ 1 \+ \(1\|batch\/cask\)/);
});

test("residual structures: nlme gls without random effects, lme with them", () => {
  const gls = rCode("size ~ time*treat ; AR1(time | tree)", "REML");
  assert.match(gls, /library\(nlme\)/);
  assert.match(gls, /data\$occasion <- match\(data\$time, sort\(unique\(data\$time\)\)\)/);
  assert.match(gls, /fit <- gls\(size ~ time\*treat,\n\s+correlation = corAR1\(form = ~ occasion \| tree\),\n\s+data = data,\n\s+method = "REML",\n\s+na.action = na.omit\)/);
  assert.match(rCode("size ~ time*treat ; CS(1 | tree)", "ML"), /gls\(size ~ time\*treat,\n\s+correlation = corCompSymm\(form = ~ 1 \| tree\),[\s\S]*method = "ML"/);
  assert.match(rCode("size ~ time*treat ; CAR1(time | tree)", "REML"), /corCAR1\(form = ~ time \| tree\)/);
  const un = rCode("size ~ time*treat ; UN(time | tree)", "REML");
  assert.match(un, /correlation = corSymm\(form = ~ occasion \| tree\),\n\s+weights = varIdent\(form = ~ 1 \| occasion\)/);
  const arh = rCode("size ~ time*treat + (1|tree) ; ARH1(time | tree) ; varIdent(treat)", "ML");
  assert.match(arh, /fit <- lme\(size ~ time\*treat,\n\s+random = ~ 1 \| tree,\n\s+correlation = corAR1\(form = ~ occasion \| tree\),\n\s+weights = varComb\(varIdent\(form = ~ 1 \| occasion\), varIdent\(form = ~ 1 \| treat\)\)/);
  assert.match(rCode("size ~ time*treat ; varIdent(treat)", "REML"), /gls\(size ~ time\*treat,\n\s+weights = varIdent\(form = ~ 1 \| treat\)/);
  // the residual group defaults to the model's grouping factor
  assert.match(rCode("size ~ time + (time|tree) ; AR1(time)", "REML"), /random = ~ time \| tree,\n\s+correlation = corAR1\(form = ~ occasion \| tree\)/);
  // nested groups: nlme's a/b, in the random part and the correlation
  const nested = rCode("strength ~ 1 + (1|batch/cask) ; CS(1 | cask:batch)", "REML");
  assert.match(nested, /random = ~ 1 \| batch\/cask,\n\s+correlation = corCompSymm\(form = ~ 1 \| batch\/cask\)/);
  // independent effects: pdDiag
  assert.match(rCode("size ~ time + (time||tree) ; CS(1 | tree)", "REML"), /random = list\(tree = pdDiag\(~ time\)\)/);
  // a CAR1 fit gives nlme its estimate as the start
  const t = parseCsv(fs.readFileSync(path.join(ROOT, "assets/examples/sitka.csv"), "utf8"));
  const car = fitModel(t, "size ~ time*treat ; CAR1(time | tree)", { ci: "none" });
  assert.match(rCode("size ~ time*treat ; CAR1(time | tree)", "REML", { fit: car }), /corCAR1\(value = 0\.99\d*, form = ~ time \| tree\)/);
});

test("crossed random effects with a residual structure: nlme cannot, so lmer without it, said in a comment", () => {
  const code = rCode("diameter ~ 1 + (1|plate) + (1|sample) ; varIdent(plate)", "REML");
  assert.match(code, /# nlme has no simple form for crossed random effects/);
  assert.match(code, /lmer\(diameter ~ 1 \+ \(1\|plate\) \+ \(1\|sample\)/);
});

test("the fixed part keeps the user's writing", () => {
  const f = (s: string) => fixedFormula(formulaPart(s), parseSpec(s));
  assert.equal(f("size ~ time*treat + (1|tree) ; AR1(time | tree)"), "size ~ time*treat");
  assert.equal(f("size ~ (1|tree) + time"), "size ~ time");
  assert.equal(f("size ~ 1 + (1 | tree)"), "size ~ 1");
  assert.equal(f("log(size) ~ poly + I(time^2) + (time | tree)"), "log(size) ~ poly + I(time^2)");
  assert.equal(formulaPart("y ~ x ; AR1(t | g) ; varIdent(h)"), "y ~ x");
  assert.equal(rName("log size"), "`log size`");
  assert.equal(rName(".5x"), "`.5x`");
});

/** Rscript with lme4 and nlme, or null. */
function rscript(): string | null {
  const r = spawnSync("Rscript", ["-e", "suppressMessages({library(lme4); library(nlme)}); cat('ok')"], { encoding: "utf8" });
  return r.status === 0 && r.stdout.includes("ok") ? "Rscript" : null;
}

test("the R code reproduces the engine's logLik in R (lme4, nlme)", { skip: rscript() === null ? "Rscript with lme4 and nlme is not installed" : false, timeout: 120000 }, () => {
  const cases: [string, string, "REML" | "ML"][] = [
    ["assets/examples/sitka.csv", "size ~ time*treat + (1|tree)", "REML"],
    ["assets/examples/sitka.csv", "size ~ time + (time|tree)", "REML"],
    ["assets/examples/sitka.csv", "size ~ time*treat ; AR1(time | tree)", "REML"],
    ["assets/examples/sitka.csv", "size ~ time*treat ; CS(1 | tree)", "ML"],
    ["assets/examples/sitka.csv", "size ~ time*treat ; ARH1(time | tree)", "REML"],
    ["assets/examples/sitka.csv", "size ~ time*treat ; UN(time | tree)", "REML"],
    ["assets/examples/sitka.csv", "size ~ time*treat ; CAR1(time | tree)", "REML"],
    ["assets/examples/sitka.csv", "size ~ time*treat + (1|tree) ; AR1(time | tree) ; varIdent(treat)", "REML"],
    ["assets/examples/sitka.csv", "size ~ time*treat ; varIdent(treat)", "REML"],
    ["assets/examples/sitka.csv", "size ~ time + (time||tree) ; CS(1 | tree)", "REML"],
    ["test/data/pastes.csv", "strength ~ 1 + (1|batch/cask)", "REML"],
    ["test/data/pastes.csv", "strength ~ 1 + (1|batch/cask) ; varIdent(batch)", "REML"],
    ["test/data/penicillin.csv", "diameter ~ 1 + (1|plate) + (1|sample)", "REML"],
  ];
  let script = "suppressMessages({library(lme4); library(nlme)})\n";
  const ours: number[] = [];
  cases.forEach(([file, spec, method], k) => {
    const fit = fitModel(parseCsv(fs.readFileSync(path.join(ROOT, file), "utf8")), spec, { method, ci: "none" });
    ours.push(fit.logLik);
    const code = rCode(spec, method, { fit }).replace("summary(fit)", "");
    script += `data <- read.csv("${path.join(ROOT, file)}")\n${code}\ncat(${k}, sprintf("%.8f", as.numeric(logLik(fit))), "\\n")\n`;
  });
  const dir = fs.mkdtempSync(path.join(require("node:os").tmpdir(), "lmm-r-"));
  const file = path.join(dir, "check.R");
  fs.writeFileSync(file, script);
  const r = spawnSync("Rscript", [file], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  const got = new Map(r.stdout.trim().split("\n").map((l) => l.trim().split(/\s+/)).map(([k, v]) => [Number(k), Number(v)]));
  cases.forEach(([, spec, method], k) => {
    const v = got.get(k);
    assert.ok(v !== undefined && Math.abs(v - ours[k]) < 1e-4, `${spec} (${method}): R logLik ${v}, engine ${ours[k]}`);
  });
});
