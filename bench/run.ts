// Benchmarks (not tests): `npm run bench`. Prints per-phase times, peak memory, and the same
// model in lme4 (when Rscript is present) in the same run, with ratios.
//   1. 1,000,000 rows, 50,000 subjects: y ~ time + x1 + grp + (time | subject), balanced and not
//   2. InstEval's shape: 73k rows, 2,972 x 1,128 crossed + a 14-level factor
//   3. AR1 residuals on 1,000,000 rows (50,000 groups x 20 occasions): GLS and random intercept + AR1;
//      then every residual structure on the same rows against AR1 (bench/ar1-structures.ts)
//   4. Kenward-Roger on the 1M-row model, and against pbkrtest on Sitka and 4,000 simulated rows
//   5. influence: hat values and Cook's distances at 1,000,000 rows; group deletion (bench/influence.ts)
//   6. lme4's InstEval through R (bench/insteval.ts), with lme4's fit and the task pane in the same run
import * as fs from "node:fs";
import * as path from "node:path";
import { spawnSync } from "node:child_process";
import { fitModel, parseCsv } from "../src/engine";
import { fitPrepared, prepareFit } from "../src/engine/model/prepared";
import { writeInstEvalLike, writeLongitudinal } from "./simulate";
import { benchKr } from "./kr";
import { benchInfluence } from "./influence";
import { benchInstEval } from "./insteval";
import { benchStructures } from "./ar1-structures";

const ROOT = path.join(__dirname, "..", "..");
const OUT = path.join(ROOT, "bench", "out");
const hasR = !process.env.LMM_BENCH_NO_R && spawnSync("Rscript", ["--version"]).status === 0;
const only = process.argv[2];

