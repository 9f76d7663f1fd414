// Starting values for the residual-structure parameters from moments of the ordinary
// least-squares residuals: SD ratios per occasion and per varIdent stratum from their root mean
// squares, then the correlation of the standardized residuals (lag-one for AR1/ARH1/CAR1, within
// group for CS, per pair of occasions for UN). The likelihood of these structures can have
// several local optima (ARH1 on the Sitka data has two, 10 log-likelihood units apart, and the
// start at independence leads to the lower one), so where the search starts matters; a start
// that already describes the data also saves outer iterations, each of which is a pass over the
// rows.
import type { ResidualLayout } from "./residual";
import { cholLower, solveLower, solveLowerT } from "../linalg/dense";

/** Keep a start away from the edges of the parameter space, where the likelihood is flat. */
const EDGE = 0.98;
/** Shrinkage steps towards the identity that make a UN start positive definite. */
const SHRINK = [0, 0.05, 0.1, 0.2, 0.4, 0.7, 1];

const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));
const logOr0 = (v: number) => (v > 0 && Number.isFinite(v) ? clamp(Math.log(v), -5, 5) : 0);

/** OLS residuals y - X b (b from the normal equations by Cholesky; zero residuals if singular). */
function olsResiduals(X: Float64Array, y: Float64Array, p: number): Float64Array {
  const n = y.length;
  const XtX = new Float64Array(p * p), Xty = new Float64Array(p);
  for (let r = 0; r < n; r++) {
    const o = r * p;
    for (let a = 0; a < p; a++) {
      const v = X[o + a];
      Xty[a] += v * y[r];
      for (let b = 0; b <= a; b++) XtX[a * p + b] += v * X[o + b];
    }
  }
  const e = Float64Array.from(y);
  if (p === 0) return e;
  if (!cholLower(XtX, p)) return e.fill(0);
  const b = Float64Array.from(Xty);
  solveLower(XtX, p, 0, p, b);
  solveLowerT(XtX, p, 0, p, b);
  for (let r = 0; r < n; r++) {
    let s = 0;
    for (let a = 0; a < p; a++) s += X[r * p + a] * b[a];
    e[r] -= s;
  }
  return e;
}

/** Log of each stratum's RMS relative to stratum 0 (strata with no data get 0). */
function logRatios(u: Float64Array, strata: Int32Array, k: number): Float64Array {
  const ss = new Float64Array(k), cnt = new Float64Array(k);
  for (let i = 0; i < u.length; i++) {
    ss[strata[i]] += u[i] * u[i];
    cnt[strata[i]]++;
  }
  const rms = Array.from(ss, (v, s) => (cnt[s] > 0 ? Math.sqrt(v / cnt[s]) : NaN));
  const out = new Float64Array(k - 1);
  for (let s = 1; s < k; s++) out[s - 1] = logOr0(rms[s] / rms[0]);
  return out;
}

