// Simulated data sets for the benchmarks, written as CSV (deterministic: seeded).
import * as fs from "node:fs";
import { Rng } from "../src/engine/inference/rng";

/**
 * Longitudinal: `subjects` x `times` rows, y ~ time + x1 + grp + (time | subject). Balanced: every
 * subject is seen at times 0..times-1. With `unbalanced`, each visit is missed with probability
 * 0.2 and happens at a jittered time (t + U(-0.3, 0.3)), so no two subjects share Z_i'Z_i.
 */
export function writeLongitudinal(file: string, subjects: number, times: number, seed = 1, unbalanced = false): void {
  const rng = new Rng(seed);
  const out = fs.openSync(file, "w");
  let buf = "y,time,x1,grp,subject\n";
  const grpNames = ["a", "b", "c"];
  for (let s = 0; s < subjects; s++) {
    const b0 = 0.8 * rng.normal(), b1 = 0.2 * rng.normal();
    const g = Math.floor(rng.uniform() * 3);
    let e = 0;
    for (let visit = 0; visit < times; visit++) {
      const x1 = rng.normal();
      e = 0.5 * e + rng.normal() * Math.sqrt(1 - 0.25) * 0.5;
      const t = unbalanced ? Math.round((visit + 0.6 * rng.uniform() - 0.3) * 1000) / 1000 : visit;
      if (unbalanced && rng.uniform() < 0.2) continue;
      const y = 1 + 0.3 * t + 0.5 * x1 + [0, 0.4, -0.2][g] + b0 + b1 * t + e;
      buf += `${y.toFixed(4)},${t},${x1.toFixed(4)},${grpNames[g]},S${s}\n`;
    }
    if (buf.length > 1 << 20) {
      fs.writeSync(out, buf);
      buf = "";
    }
  }
  fs.writeSync(out, buf);
  fs.closeSync(out);
}

/** InstEval's shape: ~73k ratings, 2972 students x 1128 lecturers crossed, 14 departments. */
export function writeInstEvalLike(file: string, seed = 2): void {
  const rng = new Rng(seed);
  const S = 2972, D = 1128, DEPT = 14, N = 73421;
  const deptOf = Int32Array.from({ length: D }, () => Math.floor(rng.uniform() * DEPT));
  const us = Float64Array.from({ length: S }, () => 0.32 * rng.normal());
  const ud = Float64Array.from({ length: D }, () => 0.52 * rng.normal());
  const deptEff = Float64Array.from({ length: DEPT }, () => 0.2 * rng.normal());
  let buf = "y,service,dept,s,d\n";
  for (let i = 0; i < N; i++) {
    const s = i % S; // every student rates about N / S lecturers
    const d = Math.floor(rng.uniform() * D);
    const service = rng.uniform() < 0.43 ? 1 : 0;
    const y = 3.2 + 0.07 * service + deptEff[deptOf[d]] + us[s] + ud[d] + 1.18 * rng.normal();
    buf += `${y.toFixed(3)},${service ? "yes" : "no"},D${deptOf[d]},s${s},d${d}\n`;
  }
  fs.writeFileSync(file, buf);
}