function secs(t0: bigint): number {
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

/** Run a command under /usr/bin/time; wall seconds, peak RSS in MB and stdout. */
function timed(cmd: string, args: string[]): { wall: number; rssMB: number; stdout: string; ok: boolean } {
  const t0 = process.hrtime.bigint();
  const r = spawnSync("/usr/bin/time", ["-f", "RSSKB=%M", cmd, ...args], { encoding: "utf8", maxBuffer: 1 << 28 });
  const wall = secs(t0);
  const m = /RSSKB=(\d+)/.exec(r.stderr ?? "");
  return { wall, rssMB: m ? Number(m[1]) / 1024 : NaN, stdout: r.stdout ?? "", ok: r.status === 0 };
}

function bench(name: string, file: string, spec: string, lme4Formula: string | null, method: "REML" | "ML" = "REML", nlmeKind: "gls" | "lme" | null = null): void {
  console.log(`\n== ${name}\n   ${spec}  (${method})`);
  const t0 = process.hrtime.bigint();
  const table = parseCsv(fs.readFileSync(file, "utf8"));
  const tParse = secs(t0);
  const t1 = process.hrtime.bigint();
  const prep = prepareFit(table, spec);
  const tPrep = secs(t1);
  const t2 = process.hrtime.bigint();
  const fit = fitPrepared(prep, method);
  const tOpt = secs(t2);
  const t3 = process.hrtime.bigint();
  const full = fitModel(table, spec, { method });
  const tFull = secs(t3);
  console.log(`   ours: parse CSV ${tParse.toFixed(2)} s | design + cross-products ${tPrep.toFixed(2)} s | optimize ${tOpt.toFixed(2)} s (${fit.opt.evaluations} evaluations)`);
  console.log(`         fit = design + optimize ${(tPrep + tOpt).toFixed(2)} s | fitModel with SEs, Satterthwaite, CIs, BLUPs ${tFull.toFixed(2)} s | logLik ${(-fit.objective / 2).toFixed(4)}`);
  if (full.messages.length) console.log(`         notes: ${full.messages.join(" | ")}`);
  const cli = timed(process.execPath, [path.join(ROOT, "bin", "lmm.js"), "fit", file, spec, "--method", method, "--json"]);
  console.log(`   whole \`lmm fit ... --json\`: ${cli.wall.toFixed(2)} s, peak RSS ${cli.rssMB.toFixed(0)} MB${cli.ok ? "" : " (FAILED)"}`);
  if (hasR && lme4Formula) {
    const r = timed("Rscript", [path.join(ROOT, "bench", "lme4.R"), file, lme4Formula, method]);
    try {
      const j = JSON.parse(r.stdout.trim().split("\n").pop() ?? "{}");
      console.log(`   lme4 ${j.lme4}: read ${j.read_s.toFixed(2)} s | fit ${j.fit_s.toFixed(2)} s | whole Rscript ${r.wall.toFixed(2)} s, peak RSS ${r.rssMB.toFixed(0)} MB | logLik ${j.logLik.toFixed(4)}${j.warnings ? " | convergence warning" : ""}`);
      console.log(`   ratio lme4 / ours: fit ${(j.fit_s / (tPrep + tOpt)).toFixed(1)}x, whole command ${(r.wall / cli.wall).toFixed(1)}x, memory ${(r.rssMB / cli.rssMB).toFixed(1)}x`);
    } catch {
      console.log(`   lme4: failed (${r.stdout.slice(0, 200)})`);
    }
  } else if (!hasR) {
    console.log("   R: Rscript not found; no comparison");
  }
  if (hasR && nlmeKind) {
    const r = timed("Rscript", [path.join(ROOT, "bench", "nlme.R"), file, nlmeKind]);
    try {
      const j = JSON.parse(r.stdout.trim().split("\n").pop() ?? "{}");
      console.log(`   nlme ${j.nlme} ${nlmeKind}: read ${j.read_s.toFixed(2)} s | fit ${j.fit_s.toFixed(2)} s | whole Rscript ${r.wall.toFixed(2)} s, peak RSS ${r.rssMB.toFixed(0)} MB | logLik ${j.logLik.toFixed(4)}`);
      console.log(`   ratio nlme / ours: fit ${(j.fit_s / (tPrep + tOpt)).toFixed(1)}x, whole command ${(r.wall / cli.wall).toFixed(1)}x`);
    } catch {
      console.log(`   nlme: failed (${r.stdout.slice(0, 200)})`);
    }
  }
}

function main(): void {
  fs.mkdirSync(OUT, { recursive: true });
  const big = path.join(OUT, "longitudinal-1M.csv");
  if (!fs.existsSync(big)) writeLongitudinal(big, 50000, 20);
  const inst = path.join(OUT, "insteval-like.csv");
  if (!fs.existsSync(inst)) writeInstEvalLike(inst);
  if (!only || only === "big") bench("1,000,000 rows, 50,000 subjects", big, "y ~ time + x1 + grp + (time | subject)", "y ~ time + x1 + grp + (time | subject)");
  // The same model on unbalanced data (missed visits, jittered times): every subject has its own
  // Z_i'Z_i, so no two levels share a factorization (level-classes.ts does not apply).
  const ragged = path.join(OUT, "longitudinal-1M-unbalanced.csv");
  if ((!only || only === "unbalanced") && !fs.existsSync(ragged)) writeLongitudinal(ragged, 50000, 25, 4, true);
  if (!only || only === "unbalanced") bench("1,000,000 rows, 50,000 subjects, unbalanced", ragged, "y ~ time + x1 + grp + (time | subject)", "y ~ time + x1 + grp + (time | subject)");
  if (!only || only === "crossed") bench("InstEval-shaped crossed design", inst, "y ~ service*dept + (1 | s) + (1 | d)", "y ~ service*dept + (1 | s) + (1 | d)");
  const small = path.join(OUT, "longitudinal-40k.csv");
  if (!fs.existsSync(small)) writeLongitudinal(small, 2000, 20, 3);
  if (!only || only === "ar1") {
    bench("AR1 GLS, 40,000 rows (a size nlme finishes)", small, "y ~ time + x1 + grp ; AR1(time | subject)", null, "REML", "gls");
    bench("random intercept + AR1, 40,000 rows", small, "y ~ time + x1 + grp + (1 | subject) ; AR1(time | subject)", null, "REML", "lme");
    bench("AR1 GLS, 1,000,000 rows", big, "y ~ time + x1 + grp ; AR1(time | subject)", null);
    bench("random intercept + AR1, 1,000,000 rows", big, "y ~ time + x1 + grp + (1 | subject) ; AR1(time | subject)", null);
    // Every other residual structure at 1M rows against AR1 in the same run, and against nlme on 4,000 rows.
    const panel4k = path.join(OUT, "longitudinal-4k.csv");
    if (!fs.existsSync(panel4k)) writeLongitudinal(panel4k, 200, 20, 5);
    benchStructures(ROOT, big, panel4k, hasR);
  }
  if (!only || only === "kr") {
    const kr4k = path.join(OUT, "longitudinal-4k.csv");
    if (!fs.existsSync(kr4k)) writeLongitudinal(kr4k, 200, 20, 5);
    const sitka = path.join(ROOT, "assets", "examples", "sitka.csv");
    benchKr("Sitka (395 rows)", sitka, "size ~ time*treat + (1 | tree)", "size ~ time*treat + (1 | tree)", hasR, ROOT);
    benchKr("4,000 rows, 200 subjects", kr4k, "y ~ time + x1 + grp + (time | subject)", "y ~ time + x1 + grp + (time | subject)", hasR, ROOT);
    benchKr("1,000,000 rows, 50,000 subjects (pbkrtest forms the dense n x n covariance: not run)", big, "y ~ time + x1 + grp + (time | subject)", null, hasR, ROOT);
    benchKr("random intercept + AR1, 1,000,000 rows (no R equivalent)", big, "y ~ time + x1 + grp + (1 | subject) ; AR1(time | subject)", null, hasR, ROOT);
  }
  if (!only || only === "influence") benchInfluence(OUT, hasR);
  if (!only || only === "insteval") benchInstEval(ROOT, OUT, hasR, !process.env.LMM_BENCH_NO_PANE);
}

main();