/** Starting eta for the layout (same order and scales as ResidualModel's eta). */
export function residualStart(lay: ResidualLayout, X: Float64Array, y: Float64Array, p: number): Float64Array {
  const eta = new Float64Array(lay.nCorr + lay.nOccVar + lay.nIdent);
  const u = olsResiduals(X, y, p);
  if (u.every((v) => v === 0)) return eta;
  if (lay.nOccVar > 0) {
    const r = logRatios(u, lay.occasion!, lay.nOcc);
    eta.set(r, lay.nCorr);
    for (let i = 0; i < u.length; i++) if (lay.occasion![i] > 0) u[i] /= Math.exp(r[lay.occasion![i] - 1]);
  }
  if (lay.nIdent > 0) {
    const r = logRatios(u, lay.vStrata!, lay.nStrata);
    eta.set(r, lay.nCorr + lay.nOccVar);
    for (let i = 0; i < u.length; i++) if (lay.vStrata![i] > 0) u[i] /= Math.exp(r[lay.vStrata![i] - 1]);
  }
  const { type, gptr, grows } = lay;
  const ng = gptr.length - 1;
  if (type === "AR1" || type === "ARH1" || type === "CAR1") {
    // Lag-one correlation of neighbours within groups, turned into a per-unit-lag value.
    let sxy = 0, sxx = 0, syy = 0, lag = 0, pairs = 0;
    for (let g = 0; g < ng; g++) {
      for (let k = gptr[g] + 1; k < gptr[g + 1]; k++) {
        const a = grows[k - 1], b = grows[k];
        sxy += u[a] * u[b];
        sxx += u[a] * u[a];
        syy += u[b] * u[b];
        lag += type === "CAR1" ? lay.time![b] - lay.time![a] : lay.occasion![b] - lay.occasion![a];
        pairs++;
      }
    }
    const r = pairs > 0 && sxx > 0 && syy > 0 ? sxy / Math.sqrt(sxx * syy) : 0;
    const meanLag = pairs > 0 ? lag / pairs : 1;
    let phi = Math.sign(r) * Math.pow(Math.abs(r), 1 / Math.max(meanLag, 1e-12));
    if (type === "CAR1") {
      // The parameter is the correlation at the mean gap (residual.ts's timeScale).
      phi = r > 0 ? Math.pow(r, lay.timeScale / Math.max(meanLag, 1e-300)) : 0;
      phi = clamp(phi, 1 - EDGE, EDGE);
      eta[0] = Math.log(phi / (1 - phi));
    } else {
      phi = clamp(phi, -EDGE, EDGE);
      eta[0] = 2 * Math.atanh(phi);
    }
  } else if (type === "CS") {
    // Within-group correlation: the off-diagonal products over the diagonal ones.
    let off = 0, diag = 0;
    for (let g = 0; g < ng; g++) {
      let s = 0, ss = 0;
      for (let k = gptr[g]; k < gptr[g + 1]; k++) {
        s += u[grows[k]];
        ss += u[grows[k]] * u[grows[k]];
      }
      off += s * s - ss;
      diag += (gptr[g + 1] - gptr[g] - 1) * ss;
    }
    const inf = lay.csInf;
    const rho = clamp(diag > 0 ? off / diag : 0, inf + (1 - EDGE) * (1 - inf), EDGE);
    eta[0] = Math.log((rho - inf) / (1 - rho));
  } else if (type === "UN") {
    unStart(u, lay, eta);
  }
  return eta;
}

/** UN: pairwise correlations of occasions, shrunk until positive definite, as spherical angles. */
function unStart(u: Float64Array, lay: ResidualLayout, eta: Float64Array): void {
  const m = lay.nOcc, occ = lay.occasion!, { gptr, grows } = lay;
  const sxy = new Float64Array(m * m), sxx = new Float64Array(m * m);
  for (let g = 0; g + 1 < gptr.length; g++) {
    for (let a = gptr[g]; a < gptr[g + 1]; a++) {
      for (let b = gptr[g]; b < a; b++) {
        const i = occ[grows[a]], j = occ[grows[b]];
        const hi = Math.max(i, j), lo = Math.min(i, j);
        sxy[hi * m + lo] += u[grows[a]] * u[grows[b]];
        // Both squares, so the pair's correlation uses the rows where both occasions are seen.
        const ui = i === hi ? u[grows[a]] : u[grows[b]], uj = i === hi ? u[grows[b]] : u[grows[a]];
        sxx[hi * m + lo] += ui * ui;
        sxx[lo * m + hi] += uj * uj;
      }
    }
  }
  const C = new Float64Array(m * m);
  for (const lambda of SHRINK) {
    for (let i = 0; i < m; i++) {
      C[i * m + i] = 1;
      for (let j = 0; j < i; j++) {
        const d = Math.sqrt(sxx[i * m + j] * sxx[j * m + i]);
        C[i * m + j] = (1 - lambda) * clamp(d > 0 ? sxy[i * m + j] / d : 0, -EDGE, EDGE);
      }
    }
    if (!cholLower(C, m)) continue;
    let ok = true;
    for (let i = 0; i < m; i++) if (C[i * m + i] < 0.05) ok = false;
    if (!ok && lambda < 1) continue;
    // Angles: row i of the Cholesky factor is (rest_j cos alpha_j ..., rest), rest_j the
    // product of the previous sines (the inverse of unCorrelation in residual.ts).
    let k = 0;
    for (let i = 1; i < m; i++) {
      let rest = 1;
      for (let j = 0; j < i; j++) {
        const c = rest > 1e-12 ? clamp(C[i * m + j] / rest, -1, 1) : 0;
        const frac = clamp(Math.acos(c) / Math.PI, 1 - EDGE, EDGE);
        eta[k++] = Math.log(frac / (1 - frac));
        rest *= Math.sin(Math.PI * frac);
      }
    }
    return;
  }
}
