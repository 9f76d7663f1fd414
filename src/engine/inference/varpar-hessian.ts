// The Hessian of the unprofiled deviance in varpar = (lme4's theta, the residual parameters,
// sigma) for models with a residual structure on small blocks, from the analytic gradient of
// model/residual-gradient.ts: central differences of the gradient (2k gradients) instead of
// second differences of the deviance with Richardson extrapolation (~4 k^2 deviances), which on
// UN with 12 occasions (78 parameters) is 25,000 evaluations. The gradient is taken in the
// working theta (remat.ts) and carried to lme4's theta through the Jacobian of the map, exact at
// the optimum (where the gradient vanishes, the map's curvature does not enter).
// Null where the gradient path does not apply (large or crossed blocks, no residual structure), a
// template diagonal is at 0 (there the map |.| has a kink), or the model has at most SMALL
// parameters: the callers then difference the deviance.
import type { LmmFit } from "../model/prepared";
import { DenseBlocks } from "../model/residual-gradient";
import { hessianOfGradient } from "../model/quasi-newton";
import { workingFromLme4 } from "../model/theta";

const SMALL = 5;

export function varparHessian(fit: LmmFit, vp: Float64Array): Float64Array | null {
  if (!fit.residual) return null;
  const dense = DenseBlocks.of(fit);
  if (!dense) return null;
  const remats = fit.model.remats;
  const nth = dense.nTheta, ne = dense.nEta, k = nth + ne + 1;
  // Up to SMALL parameters Richardson's Hessian of the deviance is cheap (a few hundred
  // evaluations) and more exact (second differences of the gradient carry the structures'
  // differenced entries' rounding, ~1e-7 relative): the callers keep it there.
  if (vp.length !== k || k <= SMALL) return null;
  for (const r of remats) {
    let o = r.thetaOffset;
    for (let j = 0; j < r.q; j++) {
      if (!(Math.abs(vp[o]) > 1e-6)) return null;
      o += r.q - j;
    }
  }
  const reml = fit.method === "REML";
  const w0 = Float64Array.from(vp);
  w0.set(workingFromLme4(remats, vp.subarray(0, nth)), 0);
  // grad in (working theta, eta, sigma): the point's last entry is sigma.
  const xs = new Float64Array(nth + ne), gs = new Float64Array(nth + ne + 1);
  const fg = (w: Float64Array, g: Float64Array): number => {
    xs.set(w.subarray(0, nth + ne));
    const f = dense.evaluate(xs, reml, gs, w[nth + ne]);
    g.set(gs);
    return f;
  };
  // Steps: 1e-4 of each working theta and eta (at least 1e-4), and of sigma itself.
  const scales = Float64Array.from(w0, (v, i) => (i === nth + ne ? v : Math.max(1, Math.abs(v))));
  const Hw = hessianOfGradient(fg, w0, 1e-4, scales);
  dense.reset(fit.eta);
  if (!Hw.every(Number.isFinite)) return null;
  if (nth === 0) return Hw;
  // J = d(working theta)/d(lme4 theta) by central differences of the map (cheap: q x q per term).
  const J = new Float64Array(nth * nth);
  const t = Float64Array.from(vp.subarray(0, nth));
  for (let j = 0; j < nth; j++) {
    const h = 1e-6 * Math.max(1, Math.abs(t[j]));
    const t0 = t[j];
    t[j] = t0 + h;
    const wp = workingFromLme4(remats, t);
    t[j] = t0 - h;
    const wm = workingFromLme4(remats, t);
    t[j] = t0;
    for (let i = 0; i < nth; i++) J[i * nth + j] = (wp[i] - wm[i]) / (2 * h);
  }
  // H_vp = T' Hw T with T = blockdiag(J, I).
  const T = (i: number, j: number): number => (i < nth ? (j < nth ? J[i * nth + j] : 0) : i === j ? 1 : 0);
  const HT = new Float64Array(k * k);
  for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) {
    let s = 0;
    for (let l = 0; l < k; l++) s += Hw[i * k + l] * T(l, j);
    HT[i * k + j] = s;
  }
  const H = new Float64Array(k * k);
  for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) {
    let s = 0;
    for (let l = 0; l < k; l++) s += T(l, i) * HT[l * k + j];
    H[i * k + j] = s;
  }
  return H;
}
