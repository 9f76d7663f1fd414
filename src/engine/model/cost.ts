// What a fit will cost, known before it starts: a deterministic model of the work (it never looks
// at the clock, so the same data and spec are refused or fitted on every machine and under any
// load), used twice:
//  - up front, a fit whose typical cost is far beyond a few seconds is refused with a DataError
//    that says what makes it expensive and what would work instead;
//  - during the fit, an evaluation budget stops a search that runs far past its typical length
//    (the fit is then reported as not converged, never hidden).
//
// The units are "estimated milliseconds" of a 2-core laptop: BlockedModel.estimatedMs for one
// objective evaluation (factorization work), plus the optimizer's own bookkeeping, which for
// BOBYQA grows as the cube of the number of parameters (its interpolation set has 2k+1 points
// and each step updates k x (2k+1) matrices, with several trial points per step), plus the
// whitening pass of a residual structure.
import { DataError } from "../errors";
import type { PreparedModel } from "./prepared";
import { DenseBlocks } from "./residual-gradient";

/** A fit whose typical cost is above this is refused up front (estimated ms). */
export const REFUSE_MS = 5000;
/** The evaluation budget: a fit stops once its evaluations have cost this much (estimated ms). */
export const BUDGET_MS = 12000;
/** Profile-likelihood intervals estimated above this are replaced by Wald intervals (estimated ms). */
export const PROFILE_MS = 3000;

/**
 * Estimated ms of profile-likelihood intervals for k parameters: per parameter both ends, each
 * some tens of points, each an inner fit over the other k - 1 parameters (with its bookkeeping).
 */
export function profileMs(prep: PreparedModel, k: number): number {
  return (evaluationMs(prep) + optimizerMs(k)) * 300 * k * (k + 1);
}

/** Optimizer bookkeeping per evaluation with k parameters (estimated ms). */
export function optimizerMs(k: number): number {
  return k === 0 ? 0 : 2e-3 + 8e-5 * k * k * k;
}

/**
 * Estimated ms of one objective evaluation. BlockedModel.estimatedMs counts the factorization's
 * multiply-adds; on small models the per-level and per-term work around it dominates (measured
 * over 250 generated models of 120-300 rows: about 1e-3 ms per level and effect^2, 0.02 ms per
 * term, and four times the multiply-add count), so those are added.
 */
export function evaluationMs(prep: PreparedModel): number {
  const { remats } = prep.model;
  // Past the first thousand levels the per-level overhead is what the level's own work costs
  // (measured: 0.78 us per level of a 2-effect term at 50,000 levels, 2e-4 ms per level and
  // effect^2), not the 1e-3 ms of small models, whose JIT and per-call costs dominate; where
  // levels share one factorization (level-classes.ts: a balanced design) what remains per level
  // is its right-hand side, a quarter of that (measured 2.6-10 ms per evaluation at 50,000).
  const shared = prep.model.levelClassCount > 0;
  const levelWork = remats.reduce((s, r) => {
    const rate = shared ? 5e-5 : 2e-4;
    return s + r.q * r.q * (1e-3 * Math.min(r.ell, 1000) + rate * Math.max(0, r.ell - 1000));
  }, 0);
  // The blocked factorization only: an inner evaluation does not whiten (a residual structure's
  // pass over the rows is counted once per outer evaluation, in fitCost's outerMs).
  return 0.01 + levelWork + 0.02 * remats.length + 4 * prep.model.estimatedMs();
}

/**
 * The allowance of a fit on n rows (estimated ms): REFUSE_MS on small data, where a long fit is
 * a hang to the user, plus 0.03 ms a row, so that large data may take the time their size
 * explains (35 s at a million rows, where lme4 takes 35-45 s for a random slope).
 */
export function allowanceMs(n: number): number {
  return REFUSE_MS + 0.03 * n;
}

/** Milliseconds per row and column of one whitening pass and re-accumulation (as prepared.ts). */
const WHITEN_MS_PER_CELL = 7e-5;

export interface FitCost {
  /** Covariance parameters of the random effects. */
  nTheta: number;
  /** Residual-structure parameters. */
  nEta: number;
  /** Estimated ms of one inner evaluation (objective plus bookkeeping). */
  evalMs: number;
  /** Estimated ms of one outer (residual-parameter) evaluation, 0 without a structure. */
  outerMs: number;
  /** Typical cost of the whole optimization (estimated ms). */
  typicalMs: number;
  /** The fit takes the gradient path (residual-fit.ts) rather than the nested search. */
  gradient?: boolean;
}

