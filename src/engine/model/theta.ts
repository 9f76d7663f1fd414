// Two parameterizations of the random-effects covariance: lme4's theta (the lower Cholesky
// factor of each term's relative covariance on the data's scale) and the working theta the
// optimizer uses (the same on conditioned columns, see remat.ts). Inference that must match
// lme4/lmerTest differentiates in lme4's theta; the objective is evaluated in the working one.
import { cholCopy } from "../linalg/dense";
import { ReMat } from "./remat";
import { relativeCovariance } from "./components";

/** Inverse of an upper-triangular q x q matrix (C is upper triangular by construction). */
function invUpper(C: Float64Array, q: number): Float64Array {
  const inv = new Float64Array(q * q);
  for (let j = q - 1; j >= 0; j--) {
    inv[j * q + j] = 1 / C[j * q + j];
    for (let i = j - 1; i >= 0; i--) {
      let s = 0;
      for (let k = i + 1; k <= j; k++) s += C[i * q + k] * inv[k * q + j];
      inv[i * q + j] = -s / C[i * q + i];
    }
  }
  return inv;
}

/**
 * Working theta from lme4's theta: T_w = chol(C^{-1} T_o T_o' C^{-T}), term by term. A term with
 * a covariance structure (re-cov/) has its own parameters in both (see varparTheta): copied.
 */
export function workingFromLme4(remats: ReMat[], thetaO: ArrayLike<number>): Float64Array {
  const out = new Float64Array(thetaO.length);
  for (const r of remats) {
    const q = r.q, off = r.thetaOffset;
    if (r.structure.type !== "us") {
      for (let k = 0; k < r.structure.nPar; k++) out[off + k] = thetaO[off + k];
      continue;
    }
    const To = new Float64Array(q * q);
    let k = off;
    for (let j = 0; j < q; j++) for (let i = j; i < q; i++) To[i * q + j] = thetaO[k++];
    const Ci = invUpper(r.C, q);
    const M = new Float64Array(q * q);
    for (let a = 0; a < q; a++) for (let b = 0; b < q; b++) {
      let s = 0;
      for (let g = 0; g < q; g++) s += Ci[a * q + g] * To[g * q + b];
      M[a * q + b] = s;
    }
    const S = new Float64Array(q * q);
    for (let a = 0; a < q; a++) for (let b = 0; b < q; b++) {
      let s = 0;
      for (let g = 0; g < q; g++) s += M[a * q + g] * M[b * q + g];
      S[a * q + b] = s;
    }
    const L = cholCopy(S, q) ?? new Float64Array(q * q);
    k = off;
    for (let j = 0; j < q; j++) for (let i = j; i < q; i++) out[k++] = L[i * q + j];
  }
  return out;
}

/**
 * The covariance parameters inference differentiates in (lmerTest's varpar without sigma): lme4's
 * theta (the lower Cholesky factor of the relative covariance) for unstructured terms, the
 * structure's own parameters for the others (a reparameterization leaves Satterthwaite's df
 * unchanged at the optimum). Same layout as the working theta.
 */
export function varparTheta(remats: ReMat[], theta: ArrayLike<number>, T: Float64Array[]): Float64Array {
  const out = new Float64Array(theta.length);
  remats.forEach((r, t) => {
    const off = r.thetaOffset, q = r.q;
    if (r.structure.type !== "us") {
      for (let i = 0; i < r.structure.nPar; i++) out[off + i] = theta[off + i];
      return;
    }
    const L = cholCopy(relativeCovariance(r, T[t]), q) ?? new Float64Array(q * q);
    let k = off;
    for (let j = 0; j < q; j++) for (let i = j; i < q; i++) out[k++] = L[i * q + j];
  });
  return out;
}
