// Compound symmetry (nlme corCompSymm, SAS CS; with per-occasion variances SAS CSH): one
// correlation rho within a group, rho = (e^eta + inf) / (e^eta + 1) in (inf, 1), inf =
// -1/(largest group - 1), the lower bound for positive definiteness.
import type { CsCorr, ResidualLayout } from "./types";
import { EDGE, clamp } from "./types";

export function cs(lay: ResidualLayout): CsCorr {
  const inf = lay.csInf;
  const rhoOf = (e: number) => (Math.exp(e) + inf) / (Math.exp(e) + 1);
  let rho = 0;
  return {
    kind: "cs",
    nPar: 1,
    set(eta) {
      rho = rhoOf(eta[0]);
      return true;
    },
    rho: () => rho,
    start(u) {
      // Within-group correlation: the off-diagonal products over the diagonal ones.
      const { gptr, grows } = lay;
      let off = 0, diag = 0;
      for (let g = 0; g + 1 < gptr.length; g++) {
        let s = 0, ss = 0;
        for (let k = gptr[g]; k < gptr[g + 1]; k++) {
          s += u[grows[k]];
          ss += u[grows[k]] * u[grows[k]];
        }
        off += s * s - ss;
        diag += (gptr[g + 1] - gptr[g] - 1) * ss;
      }
      const r = clamp(diag > 0 ? off / diag : 0, inf + (1 - EDGE) * (1 - inf), EDGE);
      return Float64Array.of(Math.log((r - inf) / (1 - r)));
    },
    params(eta) {
      return { rho: rhoOf(eta[0]) };
    },
  };
}
