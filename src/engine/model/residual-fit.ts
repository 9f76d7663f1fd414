// Fitting a model with a residual structure by its analytic gradient (residual-gradient.ts):
// BFGS over (theta, eta) jointly from the moment start of the residual parameters and from
// independence (these likelihoods can have several local optima: ARH1 on the Sitka data has two),
// the better end polished by Newton steps on the finite-difference Hessian of the gradient, whose
// scaled gradient decides "converged" (lme4's criterion and tolerance, as optimize.ts). Replaces
// the nested derivative-free search (prepared.ts's outerSearch) wherever the blocks are small or
// repeat (residual/pooled.ts: then an evaluation costs the same at a million rows as at a thousand).
import type { PreparedModel } from "./prepared";
import { BlockEvaluator, canonicalTheta } from "./residual-gradient";
import { bfgs, newtonFinish, QuasiNewtonResult, scaledGradient } from "./quasi-newton";
import { thetaStart } from "./remat";
import { residualStart } from "./residual-start";
import type { Budget } from "./cost";
import { CancelledError } from "../errors";

const GRAD_TOL = 2e-3;
const NEWTON_MAX = 20;

export interface GradientFit {
  theta: Float64Array;
  eta: Float64Array;
  converged: boolean;
  messages: string[];
  evaluations: number;
}

export function fitByGradient(prep: PreparedModel, dense: BlockEvaluator, reml: boolean, budget: Budget, signal?: { cancelled: boolean }): GradientFit {
  const res = prep.residual!.res;
  const k = dense.nTheta + dense.nEta;
  const evalMs = dense.evalMs(k);
  budget.spendMs(dense.setupMs());
  const fg = (x: Float64Array, g: Float64Array): number => {
    if (signal?.cancelled) throw new CancelledError();
    budget.spendMs(evalMs);
    return dense.evaluate(x, reml, g);
  };
  const th0 = thetaStart(prep.model.remats);
  const starts = [Float64Array.from([...th0, ...residualStart(res, prep.basis.X, prep.basis.y, prep.design.p, true)]), Float64Array.from([...th0, ...new Float64Array(dense.nEta)])];
  let best: QuasiNewtonResult | null = null;
  let evaluations = 0;
  for (const s of starts) {
    if (budget.exhausted) break;
    const r = bfgs(fg, s, { shouldStop: () => budget.exhausted });
    evaluations += r.evaluations;
    if (!best || r.f < best.f) best = r;
  }
  const messages: string[] = [];
  // Up to NEWTON_MAX parameters a Newton finish on the Hessian of the gradient (2k gradients)
  // polishes the end and measures it; beyond, BFGS's own inverse Hessian measures it.
  let x = best!.x, size: number, definite = true, f = best!.f;
  if (k <= NEWTON_MAX) {
    const fin = newtonFinish(fg, best!.x, best!.f);
    evaluations += fin.evaluations;
    x = fin.x;
    f = fin.f;
    size = fin.size;
    definite = fin.definite;
  } else size = scaledGradient(best!);
  let converged = best!.status !== "maxiter" && best!.status !== "failed" && size <= GRAD_TOL && Number.isFinite(f);
  if (budget.exhausted) {
    converged = false;
    messages.push(budget.message);
  } else if (!converged) {
    messages.push(definite
      ? `the fit may not have converged: the Newton step from the optimum is ${size.toPrecision(3)} (tol = ${GRAD_TOL}) in the covariance and residual-structure parameters`
      : `the fit may not have converged: the objective's Hessian in the covariance and residual-structure parameters is not positive definite there and its scaled gradient is ${size.toPrecision(3)} (tol = ${GRAD_TOL})`);
  }
  const theta = canonicalTheta(prep, x.subarray(0, dense.nTheta));
  return { theta, eta: Float64Array.from(x.subarray(dense.nTheta)), converged, messages, evaluations };
}
