// Minimizing the profiled objective over theta: BOBYQA with Nelder–Mead as fallback, then
// lme4's boundary checks (a parameter just inside a bound is tried at the bound; a parameter at
// a bound is nudged inward and the optimizer restarted if that helps), then a finite-difference
// gradient check whose outcome is reported, never hidden.
import { CancelledError } from "../errors";
import { bobyqa, nelderMead, OptimResult } from "../optim";
import type { OptimOptions } from "../optim/types";
import type { Budget } from "./cost";

export interface ThetaFit {
  theta: Float64Array;
  objective: number;
  evaluations: number;
  /** Mean milliseconds per objective evaluation (sizes the cost of profiles and derivatives). */
  msPerEvaluation: number;
  optimizer: string;
  converged: boolean;
  messages: string[];
}

const BOUNDARY_TOL = 1e-5;
const GRAD_TOL = 2e-3;

/**
 * Above this many rows the deviance (a sum over the rows, ~1e6 in size) carries rounding noise
 * of ~1e-4, which swamps finite-difference derivatives at the optimum: like lme4 (which stops
 * checking at 1e4 rows) we then skip the derivative check and the Newton polish.
 */
const CHECK_MAX_ROWS = 1e5;
const CHECK_BUDGET_MS = 1500;
/**
 * lme4's own limit for its derivative check. From here to CHECK_MAX_ROWS the check runs only
 * where it is cheap (a tenth of CHECK_BUDGET_MS): on InstEval (73k rows, a dense crossed block)
 * it doubled the fit, 39 evaluations on top of BOBYQA's 32, and moved the logLik by < 1e-6.
 */
const LME4_CHECK_ROWS = 1e4;

/**
 * A parameter the search can leave out: for the others fixed, the minimum over it (at lower
 * bound 0) costs about one evaluation (BlockedModel.tailMinimum). The search then runs over the
 * others only, on the profiled objective: fewer dimensions, fewer evaluations.
 */
export interface ProfiledParameter {
  index: number;
  /** min over theta[index] >= 0 of the objective with the other entries as in theta, and where; null if undefined. */
  minimum(theta: Float64Array): { t: number; f: number } | null;
}

