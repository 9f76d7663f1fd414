// AR(1) (nlme corAR1, SAS AR(1)) and continuous-time AR(1) (corCAR1, SAS SP(POW)): Markov
// processes, so F is bidiagonal and a group is whitened in one pass (residual.ts).
// AR1 counts lags in occasions (ranks of the distinct times); phi = tanh(eta / 2).
// CAR1's parameter is the correlation at the mean gap between neighbouring times (timeScale), on
// the logit scale, so the optimizer sees the same problem whatever the time unit; phi is
// reported per unit time as nlme does, and phi^lag is computed as exp(lag log phi) (phi is near
// 1 for small units, where phi^lag loses digits).
import type { LagOut, MarkovCorr, ResidualLayout } from "./types";
import { EDGE, clamp } from "./types";

/** Lag-one correlation of within-group neighbours of u, and the mean lag (in `lagOf` units). */
function neighbourCorrelation(u: Float64Array, lay: ResidualLayout, lagOf: (b: number, a: number) => number): { r: number; meanLag: number } {
  const { gptr, grows } = lay;
  let sxy = 0, sxx = 0, syy = 0, lag = 0, pairs = 0;
  for (let g = 0; g + 1 < gptr.length; g++) {
    for (let k = gptr[g] + 1; k < gptr[g + 1]; k++) {
      const a = grows[k - 1], b = grows[k];
      sxy += u[a] * u[b];
      sxx += u[a] * u[a];
      syy += u[b] * u[b];
      lag += lagOf(b, a);
      pairs++;
    }
  }
  return { r: pairs > 0 && sxx > 0 && syy > 0 ? sxy / Math.sqrt(sxx * syy) : 0, meanLag: pairs > 0 ? lag / pairs : 1 };
}
export { neighbourCorrelation };

export function ar1(lay: ResidualLayout): MarkovCorr {
  const occ = lay.occasion!;
  let phi = 0;
  // The last lag and its correlation: neighbours are almost always one occasion apart, so a
  // whitening pass over a million rows takes one pow, not one per row.
  let lastLag = NaN, lastR = 0;
  return {
    kind: "markov",
    nPar: 1,
    set(eta) {
      phi = Math.tanh(eta[0] / 2);
      lastLag = NaN;
      return true;
    },
    lag(row, prev, out: LagOut) {
      const d = occ[row] - occ[prev];
      if (d !== lastLag) {
        lastLag = d;
        lastR = Math.pow(phi, d);
      }
      out.r = lastR;
      out.one = 1 - lastR * lastR;
    },
    start(u) {
      const { r, meanLag } = neighbourCorrelation(u, lay, (b, a) => occ[b] - occ[a]);
      const p = clamp(Math.sign(r) * Math.pow(Math.abs(r), 1 / Math.max(meanLag, 1e-12)), -EDGE, EDGE);
      return Float64Array.of(2 * Math.atanh(p));
    },
    params(eta) {
      return { phi: Math.tanh(eta[0] / 2) };
    },
  };
}

export function car1(lay: ResidualLayout): MarkovCorr {
  const time = lay.time!, scale = lay.timeScale;
  let logPhi = 0;
  // log logistic(eta) without overflow either way, per unit time.
  const logOf = (e: number) => (e >= 0 ? -Math.log1p(Math.exp(-e)) : e - Math.log1p(Math.exp(e))) / scale;
  // The last gap and its correlation (regular times repeat their gap: one exp, not one per row).
  let lastGap = NaN, lastR = 0, lastOne = 0;
  return {
    kind: "markov",
    nPar: 1,
    set(eta) {
      logPhi = logOf(eta[0]);
      lastGap = NaN;
      return true;
    },
    lag(row, prev, out: LagOut) {
      const gap = time[row] - time[prev];
      if (gap !== lastGap) {
        lastGap = gap;
        const x = gap * logPhi;
        lastR = Math.exp(x);
        lastOne = -Math.expm1(2 * x);
      }
      out.r = lastR;
      out.one = lastOne;
    },
    start(u) {
      const { r, meanLag } = neighbourCorrelation(u, lay, (b, a) => time[b] - time[a]);
      const p = clamp(r > 0 ? Math.pow(r, scale / Math.max(meanLag, 1e-300)) : 0, 1 - EDGE, EDGE);
      return Float64Array.of(Math.log(p / (1 - p)));
    },
    params(eta) {
      return { phi: Math.exp(logOf(eta[0])) };
    },
  };
}
