// ARMA(p, q) (nlme corARMA, SAS ARMA(1,1)): e_t = sum phi_i e_(t-i) + a_t + sum theta_j a_(t-j),
// lags in occasions. Stationarity and invertibility by partial autocorrelations (lags.ts):
// phi from pacf = tanh(eta / 2), theta = -(the AR coefficients of its own pacf), so the MA
// polynomial 1 + theta_1 z + ... has its roots outside the unit circle. The autocorrelations
// at lags 0 .. nOcc-1 come from the (p+1)-equation system for the first autocovariances and the
// AR recursion beyond (Brockwell and Davis, 3.3); a group's matrix is dense (not Markov for q > 0).
import type { DenseCorr, ResidualLayout } from "./types";
import { EDGE, clamp } from "./types";
import { acfToPacf, pacfToAr, sampleAcf } from "./lags";

/** Autocorrelations rho[0..L] of ARMA(phi, theta) (theta_0 = 1). */
export function armaAcf(phi: Float64Array, theta: Float64Array, L: number, rho: Float64Array): void {
  const p = phi.length, q = theta.length;
  const th = (j: number) => (j === 0 ? 1 : j <= q ? theta[j - 1] : 0);
  const psi = new Float64Array(q + 1);
  psi[0] = 1;
  for (let j = 1; j <= q; j++) {
    let s = th(j);
    for (let i = 1; i <= Math.min(j, p); i++) s += phi[i - 1] * psi[j - i];
    psi[j] = s;
  }
  const rhs = (k: number) => {
    let s = 0;
    for (let j = k; j <= q; j++) s += th(j) * psi[j - k];
    return s;
  };
  // gamma(k) - sum_i phi_i gamma(|k - i|) = rhs(k), k = 0..p: a (p+1) x (p+1) system.
  const n = p + 1, A = new Float64Array(n * n), b = new Float64Array(n);
  for (let k = 0; k <= p; k++) {
    A[k * n + k] += 1;
    for (let i = 1; i <= p; i++) A[k * n + Math.abs(k - i)] -= phi[i - 1];
    b[k] = rhs(k);
  }
  // Gaussian elimination with partial pivoting (p is small).
  for (let c = 0; c < n; c++) {
    let piv = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(A[r * n + c]) > Math.abs(A[piv * n + c])) piv = r;
    if (piv !== c) {
      for (let j = 0; j < n; j++) [A[c * n + j], A[piv * n + j]] = [A[piv * n + j], A[c * n + j]];
      [b[c], b[piv]] = [b[piv], b[c]];
    }
    for (let r = c + 1; r < n; r++) {
      const f = A[r * n + c] / A[c * n + c];
      for (let j = c; j < n; j++) A[r * n + j] -= f * A[c * n + j];
      b[r] -= f * b[c];
    }
  }
  const gamma = new Float64Array(Math.max(L, p) + 1);
  for (let c = n - 1; c >= 0; c--) {
    let s = b[c];
    for (let j = c + 1; j < n; j++) s -= A[c * n + j] * gamma[j];
    gamma[c] = s / A[c * n + c];
  }
  for (let k = p + 1; k <= L; k++) {
    let s = rhs(k);
    for (let i = 1; i <= p; i++) s += phi[i - 1] * gamma[k - i];
    gamma[k] = s;
  }
  for (let k = 0; k <= L; k++) rho[k] = gamma[k] / gamma[0];
}

export function arma(lay: ResidualLayout, p: number, q: number): DenseCorr {
  const occ = lay.occasion!, L = lay.nOcc - 1;
  const rho = new Float64Array(L + 1), phi = new Float64Array(p), theta = new Float64Array(q);
  const coefs = (eta: Float64Array) => {
    pacfToAr(Array.from(eta.subarray(0, p), (e) => Math.tanh(e / 2)), p, phi);
    pacfToAr(Array.from(eta.subarray(p, p + q), (e) => Math.tanh(e / 2)), q, theta);
    for (let j = 0; j < q; j++) theta[j] = -theta[j];
  };
  return {
    kind: "dense",
    nPar: p + q,
    set(eta) {
      coefs(eta);
      armaAcf(phi, theta, L, rho);
      return rho.every(Number.isFinite);
    },
    fill(rows, o, m, out) {
      for (let a = 0; a < m; a++) {
        const oa = occ[rows[o + a]];
        for (let b = 0; b <= a; b++) out[a * m + b] = rho[oa - occ[rows[o + b]]];
      }
    },
    start(u) {
      // AR part from the sample autocorrelations (Yule-Walker through their pacf), MA at 0.
      const eta = new Float64Array(p + q);
      if (p > 0) {
        const pa = acfToPacf(sampleAcf(u, lay, p), p);
        for (let k = 0; k < p; k++) eta[k] = Number.isFinite(pa[k]) ? 2 * Math.atanh(clamp(pa[k], -EDGE, EDGE)) : 0;
      }
      return eta;
    },
    params(eta) {
      coefs(eta);
      // nlme's names: Phi1, Phi2, ..., Theta1, ...
      const out: Record<string, number> = {};
      phi.forEach((v, k) => (out[`Phi${k + 1}`] = v));
      theta.forEach((v, k) => (out[`Theta${k + 1}`] = v));
      return out;
    },
  };
}
