// Influence benchmark (`npm run bench -- influence`): leverages and Cook's distances on 1,000,000
// rows (50,000 subjects), where per-group deletion (50,000 refits) is refused by its cost check,
// and group deletion that finishes (200 subjects x 20 occasions), with lme4's influence() in the
// same run when Rscript is present.
import * as fs from "node:fs";
import * as path from "node:path";
import { spawnSync } from "node:child_process";
import { influenceModel, parseCsv } from "../src/engine";
import { writeLongitudinal } from "./simulate";

function secs(t0: bigint): number {
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

export function benchInfluence(out: string, hasR: boolean): void {
  // A random intercept: the random-slope model at these sizes is refused by the fit's own cost check.
  const spec = "y ~ time + x1 + grp + (1 | subject)";
  const cases = [
    { file: path.join(out, "longitudinal-1M-5k.csv"), subjects: 5000, times: 200, what: "1,000,000 rows, 5,000 subjects" },
    { file: path.join(out, "longitudinal-200k-50k.csv"), subjects: 50000, times: 4, what: "200,000 rows, 50,000 subjects" },
  ];
  for (const c of cases) {
    if (!fs.existsSync(c.file)) writeLongitudinal(c.file, c.subjects, c.times, 7);
    console.log(`\n== influence, ${c.what}\n   ${spec}`);
    const table = parseCsv(fs.readFileSync(c.file, "utf8"));
    const t0 = process.hrtime.bigint();
    let r;
    try {
      r = influenceModel(table, spec, { groups: ["subject"] });
    } catch (e) {
      console.log(`   refused: ${(e as Error).message}`);
      continue;
    }
    console.log(`   ours: fit + hat values + Cook's distances ${secs(t0).toFixed(2)} s (${r.hat.length} rows) | group deletion: ${r.groups.subject ? "done" : "refused"}`);
    for (const n of r.notes) console.log(`   note: ${n}`);
  }
  const small = path.join(out, "longitudinal-4k.csv");
  if (!fs.existsSync(small)) writeLongitudinal(small, 200, 20, 5);
  console.log(`\n== influence with group deletion, 4,000 rows, 200 subjects\n   ${spec}`);
  const t2 = parseCsv(fs.readFileSync(small, "utf8"));
  const t0 = process.hrtime.bigint();
  const r2 = influenceModel(t2, spec, { groups: ["subject"] });
  const ours = secs(t0);
  console.log(`   ours: fit, hat, Cook's and 200 deletion refits ${ours.toFixed(2)} s${r2.notes.length ? ` | notes: ${r2.notes.join(" | ")}` : ""}`);
  if (!hasR) return;
  const code = `suppressPackageStartupMessages(library(lme4)); d <- read.csv("${small}"); d$subject <- factor(d$subject); d$grp <- factor(d$grp);
    t0 <- proc.time()[["elapsed"]]; m <- lmer(${spec}, data = d); h <- hatvalues(m); ck <- cooks.distance(m);
    inf <- influence(m, groups = "subject", data = d); g <- cooks.distance(inf); cat(proc.time()[["elapsed"]] - t0, max(abs(g)), "\\n")`;
  const rr = spawnSync("Rscript", ["-e", code], { encoding: "utf8" });
  const [rs, rmax] = (rr.stdout ?? "").trim().split(/\s+/).map(Number);
  if (!Number.isFinite(rs)) {
    console.log(`   lme4: failed (${(rr.stderr ?? "").slice(0, 200)})`);
    return;
  }
  const omax = Math.max(...r2.groups.subject.cooks);
  console.log(`   lme4 influence(): ${rs.toFixed(2)} s | ratio lme4 / ours ${(rs / ours).toFixed(1)}x | largest group Cook's distance: lme4 ${rmax.toPrecision(6)}, ours ${omax.toPrecision(6)}`);
}
