// lme4's own InstEval (73,421 ratings; 2,972 students x 1,128 lecturers x 14 departments), the
// crossed design of issue 16: `y ~ service + (1|s) + (1|d) + (1|dept)`, REML. The data set stays
// out of the repository: it is exported through R into bench/out/ (gitignored) when Rscript is
// present, and the section is skipped with a line saying so when it is not. Ours and lme4's fit
// run in the same benchmark, so their ratio holds under the machine's load at the time; the
// per-evaluation times say the same on a busy machine.
import * as fs from "node:fs";
import * as path from "node:path";
import { spawnSync } from "node:child_process";
import { fitModel, parseCsv } from "../src/engine";
import { fitPrepared, prepareFit } from "../src/engine/model/prepared";
import { BlockedModel } from "../src/engine/model/blocked";

const SPEC = "y ~ service + (1|s) + (1|d) + (1|dept)";

function secs(t0: bigint): number {
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

function timed(cmd: string, args: string[]): { wall: number; rssMB: number; stdout: string; ok: boolean } {
  const t0 = process.hrtime.bigint();
  const r = spawnSync("/usr/bin/time", ["-f", "RSSKB=%M", cmd, ...args], { encoding: "utf8", maxBuffer: 1 << 28 });
  const m = /RSSKB=(\d+)/.exec(r.stderr ?? "");
  return { wall: secs(t0), rssMB: m ? Number(m[1]) / 1024 : NaN, stdout: r.stdout ?? "", ok: r.status === 0 };
}

/** bench/out/insteval.csv from lme4's InstEval (once); null if R cannot write it. */
function exportInstEval(out: string): string | null {
  const file = path.join(out, "insteval.csv");
  if (fs.existsSync(file)) return file;
  const r = spawnSync("Rscript", ["-e", `suppressPackageStartupMessages(library(lme4)); write.csv(InstEval, ${JSON.stringify(file)}, row.names = FALSE)`], { encoding: "utf8" });
  return r.status === 0 && fs.existsSync(file) ? file : null;
}

export function benchInstEval(root: string, out: string, hasR: boolean, pane: boolean): void {
  console.log(`\n== lme4's InstEval (73,421 ratings, 2,972 students x 1,128 lecturers x 14 departments)\n   ${SPEC}  (REML)`);
  if (!hasR) {
    console.log("   skipped: Rscript not found (the data set is exported from lme4 and is not in the repository)");
    return;
  }
  const file = exportInstEval(out);
  if (!file) {
    console.log("   skipped: R could not export lme4's InstEval (is lme4 installed?)");
    return;
  }
  const table = parseCsv(fs.readFileSync(file, "utf8"));
  const t1 = process.hrtime.bigint();
  const prep = prepareFit(table, SPEC);
  const tPrep = secs(t1);
  const t2 = process.hrtime.bigint();
  const fit = fitPrepared(prep, "REML");
  const tOpt = secs(t2);
  const evals = fit.opt.evaluations;
  // One evaluation alone, at the optimum (the optimizer's mean includes its own bookkeeping).
  const reps = 5;
  const t3 = process.hrtime.bigint();
  for (let i = 0; i < reps; i++) prep.model.evaluate(fit.theta, true);
  const perEval = (secs(t3) / reps) * 1000;
  const t4 = process.hrtime.bigint();
  const full = fitModel(table, SPEC, { method: "REML" });
  const tFull = secs(t4);
  const tFit = tPrep + tOpt;
  console.log(`   ours: design + cross-products ${tPrep.toFixed(2)} s | optimize ${tOpt.toFixed(2)} s (${evals} evaluations, ${(tOpt * 1000 / evals).toFixed(0)} ms each; one evaluation alone ${perEval.toFixed(0)} ms)`);
  console.log(`         fit ${tFit.toFixed(2)} s | fitModel (Satterthwaite df, Wald intervals, BLUPs and conditional SDs) ${tFull.toFixed(2)} s, of which inference ${(tFull - tFit).toFixed(2)} s | logLik ${full.logLik.toFixed(6)}`);
  if (full.messages.length) console.log(`         notes: ${full.messages.join(" | ")}`);
  // Profile-likelihood intervals of the variance components, asked for (Newton's method on the
  // profile system, inference/profile-newton.ts): the deviances they took and their time.
  const factorObjective = BlockedModel.prototype.factorObjective;
  let deviances = 0;
  BlockedModel.prototype.factorObjective = function (this: BlockedModel, th: ArrayLike<number>) {
    deviances++;
    return factorObjective.call(this, th);
  };
  const t5 = process.hrtime.bigint();
  const prof = fitModel(table, SPEC, { method: "REML", ci: "profile" });
  const tProf = secs(t5);
  BlockedModel.prototype.factorObjective = factorObjective;
  const ends = prof.varcomp.map((v) => `${v.group} [${v.sd_lower?.toFixed(4)}, ${v.sd_upper?.toFixed(4)}]`).join(", ");
  console.log(`         fitModel with profile intervals ${tProf.toFixed(2)} s, of which the intervals ${(tProf - tFull).toFixed(2)} s (${deviances} deviances in all, the fit's included): ${ends}`);
  const cli = timed(process.execPath, [path.join(root, "bin", "lmm.js"), "fit", file, SPEC, "--json"]);
  console.log(`   whole \`lmm fit ... --json\`: ${cli.wall.toFixed(2)} s, peak RSS ${cli.rssMB.toFixed(0)} MB${cli.ok ? "" : " (FAILED)"}`);
  const r = timed("Rscript", [path.join(root, "bench", "lme4.R"), file, SPEC.replace(/\(1\|/g, "(1 | "), "REML"]);
  try {
    const j = JSON.parse(r.stdout.trim().split("\n").pop() ?? "{}");
    console.log(`   lme4 ${j.lme4}: fit ${j.fit_s.toFixed(2)} s | whole Rscript ${r.wall.toFixed(2)} s, peak RSS ${r.rssMB.toFixed(0)} MB | logLik ${j.logLik.toFixed(6)} (ours - lme4: ${(full.logLik - j.logLik).toExponential(1)})`);
    console.log(`   ratio lme4 fit / ours: fit ${(j.fit_s / tFit).toFixed(1)}x, fitModel ${(j.fit_s / tFull).toFixed(1)}x, whole \`lmm fit --json\` ${(j.fit_s / cli.wall).toFixed(1)}x; whole commands ${(r.wall / cli.wall).toFixed(1)}x; memory ${(r.rssMB / cli.rssMB).toFixed(1)}x`);
  } catch {
    console.log(`   lme4: failed (${r.stdout.slice(0, 200)})`);
  }
  if (!pane) return;
  // The task pane at this size: headless Chromium, the fit in the Web Worker (bench/pane.ts).
  const p = spawnSync(process.execPath, [path.join(root, "build", "bench", "pane.js"), "--csv", file, "--spec", SPEC], { encoding: "utf8", timeout: 900000 });
  if (p.status === 0) console.log(p.stdout.replace(/^/gm, "   ").trimEnd());
  else console.log(`   task pane: not run (${(p.stderr || p.stdout || "no browser").trim().split("\n").pop()})`);
}
