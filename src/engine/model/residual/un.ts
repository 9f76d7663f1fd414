// Unstructured correlation (nlme corSymm, SAS UN with its per-occasion variances): one
// correlation per pair of occasions, from unconstrained angles (nlme's spherical
// parameterization): row i of the Cholesky factor of the correlation is built from cosines and
// sines of alpha = pi * logistic(eta), so every eta gives a positive definite matrix.
import type { DenseCorr, ResidualLayout } from "./types";
import { EDGE, clamp, logistic } from "./types";
import { cholLower } from "../../linalg/dense";

/** Shrinkage steps towards the identity that make a UN start positive definite. */
const SHRINK = [0, 0.05, 0.1, 0.2, 0.4, 0.7, 1];

/** The full m x m correlation for the angles eta (m(m-1)/2 of them). */
export function unCorrelation(eta: Float64Array, m: number, L = new Float64Array(m * m), C = new Float64Array(m * m)): Float64Array {
  L.fill(0);
  let k = 0;
  L[0] = 1;
  for (let i = 1; i < m; i++) {
    let rest = 1;
    for (let j = 0; j < i; j++) {
      const alpha = Math.PI * logistic(eta[k++]);
      L[i * m + j] = rest * Math.cos(alpha);
      rest *= Math.sin(alpha);
    }
    L[i * m + i] = rest;
  }
  for (let a = 0; a < m; a++) for (let b = 0; b <= a; b++) {
    let s = 0;
    for (let g = 0; g <= b; g++) s += L[a * m + g] * L[b * m + g];
    C[a * m + b] = s;
    C[b * m + a] = s;
  }
  return C;
}

/** Angles of a correlation matrix's Cholesky factor (the inverse of unCorrelation), into eta. */
export function unAngles(Lc: Float64Array, m: number, eta: Float64Array): void {
  let k = 0;
  for (let i = 1; i < m; i++) {
    let rest = 1;
    for (let j = 0; j < i; j++) {
      const c = rest > 1e-12 ? clamp(Lc[i * m + j] / rest, -1, 1) : 0;
      const frac = clamp(Math.acos(c) / Math.PI, 1 - EDGE, EDGE);
      eta[k++] = Math.log(frac / (1 - frac));
      rest *= Math.sin(Math.PI * frac);
    }
  }
}

export function un(lay: ResidualLayout): DenseCorr {
  const m = lay.nOcc, occ = lay.occasion!;
  const L = new Float64Array(m * m), C = new Float64Array(m * m);
  const last = new Float64Array((m * (m - 1)) / 2), GL = new Float64Array(m * m), rest = new Float64Array(m + 1);
  return {
    kind: "dense",
    nPar: (m * (m - 1)) / 2,
    set(eta) {
      last.set(eta);
      unCorrelation(eta, m, L, C);
      return true;
    },
    contractByOccasion(P, out) {
      // f = sum_(u > v) P_uv C_uv with C = L L': df = sum_ij (Ps L)_ij dL_ij (Ps = P mirrored,
      // zero diagonal), then back through each row's angles (row i's depend on its own eta only).
      for (let i = 0; i < m; i++) for (let j = 0; j <= i; j++) {
        let s = 0;
        for (let g = 0; g < m; g++) {
          if (g === i) continue;
          const pig = g < i ? P[i * m + g] : P[g * m + i];
          s += pig * L[g * m + j];
        }
        GL[i * m + j] = s;
      }
      let k = 0;
      for (let i = 1; i < m; i++) {
        rest[0] = 1;
        for (let j = 0; j < i; j++) rest[j + 1] = rest[j] * Math.sin(Math.PI * logistic(last[k + j]));
        let grest = GL[i * m + i];
        for (let j = i - 1; j >= 0; j--) {
          const lg = logistic(last[k + j]), alpha = Math.PI * lg, c = Math.cos(alpha), sn = Math.sin(alpha);
          const gAlpha = -GL[i * m + j] * rest[j] * sn + grest * rest[j] * c;
          out[k + j] = gAlpha * Math.PI * lg * (1 - lg);
          grest = GL[i * m + j] * c + grest * sn;
        }
        k += i;
      }
    },
    fill(rows, o, g, out) {
      for (let a = 0; a < g; a++) {
        const oa = occ[rows[o + a]] * m;
        for (let b = 0; b <= a; b++) out[a * g + b] = C[oa + occ[rows[o + b]]];
      }
    },
    start(u) {
      // Pairwise correlations of occasions, shrunk until positive definite.
      const eta = new Float64Array((m * (m - 1)) / 2);
      const { gptr, grows } = lay;
      const sxy = new Float64Array(m * m), sxx = new Float64Array(m * m);
      // Each group's occasions and residuals gathered first (the pairs then read them in order).
      const go = new Int32Array(lay.maxSize), gu = new Float64Array(lay.maxSize);
      for (let g = 0; g + 1 < gptr.length; g++) {
        const o = gptr[g], mg = gptr[g + 1] - o;
        for (let a = 0; a < mg; a++) {
          go[a] = occ[grows[o + a]];
          gu[a] = u[grows[o + a]];
        }
        for (let a = 0; a < mg; a++) {
          for (let b = 0; b < a; b++) {
            const i = go[a], j = go[b];
            const hi = Math.max(i, j), lo = Math.min(i, j);
            sxy[hi * m + lo] += gu[a] * gu[b];
            // Both squares, so the pair's correlation uses the rows where both occasions are seen.
            const ui = i === hi ? gu[a] : gu[b], uj = i === hi ? gu[b] : gu[a];
            sxx[hi * m + lo] += ui * ui;
            sxx[lo * m + hi] += uj * uj;
          }
        }
      }
      const S = new Float64Array(m * m);
      for (const lambda of SHRINK) {
        for (let i = 0; i < m; i++) {
          S[i * m + i] = 1;
          for (let j = 0; j < i; j++) {
            const d = Math.sqrt(sxx[i * m + j] * sxx[j * m + i]);
            S[i * m + j] = (1 - lambda) * clamp(d > 0 ? sxy[i * m + j] / d : 0, -EDGE, EDGE);
          }
        }
        if (!cholLower(S, m)) continue;
        let ok = true;
        for (let i = 0; i < m; i++) if (S[i * m + i] < 0.05) ok = false;
        if (!ok && lambda < 1) continue;
        unAngles(S, m, eta);
        break;
      }
      return eta;
    },
    params(eta) {
      const c = unCorrelation(eta, m);
      return { corr: Array.from({ length: m }, (_, a) => Array.from(c.subarray(a * m, a * m + m))) };
    },
  };
}
