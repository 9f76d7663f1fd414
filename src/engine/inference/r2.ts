// Marginal and conditional R² of Nakagawa & Schielzeth (2013), with Johnson's (2014) extension
// to random slopes, as performance::r2_nakagawa computes them for a Gaussian LMM:
//   var_f = var(X beta) (divisor n - 1), var_r = sum over random terms of mean_i z_i' Sigma_t z_i,
//   var_e = the mean residual variance (sigma^2, times the mean squared SD ratio of a variance
//   function or a heteroscedastic structure);
//   marginal = var_f / (var_f + var_r + var_e), conditional = (var_f + var_r) / (same).
import type { LmmFit } from "../model/prepared";

export interface R2 {
  marginal: number;
  conditional: number;
  definition: string;
}

export const R2_DEFINITION =
  "Nakagawa & Schielzeth (2013) R² with Johnson's (2014) random slopes, as performance::r2_nakagawa: " +
  "marginal = var(X b) / (var(X b) + var_random + var_residual), conditional = (var(X b) + var_random) / (same); " +
  "var(X b) with divisor n - 1, var_random = sum over random terms of the mean over rows of z' Sigma z, " +
  "var_residual = the mean residual variance over the rows";

/**
 * R² at the fit's optimum (the model must be factored there: call after restore(fit)).
 * `sigma2` is the residual variance scale, `beta` the fixed effects.
 */
export function nakagawaR2(fit: LmmFit, beta: Float64Array, sigma2: number): R2 {
  const { design, model } = fit;
  const { n, p, X } = design;
  let mean = 0, m2 = 0;
  for (let i = 0; i < n; i++) {
    let f = 0;
    for (let j = 0; j < p; j++) f += X[i * p + j] * beta[j];
    // Welford: no cancellation when the mean is large against the spread.
    const d = f - mean;
    mean += d / (i + 1);
    m2 += d * (f - mean);
  }
  const varF = n > 1 ? m2 / (n - 1) : 0;
  // On the working scale z_w = z C and Sigma_w = sigma^2 T T', so z' Sigma z = sigma^2 |T' z_w|^2.
  let varR = 0;
  model.remats.forEach((r, t) => {
    const q = r.q, T = model.T[t], z = r.z;
    let s = 0;
    for (let i = 0; i < n; i++) {
      for (let b = 0; b < q; b++) {
        let v = 0;
        for (let a = b; a < q; a++) v += T[a * q + b] * z[i * q + a];
        s += v * v;
      }
    }
    varR += (sigma2 * s) / n;
  });
  let varE = sigma2;
  if (fit.residual) {
    const sd = fit.residual.res.sd;
    let s = 0;
    for (let i = 0; i < n; i++) s += sd[i] * sd[i];
    varE = (sigma2 * s) / n;
  }
  const total = varF + varR + varE;
  return { marginal: varF / total, conditional: (varF + varR) / total, definition: R2_DEFINITION };
}
