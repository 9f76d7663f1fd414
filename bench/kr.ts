// Kenward-Roger in the benchmarks (bench/run.ts): its time on the 1M-row model, and ours against
// pbkrtest (through lmerTest's summary, bench/pbkrtest.R) in the same run on sizes pbkrtest
// finishes, with the largest difference of the SEs and df. The machine's load average is printed
// with each timing (the benchmark machine is shared).
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { spawnSync } from "node:child_process";
import { parseCsv } from "../src/engine";
import { fitPrepared, prepareFit } from "../src/engine/model/prepared";
import { setFixefKr } from "../src/engine/inference/anova";
import type { FixefRow } from "../src/engine/types";

function secs(t0: bigint): number {
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

const load = () => os.loadavg().map((x) => x.toFixed(1)).join(" ");

/** Ours: fit, then the KR t tests (vcovAdj and the df of every coefficient). */
export function oursKr(file: string, spec: string): { fit: number; kr: number; rows: FixefRow[] } {
  const table = parseCsv(fs.readFileSync(file, "utf8"));
  const t0 = process.hrtime.bigint();
  // The fit's up-front cost check (cost.ts) refuses the 1M-row models; the benchmark times them anyway.
  const fit = fitPrepared(prepareFit(table, spec, false), "REML");
  const tFit = secs(t0);
  const rows: FixefRow[] = fit.design.xnames.map((term) => ({ term, estimate: 0, se: 1, df: null, t: 0, p: null, lower: null, upper: null }));
  const t1 = process.hrtime.bigint();
  setFixefKr(fit, rows, 0.95);
  return { fit: tFit, kr: secs(t1), rows };
}

export function benchKr(name: string, file: string, spec: string, rFormula: string | null, hasR: boolean, root: string): void {
  console.log(`\n== Kenward-Roger: ${name}\n   ${spec}  (REML; load average before: ${load()}, ${os.cpus().length} cores)`);
  const o = oursKr(file, spec);
  console.log(`   ours: fit ${o.fit.toFixed(2)} s | Kenward-Roger (adjusted vcov, df of ${o.rows.length} coefficients) ${o.kr.toFixed(2)} s | load average after: ${load()}`);
  console.log(`         KR df: ${o.rows.map((r) => `${r.term} ${r.df?.toFixed(2)}`).join(", ")}`);
  if (!rFormula) return;
  if (!hasR) {
    console.log("   R: Rscript not found; no comparison");
    return;
  }
  const t0 = process.hrtime.bigint();
  const r = spawnSync("Rscript", [path.join(root, "bench", "pbkrtest.R"), file, rFormula], { encoding: "utf8", maxBuffer: 1 << 26 });
  const wall = secs(t0);
  try {
    const j = JSON.parse((r.stdout ?? "").trim().split("\n").pop() ?? "{}") as { fit_s: number; kr_s: number; se: number[]; df: number[]; pbkrtest: string };
    let dSe = 0, dDf = 0;
    o.rows.forEach((row, i) => {
      dSe = Math.max(dSe, Math.abs(row.se - j.se[i]) / j.se[i]);
      dDf = Math.max(dDf, Math.abs((row.df ?? NaN) - j.df[i]) / j.df[i]);
    });
    console.log(`   pbkrtest ${j.pbkrtest} (lmerTest summary, ddf Kenward-Roger): fit ${j.fit_s.toFixed(2)} s | Kenward-Roger ${j.kr_s.toFixed(2)} s | whole Rscript ${wall.toFixed(2)} s | load average after: ${load()}`);
    console.log(`   ratio pbkrtest / ours (Kenward-Roger step): ${(j.kr_s / o.kr).toFixed(1)}x | largest relative difference: SE ${dSe.toExponential(1)}, df ${dDf.toExponential(1)}`);
  } catch {
    console.log(`   pbkrtest: failed (${(r.stderr ?? "").slice(-300)})`);
  }
}
