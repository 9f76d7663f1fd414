// Compound symmetry: one correlation rho between every pair of effects. homcs (nlme pdCompSymm,
// glmmTMB homcs, SAS CS) has one SD; cs (glmmTMB cs, SAS CSH) one SD per effect. Sigma = D R D
// with R = (1 - rho) I + rho 11', so T = D chol(R). rho must lie in (-1/(q-1), 1) for R to be
// positive definite; the optimizer's parameter is eta with rho = lo + (1 - lo) logistic(eta).
import type { ReStructure } from "./types";
import { cholSemidefinite, covSummary } from "./types";

export function compoundSymmetry(effects: string[], homogeneous: boolean): ReStructure {
  const q = effects.length;
  const ns = homogeneous ? 1 : q;
  const nPar = ns + 1;
  const lo = -1 / (q - 1);
  const R = new Float64Array(q * q), L = new Float64Array(q * q);
  const rhoOf = (eta: number) => lo + (1 - lo) / (1 + Math.exp(-eta));
  const etaOf = (rho: number) => {
    const u = (rho - lo) / (1 - lo);
    return Math.log(u / (1 - u));
  };
  const inside = (rho: number) => rho > lo && rho < 1;
  return {
    type: homogeneous ? "homcs" : "cs",
    q,
    nPar,
    names: [...(homogeneous ? ["sd"] : effects.map((e) => `sd_${e}`)), "rho"],
    kinds: [...new Array<"sd">(ns).fill("sd"), "cor"],
    lower: () => [...new Array<number>(ns).fill(0), -Infinity],
    start: () => [...new Array<number>(ns).fill(1), etaOf(0)],
    fill: (theta, off, T) => {
      const rho = rhoOf(theta[off + ns]);
      for (let a = 0; a < q; a++) for (let b = 0; b < q; b++) R[a * q + b] = a === b ? 1 : rho;
      cholSemidefinite(R, q, L);
      for (let a = 0; a < q; a++) {
        const s = theta[off + (homogeneous ? 0 : a)];
        for (let b = 0; b < q; b++) T[a * q + b] = s * L[a * q + b];
      }
    },
    fromCovariance: (S) => {
      const { sds, meanVar, meanCor } = covSummary(S, q);
      const rho = Math.min(Math.max(meanCor, lo + 0.05 * (1 - lo)), 0.95);
      return [...(homogeneous ? [Math.sqrt(meanVar)] : sds), etaOf(rho)];
    },
    natural: (theta, off) => [...Array.from({ length: ns }, (_, a) => Math.abs(theta[off + a])), rhoOf(theta[off + ns])],
    fromNatural: (nat, theta, off) => {
      for (let a = 0; a < ns; a++) {
        if (!(nat[a] >= 0)) return false;
        theta[off + a] = nat[a];
      }
      if (!inside(nat[ns])) return false;
      theta[off + ns] = etaOf(nat[ns]);
      return true;
    },
    bounds: () => [...new Array(ns).fill(null).map(() => [0, Infinity] as [number, number]), [lo, 1]],
  };
}
