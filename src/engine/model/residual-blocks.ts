// One residual group's covariance block R_g (relative to sigma^2) and its derivatives in the
// structure's natural parameters, for Kenward-Roger (inference/kr-clusters.ts). The optimizer's
// unconstrained eta are a smooth one-to-one map of these, and the first-order Kenward-Roger
// adjustment does not depend on how the covariance is parameterized, so any such set will do;
// natural ones keep the derivatives simple and well scaled:
//  - AR1, ARH1: phi (R_ab = s_a s_b phi^|lag|, lag in occasions);
//  - CAR1: kappa = log phi per mean gap (residual/markov.ts's log phi times the layout's timeScale),
//    so a change of time unit leaves kappa unchanged;
//  - CS: rho; UN: each correlation c_uv of occasions u < v;
//  - SD ratios (ARH1 and UN per occasion, varIdent per stratum): their logs (eta itself).
import type { ResidualModel } from "./residual";
import { DataError } from "../errors";

/** The structures whose blocks this file knows; the others are refused with what works. */
const KR_TYPES = new Set(["AR1", "ARH1", "CAR1", "CS", "UN"]);

/** Builds R_g and dR_g / d psi_k for a group's rows. */
export interface ResidualBlocks {
  /** Number of natural parameters (res.nPar). */
  nPar: number;
  names: string[];
  /**
   * Fill R (m x m row-major, from 0) and dR[k] (m x m each, from doff) for the m rows rows[o .. o+m) (design row
   * indices, in the layout's time order). The SD ratios are those of the last whitening, so call
   * it after the model was put at the estimates.
   */
  fill(rows: Int32Array, o: number, m: number, R: Float64Array, dR: Float64Array[], doff: number): void;
}

export function residualBlocks(res: ResidualModel, eta: Float64Array): ResidualBlocks {
  const lay = res.layout;
  const type = lay.type;
  const cp = res.corr(eta);
  const sd = res.sd;
  const nOcc = lay.nOcc;
  const nCorr = lay.nCorr, nOccVar = lay.nOccVar, nIdent = lay.nIdent;
  const nPar = nCorr + nOccVar + nIdent;
  if ((type !== null && !KR_TYPES.has(type)) || nPar !== res.nPar) {
    const what = type !== null && !KR_TYPES.has(type) ? `the ${type} structure` : "variance functions other than varIdent";
    throw new DataError(`Kenward-Roger is computed for AR1, ARH1, CAR1, CS, UN and varIdent residual structures, not yet for ${what}: use ddf satterthwaite, residual or containment`);
  }
  // CAR1: log phi per unit time from eta as residual/markov.ts maps it (the correlation at the
  // mean gap on the logit scale), so phi^lag = exp(lag log phi) keeps its digits near phi = 1.
  const e0 = nCorr > 0 ? eta[0] : 0;
  const logPhi = (e0 >= 0 ? -Math.log1p(Math.exp(-e0)) : e0 - Math.log1p(Math.exp(e0))) / lay.timeScale;
  const names: string[] = [];
  const pairIdx = new Int32Array(type === "UN" ? nOcc * nOcc : 0).fill(-1);
  if (type === "AR1" || type === "ARH1") names.push("phi");
  else if (type === "CAR1") names.push("log phi per mean gap");
  else if (type === "CS") names.push("rho");
  else if (type === "UN") {
    let k = 0;
    for (let u = 0; u < nOcc; u++) for (let v = u + 1; v < nOcc; v++) {
      pairIdx[u * nOcc + v] = pairIdx[v * nOcc + u] = k++;
      names.push(`corr(${u + 1},${v + 1})`);
    }
  }
  for (let k = 1; k <= nOccVar; k++) names.push(`log sd ratio of occasion ${k + 1}`);
  for (let k = 1; k <= nIdent; k++) names.push(`log varIdent ratio ${k + 1}`);
  const rho = cp.rho;
  const scale = lay.timeScale;

  const fill: ResidualBlocks["fill"] = (rows, o, m, R, dR, doff) => {
    for (let k = 0; k < nPar; k++) dR[k].fill(0, doff, doff + m * m);
    for (let a = 0; a < m; a++) {
      const ra = rows[o + a];
      for (let b = 0; b <= a; b++) {
        const rb = rows[o + b];
        const ss = sd[ra] * sd[rb];
        let c = a === b ? 1 : 0;
        let dc = 0;
        if (a !== b) {
          if (type === "AR1" || type === "ARH1") {
            const lag = Math.abs(lay.occasion![ra] - lay.occasion![rb]);
            c = Math.pow(rho, lag);
            dc = lag * Math.pow(rho, lag - 1);
          } else if (type === "CAR1") {
            const lag = Math.abs(lay.time![ra] - lay.time![rb]);
            c = Math.exp(lag * logPhi);
            dc = (c * lag) / scale;
          } else if (type === "CS") {
            c = rho;
            dc = 1;
          } else if (type === "UN") {
            const u = lay.occasion![ra], v = lay.occasion![rb];
            c = cp.corr![u * nOcc + v];
            dR[pairIdx[u * nOcc + v]][doff + a * m + b] = dR[pairIdx[u * nOcc + v]][doff + b * m + a] = ss;
          }
          if (nCorr > 0 && type !== "UN") dR[0][doff + a * m + b] = dR[0][doff + b * m + a] = ss * dc;
        }
        const v = ss * c;
        R[a * m + b] = R[b * m + a] = v;
        // d R_ab / d log s_k = R_ab ([a uses k] + [b uses k]).
        if (nOccVar > 0) {
          const oa = lay.occasion![ra], ob = lay.occasion![rb];
          if (oa > 0) addSym(dR[nCorr + oa - 1], doff, a, b, m, v);
          if (ob > 0) addSym(dR[nCorr + ob - 1], doff, a, b, m, v);
        }
        if (nIdent > 0) {
          const sa = lay.vStrata![ra], sb = lay.vStrata![rb];
          if (sa > 0) addSym(dR[nCorr + nOccVar + sa - 1], doff, a, b, m, v);
          if (sb > 0) addSym(dR[nCorr + nOccVar + sb - 1], doff, a, b, m, v);
        }
      }
    }
  };
  return { nPar, names, fill };
}

function addSym(M: Float64Array, off: number, a: number, b: number, m: number, v: number): void {
  M[off + a * m + b] += v;
  if (a !== b) M[off + b * m + a] += v;
}
