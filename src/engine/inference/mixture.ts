// Chi-bar-square null distributions for likelihood-ratio tests whose null hypothesis puts
// variance components on the boundary of the parameter space (Self & Liang 1987; Stram & Lee
// 1994), for the nested pairs where the mixture weights are known in closed form:
//  - k independent variances added (new terms with one effect each): sum_j C(k,j) 2^-k chi2_j
//    (k = 1: 1/2 chi2_0 + 1/2 chi2_1);
//  - one effect added to a correlated term of q effects: 1/2 chi2_q + 1/2 chi2_(q+1).
// Other pairs (fixed effects also differ, several correlated effects added) get no mixture.
import type { LmmFit } from "../model/prepared";
import { pChisqUpper } from "./dist";

export interface Mixture {
  weights: number[];
  dfs: number[];
  description: string;
  p(stat: number): number;
}

function blocks(fit: LmmFit): string[] {
  // A structured term (cs, ar1, ...) is a different block from the unstructured one on the same
  // effects: no closed-form mixture is claimed between them.
  return fit.model.remats.map((r) => `${r.group}${r.structure.type === "us" ? "" : `#${r.structure.type}`}|${r.effects.slice().sort().join(",")}`);
}

function binom(n: number, k: number): number {
  let r = 1;
  for (let i = 1; i <= k; i++) r = (r * (n - k + i)) / i;
  return r;
}

function make(weights: number[], dfs: number[], description: string): Mixture {
  return {
    weights,
    dfs,
    description,
    // Weights sum to 1 and each tail is in [0, 1]; the clamp only removes rounding of the sum.
    p: (stat) => Math.min(1, weights.reduce((s, w, i) => s + w * pChisqUpper(stat, dfs[i]), 0)),
  };
}

function words(weights: number[], dfs: number[]): string {
  return weights.map((w, i) => `${w === 0.5 ? "1/2" : w.toPrecision(3)} chi2(${dfs[i]})`).join(" + ");
}

export function boundaryMixture(small: LmmFit, large: LmmFit): Mixture | null {
  if (small.design.xnames.join("\u0001") !== large.design.xnames.join("\u0001")) return null;
  if (small.eta.length !== large.eta.length || small.residual?.res.type !== large.residual?.res.type) return null;
  const bs = blocks(small), bl = blocks(large);
  const remaining = bl.slice();
  const unmatched: string[] = [];
  for (const b of bs) {
    const i = remaining.indexOf(b);
    if (i >= 0) remaining.splice(i, 1);
    else unmatched.push(b);
  }
  if (unmatched.length === 0) {
    if (remaining.length === 0) return null;
    // Independent variances added: terms of one effect, and diag / homdiag terms (q or 1
    // variances, no correlation), each 0 under the null.
    const added = remaining.map((b) => independentVariances(large, b));
    if (added.some((k) => k === null)) return null;
    const k = added.reduce((s: number, v) => s + v!, 0);
    const dfs = Array.from({ length: k + 1 }, (_, j) => j);
    const weights = dfs.map((j) => binom(k, j) / Math.pow(2, k));
    const what = k === 1 ? "one variance component is 0 under the null" : `${k} independent variance components are 0 under the null`;
    return make(weights, dfs, `chi-bar-square mixture ${words(weights, dfs)}: ${what} (Self & Liang 1987)`);
  }
  if (unmatched.length === 1 && remaining.length === 1) {
    const [gs, es] = unmatched[0].split("|");
    const [gl, el] = remaining[0].split("|");
    const small = es.split(","), large = el.split(",");
    if (gs === gl && large.length === small.length + 1 && small.every((e) => large.includes(e))) {
      const q = small.length;
      return make([0.5, 0.5], [q, q + 1], `chi-bar-square mixture 1/2 chi2(${q}) + 1/2 chi2(${q + 1}): one random effect, correlated with the ${q} already in '${gs}', is added (Stram & Lee 1994)`);
    }
  }
  return null;
}

/** How many independent variances the block adds (diag: one per effect, homdiag: one), or null. */
function independentVariances(fit: LmmFit, key: string): number | null {
  const r = fit.model.remats[blocks(fit).indexOf(key)];
  if (!r) return null;
  if (r.structure.type === "diag") return r.q;
  if (r.structure.type === "homdiag" || (r.structure.type === "us" && r.q === 1)) return 1;
  return null;
}
