// Residual-structure benchmark (not a test): `node build/bench/structures.js`. Each issue-15
// structure on Sitka (median of 3 fits), and nlme's gls of the same model in the same run when
// Rscript is present (bench/nlme-structures.R), with the ratio.
import * as path from "node:path";
import * as fs from "node:fs";
import { spawnSync } from "node:child_process";
import { fitModel, parseCsv } from "../src/engine";

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

const ours = SPECS.map(([name, spec]) => {
  let ll = NaN;
  const t = ms(() => (ll = fitModel(sitka, spec, { ci: "none" }).logLik));
  return { name, t, ll };
});
let r: Record<string, { ms: number; ll: number }> = {};
if (!process.env.LMM_BENCH_NO_R && spawnSync("Rscript", ["--version"]).status === 0) {
  const out = spawnSync("Rscript", [path.join(ROOT, "bench/nlme-structures.R")], { cwd: ROOT, encoding: "utf8" });
  for (const line of (out.stdout ?? "").split("\n")) {
    const m = /^(\S+) ([\d.]+) (-?[\d.]+)$/.exec(line.trim());
    if (m) r[m[1]] = { ms: Number(m[2]), ll: Number(m[3]) };
  }
} else r = {};
console.log("structure      ours ms   nlme ms   ratio   logLik ours      logLik nlme");
for (const o of ours) {
  const n = r[o.name];
  console.log(`${o.name.padEnd(12)} ${o.t.toFixed(0).padStart(8)} ${n ? n.ms.toFixed(0).padStart(9) : "        -"} ${n ? (n.ms / o.t).toFixed(1).padStart(7) : "      -"}   ${o.ll.toFixed(4).padStart(12)}   ${n ? n.ll.toFixed(4).padStart(12) : ""}`);
}
