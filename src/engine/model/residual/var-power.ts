// Variance functions of a covariate v (nlme varPower, varExp, varConstPower, varFixed), each
// optionally with its own parameters per level of a factor (nlme's `| strata`):
//   varPower:      sd ratio |v|^delta
//   varExp:        exp(delta v)
//   varConstPower: c + |v|^delta, c = exp(eta) > 0 (nlme's unconstrained log c)
//   varFixed:      sqrt(v), no parameter (v > 0: a known variance, as nlme's weights = ~ v)
// log|v| is computed once per model, so an evaluation is one exp (or two) per row.
import type { VarFunction } from "./types";
import { DataError } from "../../errors";

export type VarKind = "varPower" | "varExp" | "varConstPower" | "varFixed";

export function varOfCovariate(kind: VarKind, label: string, v: Float64Array, strata: Int32Array | null, levels: string[]): VarFunction {
  const n = v.length, ns = strata ? levels.length : 1;
  const logv = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const a = Math.abs(v[i]);
    if (kind === "varFixed" && !(v[i] > 0)) throw new DataError(`varFixed(${label}) needs positive values (the variance of each row, up to sigma^2): row ${i + 1} of the rows used has ${v[i]}`);
    if (kind === "varPower" && !(a > 0)) {
      throw new DataError(`varPower(${label}) needs nonzero values (the SD is |${label}|^delta): a row has ${label} = ${v[i]}; use varConstPower or varExp`);
    }
    logv[i] = Math.log(a);
  }
  const per = kind === "varConstPower" ? 2 : kind === "varFixed" ? 0 : 1;
  const names = kind === "varConstPower" ? ["const", "power"] : kind === "varExp" ? ["expon"] : ["power"];
  return {
    nPar: per * ns,
    inputs: strata ? [v, strata] : [v],
    restrict: (rows) => varOfCovariate(kind, label, Float64Array.from(rows, (r) => v[r]), strata ? Int32Array.from(rows, (r) => strata[r]) : null, levels),
    apply(eta, sd) {
      let ls = 0;
      for (let i = 0; i < n; i++) {
        const s = strata ? strata[i] : 0;
        let l: number;
        if (kind === "varFixed") l = 0.5 * logv[i];
        else if (kind === "varPower") l = eta[s] * logv[i];
        else if (kind === "varExp") l = eta[s] * v[i];
        else {
          const c = Math.exp(eta[2 * s]), d = eta[2 * s + 1];
          l = Math.log(c + Math.exp(d * logv[i]));
        }
        sd[i] *= Math.exp(l);
        ls += l;
      }
      return ls;
    },
    gradLog(eta, q, out) {
      // varPower: d/d delta = log|v|; varExp: v; varConstPower: d/d log c = c / (c + |v|^d),
      // d/d d = log|v| |v|^d / (c + |v|^d); varFixed: no parameter.
      out.fill(0);
      if (kind === "varFixed") return;
      for (let i = 0; i < n; i++) {
        const s = strata ? strata[i] : 0;
        if (kind === "varPower") out[s] += q[i] * logv[i];
        else if (kind === "varExp") out[s] += q[i] * v[i];
        else {
          const c = Math.exp(eta[2 * s]), pw = Math.exp(eta[2 * s + 1] * logv[i]), den = c + pw;
          out[2 * s] += (q[i] * c) / den;
          out[2 * s + 1] += (q[i] * logv[i] * pw) / den;
        }
      }
    },
    start() {
      // nlme starts at delta = 0 (and c = 1); the residuals are left as they are.
      return new Float64Array(per * ns);
    },
    params(eta) {
      const out: Record<string, number | number[] | string[]> = {};
      for (let k = 0; k < per; k++) {
        const vals = Array.from({ length: ns }, (_, s) => (kind === "varConstPower" && k === 0 ? Math.exp(eta[per * s]) : eta[per * s + k]));
        out[`${kind}_${names[k]}`] = strata ? vals : vals[0];
      }
      if (strata) out[`${kind}_levels`] = levels;
      return out;
    },
  };
}
