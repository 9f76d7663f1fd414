// Toeplitz over the levels of a factor (glmmTMB toep(0 + f | g), SAS TYPE=TOEPH in RANDOM): one SD
// per effect and one correlation per lag, Cor(b_i, b_j) = rho_|i-j|. The optimizer's parameters
// are the partial autocorrelations pi_k = eta_k / sqrt(1 + eta_k^2) in (-1, 1), which map one to
// one onto the positive-definite Toeplitz correlations (Durbin-Levinson; Barndorff-Nielsen &
// Schou 1973), so every eta is a valid matrix. T = D chol(R).
import type { ReStructure } from "./types";
import { cholSemidefinite, covSummary } from "./types";

/** Autocorrelations rho_1..rho_m from partial autocorrelations pi_1..pi_m (Durbin-Levinson). */
function acfFromPacf(pi: ArrayLike<number>, m: number, rho: Float64Array, phi: Float64Array, prev: Float64Array): void {
  for (let k = 1; k <= m; k++) {
    const p = pi[k - 1];
    // rho_k = sum_j phi_{k-1,j} rho_{k-j} + p (1 - sum_j phi_{k-1,j} rho_j)
    let a = 0, b = 0;
    for (let j = 1; j < k; j++) {
      a += prev[j] * rho[k - j];
      b += prev[j] * rho[j];
    }
    rho[k] = a + p * (1 - b);
    for (let j = 1; j < k; j++) phi[j] = prev[j] - p * prev[k - j];
    phi[k] = p;
    for (let j = 1; j <= k; j++) prev[j] = phi[j];
  }
}

/** Partial autocorrelations from autocorrelations (Levinson); null where they are not a valid sequence. */
function pacfFromAcf(rho: ArrayLike<number>, m: number): number[] | null {
  const out: number[] = [];
  let prev = new Float64Array(m + 1);
  for (let k = 1; k <= m; k++) {
    let num = rho[k], den = 1;
    for (let j = 1; j < k; j++) {
      num -= prev[j] * rho[k - j];
      den -= prev[j] * rho[j];
    }
    const p = num / den;
    if (!(Math.abs(p) < 1) || !(den > 0)) return null;
    const cur = new Float64Array(m + 1);
    for (let j = 1; j < k; j++) cur[j] = prev[j] - p * prev[k - j];
    cur[k] = p;
    prev = cur;
    out.push(p);
  }
  return out;
}

export function toeplitz(effects: string[]): ReStructure {
  const q = effects.length, m = q - 1;
  const R = new Float64Array(q * q), L = new Float64Array(q * q);
  const rho = new Float64Array(q), phi = new Float64Array(q), prev = new Float64Array(q), pi = new Float64Array(m);
  const piOf = (eta: number) => eta / Math.sqrt(1 + eta * eta);
  const etaOf = (p: number) => p / Math.sqrt(1 - p * p);
  const correlations = (theta: ArrayLike<number>, off: number): Float64Array => {
    for (let k = 0; k < m; k++) pi[k] = piOf(theta[off + q + k]);
    rho[0] = 1;
    acfFromPacf(pi, m, rho, phi, prev);
    return rho;
  };
  const lags = Array.from({ length: m }, (_, k) => `rho${k + 1}`);
  return {
    type: "toep",
    q,
    nPar: q + m,
    names: [...effects.map((e) => `sd_${e}`), ...lags],
    kinds: [...new Array<"sd">(q).fill("sd"), ...new Array<"cor">(m).fill("cor")],
    lower: () => [...new Array<number>(q).fill(0), ...new Array<number>(m).fill(-Infinity)],
    start: () => [...new Array<number>(q).fill(1), ...new Array<number>(m).fill(0)],
    fill: (theta, off, T) => {
      const r = correlations(theta, off);
      for (let a = 0; a < q; a++) for (let b = 0; b < q; b++) R[a * q + b] = r[Math.abs(a - b)];
      cholSemidefinite(R, q, L);
      for (let a = 0; a < q; a++) {
        const s = theta[off + a];
        for (let b = 0; b < q; b++) T[a * q + b] = s * L[a * q + b];
      }
    },
    fromCovariance: (S) => {
      const { sds } = covSummary(S, q);
      // Mean correlation per lag, shrunk towards 0 until it is a valid Toeplitz sequence.
      const lag = new Float64Array(q);
      lag[0] = 1;
      for (let k = 1; k <= m; k++) {
        let s = 0;
        for (let a = 0; a + k < q; a++) s += sds[a] * sds[a + k] > 0 ? S[a * q + a + k] / (sds[a] * sds[a + k]) : 0;
        lag[k] = s / (q - k);
      }
      for (const f of [0.9, 0.6, 0.3, 0]) {
        const p = pacfFromAcf(Float64Array.from(lag, (v, k) => (k === 0 ? 1 : f * v)), m);
        if (p) return [...sds, ...p.map(etaOf)];
      }
      return [...sds, ...new Array<number>(m).fill(0)];
    },
    natural: (theta, off) => [...Array.from({ length: q }, (_, a) => Math.abs(theta[off + a])), ...Array.from(correlations(theta, off).subarray(1))],
    fromNatural: (nat, theta, off) => {
      for (let a = 0; a < q; a++) {
        if (!(nat[a] >= 0)) return false;
        theta[off + a] = nat[a];
      }
      const p = pacfFromAcf([1, ...Array.from({ length: m }, (_, k) => nat[q + k])], m);
      if (!p) return false;
      p.forEach((v, k) => (theta[off + q + k] = etaOf(v)));
      return true;
    },
    bounds: () => [...new Array(q).fill(null).map(() => [0, Infinity] as [number, number]), ...new Array(m).fill(null).map(() => [-1, 1] as [number, number])],
  };
}
