// Toeplitz (SAS TOEP): one correlation per lag in occasions. Unbanded, the correlations come
// from partial autocorrelations (lags.ts), so every parameter gives a positive definite matrix.
// Banded, TOEP(b) as SAS: correlations at lags 1 .. b-1, zero beyond; these are free
// (rho_k = tanh(eta_k / 2)) and a group whose matrix is not positive definite ends the
// evaluation (the optimizer steps back), as nlme does for corSymm's boundary.
import type { DenseCorr, ResidualLayout } from "./types";
import { EDGE, clamp } from "./types";
import { acfToPacf, pacfToAcf, sampleAcf } from "./lags";

export function toep(lay: ResidualLayout, bands: number | null): DenseCorr {
  const occ = lay.occasion!;
  const full = bands === null || bands >= lay.nOcc;
  const K = full ? lay.nOcc - 1 : bands! - 1;
  const rho = new Float64Array(lay.nOcc), phi = new Float64Array(K), prev = new Float64Array(K), pacf = new Float64Array(K);
  const acf = (eta: Float64Array, out: Float64Array) => {
    out.fill(0);
    if (full) {
      for (let k = 0; k < K; k++) pacf[k] = Math.tanh(eta[k] / 2);
      pacfToAcf(pacf, K, out, phi, prev);
    } else {
      out[0] = 1;
      for (let k = 1; k <= K; k++) out[k] = Math.tanh(eta[k - 1] / 2);
    }
  };
  return {
    kind: "dense",
    nPar: K,
    set(eta) {
      acf(eta, rho);
      return true;
    },
    fill(rows, o, m, out) {
      for (let a = 0; a < m; a++) {
        const oa = occ[rows[o + a]];
        for (let b = 0; b <= a; b++) out[a * m + b] = rho[oa - occ[rows[o + b]]];
      }
    },
    start(u) {
      const r = sampleAcf(u, lay, K);
      const eta = new Float64Array(K);
      if (!full) {
        for (let k = 1; k <= K; k++) eta[k - 1] = 2 * Math.atanh(clamp(r[k], -0.5, 0.5));
        return eta;
      }
      // Shrink towards independence until the partial autocorrelations are inside the cube.
      for (const lambda of [0, 0.1, 0.3, 0.6, 1]) {
        const s = r.map((v, k) => (k === 0 ? 1 : (1 - lambda) * v));
        const p = acfToPacf(s, K);
        if (p.every((v) => Number.isFinite(v) && Math.abs(v) < 1)) {
          for (let k = 0; k < K; k++) eta[k] = 2 * Math.atanh(clamp(p[k], -EDGE, EDGE));
          break;
        }
      }
      return eta;
    },
    params(eta) {
      const out = new Float64Array(lay.nOcc);
      acf(eta, out);
      return { rho: Array.from(out.subarray(1, K + 1)) };
    },
  };
}
