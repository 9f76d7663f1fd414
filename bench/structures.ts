// Residual-structure benchmark (not a test): `node build/bench/structures.js`. Each issue-15
// structure on Sitka (median of 3 fits), and nlme's gls of the same model in the same run when
// Rscript is present (bench/nlme-structures.R), with the ratio. Then the issue's speed cases on a
// simulated panel (80 groups x 12 occasions, bench/out/panel-80x12.csv, written here): UN over 12
// occasions (77 parameters) and varIdent over 60 strata with a random intercept. "fitModel" is the
// whole fit with SEs and Satterthwaite df (ci none); "optimize" the optimization alone (cost check
// off, so that models the cost check refuses are timed too).
import * as path from "node:path";
import * as fs from "node:fs";
import { spawnSync } from "node:child_process";
import { fitModel, parseCsv } from "../src/engine";
import type { DataTable } from "../src/engine/types";
import { fitPrepared, prepareFit } from "../src/engine/model/prepared";
import { Rng } from "../src/engine/inference/rng";

const ROOT = path.join(__dirname, "..", "..");
const sitka = parseCsv(fs.readFileSync(path.join(ROOT, "assets/examples/sitka.csv"), "utf8"));
const SPECS: [string, string][] = [
  ["AR1", "size ~ time*treat ; AR1(time | tree)"],
  ["CS", "size ~ time*treat ; CS(1 | tree)"],
  ["ARH1", "size ~ time*treat ; ARH1(time | tree)"],
  ["CSH", "size ~ time*treat ; CSH(time | tree)"],
  ["TOEP", "size ~ time*treat ; TOEP(time | tree)"],
  ["ARMA11", "size ~ time*treat ; ARMA(time | tree, p = 1, q = 1)"],
  ["EXP", "size ~ time*treat ; EXP(time | tree)"],
  ["EXPnug", "size ~ time*treat ; EXP(time | tree, nugget)"],
  ["GAUS", "size ~ time*treat ; GAUS(time | tree)"],
  ["UN", "size ~ time*treat ; UN(time | tree)"],
  ["AR1.varExp", "size ~ time*treat ; AR1(time | tree) ; varIdent(treat) * varExp(time)"],
];

const ms = (f: () => void) => {
  const t: number[] = [];
  for (let k = 0; k < 3; k++) {
    const t0 = process.hrtime.bigint();
    f();
    t.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return t.sort((a, b) => a - b)[1];
};

/** The panel of test/cost.test.ts's shape: 80 groups x 12 occasions, SD growing with time, h over 60 levels. */
function writePanel(file: string): void {
  const g = new Rng(7);
  const lines = ["y,time,g,h"];
  for (let i = 0; i < 80; i++) {
    const b = g.normal();
    for (let t = 0; t < 12; t++) lines.push(`${1 + 0.3 * t + b + g.normal() * (1 + t / 5)},${t},g${i},h${(i + t) % 60}`);
  }
  fs.writeFileSync(file, lines.join("\n") + "\n");
}
const OUT = path.join(ROOT, "bench", "out");
fs.mkdirSync(OUT, { recursive: true });
const panelFile = path.join(OUT, "panel-80x12.csv");
writePanel(panelFile);
const panel = parseCsv(fs.readFileSync(panelFile, "utf8"));
const PANEL: [string, string][] = [
  ["UN12x80", "y ~ time ; UN(time | g)"],
  ["UN12x80.RI", "y ~ time + (1|g) ; UN(time | g)"],
  ["varIdent60.RI", "y ~ time + (1|g) ; varIdent(h)"],
];

function timeOne(table: DataTable, name: string, spec: string) {
  let ll = NaN, t = NaN, note = "";
  try {
    t = ms(() => (ll = fitModel(table, spec, { ci: "none" }).logLik));
  } catch (e) {
    note = `refused: ${String((e as Error).message).slice(0, 60)}...`;
  }
  let tOpt = NaN;
  if (note) {
    const t0 = process.hrtime.bigint();
    const fit = fitPrepared(prepareFit(table, spec, false), "REML");
    tOpt = Number(process.hrtime.bigint() - t0) / 1e6;
    ll = -fit.objective / 2;
  } else tOpt = ms(() => fitPrepared(prepareFit(table, spec), "REML"));
  return { name, t, tOpt, ll, note };
}
const ours = [...SPECS.map(([name, spec]) => timeOne(sitka, name, spec)), ...PANEL.map(([name, spec]) => timeOne(panel, name, spec))];
let r: Record<string, { ms: number; ll: number }> = {};
if (!process.env.LMM_BENCH_NO_R && spawnSync("Rscript", ["--version"]).status === 0) {
  const out = spawnSync("Rscript", [path.join(ROOT, "bench/nlme-structures.R")], { cwd: ROOT, encoding: "utf8" });
  for (const line of (out.stdout ?? "").split("\n")) {
    const m = /^(\S+) ([\d.]+) (-?[\d.]+)$/.exec(line.trim());
    if (m) r[m[1]] = { ms: Number(m[2]), ll: Number(m[3]) };
  }
} else r = {};
console.log("structure      fitModel ms  optimize ms   nlme ms   ratio   logLik ours      logLik nlme");
for (const o of ours) {
  const n = r[o.name];
  const t = Number.isFinite(o.t) ? o.t : o.tOpt;
  console.log(`${o.name.padEnd(14)} ${Number.isFinite(o.t) ? o.t.toFixed(0).padStart(11) : "    refused"} ${o.tOpt.toFixed(0).padStart(12)} ${n ? n.ms.toFixed(0).padStart(9) : "        -"} ${n ? (n.ms / t).toFixed(1).padStart(7) : "      -"}   ${o.ll.toFixed(4).padStart(12)}   ${n ? n.ll.toFixed(4).padStart(12) : ""}${o.note ? `  (${o.note})` : ""}`);
}
