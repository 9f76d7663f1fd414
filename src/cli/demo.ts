// `lmm demo`: the lecture's analyses (MATH-516 week 6) on the bundled Sitka data, each printed
// as R prints it, with the R call it corresponds to.
import * as fs from "node:fs";
import * as path from "node:path";
import { compareModels, exactRlrt, fitModel, parseCsv } from "../engine";
import type { DataTable, FitResult } from "../engine/types";
import { formatFit, formatLrt, formatRlrt, num, table } from "./format";
import { roundedColumn } from "./rformat";

export const SITKA_PATH = path.join(__dirname, "..", "..", "..", "assets", "examples", "sitka.csv");

function heading(title: string, rcall: string): string {
  return `\n${"=".repeat(78)}\n${title}\n  R: ${rcall}\n${"-".repeat(78)}`;
}

/** The lecture's Table 1 layout: group, effect, variance, sd, sd_2.5, sd_97.5, var_prop. */
export function table1(fit: FitResult): string {
  // mixedup::extract_vc rounds to 3 decimals; R then prints each column of the data frame.
  const vc = fit.varcomp.filter((r) => r.effect2 === null);
  const col = (f: (r: (typeof vc)[number]) => number | null) => roundedColumn(vc.map(f), 3);
  const [variance, sd, lo, hi, prop] = [col((r) => r.variance), col((r) => r.sd), col((r) => r.sd_lower), col((r) => r.sd_upper), col((r) => r.var_prop)];
  const rows = vc.map((r, i) => [r.group, r.effect === "(Intercept)" ? "Intercept" : r.effect ?? "", variance[i], sd[i], lo[i], hi[i], prop[i]]);
  return table(["group", "effect", "variance", "sd", "sd_2.5", "sd_97.5", "var_prop"], rows);
}

/** Says what the demo is doing while it works (its output comes at the end, all at once). */
export type DemoProgress = (step: number, of: number, what: string) => void;

const STEPS = 5;

/**
 * Progress on stderr, so stdout stays the demo's tables: on a terminal one line rewritten at each
 * step and erased at the end; elsewhere (a pipe, a log) one line at the start.
 */
export function stderrProgress(stream: NodeJS.WriteStream = process.stderr): DemoProgress {
  return (step, of, what) => {
    if (stream.isTTY) stream.write(step > of ? "\r\x1b[K" : `\r\x1b[Klmm demo: ${what} (${step} of ${of})...`);
    else if (step === 1) stream.write(`lmm demo: fitting the lecture's models on the bundled Sitka data (${of} steps, a few seconds)...\n`);
  };
}

export function runDemo(dataPath = SITKA_PATH, progress: DemoProgress = stderrProgress()): string {
  progress(1, STEPS, "the random-intercept model, with profile intervals");
  const data: DataTable = parseCsv(fs.readFileSync(dataPath, "utf8"));
  const out: string[] = [];
  const trees = data.columns.find((c) => c.name === "tree");
  const treat = data.columns.find((c) => c.name === "treat");
  out.push("LMM for Excel: the lecture's analyses (MATH-516, week 6) on the Sitka spruce data");
  out.push(`${data.nrow} rows; columns ${data.columns.map((c) => c.name).join(", ")}`);
  if (trees && treat && treat.kind === "factor") {
    const counts = new Map<string, Set<number>>();
    const tv = trees.kind === "numeric" ? trees.values : trees.codes;
    for (let i = 0; i < data.nrow; i++) {
      const lev = treat.levels[treat.codes[i]];
      if (!counts.has(lev)) counts.set(lev, new Set());
      counts.get(lev)!.add(tv[i]);
    }
    out.push(`trees per treatment: ${Array.from(counts, ([k, v]) => `${k} ${v.size}`).join(", ")}`);
  }

  const spec1 = "size ~ time*treat + (1|tree)";
  const mm1 = fitModel(data, spec1, { method: "REML" });
  out.push(heading("Random-intercept model, REML", "lmer(size ~ time*treat + (1|tree), data = Sitka, REML = TRUE)"));
  out.push(formatFit(mm1, "sitka.csv"));
  out.push(heading("Table 1: estimated variance of random effects (profile-likelihood CIs of the SDs)", "mixedup::extract_vc(mm1)"));
  out.push(table1(mm1));
  const tree = mm1.varcomp.find((r) => r.group === "tree" && r.effect2 === null);
  const resid = mm1.varcomp.find((r) => r.group === "Residual");
  if (tree?.variance != null && resid?.variance != null && mm1.icc != null) {
    out.push(`intra-tree correlation: ${num(tree.variance, 4)} / (${num(tree.variance, 4)} + ${num(resid.variance, 4)}) = ${mm1.icc.toFixed(3)}`);
  }
  const bl = mm1.blups.tree;
  if (bl) {
    out.push(heading("Predicted random effects (BLUPs), first 6 trees", "ranef(mm1, condVar = TRUE)"));
    out.push(table(["tree", "(Intercept)", "cond. SD"], bl.levels.slice(0, 6).map((l, i) => [l, num(bl.values[i][0], 5), num(bl.se[i][0], 4)])));
  }

  progress(2, STEPS, "the likelihood-ratio test of ozone, by ML");
  out.push(heading("Does ozone change growth? Likelihood-ratio test by ML", 'anova(lme(size ~ time*treat, random = ~1|tree, method = "ML"), lme(size ~ time, random = ~1|tree, method = "ML"))'));
  out.push(formatLrt(compareModels(data, ["size ~ time*treat + (1|tree)", "size ~ time + (1|tree)"], { method: "ML" })));

  progress(3, STEPS, "the random-slope test");
  out.push(heading("Is a random slope needed? REML likelihood-ratio test, chi-bar-square p", 'anova(lme(size ~ time, random = ~1|tree), lme(size ~ time, random = ~time|tree))'));
  out.push(formatLrt(compareModels(data, ["size ~ time + (1|tree)", "size ~ time + (time|tree)"], { method: "REML" })));
  out.push("(p-value: the naive chi2(2), as nlme prints it; p (mixture): 0.5*(1-pchisq(L,1)) + 0.5*(1-pchisq(L,2)), as in the lecture)");

  progress(4, STEPS, "the five residual covariance structures");
  out.push(heading("Linear model with correlated errors: independence, CS, AR(1), ARH(1), unstructured (REML)", "anova(gls(size ~ time*treat, correlation = corCompSymm / corAR1 / corSymm, weights = varIdent, ...))"));
  const ladder = ["size ~ time*treat", "size ~ time*treat ; CS(1 | tree)", "size ~ time*treat ; AR1(time | tree)", "size ~ time*treat ; ARH1(time | tree)", "size ~ time*treat ; UN(time | tree)"];
  out.push(formatLrt(compareModels(data, ladder, { method: "REML" })));
  out.push("(covariance parameters: 2 for CS and AR(1), 6 for ARH(1), 15 for UN, as in the lecture)");

  progress(5, STEPS, "the exact RLRT, 10000 simulations");
  out.push(heading("Is the random intercept needed? Exact RLRT", "RLRsim::exactRLRT(mm1)"));
  out.push(formatRlrt(exactRlrt(data, spec1, { nsim: 10000, seed: 1 }), spec1));
  progress(STEPS + 1, STEPS, "done");
  return out.join("\n");
}
