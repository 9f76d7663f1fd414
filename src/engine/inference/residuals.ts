// Standardized residuals, as nlme's resid(type = "pearson" / "normalized"), at the conditional
// (y - X beta - Z b) and the marginal (y - X beta) level:
//  - pearson: the raw residual over sigma times the row's SD ratio (varIdent, ARH1/UN occasion);
//  - normalized: the pearson residuals whitened by the residual correlation of their group,
//    L_g^{-1} r_g with L_g L_g' = C_g in time order (nlme's corStruct recalc). For AR1, ARH1, CAR1
//    and UN this is the model's own whitening (residual.ts); for CS it is written out here as the
//    sequential form of the Cholesky factor (residual.ts whitens CS by the symmetric root, which
//    gives the same likelihood but other residuals).
// Without a residual structure both equal raw / sigma. One pass over the rows; nothing n x n.
import type { LmmFit } from "../model/prepared";

export interface StandardizedResiduals {
  pearson: Float64Array;
  normalized: Float64Array;
}

export function standardized(fit: LmmFit, raw: ArrayLike<number>, sigma: number): StandardizedResiduals {
  const n = fit.design.n;
  const res = fit.residual?.res ?? null;
  const pearson = new Float64Array(n);
  const normalized = new Float64Array(n);
  if (!res) {
    for (let i = 0; i < n; i++) pearson[i] = normalized[i] = raw[i] / sigma;
    return { pearson, normalized };
  }
  const src = Float64Array.from(raw);
  if (res.type === "CS") {
    // whiten() fills the SD ratios too (CS has none of its own, but varIdent may come with it).
    res.whiten(fit.eta, [{ src, dst: normalized, width: 1 }]);
    const sd = res.sd, rho = res.corr(fit.eta).rho;
    for (let i = 0; i < n; i++) pearson[i] = src[i] / (sigma * sd[i]);
    const { gptr, grows } = res.layout;
    for (let g = 0; g + 1 < gptr.length; g++) {
      // e_k = (r_k - E[r_k | r_1..r_{k-1}]) / sd: the mean is rho/(1+(k-1)rho) times the sum so far.
      let sum = 0;
      for (let k = 0; k < gptr[g + 1] - gptr[g]; k++) {
        const r = grows[gptr[g] + k];
        const c = rho / (1 + (k - 1) * rho);
        const mean = k === 0 ? 0 : c * sum;
        const v = k === 0 ? 1 : 1 - c * k * rho;
        normalized[r] = (pearson[r] - mean) / Math.sqrt(v);
        sum += pearson[r];
      }
    }
    return { pearson, normalized };
  }
  res.whiten(fit.eta, [{ src, dst: normalized, width: 1 }]);
  const sd = res.sd;
  for (let i = 0; i < n; i++) {
    pearson[i] = src[i] / (sigma * sd[i]);
    normalized[i] /= sigma;
  }
  return { pearson, normalized };
}
