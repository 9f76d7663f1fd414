// Variance functions of the fitted values (nlme's varPower(form = ~ fitted(.)), written
// `; varPower(fitted)`): the residual SD of row i is sigma |mu_i|^delta with mu_i = x_i'beta +
// z_i'b (the fitted value at the innermost level, nlme's fitted(.); x_i'beta without random
// effects). mu depends on the fit, so nlme alternates: fit with the covariate fixed at the current
// fitted values, recompute them, until they settle; the likelihood and all inference then treat
// the last covariate as fixed. prepared.ts runs that loop; this file has its two pieces.
import type { Design, ModelSpec } from "../types";
import type { BlockedModel } from "./blocked";
import { fixedEffects, sphericalModes, workingModes } from "./solve";
import { cholLower, solveLower, solveLowerT } from "../linalg/dense";

export function needsFitted(spec: ModelSpec): boolean {
  return (spec.varFuncs ?? []).some((v) => v.fitted);
}

/**
 * The covariate of a variance function of the fitted values: the fitted values of the previous
 * fit, or at the start those of ordinary least squares (nlme starts from the fit without the
 * variance function's effect, delta = 0).
 */
export function fittedCovariate(design: Design): Float64Array {
  if (!design.fittedCovariate) design.fittedCovariate = olsFitted(design);
  return design.fittedCovariate;
}

function olsFitted(design: Design): Float64Array {
  const { n, p, X, y } = design;
  const A = new Float64Array(p * p), b = new Float64Array(p);
  for (let r = 0; r < n; r++) {
    const o = r * p;
    for (let i = 0; i < p; i++) {
      b[i] += X[o + i] * y[r];
      for (let j = 0; j <= i; j++) A[i * p + j] += X[o + i] * X[o + j];
    }
  }
  const out = new Float64Array(n);
  if (!cholLower(A, p)) return out.fill(1);
  solveLower(A, p, 0, p, b);
  solveLowerT(A, p, 0, p, b);
  for (let r = 0; r < n; r++) {
    let s = 0;
    for (let i = 0; i < p; i++) s += X[r * p + i] * b[i];
    out[r] = s;
  }
  return out;
}

/** The conditional fitted values x'beta + z'b of a model factored at its optimum. */
export function fittedValues(design: Design, model: BlockedModel): Float64Array {
  const { n, p, X } = design;
  const beta = fixedEffects(model);
  const bWork = workingModes(model, sphericalModes(model));
  const out = new Float64Array(n);
  for (let r = 0; r < n; r++) {
    let m = 0;
    for (let f = 0; f < p; f++) m += X[r * p + f] * beta[f];
    model.remats.forEach((rm, t) => {
      const q = rm.q, lev = rm.refs[r];
      for (let a = 0; a < q; a++) m += rm.z[r * q + a] * bWork[t][lev * q + a];
    });
    out[r] = m;
  }
  return out;
}
