// Unstructured (lme4's default, glmmTMB us, nlme pdSymm, SAS UN): theta is the lower-triangular
// factor itself, column by column as lme4 stores it, diagonals >= 0. Its parameters as users read
// them are the variance-components rows (every SD and correlation), so `names` is null.
import type { ReStructure } from "./types";
import { cholSemidefinite } from "./types";

export function unstructured(q: number): ReStructure {
  const nPar = (q * (q + 1)) / 2;
  const L = new Float64Array(q * q);
  return {
    type: "us",
    q,
    nPar,
    names: null,
    kinds: [],
    lower: () => {
      const out: number[] = [];
      for (let j = 0; j < q; j++) for (let i = j; i < q; i++) out.push(i === j ? 0 : -Infinity);
      return out;
    },
    start: () => {
      const out: number[] = [];
      for (let j = 0; j < q; j++) for (let i = j; i < q; i++) out.push(i === j ? 1 : 0);
      return out;
    },
    fill: (theta, off, T) => {
      T.fill(0);
      let k = off;
      for (let j = 0; j < q; j++) for (let i = j; i < q; i++) T[i * q + j] = theta[k++];
    },
    fromCovariance: (S) => {
      cholSemidefinite(S, q, L);
      const out: number[] = [];
      for (let j = 0; j < q; j++) for (let i = j; i < q; i++) out.push(L[i * q + j]);
      return out;
    },
    natural: () => [],
    fromNatural: () => false,
    bounds: () => [],
  };
}
