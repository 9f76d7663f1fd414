// Quadratic forms in the joint conditional covariance of (beta-hat, b-hat), from the blocked
// factor L of the penalized system (model/blocked.ts) and never from a dense matrix:
//   Var(w_u' (u-hat - u) + w_b' (beta~-hat - beta~)) = sigma^2 || L^{-1} w ||^2
// with w = [w_u; w_b] on the spherical random effects u and the working fixed effects beta~
// (the y row of L is left out). The forward solve is sparse: w touches a few levels (one per
// term for an ordinary prediction row), and a level's column of L reaches only its ancestors in
// the nesting chain, the dense rows in its pattern and the fixed rows. Cost per call: the
// chain's touched blocks, O(QD^2) only when a crossed (dense) term is touched, and O(p^2).
import type { BlockedModel } from "../model/blocked";
import { solveLower } from "../linalg/dense";

/**
 * ||L^{-1} w||^2 where `wZ[t]` maps a level of model term t to its q coefficients on u (consumed:
 * the maps are overwritten) and `wF` holds the p coefficients on the working beta (not changed).
 * The model must be factored at the fit's parameters (fixef.ts's restore).
 */
export function jointQuadratic(model: BlockedModel, wZ: Map<number, Float64Array>[], wF: Float64Array): number {
  const { remats, m, p, pp, QD } = model;
  let acc = 0;
  const wf = Float64Array.from(wF);
  const wD = QD > 0 ? new Float64Array(QD) : null;
  let anyD = false;
  for (let t = m; t < model.k; t++) {
    const q = remats[t].q, off = model.dOff[t];
    for (const [c, w] of wZ[t]) {
      for (let a = 0; a < q; a++) wD![off + c * q + a] += w[a];
      anyD = true;
    }
  }
  for (let j = 0; j < m; j++) {
    const q = remats[j].q, LF = model.LFj[j];
    const pat = model.dPat[j], LD = model.LDj[j];
    for (const [c, w] of wZ[j]) {
      solveLower(model.Ljj[j], q, c * q * q, q, w, 0);
      for (let b = 0; b < q; b++) acc += w[b] * w[b];
      for (let i = j + 1; i < m; i++) {
        const qi = remats[i].q, par = model.parent[i][j][c], Lij = model.Lij[i][j];
        let wi = wZ[i].get(par);
        if (!wi) {
          wi = new Float64Array(qi);
          wZ[i].set(par, wi);
        }
        const o = c * qi * q;
        for (let a = 0; a < qi; a++) {
          let s = 0;
          for (let b = 0; b < q; b++) s += Lij[o + a * q + b] * w[b];
          wi[a] -= s;
        }
      }
      if (wD && pat) {
        for (let e = pat.ptr[c]; e < pat.ptr[c + 1]; e++) {
          let s = 0;
          for (let b = 0; b < q; b++) s += LD[e * q + b] * w[b];
          wD[pat.idx[e]] -= s;
          anyD = true;
        }
      }
      const o = c * pp * q;
      for (let f = 0; f < p; f++) {
        let s = 0;
        for (let b = 0; b < q; b++) s += LF[o + f * q + b] * w[b];
        wf[f] -= s;
      }
    }
  }
  if (wD && anyD) {
    solveLower(model.LDD, QD, 0, QD, wD, 0);
    for (let d = 0; d < QD; d++) acc += wD[d] * wD[d];
    const LFD = model.LFD;
    for (let f = 0; f < p; f++) {
      let s = 0;
      for (let d = 0; d < QD; d++) s += LFD[f * QD + d] * wD[d];
      wf[f] -= s;
    }
  }
  solveLower(model.LFF, p, 0, pp, wf, 0);
  for (let f = 0; f < p; f++) acc += wf[f] * wf[f];
  return acc;
}
