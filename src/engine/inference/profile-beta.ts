// Profile-likelihood intervals for the fixed effects, as lme4's
// confint(fit, method = "profile", parm = "beta_"): lme4 profiles the ML deviance (a REML fit is
// refitted by ML first, profile.merMod's devfun2 calls refitML), so the interval is about the ML
// estimate. For coefficient j held at b, the response becomes y - b x_j, x_j leaves X, and the ML
// deviance is minimized over theta (the other coefficients and sigma profiled out in closed form);
// zeta(b) = sign(b - beta^_j) sqrt(dev(b) - dev^), and each end is where zeta crosses the normal
// quantile. We find that crossing by a safeguarded secant search (lme4 interpolates a spline
// through profile points, which agrees to about 1e-5 relative).
//
// Per coefficient the working basis of the other columns and the residuals of y and x_j on them are
// formed once (fixed-basis.ts), so a new b only re-accumulates the cross-products of
// (basis, ry - b rx) in one pass over the rows, then optimizes theta warm-started from the last b.
import type { FixefRow, Method } from "../types";
import { DataError } from "../errors";
import type { LmmFit, PreparedModel } from "../model/prepared";
import { fitPrepared } from "../model/prepared";
import { BlockedModel } from "../model/blocked";
import { fixedBasis } from "../model/fixed-basis";
import { thetaLowerBounds } from "../model/remat";
import { fixedEffects, unscaledVcov } from "../model/solve";
import { evaluationMs, optimizerMs, PROFILE_MS } from "../model/cost";
import { bobyqa } from "../optim";
import { restore } from "./fixef";
import { qNorm } from "./dist";

/** Milliseconds per row and column of one re-accumulation (as cost.ts's whitening pass). */
const ACCUMULATE_MS_PER_CELL = 7e-5;

/** Estimated ms of the profile intervals of all p coefficients (cost.ts's units). */
export function profileBetaMs(fit: PreparedModel, method: Method): number {
  const { design, model } = fit;
  const nth = model.remats.reduce((s, r) => s + (r.q * (r.q + 1)) / 2, 0);
  const cols = design.p + model.remats.reduce((s, r) => s + r.q, 0);
  const perPoint = design.n * cols * ACCUMULATE_MS_PER_CELL + 30 * (nth + 1) * (evaluationMs(fit) + optimizerMs(nth));
  // Both ends, about eight points each (the secant search), plus the ML refit of a REML fit.
  return design.p * 2 * 8 * perPoint + (method === "REML" ? 60 * (nth + 1) * evaluationMs(fit) : 0);
}

/**
 * Why profile intervals cannot be computed for this model, or null. fitModel asks before the fit,
 * so a refused request costs nothing.
 */
export function profileBetaRefusal(fit: PreparedModel, method: Method): string | null {
  if (fit.residual) return "profile-likelihood intervals for the fixed effects are computed for models without a residual structure (as lme4's); use the t intervals (the default)";
  if (fit.design.p === 0) return "the model has no fixed effects to profile";
  const ms = profileBetaMs(fit, method);
  if (ms > 2 * PROFILE_MS) {
    return `profile-likelihood intervals for the ${fit.design.p} fixed effects would take about ${Math.round(ms / 1000)} s on data this size; use the t intervals (the default), or fewer rows or random effects`;
  }
  return null;
}

/**
 * Replace each row's lower/upper by the profile-likelihood interval at `level`. Throws a
 * DataError (saying what to change) when the intervals are not available or too costly.
 * Returns the notes for the result's messages.
 */
