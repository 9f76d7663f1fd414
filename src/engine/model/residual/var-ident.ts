// One SD ratio per stratum (nlme varIdent; the per-occasion variances of ARH1, CSH and UN are
// the same function of the occasion): stratum 0 is the reference with ratio 1, the others
// exp(eta). Ratios are exponentiated once per evaluation, not per row.
import type { ParamReport, VarFunction } from "./types";
import { clamp } from "./types";

export function varIdent(strata: Int32Array, nStrata: number, report: (ratios: number[]) => ParamReport): VarFunction {
  const ratio = new Float64Array(nStrata);
  return {
    nPar: nStrata - 1,
    inputs: [strata],
    restrict: (rows) => varIdent(Int32Array.from(rows, (r) => strata[r]), nStrata, report),
    apply(eta, sd) {
      ratio[0] = 1;
      for (let k = 1; k < nStrata; k++) ratio[k] = Math.exp(eta[k - 1]);
      let ls = 0;
      for (let i = 0; i < sd.length; i++) {
        const s = strata[i];
        if (s > 0) {
          sd[i] *= ratio[s];
          ls += eta[s - 1];
        }
      }
      return ls;
    },
    gradLog(_eta, q, out) {
      // d log ratio_i / d eta_j is 1 for the rows of stratum j + 1.
      out.fill(0);
      for (let i = 0; i < q.length; i++) if (strata[i] > 0) out[strata[i] - 1] += q[i];
    },
    start(u) {
      // Log of each stratum's RMS relative to stratum 0.
      const ss = new Float64Array(nStrata), cnt = new Float64Array(nStrata);
      for (let i = 0; i < u.length; i++) {
        ss[strata[i]] += u[i] * u[i];
        cnt[strata[i]]++;
      }
      const rms = Array.from(ss, (v, s) => (cnt[s] > 0 ? Math.sqrt(v / cnt[s]) : NaN));
      const eta = new Float64Array(nStrata - 1);
      for (let s = 1; s < nStrata; s++) {
        const r = rms[s] / rms[0];
        eta[s - 1] = r > 0 && Number.isFinite(r) ? clamp(Math.log(r), -5, 5) : 0;
      }
      for (let i = 0; i < u.length; i++) if (strata[i] > 0) u[i] /= Math.exp(eta[strata[i] - 1]);
      return eta;
    },
    params(eta) {
      return report([1, ...Array.from(eta, Math.exp)]);
    },
  };
}