export function minimizeTheta(
  f: (theta: Float64Array) => number,
  start: Float64Array,
  lower: Float64Array,
  signal?: { cancelled: boolean },
  nobs = 0,
  estimatedMs = 0,
  rhobeg = 0.25,
  budget?: Budget,
  profiled?: ProfiledParameter | null,
): ThetaFit {
  const messages: string[] = [];
  let evaluations = 0;
  const t0 = Date.now();
  const counted = (x: Float64Array): number => {
    evaluations++;
    budget?.spend();
    return f(x);
  };
  const msPer = () => (Date.now() - t0) / Math.max(evaluations, 1);
  const shouldStop = signal || budget ? () => !!signal?.cancelled || !!budget?.exhausted : undefined;
  // A run stopped by the budget (not by the user) keeps its best point, reported as not converged.
  const overBudget = (r: OptimResult): boolean => {
    if (r.status !== "cancelled") return false;
    if (signal?.cancelled || !budget?.exhausted) throw new CancelledError();
    return true;
  };
  const stoppedAt = (r: OptimResult, name: string): ThetaFit => {
    messages.push(budget!.message);
    return { theta: Float64Array.from(r.x), objective: r.fval, evaluations, msPerEvaluation: msPer(), optimizer: name, converged: false, messages };
  };
  const nth = start.length;
  if (nth === 0) {
    const objective = counted(start);
    return { theta: start, objective, evaluations, msPerEvaluation: msPer(), optimizer: "none", converged: true, messages };
  }
  // ftolAbs as lme4's nloptwrap: once steps change the deviance by less than 1e-8 the remaining
  // rho reductions only chase digits nobody prints (on large crossed designs, ~20% of the run).
  // On large data the deviance's own rounding noise is larger than 1e-8: ftolRel (1e-12 of the
  // deviance, 1e-6 at a million rows, far below a printed digit of the log-likelihood).
  const opts = { lower, rhobeg, rhoend: 1e-7, ftolAbs: 1e-8, ftolRel: 1e-12, maxfun: 2000 * nth, shouldStop };
  // rhobeg 0: the start is already the search's end (a residual structure's joint finish):
  // only the polish and the check below, whose own search again runs if the check fails.
  const profile = profiled && nth >= 2 && rhobeg > 0 && lower[profiled.index] === 0 ? profiled : null;
  let res: OptimResult = profile
    ? searchProfiled(profile, start, lower, opts, () => {
        evaluations++;
        budget?.spend();
      })
    : rhobeg > 0 ? bobyqa(counted, start, opts) : { x: Float64Array.from(start), fval: counted(start), nfev: 1, status: "converged", message: "started at the outer search's end" };
  let name = "bobyqa";
  if (overBudget(res)) return stoppedAt(res, name);
  if (res.status !== "converged" || !Number.isFinite(res.fval)) {
    const nm = nelderMead(counted, res.status === "failed" ? start : res.x, { ...opts, rhobeg: 0.1 });
    if (overBudget(nm)) return stoppedAt(nm.fval <= res.fval || !Number.isFinite(res.fval) ? nm : res, "nelder-mead");
    if (nm.fval <= res.fval || !Number.isFinite(res.fval)) {
      messages.push(`BOBYQA stopped (${res.message}); Nelder-Mead was used instead.`);
      res = nm;
      name = "nelder-mead";
    }
  }
  let theta = Float64Array.from(res.x);
  let fval = res.fval;

  // Edge restart: a diagonal at 0 whose nudge into the interior lowers the objective.
  for (let pass = 0; pass < 2; pass++) {
    let restarted = false;
    for (let i = 0; i < nth; i++) {
      if (lower[i] !== 0 || theta[i] !== 0) continue;
      const trial = Float64Array.from(theta);
      trial[i] = 1e-4;
      const ft = counted(trial);
      if (ft < fval - 1e-10) {
        const again = bobyqa(counted, trial, opts);
        if (overBudget(again)) return stoppedAt(again.fval < fval ? again : { ...res, x: theta, fval }, name);
        if (again.fval < fval) {
          theta = Float64Array.from(again.x);
          fval = again.fval;
          restarted = true;
        }
      }
    }
    if (!restarted) break;
  }
  // Boundary check: a diagonal just above 0 is tried at 0 and kept there if no worse.
  for (let i = 0; i < nth; i++) {
    if (lower[i] === 0 && theta[i] > 0 && theta[i] < BOUNDARY_TOL) {
      const trial = Float64Array.from(theta);
      trial[i] = 0;
      const ft = counted(trial);
      if (ft <= fval) {
        theta = trial;
        fval = ft;
      }
    }
  }
  let converged = res.status === "converged";
  if (!converged) messages.push(`the optimizer did not converge: ${res.message}`);
  // Newton polish: derivative-free methods stop where the model says they may, which on large,
  // sharply curved problems can leave a little on the table (lme4 then warns). A few Newton steps
  // on finite-difference derivatives finish the job and measure the remaining step.
  // The check costs 1 + 2k^2 evaluations; skip it where that would take seconds.
  const k = theta.length;
  const checkBudget = nobs > LME4_CHECK_ROWS ? CHECK_BUDGET_MS / 10 : CHECK_BUDGET_MS;
  const affordable = estimatedMs * (1 + 2 * k * k) < checkBudget && !budget?.exhausted;
  const checked = nobs <= CHECK_MAX_ROWS && affordable;
  if (nobs <= CHECK_MAX_ROWS && !affordable) messages.push("the finite-difference convergence check was skipped: each evaluation of this model takes long");
  const polish = (): Check | null => {
    let check = newtonCheck(counted, theta, lower);
    for (let it = 0; it < 4 && check && check.size > 1e-8; it++) {
      const trial = Float64Array.from(theta);
      check.free.forEach((i, k) => (trial[i] = Math.max(lower[i], theta[i] - check!.step[k])));
      const ft = counted(trial);
      // Near the optimum the decrease a Newton step promises (g'H^-1 g / 2) falls below the
      // objective's rounding, so comparing values cannot tell a good step from a bad one, while
      // the gradient (differences over a step 1e4 times the rounding) still points the way. Such
      // a step is taken when it costs no more than that rounding: without it, the optimum of a
      // residual structure's correlation stays ~1e-6 from where the derivatives put it.
      const noise = 1e-12 * Math.max(1, Math.abs(fval));
      const tiny = check.decrease < 10 * noise && ft <= fval + noise;
      if (!(ft < fval) && !tiny) break;
      theta = trial;
      fval = ft;
      check = newtonCheck(counted, theta, lower);
    }
    return check;
  };
  let check = checked ? polish() : null;
  if (check && check.size > GRAD_TOL) {
    // "Converged" must mean at the optimum: where the derivatives say the optimizer stopped short
    // (a saddle, or a stop in a flat valley), search again from there with a fresh trust region
    // before anything is reported.
    const again = bobyqa(counted, theta, { ...opts, rhobeg: rhobeg > 0 ? Math.min(rhobeg, 0.05) : 0.01 });
    if (overBudget(again)) return stoppedAt(again.fval < fval ? again : { ...res, x: theta, fval }, name);
    if (again.fval < fval) {
      theta = Float64Array.from(again.x);
      fval = again.fval;
    }
    check = polish();
  }
  if (check && check.size > GRAD_TOL) {
    converged = false;
    messages.push(check.definite
      ? `the fit may not have converged: the Newton step from the optimum is ${check.size.toPrecision(3)} (tol = ${GRAD_TOL}) in the covariance parameters`
      : `the fit may not have converged: the objective's Hessian in the covariance parameters is not positive definite there and its scaled gradient is ${check.size.toPrecision(3)} (tol = ${GRAD_TOL})`);
  }
  return { theta, objective: fval, evaluations, msPerEvaluation: msPer(), optimizer: name, converged, messages };
}