/**
 * Typical evaluation counts: BOBYQA on k parameters from the moment start needs some tens of
 * evaluations per parameter, 10 + 5k per parameter and one more set, at most 60, plus the
 * 1 + 2k^2 of the finite-difference check (measured, the check included: one intercept 13-20,
 * Penicillin's and Machines' two terms 55-75, sleepstudy's and Orthodont's random slopes 65-72
 * and InstEval's three crossed intercepts 71 for k = 3; from k = 10 on the count of 60 that
 * keeps the 55-parameter fits of cost.test.ts refused); the outer search over the
 * residual parameters about a hundred per parameter (two starts), each with a short
 * warm-started inner fit. Checked against the CPU time of the Sitka structures (UN with and
 * without (1 | tree): 2.1 s and 1.1 s, estimated 3.4 s and 0.8 s).
 */
export function fitCost(prep: PreparedModel): FitCost {
  const nTheta = prep.model.remats.reduce((s, r) => s + r.structure.nPar, 0);
  const nEta = prep.residual ? prep.residual.res.nPar : 0;
  const evalMs = evaluationMs(prep) + optimizerMs(nTheta);
  const plainEvals = Math.min(60, 10 + 5 * nTheta) * (nTheta + 1) + 2 * nTheta * nTheta;
  if (!prep.residual) return { nTheta, nEta, evalMs, outerMs: 0, typicalMs: plainEvals * evalMs };
  const nested = nestedCost(prep, nTheta, nEta, evalMs, plainEvals);
  const dense = gradientCost(prep, nTheta, nEta, evalMs);
  return dense && dense.typicalMs <= nested.typicalMs ? dense : nested;
}

/** The nested derivative-free search (prepared.ts's outerSearch). */
function nestedCost(prep: PreparedModel, nTheta: number, nEta: number, evalMs: number, plainEvals: number): FitCost {
  const cols = prep.design.p + 1 + prep.model.remats.reduce((s, r) => s + r.q, 0);
  const innerEvals = nTheta === 0 ? 1 : 5 * (nTheta + 1);
  const outerMs = prep.design.n * cols * WHITEN_MS_PER_CELL + innerEvals * evalMs + optimizerMs(nEta);
  // Two starts where that is cheap (as prepared.ts decides), else one, which takes about ten
  // evaluations per parameter and ten more (measured at a million rows: 19 for AR1, 14 for CS).
  const twoStarts = outerMs * 40 * (nEta + 1) < 1000;
  const outerEvals = twoStarts ? 120 * (nEta + 1) : 10 + 10 * (nEta + 1);
  return { nTheta, nEta, evalMs, outerMs, typicalMs: outerEvals * outerMs + plainEvals * evalMs };
}

/**
 * The gradient path (residual-fit.ts), where the rows split into small blocks: BFGS from two
 * starts, some tens of iterations plus about 1.5 per parameter each (measured: 60-100 evaluations
 * for 14-78 parameters on Sitka and the 960-row panels), the Newton finish's 2k + 4 up to 20
 * parameters, then the theta check.
 */
function gradientCost(prep: PreparedModel, nTheta: number, nEta: number, evalMs: number): FitCost | null {
  const dense = DenseBlocks.of(prep);
  const k = nTheta + nEta;
  // One parameter (AR1, CS, CAR1 ... without random effects): BOBYQA's line search over it takes
  // fewer passes than BFGS's two starts and Newton finish (measured on Sitka: 4-9 ms against 18-37),
  // unless the blocks pool (residual/pooled.ts), where an evaluation no longer passes over the rows.
  if (!dense || (k < 2 && !dense.pooled)) return null;
  const evals = 2 * (40 + 1.5 * k) + (k <= 20 ? 2 * k + 4 : 0);
  const denseMs = dense.evalMs(k) + 1e-5 * k * k;
  const checkEvals = 1 + 2 * nTheta * nTheta;
  // After the search: the pooled cross-products (once), one whitening pass at the estimates and the theta check.
  const cols = prep.design.p + 1 + prep.model.remats.reduce((s, r) => s + r.q, 0);
  const finishMs = dense.setupMs() + prep.design.n * cols * WHITEN_MS_PER_CELL;
  return { nTheta, nEta, evalMs, outerMs: denseMs, typicalMs: evals * denseMs + checkEvals * evalMs + finishMs, gradient: true };
}

