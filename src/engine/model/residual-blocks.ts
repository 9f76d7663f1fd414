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
// Every other structure and variance function (CSH, TOEP, ARMA, the spatial family, varPower,
// varExp, varConstPower, varFixed) goes through genericBlocks: the optimizer's eta themselves,
// with dR by central differences of the structure's own maps (CorrStructure.set + its verb, and
// the variance functions' apply), so a new structure gets Kenward-Roger without code here.
import type { ResidualModel } from "./residual";
import type { CorrStructure } from "./residual/types";
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
  if ((type !== null && !KR_TYPES.has(type)) || nPar !== res.nPar) return genericBlocks(res, eta);
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

/** Relative step of the central differences (their error ~1e-10, far below KR's own). */
const FD = 1e-5;

/**
 * R_g and dR_g / d eta_k for any structure: the correlation's derivatives by central differences
 * of the structure's map (set at eta +- h, then its verb for the group), the SD ratios' by those
 * of the variance functions (precomputed per row for each of their parameters: 2 n per parameter).
 */
export function genericBlocks(res: ResidualModel, eta: Float64Array): ResidualBlocks {
  const nCorr = res.layout.nCorr, nPar = res.nPar;
  const structure = res.structure;
  const n = res.sd.length;
  const names = Array.from({ length: nPar }, (_, k) => (k < nCorr ? `correlation parameter ${k + 1}` : `variance-function parameter ${k - nCorr + 1}`));
  const step = (k: number) => FD * Math.max(1, Math.abs(eta[k]));
  const sdAt = (e: Float64Array): Float64Array => {
    const sd = new Float64Array(n).fill(1);
    let off = nCorr;
    for (const v of res.vars) {
      v.apply(e.subarray(off, off + v.nPar), sd);
      off += v.nPar;
    }
    return sd;
  };
  const sd = sdAt(eta);
  const sdP: Float64Array[] = [], sdM: Float64Array[] = [];
  const e = Float64Array.from(eta);
  for (let k = nCorr; k < nPar; k++) {
    const h = step(k);
    e[k] = eta[k] + h;
    sdP.push(sdAt(e));
    e[k] = eta[k] - h;
    sdM.push(sdAt(e));
    e[k] = eta[k];
  }
  const etaCorr = Float64Array.from(eta.subarray(0, nCorr));
  const ec = Float64Array.from(etaCorr);
  const maxM = res.layout.maxSize;
  const C = new Float64Array(maxM * maxM), Cp = new Float64Array(maxM * maxM), Cm = new Float64Array(maxM * maxM);
  const lc = { r: 0, one: 1 };
  const setAt = (x: Float64Array) => {
    if (!structure!.set(x)) throw new DataError("Kenward-Roger: the residual correlation is at the edge of its parameter space (its derivatives are not defined there): use ddf satterthwaite");
  };

  const fill: ResidualBlocks["fill"] = (rows, o, m, R, dR, doff) => {
    for (let k = 0; k < nPar; k++) dR[k].fill(0, doff, doff + m * m);
    if (structure) {
      for (let k = 0; k < nCorr; k++) {
        const h = step(k);
        ec[k] = etaCorr[k] + h;
        setAt(ec);
        corrInto(structure, rows, o, m, Cp, lc);
        ec[k] = etaCorr[k] - h;
        setAt(ec);
        corrInto(structure, rows, o, m, Cm, lc);
        ec[k] = etaCorr[k];
        for (let a = 0; a < m; a++) for (let b = 0; b < m; b++) {
          const ra = rows[o + a], rb = rows[o + b];
          dR[k][doff + a * m + b] = (sd[ra] * sd[rb] * (Cp[a * m + b] - Cm[a * m + b])) / (2 * h);
        }
      }
      setAt(etaCorr);
      corrInto(structure, rows, o, m, C, lc);
    } else for (let a = 0; a < m; a++) for (let b = 0; b < m; b++) C[a * m + b] = a === b ? 1 : 0;
    for (let a = 0; a < m; a++) for (let b = 0; b < m; b++) {
      const ra = rows[o + a], rb = rows[o + b], c = C[a * m + b];
      R[a * m + b] = sd[ra] * sd[rb] * c;
      for (let v = 0; v < sdP.length; v++) {
        dR[nCorr + v][doff + a * m + b] = ((sdP[v][ra] * sdP[v][rb] - sdM[v][ra] * sdM[v][rb]) * c) / (2 * step(nCorr + v));
      }
    }
  };
  return { nPar, names, fill };
}

/** The group's full m x m correlation from the structure's verb (at its last set()). */
function corrInto(s: CorrStructure, rows: Int32Array, o: number, m: number, C: Float64Array, lc: { r: number; one: number }): void {
  if (s.kind === "dense") {
    s.fill(rows, o, m, C);
    for (let a = 0; a < m; a++) for (let b = 0; b < a; b++) C[b * m + a] = C[a * m + b];
    return;
  }
  if (s.kind === "cs") {
    const r = s.rho();
    for (let a = 0; a < m; a++) for (let b = 0; b < m; b++) C[a * m + b] = a === b ? 1 : r;
    return;
  }
  // Markov: the correlation of rows a > b is the product of the neighbours' correlations between them.
  for (let a = 0; a < m; a++) {
    C[a * m + a] = 1;
    if (a === 0) continue;
    s.lag(rows[o + a], rows[o + a - 1], lc);
    for (let b = 0; b < a; b++) C[a * m + b] = C[b * m + a] = C[(a - 1) * m + b] * lc.r;
  }
}
