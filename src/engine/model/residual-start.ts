// Starting values for the residual-structure parameters from moments of the ordinary
// least-squares residuals: each variance function's start (SD ratios per occasion and per
// varIdent stratum from their root mean squares), which standardizes the residuals, then the
// correlation structure's own start from them (residual/<family>.ts: lag-one for AR1/ARH1/CAR1,
// within group for CS, per pair of occasions for UN, per lag for TOEP ...). The likelihood of these structures can have
// several local optima (ARH1 on the Sitka data has two, 10 log-likelihood units apart, and the
// start at independence leads to the lower one), so where the search starts matters; a start
// that already describes the data also saves outer iterations, each of which is a pass over the
// rows.
import type { ResidualModel } from "./residual";
import { cholLower, solveLower, solveLowerT } from "../linalg/dense";

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

/**
 * Starting eta for a residual model (same order and scales as its eta). `yIsResidual`: y is
 * already its OLS residual on X (the working basis, fixed-basis.ts), so the pass is skipped.
 */
export function residualStart(res: ResidualModel, X: Float64Array, y: Float64Array, p: number, yIsResidual = false): Float64Array {
  const eta = new Float64Array(res.nPar);
  const u = yIsResidual ? Float64Array.from(y) : olsResiduals(X, y, p);
  if (u.every((v) => v === 0)) return eta;
  let off = res.layout.nCorr;
  for (const v of res.vars) {
    eta.set(v.start(u), off);
    off += v.nPar;
  }
  if (res.structure) eta.set(res.structure.start(u, res.layout), 0);
  return eta;
}