/**
 * BOBYQA over every parameter but the profiled one, on the profiled objective; the result is the
 * full theta, the profiled parameter at its minimum for the best point.
 */
function searchProfiled(pr: ProfiledParameter, start: Float64Array, lower: Float64Array, opts: OptimOptions, count: () => void): OptimResult {
  const keep: number[] = [];
  for (let i = 0; i < start.length; i++) if (i !== pr.index) keep.push(i);
  const full = Float64Array.from(start);
  let bestF = Infinity, bestT = start[pr.index];
  const g = (x: Float64Array): number => {
    count();
    keep.forEach((i, k) => (full[i] = x[k]));
    const m = pr.minimum(full);
    if (!m || !Number.isFinite(m.f)) return Infinity;
    if (m.f < bestF) {
      bestF = m.f;
      bestT = m.t;
    }
    return m.f;
  };
  // Half the first trust region: what the start knew least (the variance of a factor with few
  // levels, along which the objective is flat) is profiled out, and the others start closer, as
  // measured on InstEval (from the moment start: 24 evaluations at rhobeg 0.1, 19 at 0.05).
  const rhobeg = 0.5 * (opts.rhobeg ?? 0.25);
  const r = bobyqa(g, keep.map((i) => start[i]), { ...opts, rhobeg, rhoend: Math.min(opts.rhoend ?? 1e-7, rhobeg), lower: keep.map((i) => lower[i]), flatStop: true });
  const x = Float64Array.from(start);
  keep.forEach((i, k) => (x[i] = r.x[k]));
  x[pr.index] = bestT;
  return { ...r, x };
}

interface Check {
  free: number[];
  step: Float64Array;
  size: number;
  /** Whether H was positive definite (else size and step use its diagonal). */
  definite: boolean;
  /** The decrease the step promises, g' step / 2. */
  decrease: number;
}