export function profileBetaIntervals(fit: LmmFit, rows: FixefRow[], level: number, signal?: { cancelled: boolean }): string[] {
  const why = profileBetaRefusal(fit, fit.method);
  if (why) throw new DataError(why);
  const { design } = fit;
  const { n, p, X, y } = design;
  const remats = fit.model.remats;
  const ml = fit.method === "ML" ? fit : fitPrepared(fit, "ML", signal);
  restore(ml);
  const base = ml.objective;
  const betaMl = fixedEffects(ml.model);
  const vc = unscaledVcov(ml.model);
  const s2 = ml.model.pwrss / n;
  const thetaMl = Float64Array.from(ml.theta);
  const lower = thetaLowerBounds(remats);
  const z = qNorm(1 - (1 - level) / 2);
  const notes: string[] = [];
  const failed: string[] = [];
  const pm = p - 1;
  const Xm = new Float64Array(n * pm), xj = new Float64Array(n);
  for (let j = 0; j < p; j++) {
    if (signal?.cancelled) break;
    for (let i = 0; i < n; i++) {
      let c = 0;
      for (let k = 0; k < p; k++) {
        if (k === j) xj[i] = X[i * p + k];
        else Xm[i * pm + c++] = X[i * p + k];
      }
    }
    // Working basis of the other columns; the residuals of y and x_j on it.
    const by = fixedBasis(Xm, y, n, pm);
    const bx = fixedBasis(Xm, xj, n, pm);
    const yb = new Float64Array(n);
    const model = new BlockedModel(remats, by.X, by.y, pm);
    let warm = Float64Array.from(thetaMl);
    const dev = (b: number): number => {
      for (let i = 0; i < n; i++) yb[i] = by.y[i] - b * bx.y[i];
      model.accumulate(by.X, yb);
      if (warm.length === 0) return model.evaluate(warm, false);
      const res = bobyqa((th) => model.evaluate(th, false), warm, { lower, rhobeg: 0.05, rhoend: 1e-8, maxfun: 500 * (warm.length + 1) });
      if (!Number.isFinite(res.fval)) return NaN;
      warm = Float64Array.from(res.x);
      return res.fval;
    };
    const est = betaMl[j];
    const se = Math.sqrt(s2 * vc[j * p + j]);
    const zeta = (b: number): number => {
      const d = dev(b) - base;
      return Number.isNaN(d) ? NaN : Math.sign(b - est) * Math.sqrt(Math.max(d, 0));
    };
    const ends: (number | null)[] = [null, null];
    for (const [side, dir] of [[0, -1], [1, 1]] as const) {
      warm = Float64Array.from(thetaMl);
      ends[side] = crossing(zeta, est, se, dir * z);
    }
    const r = rows[j];
    if (ends[0] === null || ends[1] === null) {
      failed.push(r.term);
      r.lower = r.upper = null;
    } else {
      r.lower = ends[0];
      r.upper = ends[1];
    }
  }
  restore(fit);
  notes.push(`the fixed-effect intervals are profile likelihood (as lme4's confint(method = "profile")${fit.method === "REML" ? ": the ML deviance of the ML refit, so they are about the ML estimates" : ""}); the p-values are still the t tests'`);
  if (failed.length > 0) notes.push(`no profile interval for ${failed.join(", ")}: the profile did not reach the ${level} quantile`);
  return notes;
}

/**
 * The b where zeta(b) = target, from the estimate (zeta = 0) along the side of `target`: a first
 * step of the Wald width, secant steps until the crossing is bracketed, then the Illinois method.
 */
function crossing(zeta: (b: number) => number, est: number, se: number, target: number): number | null {
  if (!(se > 0)) return null;
  const tol = 1e-9;
  let x0 = est, f0 = -target;
  let x1 = est + target * se, f1 = zeta(x1) - target;
  for (let it = 0; it < 60; it++) {
    if (Number.isNaN(f1)) return null;
    if (Math.abs(f1) < tol) return x1;
    if (f0 * f1 < 0) break;
    // Secant from the last two points, kept moving outwards and at most 10 times the last step.
    let xn = f1 !== f0 ? x1 - (f1 * (x1 - x0)) / (f1 - f0) : x1 + (x1 - est);
    const step = x1 - est;
    if (!((xn - est) * step > 0)) xn = est + 2 * step;
    if (Math.abs(xn - x1) > 10 * Math.abs(x1 - x0)) xn = x1 + 10 * Math.abs(x1 - x0) * Math.sign(xn - x1);
    x0 = x1;
    f0 = f1;
    x1 = xn;
    f1 = zeta(x1) - target;
  }
  if (!(f0 * f1 < 0)) return null;
  // Illinois: regula falsi that halves the value kept twice in a row.
  let a = x0, fa = f0, b = x1, fb = f1;
  for (let it = 0; it < 100; it++) {
    const c = b - (fb * (b - a)) / (fb - fa);
    const fc = zeta(c) - target;
    if (Number.isNaN(fc)) return null;
    if (Math.abs(fc) < tol || Math.abs(b - a) < 1e-13 * Math.max(Math.abs(c), se)) return c;
    if (fc * fb < 0) {
      a = b;
      fa = fb;
    } else fa /= 2;
    b = c;
    fb = fc;
  }
  return null;
}