/** Whether a fit takes the gradient path: it applies, and its typical cost is the lower. */
export function usesGradient(prep: PreparedModel): boolean {
  return !!fitCost(prep).gradient;
}

/**
 * Refuses, with what makes the fit expensive and what would work, a model whose typical cost is
 * above REFUSE_MS. The checks name the usual causes in order: too many residual variance strata,
 * an unstructured correlation over many occasions, too many random-effect covariance parameters.
 */
export function checkCost(prep: PreparedModel): FitCost {
  const cost = fitCost(prep);
  if (cost.typicalMs <= allowanceMs(prep.design.n)) return cost;
  const { spec } = prep;
  const layout = prep.residual?.res.layout;
  const secs = Math.round(cost.typicalMs / 1000);
  const long = `it would take about ${secs >= 100 ? "minutes" : `${secs} s`} or more`;
  if (layout && spec.varIdent && layout.nIdent >= cost.nEta / 2) {
    throw new DataError(`varIdent(${spec.varIdent}) has ${layout.nStrata} strata, so the fit would estimate ${layout.nIdent} variance ratios (${long}); varIdent is for a factor with a few levels, such as a treatment: use a factor with fewer levels${layout.nStrata > 30 ? ` ('${spec.varIdent}' looks like a continuous column or an identifier)` : ""}, or leave varIdent out`);
  }
  if (layout && spec.residual?.type === "UN" && layout.nCorr >= cost.nEta / 2) {
    throw new DataError(`UN with ${layout.nOcc} occasions of '${spec.residual.time}' has ${layout.nCorr} correlation and ${layout.nOccVar} variance parameters (${long}); use AR1, CAR1 or ARH1 (one correlation parameter), CS, or fewer occasions`);
  }
  if (layout && spec.residual && cost.nEta > 8) {
    throw new DataError(`${spec.residual.type} with ${layout.nOcc} occasions of '${spec.residual.time}' has ${cost.nEta} residual parameters (${long}); use AR1 or CAR1 (one parameter), or fewer occasions`);
  }
  if (cost.nTheta > 10 || !prep.residual) {
    const terms = prep.model.remats.map((r) => `${r.q} effect${r.q === 1 ? "" : "s"} by ${r.group} (${r.ell} levels)`).join(", ");
    throw new DataError(`the random effects have ${cost.nTheta} covariance parameters (${terms}; ${long}); use fewer random terms, uncorrelated effects with '||', or a grouping factor with fewer levels in the random slopes`);
  }
  throw new DataError(`the residual structure ${spec.residual?.type ?? "varIdent"} together with these random effects (${cost.nTheta} covariance parameters, ${prep.design.n} rows) is too expensive to fit (${long}); use fewer random terms, or fit the random effects without the residual structure`);
}

/** Reports the work done so far: objective evaluations, and what is being fitted. */
export type Progress = (evaluations: number, phase: string) => void;

/**
 * The evaluation budget shared by every optimizer run of one fit: each evaluation costs its
 * estimated ms (`evalMs` for an inner evaluation; the outer search adds its whitening and
 * bookkeeping); once the total passes `limitMs` the runs stop. Deterministic: it counts
 * evaluations, never time. It also carries the fit's progress callback, which it calls every
 * `PROGRESS_EVERY` evaluations.
 */
export class Budget {
  usedMs = 0;
  evaluations = 0;
  constructor(readonly evalMs: number, readonly limitMs = BUDGET_MS, readonly onProgress?: Progress, public phase = "fitting") {}
  static forFit(prep: PreparedModel, onProgress?: Progress): Budget {
    return new Budget(fitCost(prep).evalMs, BUDGET_MS + 3 * (allowanceMs(prep.design.n) - REFUSE_MS), onProgress);
  }
  /** One inner evaluation. */
  spend(): void {
    this.usedMs += this.evalMs;
    if (++this.evaluations % PROGRESS_EVERY === 0 && this.onProgress) this.onProgress(this.evaluations, this.phase);
  }
  /** Extra work of an outer evaluation (whitening, bookkeeping). */
  spendMs(ms: number): void {
    this.usedMs += ms;
  }
  get exhausted(): boolean {
    return this.usedMs >= this.limitMs;
  }
  get message(): string {
    return `the optimizer stopped after ${this.evaluations} objective evaluations, the budget for a model of this cost: the estimates are the best point found, not necessarily the optimum (simplify the model: fewer random terms or residual parameters)`;
  }
}

const PROGRESS_EVERY = 500;