/**
 * lme4's convergence check, scale-free: with g and H the central-difference gradient and Hessian
 * over the parameters not at a bound, `size` is the largest component of min(|L^{-1} g|, |g|)
 * (H = L L'), and `step` = H^{-1} g is the Newton step. Steps are 1e-4 relative to each
 * parameter's size (at least 1e-4): theta runs to tens when the residual SD is small, where fixed
 * steps drown the second differences in rounding. When H is not positive definite (a saddle, or
 * rounding), the diagonal stands in for it: min(|g_i| / sqrt(H_ii), |g_i|) over the positive
 * diagonals, |g_i| elsewhere, and a diagonal Newton step. Null when every parameter is at a bound.
 */
function newtonCheck(f: (x: Float64Array) => number, theta: Float64Array, lower: Float64Array): Check | null {
  const x = Float64Array.from(theta);
  const f0 = f(x);
  const free: number[] = [];
  const hs: number[] = [];
  for (let i = 0; i < theta.length; i++) {
    const h = 1e-4 * Math.max(1, Math.abs(theta[i]));
    if (theta[i] - lower[i] >= 2 * h) {
      free.push(i);
      hs.push(h);
    }
  }
  const k = free.length;
  if (k === 0) return null;
  const at = (di: number, si: number, dj = -1, sj = 0): number => {
    x[free[di]] += si * hs[di];
    if (dj >= 0) x[free[dj]] += sj * hs[dj];
    const v = f(x);
    x.set(theta);
    return v;
  };
  const g = new Float64Array(k), H = new Float64Array(k * k);
  for (let i = 0; i < k; i++) {
    const fp = at(i, 1), fm = at(i, -1);
    g[i] = (fp - fm) / (2 * hs[i]);
    H[i * k + i] = (fp - 2 * f0 + fm) / (hs[i] * hs[i]);
    for (let j = 0; j < i; j++) {
      const v = (at(i, 1, j, 1) - at(i, 1, j, -1) - at(i, -1, j, 1) + at(i, -1, j, -1)) / (4 * hs[i] * hs[j]);
      H[i * k + j] = H[j * k + i] = v;
    }
  }
  const L = Float64Array.from(H);
  let definite = true;
  for (let i = 0; i < k && definite; i++) for (let j = 0; j <= i; j++) {
    let s = L[i * k + j];
    for (let m = 0; m < j; m++) s -= L[i * k + m] * L[j * k + m];
    if (i === j) {
      if (!(s > 0)) {
        definite = false;
        break;
      }
      L[i * k + i] = Math.sqrt(s);
    } else L[i * k + j] = s / L[j * k + j];
  }
  if (!definite) {
    const step = new Float64Array(k);
    let size = 0;
    for (let i = 0; i < k; i++) {
      const hii = H[i * k + i];
      if (hii > 0) {
        step[i] = g[i] / hii;
        size = Math.max(size, Math.min(Math.abs(g[i]) / Math.sqrt(hii), Math.abs(g[i])));
      } else size = Math.max(size, Math.abs(g[i]));
    }
    let decrease = 0;
    for (let i = 0; i < k; i++) decrease += 0.5 * g[i] * step[i];
    return { free, step, size, definite, decrease };
  }
  const sg = new Float64Array(k);
  let size = 0;
  for (let i = 0; i < k; i++) {
    let s = g[i];
    for (let m = 0; m < i; m++) s -= L[i * k + m] * sg[m];
    sg[i] = s / L[i * k + i];
    size = Math.max(size, Math.min(Math.abs(sg[i]), Math.abs(g[i])));
  }
  const step = Float64Array.from(sg);
  for (let i = k - 1; i >= 0; i--) {
    let s = step[i];
    for (let m = i + 1; m < k; m++) s -= L[m * k + i] * step[m];
    step[i] = s / L[i * k + i];
  }
  let decrease = 0;
  for (let i = 0; i < k; i++) decrease += 0.5 * sg[i] * sg[i];
  return { free, step, size, definite, decrease };
}
