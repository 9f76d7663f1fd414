// Shared by the stationary structures whose correlation depends only on the lag in occasions
// (TOEP, ARMA): sample autocorrelations of residuals within groups, and the Durbin-Levinson map
// between partial autocorrelations in (-1, 1) and autocorrelations (Barndorff-Nielsen and
// Schou 1973): any pacf in the open cube gives a positive definite Toeplitz matrix, so the
// optimizer can search an unconstrained box (pacf = tanh(eta / 2), as nlme's corARMA).
import type { ResidualLayout } from "./types";

/** Autocorrelations rho[0..K] (rho[0] = 1) from pacf[0..K-1]; `phi`, `prev` scratch of length K. */
export function pacfToAcf(pacf: Float64Array, K: number, rho: Float64Array, phi: Float64Array, prev: Float64Array): void {
  rho[0] = 1;
  let v = 1;
  for (let k = 1; k <= K; k++) {
    const a = pacf[k - 1];
    let s = a * v;
    for (let j = 1; j < k; j++) s += phi[j - 1] * rho[k - j];
    rho[k] = s;
    for (let j = 0; j < k - 1; j++) prev[j] = phi[j];
    for (let j = 1; j < k; j++) phi[j - 1] = prev[j - 1] - a * prev[k - j - 1];
    phi[k - 1] = a;
    v *= 1 - a * a;
  }
}

/** AR coefficients phi[0..K-1] from pacf (the same recursion, coefficients only). */
export function pacfToAr(pacf: ArrayLike<number>, K: number, phi: Float64Array): void {
  const prev = new Float64Array(K);
  for (let k = 1; k <= K; k++) {
    const a = pacf[k - 1];
    for (let j = 0; j < k - 1; j++) prev[j] = phi[j];
    for (let j = 1; j < k; j++) phi[j - 1] = prev[j - 1] - a * prev[k - j - 1];
    phi[k - 1] = a;
  }
}

/** Partial autocorrelations from autocorrelations rho[0..K] (Durbin-Levinson); NaN once not PD. */
export function acfToPacf(rho: ArrayLike<number>, K: number): Float64Array {
  const pacf = new Float64Array(K), phi = new Float64Array(K), prev = new Float64Array(K);
  let v = 1;
  for (let k = 1; k <= K; k++) {
    let s = rho[k];
    for (let j = 1; j < k; j++) s -= phi[j - 1] * rho[k - j];
    const a = v > 0 ? s / v : NaN;
    pacf[k - 1] = a;
    for (let j = 0; j < k - 1; j++) prev[j] = phi[j];
    for (let j = 1; j < k; j++) phi[j - 1] = prev[j - 1] - a * prev[k - j - 1];
    phi[k - 1] = a;
    v *= 1 - a * a;
  }
  return pacf;
}

/** AR polynomial's partial autocorrelations from its coefficients (step-down); for starts. */
export function arToPacf(phi: ArrayLike<number>, K: number): Float64Array {
  const a = Float64Array.from({ length: K }, (_, i) => phi[i]);
  const pacf = new Float64Array(K);
  for (let k = K; k >= 1; k--) {
    const r = a[k - 1];
    pacf[k - 1] = r;
    const d = 1 - r * r;
    const b = new Float64Array(k - 1);
    for (let j = 1; j < k; j++) b[j - 1] = d > 0 ? (a[j - 1] + r * a[k - j - 1]) / d : 0;
    a.set(b);
  }
  return pacf;
}

/** Sample autocorrelations at lags 0..K (in occasions) of residuals u within groups. */
export function sampleAcf(u: Float64Array, lay: ResidualLayout, K: number): Float64Array {
  const occ = lay.occasion!, { gptr, grows } = lay;
  const num = new Float64Array(K + 1), cnt = new Float64Array(K + 1);
  let ss = 0;
  for (let i = 0; i < u.length; i++) ss += u[i] * u[i];
  const var0 = u.length > 0 ? ss / u.length : 1;
  for (let g = 0; g + 1 < gptr.length; g++) {
    for (let a = gptr[g]; a < gptr[g + 1]; a++) {
      for (let b = gptr[g]; b < a; b++) {
        const k = occ[grows[a]] - occ[grows[b]];
        if (k > K) continue;
        num[k] += u[grows[a]] * u[grows[b]];
        cnt[k]++;
      }
    }
  }
  const rho = new Float64Array(K + 1);
  rho[0] = 1;
  for (let k = 1; k <= K; k++) rho[k] = cnt[k] > 0 && var0 > 0 ? num[k] / cnt[k] / var0 : 0;
  return rho;
}
