// Minimizing the profiled objective over theta: BOBYQA with Nelder–Mead as fallback, then
// lme4's boundary checks (a parameter just inside a bound is tried at the bound; a parameter at
// a bound is nudged inward and the optimizer restarted if that helps), then a finite-difference
// gradient check whose outcome is reported, never hidden.
import { CancelledError } from "../errors";
import { bobyqa, nelderMead, OptimResult } from "../optim";

export interface ThetaFit {
  theta: Float64Array;
  objective: number;
  evaluations: number;
  optimizer: string;
  converged: boolean;
  messages: string[];
}

const BOUNDARY_TOL = 1e-5;
const GRAD_TOL = 2e-3;

export function minimizeTheta(
  f: (theta: Float64Array) => number,
  start: Float64Array,
  lower: Float64Array,
  signal?: { cancelled: boolean },
): ThetaFit {
  const messages: string[] = [];
  let evaluations = 0;
  const counted = (x: Float64Array): number => {
    evaluations++;
    return f(x);
  };
  const shouldStop = signal ? () => signal.cancelled : undefined;
  const nth = start.length;
  if (nth === 0) {
    return { theta: start, objective: counted(start), evaluations, optimizer: "none", converged: true, messages };
  }
  const opts = { lower, rhobeg: 0.25, rhoend: 1e-9, maxfun: 2000 * nth, shouldStop };
  let res: OptimResult = bobyqa(counted, start, opts);
  let name = "bobyqa";
  if (res.status === "cancelled") throw new CancelledError();
  if (res.status !== "converged" || !Number.isFinite(res.fval)) {
    const nm = nelderMead(counted, res.status === "failed" ? start : res.x, { ...opts, rhobeg: 0.1 });
    if (nm.status === "cancelled") throw new CancelledError();
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
        if (again.status === "cancelled") throw new CancelledError();
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
  const grad = gradientCheck(counted, theta, lower);
  if (grad !== null && grad > GRAD_TOL) {
    converged = false;
    messages.push(`the fit may not have converged: max|grad| = ${grad.toPrecision(3)} (tol = ${GRAD_TOL})`);
  }
  return { theta, objective: fval, evaluations, optimizer: name, converged, messages };
}

/**
 * Largest absolute central-difference gradient component over the parameters that are not at a
 * bound (lme4 scales it by the Hessian; we use the plain gradient on the well-conditioned working
 * scale). Null when every parameter is at a bound.
 */
function gradientCheck(f: (x: Float64Array) => number, theta: Float64Array, lower: Float64Array): number | null {
  const h = 1e-5;
  let worst: number | null = null;
  const x = Float64Array.from(theta);
  for (let i = 0; i < theta.length; i++) {
    if (theta[i] - lower[i] < 2 * h) continue;
    x[i] = theta[i] + h;
    const fp = f(x);
    x[i] = theta[i] - h;
    const fm = f(x);
    x[i] = theta[i];
    const g = Math.abs((fp - fm) / (2 * h));
    worst = worst === null ? g : Math.max(worst, g);
  }
  return worst;
}
