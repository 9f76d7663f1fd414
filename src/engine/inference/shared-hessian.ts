// One Hessian of the deviance for both of fitModel's users on large models. Satterthwaite's df
// (fixef.ts) take the Hessian of the unprofiled deviance in varpar = (lme4's theta, sigma); the
// Wald intervals of the variance components (varcomp.ts) want it in eta = (log sd, atanh cor,
// log sigma). At the optimum the gradient vanishes, so the second is the first pulled back
// through the map eta -> varpar: H_eta = J' H_varpar J, J = d varpar / d eta. That map involves
// no factorization (it is q x q algebra), so its Jacobian costs nothing, while a Hessian of its
// own costs 1 + 2k^2 factorizations (~2 s at InstEval's size). Used only where the direct
// Hessian would be cut to fewer Richardson levels for cost anyway: small models keep theirs.
import type { LmmFit } from "../model/prepared";

interface Stored {
  vp: Float64Array;
  H: Float64Array;
}

const stored = new WeakMap<LmmFit, Stored>();

/** Keep the varpar Hessian computed at the fit's optimum (fixef.ts). */
export function rememberVarparHessian(fit: LmmFit, vp: Float64Array, H: Float64Array): void {
  stored.set(fit, { vp: Float64Array.from(vp), H: Float64Array.from(H) });
}

/** The varpar Hessian at the fit's optimum, if Satterthwaite's df computed one. */
export function varparHessian(fit: LmmFit): Stored | undefined {
  return stored.get(fit);
}

/**
 * H_eta = J' H J for the map `toVarpar` (eta -> varpar, m entries) at eta (k entries), with J by
 * central differences of that cheap map (step 1e-6 relative: its error is ~1e-12, far below the
 * Hessian's own). Null if the map fails near eta or does not reproduce `vp` at eta.
 */
export function pullBack(H: Float64Array, vp: Float64Array, eta: Float64Array, toVarpar: (eta: Float64Array) => Float64Array | null): Float64Array | null {
  const k = eta.length, m = vp.length;
  const at = toVarpar(eta);
  if (!at || at.length !== m) return null;
  for (let i = 0; i < m; i++) if (!(Math.abs(at[i] - vp[i]) <= 1e-8 * Math.max(1, Math.abs(vp[i])))) return null;
  const J = new Float64Array(m * k);
  const x = Float64Array.from(eta);
  for (let a = 0; a < k; a++) {
    const h = 1e-6 * Math.max(1, Math.abs(eta[a]));
    x[a] = eta[a] + h;
    const fp = toVarpar(x);
    x[a] = eta[a] - h;
    const fm = toVarpar(x);
    x[a] = eta[a];
    if (!fp || !fm) return null;
    for (let i = 0; i < m; i++) J[i * k + a] = (fp[i] - fm[i]) / (2 * h);
  }
  const out = new Float64Array(k * k);
  for (let a = 0; a < k; a++) {
    for (let b = 0; b <= a; b++) {
      let s = 0;
      for (let i = 0; i < m; i++) {
        const ja = J[i * k + a];
        if (ja === 0) continue;
        for (let j = 0; j < m; j++) s += ja * H[i * m + j] * J[j * k + b];
      }
      out[a * k + b] = out[b * k + a] = s;
    }
  }
  return out;
}
