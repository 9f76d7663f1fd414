// Independent effects: diag (glmmTMB diag, nlme pdDiag, SAS VC) has one relative SD per effect;
// homdiag (glmmTMB homdiag, nlme pdIdent, a multiple of the identity) one for all. T = diag(s).
import type { ReStructure } from "./types";
import { covSummary } from "./types";

export function diagonal(effects: string[], homogeneous: boolean): ReStructure {
  const q = effects.length;
  const nPar = homogeneous ? 1 : q;
  return {
    type: homogeneous ? "homdiag" : "diag",
    q,
    nPar,
    names: homogeneous ? ["sd"] : effects.map((e) => `sd_${e}`),
    kinds: new Array<"sd">(nPar).fill("sd"),
    lower: () => new Array<number>(nPar).fill(0),
    start: () => new Array<number>(nPar).fill(1),
    fill: (theta, off, T) => {
      T.fill(0);
      for (let a = 0; a < q; a++) T[a * q + a] = theta[off + (homogeneous ? 0 : a)];
    },
    fromCovariance: (S) => {
      const { sds, meanVar } = covSummary(S, q);
      return homogeneous ? [Math.sqrt(meanVar)] : sds;
    },
    natural: (theta, off) => Array.from({ length: nPar }, (_, a) => Math.abs(theta[off + a])),
    fromNatural: (nat, theta, off) => {
      for (let a = 0; a < nPar; a++) {
        if (!(nat[a] >= 0)) return false;
        theta[off + a] = nat[a];
      }
      return true;
    },
    bounds: () => new Array(nPar).fill(null).map(() => [0, Infinity] as [number, number]),
  };
}
