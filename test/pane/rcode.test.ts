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

test("random effects only: lmerTest's lmer with the spec's formula, and the lines that print the sheet's numbers", () => {
  const code = rCode("size ~ time*treat + (1|tree)", "REML", { source: "Sheet1!A1:D396" });
  const lines = code.split("\n");
  assert.deepEqual(lines.slice(0, 3), [
    '# data: a data frame with the columns of Sheet1!A1:D396 (e.g. data <- read.csv("data.csv"))',
    "library(lmerTest)  # lme4's lmer, plus Satterthwaite df and p-values",
    "fit <- lmer(size ~ time*treat + (1|tree), data = data, REML = TRUE)",
  ]);
  // Satterthwaite df and p (lmerTest), the sheet's t intervals, the variance components, profile SD intervals, criteria
  assert.match(code, /fx <- coef\(summary\(fit\)\)/);
  assert.match(code, /qt\(0\.975, fx\[, "df"\]\)/);
  assert.match(code, /as\.data\.frame\(VarCorr\(fit\)\)/);
  assert.match(code, /var_prop/);
  assert.match(code, /confint\(fit, parm = "theta_", oldNames = FALSE, level = 0\.95\)/);
  assert.match(code, /log\(nobs\(fit\) - length\(fixef\(fit\)\)\)/, "BIC of a REML fit as the sheet (log(n - p))");
  assert.match(rCode("size ~ time + (1|tree)", "ML", { level: 0.9 }), /qt\(0\.95, [\s\S]*c\("5 %", "95 %"\)[\s\S]*BIC = BIC\(fit\)/);
  assert.doesNotMatch(rCode("size ~ time + (1|tree)", "REML", { ci: "none" }), /confint/);
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
    // the fit itself (what follows it prints the sheet's numbers: tested below)
    const code = rCode(spec, method, { fit, ci: "none" }).split(/\n(?=fx <- |summary\(fit\))/)[0];
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

test("the R code reproduces the sheet's df, p-values, intervals and SD intervals (lmerTest, confint)", { skip: rscript() === null || spawnSync("Rscript", ["-e", "library(lmerTest)"]).status !== 0 ? "Rscript with lmerTest is not installed" : false, timeout: 240000 }, () => {
  // The random-slope model's SD intervals are not compared: lme4's profile fails on it (NA, and
  // a lower bound of 0 for the intercept SD, with 50 warnings) on Sitka's raw day scale.
  const cases: [string, string, "REML" | "ML", "profile" | "none"][] = [
    ["assets/examples/sitka.csv", "size ~ time*treat + (1|tree)", "REML", "profile"],
    ["assets/examples/sitka.csv", "size ~ time + (time|tree)", "REML", "none"],
    ["assets/examples/sitka.csv", "size ~ time*treat + (1|tree)", "ML", "profile"],
    ["test/data/pastes.csv", "strength ~ 1 + (1|batch/cask)", "REML", "profile"],
  ];
  let script = "suppressMessages(library(lmerTest))\n";
  const fits = cases.map(([file, spec, method, ci], k) => {
    const fit = fitModel(parseCsv(fs.readFileSync(path.join(ROOT, file), "utf8")), spec, { method, ci, level: 0.95 });
    script += `data <- read.csv("${path.join(ROOT, file)}")\n${rCode(spec, method, { fit, ci, level: 0.95 })}\n`;
    script += `cat("@@FX", ${k}, sprintf("%.10g", c(fx)), "\\n")\ncat("@@CR", ${k}, sprintf("%.10g", crit), "\\n")\n`;
    if (ci === "profile") script += `cat("@@CI", ${k}, rownames(sdci), "\\n")\ncat("@@CV", ${k}, sprintf("%.10g", c(sdci)), "\\n")\n`;
    return fit;
  });
  const dir = fs.mkdtempSync(path.join(require("node:os").tmpdir(), "lmm-r-"));
  const file = path.join(dir, "sheet.R");
  fs.writeFileSync(file, script);
  const r = spawnSync("Rscript", [file], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  const tagged = (tag: string, k: number) => r.stdout.split("\n").find((l) => l.startsWith(`${tag} ${k} `))!.trim().split(/\s+/).slice(2);
  const rel = (a: number, b: number, tol: number, what: string) => assert.ok(Math.abs(a - b) <= tol * Math.max(1, Math.abs(b)), `${what}: R ${b}, engine ${a}`);
  fits.forEach((fit, k) => {
    const [, spec, method] = cases[k];
    const p = fit.fixef.length;
    const fx = tagged("@@FX", k).map(Number); // column-major: Estimate, SE, df, t, p, lower, upper
    const col = (j: number) => fx.slice(j * p, (j + 1) * p);
    fit.fixef.forEach((row, i) => {
      const what = `${spec} (${method}) ${row.term}`;
      rel(row.estimate, col(0)[i], 1e-5, `${what} estimate`);
      rel(row.se, col(1)[i], 1e-4, `${what} SE`);
      rel(row.df!, col(2)[i], 2e-3, `${what} Satterthwaite df`);
      assert.ok(Math.abs(row.p! - col(4)[i]) <= 1e-3 * Math.max(col(4)[i], 1e-12) + 1e-12, `${what} p: R ${col(4)[i]}, engine ${row.p}`);
      rel(row.lower!, col(5)[i], 1e-4, `${what} lower`);
      rel(row.upper!, col(6)[i], 1e-4, `${what} upper`);
    });
    // SD intervals by name: sd_(Intercept)|tree, cor_...|tree, sigma
    const names = cases[k][3] === "profile" ? tagged("@@CI", k) : [];
    const cv = names.length ? tagged("@@CV", k).map(Number) : [];
    names.forEach((n, i) => {
      const m = /^(sd|cor)_(.*)\|(.*)$/.exec(n);
      const row = n === "sigma" ? fit.varcomp.find((v) => v.group === "Residual") : m![1] === "sd" ? fit.varcomp.find((v) => v.group === m![3] && v.effect === m![2] && v.effect2 === null) : fit.varcomp.find((v) => v.group === m![3] && v.effect2 !== null);
      assert.ok(row, `${spec}: a varcomp row for ${n}`);
      rel(row!.sd_lower!, cv[i], 5e-3, `${spec} (${method}) ${n} lower`);
      rel(row!.sd_upper!, cv[names.length + i], 5e-3, `${spec} (${method}) ${n} upper`);
    });
    const [ll, aic, bic, sigma] = tagged("@@CR", k).map(Number);
    rel(fit.logLik, ll, 1e-6, `${spec} logLik`);
    rel(fit.AIC, aic, 1e-6, `${spec} AIC`);
    rel(fit.BIC, bic, 1e-6, `${spec} BIC`);
    rel(fit.sigma, sigma, 1e-5, `${spec} sigma`);
  });
});
