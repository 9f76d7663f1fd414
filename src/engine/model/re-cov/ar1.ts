// AR(1) over the levels of a factor (glmmTMB ar1(0 + f | g), lme4 2.0's ar1, SAS TYPE=AR(1) in
// RANDOM): the effects are a factor's indicator columns in level order, Cor(b_i, b_j) =
// rho^|i - j|, one SD. The Cholesky factor of the AR(1) correlation matrix is closed-form:
// L[i][0] = rho^i, L[i][j] = rho^(i-j) sqrt(1 - rho^2) for 1 <= j <= i. The optimizer's parameter
// is eta with rho = eta / sqrt(1 + eta^2) (glmmTMB's transform), so rho stays in (-1, 1).
import type { ReStructure } from "./types";
import { covSummary } from "./types";

export function autoregressive(effects: string[]): ReStructure {
  const q = effects.length;
  const rhoOf = (eta: number) => eta / Math.sqrt(1 + eta * eta);
  const etaOf = (rho: number) => rho / Math.sqrt(1 - rho * rho);
  return {
    type: "ar1",
    q,
    nPar: 2,
    names: ["sd", "rho"],
    kinds: ["sd", "cor"],
    lower: () => [0, -Infinity],
    start: () => [1, 0],
    fill: (theta, off, T) => {
      const s = theta[off], rho = rhoOf(theta[off + 1]);
      const c = s * Math.sqrt(Math.max(1 - rho * rho, 0));
      T.fill(0);
      let pw = s;
      for (let i = 0; i < q; i++) {
        T[i * q] = pw;
        pw *= rho;
        // Row i, columns 1..i: c rho^(i-j), built from the diagonal leftwards.
        let v = c;
        for (let j = i; j >= 1; j--) {
          T[i * q + j] = v;
          v *= rho;
        }
      }
    },
    fromCovariance: (S) => {
      const { meanVar, lag1Cor } = covSummary(S, q);
      return [Math.sqrt(meanVar), etaOf(Math.min(Math.max(lag1Cor, -0.9), 0.9))];
    },
    natural: (theta, off) => [Math.abs(theta[off]), rhoOf(theta[off + 1])],
    fromNatural: (nat, theta, off) => {
      if (!(nat[0] >= 0) || !(nat[1] > -1 && nat[1] < 1)) return false;
      theta[off] = nat[0];
      theta[off + 1] = etaOf(nat[1]);
      return true;
    },
    bounds: () => [[0, Infinity], [-1, 1]],
  };
}
