// The fitted quantities predictions and residuals read, taken once from the factored model:
// beta-hat, sigma^2, vcov(beta), the BLUPs on the data's scale and the maps from the data's
// scale to the model's working coordinates (the spherical u and the working beta~).
import type { DataTable, Method } from "../types";
import { LmmFit, fitPrepared, prepareFit } from "../model/prepared";
import { checkIdentifiable } from "../model/confounding";
import { restore } from "./fixef";
import { fixedEffects, sphericalModes, unscaledVcov, workingModes } from "../model/solve";
import { relativeCovariance } from "../model/components";

/** The fitted quantities every prediction row reads. */
export interface FitState {
  fit: LmmFit;
  beta: Float64Array;
  sigma2: number;
  /** Unscaled vcov(beta), p x p (original coefficients). */
  vcov: Float64Array;
  /** Per design random term: its model (sorted) term index. */
  termOf: number[];
  /** Per model term: b on the data's scale (ell x q), C T (q x q) and the relative covariance C T T' C'. */
  b: Float64Array[];
  CT: Float64Array[];
  G: Float64Array[];
}

export function fitState(fit: LmmFit): FitState {
  const { model, design } = fit;
  restore(fit);
  const beta = fixedEffects(model);
  const dof = fit.method === "REML" ? design.n - design.p : design.n;
  const sigma2 = model.pwrss / dof;
  const vcov = unscaledVcov(model);
  const bWork = workingModes(model, sphericalModes(model));
  const termOf = design.reTerms.map((t) => model.remats.findIndex((r) => r.refs === t.refs));
  const b = model.remats.map((r, t) => {
    const { ell, q, C } = r;
    const out = new Float64Array(ell * q);
    for (let c = 0; c < ell; c++) for (let a = 0; a < q; a++) {
      let s = 0;
      for (let g = 0; g < q; g++) s += C[a * q + g] * bWork[t][c * q + g];
      out[c * q + a] = s;
    }
    return out;
  });
  const CT = model.remats.map((r, t) => {
    const q = r.q, T = model.T[t];
    const out = new Float64Array(q * q);
    for (let a = 0; a < q; a++) for (let c = 0; c < q; c++) {
      let s = 0;
      for (let g = 0; g < q; g++) s += r.C[a * q + g] * T[g * q + c];
      out[a * q + c] = s;
    }
    return out;
  });
  const G = model.remats.map((r, t) => relativeCovariance(r, model.T[t]));
  return { fit, beta, sigma2, vcov, termOf, b, CT, G };
}

/** Fit the model as fitModel does (same path, same numbers) and return it factored at the optimum. */
export function fitForPrediction(table: DataTable, specText: string, method: Method, signal?: { cancelled: boolean }): LmmFit {
  const prep = prepareFit(table, specText);
  checkIdentifiable(prep);
  const fit = fitPrepared(prep, method, signal);
  restore(fit);
  return fit;
}

/** Coefficients on the working beta~ of x' beta: T' x (beta = T (c + beta~)). */
export function workingX(fit: LmmFit, x: ArrayLike<number>): Float64Array {
  const map = fit.model.fixedMap;
  const p = fit.design.p;
  const out = new Float64Array(p);
  if (!map) {
    for (let j = 0; j < p; j++) out[j] = x[j];
    return out;
  }
  for (let j = 0; j < p; j++) {
    let s = 0;
    for (let i = 0; i <= j; i++) s += map.T[i * p + j] * x[i];
    out[j] = s;
  }
  return out;
}

/** Add (C T)' z to the coefficient vector of level c of model term t, scaled by `scale`. */
export function addLevel(st: FitState, wZ: Map<number, Float64Array>[], t: number, c: number, z: ArrayLike<number>, zoff: number, scale: number): void {
  const q = st.fit.model.remats[t].q, CT = st.CT[t];
  let w = wZ[t].get(c);
  if (!w) {
    w = new Float64Array(q);
    wZ[t].set(c, w);
  }
  for (let b = 0; b < q; b++) {
    let s = 0;
    for (let a = 0; a < q; a++) s += CT[a * q + b] * z[zoff + a];
    w[b] += scale * s;
  }
}
