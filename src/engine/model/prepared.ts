// A model ready to optimize: the parsed spec, its design, the blocked cross-products and, when
// the spec has one, the residual structure. Built once per (table, spec); REML, ML, refits and
// profiles all reuse it.
import type { DataTable, Design, Method, ModelSpec } from "../types";
import { parseSpec } from "../formula/parse";
import { designAndGram } from "./design";
import { BlockedModel } from "./blocked";
import { DataError } from "../errors";
import { ThetaFit, minimizeTheta } from "./optimize";
import { buildReMats, hasStructured, thetaLowerBounds, thetaStart } from "./remat";
import { ResidualModel, buildResidual } from "./residual";
import { CrossedWhitening } from "./whiten";
import { residualStart } from "./residual-start";
import { momentStart } from "./moment-start";
import { fittedCovariate, fittedValues, needsFitted } from "./fitted-covariate";
import { bobyqa } from "../optim";
import { CancelledError } from "../errors";
import { FixedBasis, fixedBasis } from "./fixed-basis";
import { Budget, Progress, checkCost, optimizerMs, usesGradient } from "./cost";
import { DenseBlocks } from "./residual-gradient";
import { fitByGradient } from "./residual-fit";

export interface PreparedModel {
  spec: ModelSpec;
  design: Design;
  model: BlockedModel;
  residual: Whitening | null;
  /** X and y as the model sees them (fixed-basis.ts): X~ = X T and y's OLS residual. */
  basis: FixedBasis;
  /**
   * With prior weights: -sum(log w_i), which the -2 log-likelihood gains (Var(e_i) = sigma^2 / w_i,
   * so log|V| loses sum log w_i); 0 without. Included in every objective a fit reports.
   */
  weightLogdet?: number;
  /** The table, kept only when a variance function of the fitted values needs refits (fitted-covariate.ts). */
  table?: DataTable;
}

export interface LmmFit extends PreparedModel {
  method: Method;
  theta: Float64Array;
  /** Residual-structure parameters (unconstrained scale); empty without a structure. */
  eta: Float64Array;
  /** -2 log-likelihood (ML) or -2 REML log-likelihood at the optimum. */
  objective: number;
  opt: ThetaFit;
}

/** Estimated milliseconds per evaluation, whitening included (see BlockedModel.estimatedMs). */
export function estimatedMs(prep: PreparedModel): number {
  const cols = prep.design.p + 1 + prep.model.remats.reduce((s, r) => s + r.q, 0);
  return prep.model.estimatedMs() + (prep.residual ? (prep.design.n * cols * 4) / 1e6 : 0);
}

/** Number of estimated parameters: fixed effects, theta, residual structure, sigma. */
export function nParams(fit: LmmFit): number {
  return fit.design.p + fit.theta.length + fit.eta.length + 1;
}

/**
 * A residual structure bound to a model: whitens the columns into the blocks for a given eta.
 * With `crossed`, the dense terms vary within the residual groups: their blocks are formed per
 * group from the group's precision (whiten.ts) and their columns are not whitened row by row.
 */
export class Whitening {
  private readonly Xw: Float64Array;
  private readonly yw: Float64Array;
  private readonly zw: Float64Array[];
  private readonly crossedPart: CrossedWhitening | null;
  private lastEta: Float64Array | null = null;
  logdet = 0;

  /** `basis`: the working X and y (fixed-basis.ts), which are whitened in place of the raw ones. */
  constructor(readonly res: ResidualModel, private readonly basis: FixedBasis, private readonly model: BlockedModel, crossed = false, private readonly weighted: WeightedRows | null = null) {
    this.Xw = new Float64Array(basis.X.length);
    this.yw = new Float64Array(basis.y.length);
    this.zw = model.remats.map((r, t) => (crossed && t >= model.m ? r.z : new Float64Array(r.z.length)));
    this.crossedPart = crossed ? new CrossedWhitening(model, res, basis.X, basis.y) : null;
  }

  /** Re-whiten and re-accumulate for eta (skipped when eta is unchanged). Returns log|R|. */
  apply(eta: Float64Array): number {
    if (this.lastEta && this.lastEta.length === eta.length && this.lastEta.every((v, i) => v === eta[i])) return this.logdet;
    const { basis, model } = this;
    const whitened = this.crossedPart ? model.m : model.remats.length;
    // With prior weights the rows are scaled by sqrt(w) first, then whitened: V = W^-1/2 R W^-1/2.
    const wt = this.weighted;
    const cols = [
      { src: wt ? wt.X : basis.X, dst: this.Xw, width: basis.map.p },
      { src: wt ? wt.y : basis.y, dst: this.yw, width: 1 },
      ...model.remats.slice(0, whitened).map((r, t) => ({ src: wt ? wt.z[t] : r.z, dst: this.zw[t], width: r.q })),
    ];
    this.logdet = this.res.whiten(eta, cols);
    if (Number.isFinite(this.logdet)) {
      model.accumulate(this.Xw, this.yw, this.zw, !this.crossedPart);
      this.crossedPart?.accumulate(eta);
    }
    this.lastEta = Float64Array.from(eta);
    return this.logdet;
  }
}

/** Rows of the working X, y and each term's z scaled by sqrt(w_i) (prior weights), and -sum log w. */
interface WeightedRows {
  X: Float64Array;
  y: Float64Array;
  z: Float64Array[];
  logdet: number;
}

function weightRows(w: Float64Array, basis: FixedBasis, zs: Float64Array[], p: number): WeightedRows {
  const n = w.length;
  const sw = Float64Array.from(w, Math.sqrt);
  const scale = (src: Float64Array, width: number): Float64Array => {
    const out = new Float64Array(src.length);
    for (let i = 0; i < n; i++) {
      const s = sw[i], o = i * width;
      for (let k = 0; k < width; k++) out[o + k] = src[o + k] * s;
    }
    return out;
  };
  let logdet = 0;
  for (let i = 0; i < n; i++) logdet -= Math.log(w[i]);
  return { X: scale(basis.X, p), y: scale(basis.y, 1), z: zs.map((z) => scale(z, z.length / n)), logdet };
}

/** Whether a term's levels change within some residual group. */
function variesWithin(refs: Int32Array, groupOf: Int32Array, ngroups: number): boolean {
  const first = new Int32Array(ngroups).fill(-1);
  for (let i = 0; i < refs.length; i++) {
    const g = groupOf[i];
    if (first[g] === -1) first[g] = refs[i];
    else if (first[g] !== refs[i]) return true;
  }
  return false;
}

/** `checkCosts` false skips the up-front refusal (the benchmarks time models beyond it). */
export function prepareFit(table: DataTable, specText: string, checkCosts = true, fitted?: Float64Array): PreparedModel {
  const spec = parseSpec(specText);
  const { design, xtx } = designAndGram(table, spec);
  if (fitted) design.fittedCovariate = fitted;
  const res = buildResidual(table, spec, design);
  // A correlation structure couples the rows of a group: a random-effect term whose level changes
  // within a group goes to the dense block (after the others), where whitening can spread its
  // values over levels. Variance weights alone (varIdent) scale rows and keep every level.
  const varies = design.reTerms.map((t) => !!res && res.type !== "varIdent" && variesWithin(t.refs, res.groupOf, res.ngroups));
  const remats = buildReMats(design.reTerms, design.n, varies);
  const nConstant = varies.filter((v) => !v).length;
  const basis = fixedBasis(design.X, design.y, design.n, design.p, xtx);
  const model = new BlockedModel(remats, basis.X, basis.y, design.p, nConstant);
  model.fixedMap = basis.map;
  const crossed = nConstant < remats.length;
  const weighted = design.weights ? weightRows(design.weights, basis, remats.map((r) => r.z), design.p) : null;
  if (weighted && res && crossed) {
    throw new DataError("prior weights with a residual correlation structure and random effects that vary within its groups are not supported: drop the weights, the structure, or those random effects");
  }
  // The weighted cross-products replace the plain ones (whitening forms its own from the scaled rows).
  if (weighted && !res) model.accumulate(weighted.X, weighted.y, weighted.z);
  const residual = res ? new Whitening(res, basis, model, crossed, weighted) : null;
  const prep: PreparedModel = { spec, design, model, residual, basis, weightLogdet: weighted ? weighted.logdet : 0, ...(needsFitted(spec) ? { table } : {}) };
  // Refuse up front what would take far too long (cost.ts): a deterministic estimate, no clock.
  if (checkCosts) checkCost(prep);
  return prep;
}

/**
 * Budget (estimated milliseconds) under which the residual parameters are also searched from a
 * second start. The cost model is deterministic, so the choice never depends on the machine's load.
 */
const SECOND_START_MS = 1000;
/** Rows and estimated milliseconds up to which residual-structure fits end with the joint search. */
const JOINT_MAX_ROWS = 1e5;
const JOINT_BUDGET_MS = 3000;
/** Milliseconds per row and column of one whitening pass and re-accumulation (measured, 2-core machine). */
const WHITEN_MS_PER_CELL = 7e-5;

/**
 * The residual parameters eta outside, theta inside (warm-started): A is re-accumulated only when
 * eta moves, and the inner problem is the cheap block-only one. These likelihoods can have several
 * local optima (ARH1 on the Sitka data has two), so the search starts from moment estimates of the
 * OLS residuals (residual-start.ts) and, where that is cheap, also from independence (eta = 0,
 * nlme's start, i.e. the optimum of the nested model without the structure); the better end wins.
 */
function outerSearch(prep: PreparedModel, reml: boolean, lower: Float64Array, budget: Budget, signal?: { cancelled: boolean }): { eta: Float64Array; theta: Float64Array; converged: boolean; message: string; evaluations: number } {
  const { model, design } = prep;
  const residual = prep.residual!;
  const nPar = residual.res.nPar;
  let theta = thetaStart(model.remats);
  // The theta of the best point so far (the last evaluation need not be the best one).
  let runBest = Infinity, runTheta = theta;
  // Objective evaluations over every inner fit (the fit reports them all, not only its last).
  let evaluations = 0;
  // One outer evaluation's own work beyond its inner evaluations (cost.ts's units).
  const cells = design.n * (design.p + 1 + model.remats.reduce((s, r) => s + r.q, 0));
  const outerOwnMs = cells * WHITEN_MS_PER_CELL + optimizerMs(nPar);
  const outer = (e: Float64Array): number => {
    if (signal?.cancelled) throw new CancelledError();
    budget.spendMs(outerOwnMs);
    const logdet = residual.apply(e);
    if (!Number.isFinite(logdet)) return Infinity;
    const inner = minimizeTheta((th) => model.evaluate(th, reml), theta, lower, signal, Infinity, 0, 0.25, budget);
    evaluations += inner.evaluations;
    if (Number.isFinite(inner.objective)) theta = inner.theta;
    const f = inner.objective + logdet;
    if (f < runBest) {
      runBest = f;
      runTheta = inner.theta;
    }
    return f;
  };
  const starts = [residualStart(residual.res, prep.basis.X, prep.basis.y, design.p)];
  // One outer evaluation: a whitening pass plus an inner fit of some tens of evaluations.
  const cols = design.p + 1 + model.remats.reduce((s, r) => s + r.q, 0);
  const outerMs = design.n * cols * WHITEN_MS_PER_CELL + 20 * (theta.length + 1) * model.estimatedMs();
  if (outerMs * 40 * (nPar + 1) < SECOND_START_MS) starts.push(new Float64Array(nPar));
  let best: { eta: Float64Array; theta: Float64Array; fval: number; converged: boolean; message: string } | null = null;
  for (const start of starts) {
    theta = thetaStart(model.remats);
    runBest = Infinity;
    if (budget.exhausted) break;
    const res = bobyqa(outer, start, { rhobeg: 0.5, rhoend: 1e-7, maxfun: 500 * (nPar + 1), shouldStop: () => !!signal?.cancelled || budget.exhausted });
    if (res.status === "cancelled" && (signal?.cancelled || !budget.exhausted)) throw new CancelledError();
    const message = res.status === "cancelled" ? budget.message : res.message;
    if (!best || res.fval < best.fval) {
      best = { eta: Float64Array.from(res.x), theta: Float64Array.from(runTheta), fval: res.fval, converged: res.status === "converged", message };
    }
  }
  return { ...best!, evaluations };
}

/**
 * The moment start (moment-start.ts) when its objective is lower than that of the identity start.
 * With several terms each is estimated as if it were the only one (a crossed or nesting partner's
 * variance then counts partly as residual), which still starts near the optimum; a term without
 * an estimate keeps its identity template. Two evaluations, against tens saved.
 */
/**
 * Above this cost per evaluation (ms, the deterministic estimate) the moment start is taken
 * without comparing it with the identity: at that size the moments are well determined, and the
 * comparison would cost two full factorizations (a tenth of InstEval's fit) to confirm it.
 */
const START_CHECK_MAX_MS = 10;

function betterStart(model: BlockedModel, reml: boolean, identity: Float64Array, evalMs: number): Float64Array {
  const start = Float64Array.from(identity);
  let any = false;
  model.remats.forEach((r, t) => {
    const { A, AF } = model.termBlocks(t);
    const moment = momentStart({ n: model.n, p: model.p, q: r.q, ell: r.ell, A, AF, AFF: model.AFF });
    if (!moment) return;
    start.set(r.structure.type === "us" ? moment : r.structure.fromCovariance(covarianceOf(moment, r.q)), r.thetaOffset);
    any = true;
  });
  if (!any) return identity;
  if (evalMs > START_CHECK_MAX_MS) return start;
  return model.evaluate(start, reml) < model.evaluate(identity, reml) ? start : identity;
}

/**
 * A structured term can explain all of a group's covariance (ar1 over every occasion of a group
 * is the residual AR(1) model): the optimum is then the limit sigma -> 0, where theta (the
 * covariance relative to sigma^2) runs to infinity and the objective flattens like 1 / theta^2,
 * so a trust-region search stops far short of the limit (glmmTMB, on the log scale, gets closer).
 * Scaling every SD parameter up together moves along that ray; while that lowers the objective
 * the point moves, and the search then finishes from there.
 */
const MAX_RELATIVE_SD = 1e4;

function towardsZeroResidual(prep: PreparedModel, reml: boolean, opt: ThetaFit, lower: Float64Array, budget: Budget, signal?: { cancelled: boolean }): ThetaFit {
  const { model } = prep;
  const sdIndex: number[] = [];
  for (const r of model.remats) {
    for (let k = 0; k < r.structure.nPar; k++) if (r.structure.type === "us" || lower[r.thetaOffset + k] === 0) sdIndex.push(r.thetaOffset + k);
  }
  let theta = opt.theta, fval = opt.objective, moved = false;
  for (let it = 0; it < 12; it++) {
    const trial = Float64Array.from(theta);
    for (const i of sdIndex) trial[i] *= 4;
    // Beyond relative SDs of ~1e4 the factor's rounding (entries ~1e8 against the identity) is
    // larger than what the objective still gains (~1e-6 there): stop short of it.
    if (sdIndex.some((i) => Math.abs(trial[i]) > MAX_RELATIVE_SD)) break;
    const ft = model.evaluate(trial, reml);
    if (!(ft < fval - 1e-9)) break;
    theta = trial;
    fval = ft;
    moved = true;
  }
  if (!moved) return opt;
  const again = minimizeTheta((th) => model.evaluate(th, reml), theta, lower, signal, prep.design.n, estimatedMs(prep), 0.1, budget);
  if (!(again.objective < opt.objective)) return opt;
  again.evaluations += opt.evaluations;
  return again;
}

/** T T' of a packed lower-triangular template (column-major, as lme4's theta). */
function covarianceOf(packed: ArrayLike<number>, q: number): Float64Array {
  const T = new Float64Array(q * q);
  let k = 0;
  for (let j = 0; j < q; j++) for (let i = j; i < q; i++) T[i * q + j] = packed[k++];
  const S = new Float64Array(q * q);
  for (let a = 0; a < q; a++) for (let b = 0; b < q; b++) {
    let s = 0;
    for (let g = 0; g < q; g++) s += T[a * q + g] * T[b * q + g];
    S[a * q + b] = s;
  }
  return S;
}

/**
 * Optimize theta (and the residual parameters) for a prepared model and method, within the
 * evaluation budget of cost.ts (a fit that exhausts it is reported as not converged).
 * `warmStart`: theta to start from instead of the moment start (models without a residual structure).
 */
export function fitPrepared(prep: PreparedModel, method: Method, signal?: { cancelled: boolean }, onProgress?: Progress, warmStart?: Float64Array): LmmFit {
  if (!prep.table || !needsFitted(prep.spec)) return fitOnce(prep, method, signal, onProgress, warmStart);
  // A variance function of the fitted values: refit with the covariate at the last fit's fitted
  // values until they settle (nlme's alternation; its tolerance is 1e-6 on the parameters).
  let fit = fitOnce(prep, method, signal, onProgress, warmStart);
  for (let it = 0; it < FIXED_POINT_ITERATIONS; it++) {
    if (fit.residual) fit.residual.apply(fit.eta);
    fit.model.factor(fit.theta);
    const mu = fittedValues(fit.design, fit.model);
    const old = fittedCovariate(fit.design);
    let change = 0, size = 0;
    for (let i = 0; i < mu.length; i++) {
      change = Math.max(change, Math.abs(mu[i] - old[i]));
      size = Math.max(size, Math.abs(mu[i]));
    }
    if (change <= FIXED_POINT_TOL * size) return fit;
    fit = fitOnce(prepareFit(prep.table, prep.spec.text, false, mu), method, signal, onProgress);
  }
  fit.opt.converged = false;
  fit.opt.messages.push(`the fitted values of the variance function of the fitted values did not settle in ${FIXED_POINT_ITERATIONS} refits`);
  return fit;
}

const FIXED_POINT_ITERATIONS = 50;
const FIXED_POINT_TOL = 1e-10;

function fitOnce(prep: PreparedModel, method: Method, signal?: { cancelled: boolean }, onProgress?: Progress, warmStart?: Float64Array): LmmFit {
  const { model, residual } = prep;
  const budget = Budget.forFit(prep, onProgress);
  const reml = method === "REML";
  const lower = thetaLowerBounds(model.remats);
  let theta = thetaStart(model.remats);
  let eta: Float64Array = new Float64Array(0);
  let opt: ThetaFit;
  if (!residual) {
    // A warm start (a refit of nearly the same data, influence.ts) replaces the moment start.
    const start = warmStart && warmStart.length === theta.length ? Float64Array.from(warmStart) : betterStart(model, reml, theta, estimatedMs(prep));
    // From the moment start the optimum is near: a smaller first trust region saves the first
    // steps (Powell: rhobeg about a tenth of the largest expected change).
    opt = minimizeTheta((th) => model.evaluate(th, reml), start, lower, signal, prep.design.n, estimatedMs(prep), start === theta ? 0.25 : 0.1, budget, model.tailProfile(reml));
    if (hasStructured(model.remats)) opt = towardsZeroResidual(prep, reml, opt, lower, budget, signal);
  } else if (usesGradient(prep)) {
    // Small independent blocks (residual-gradient.ts): a joint quasi-Newton search on the
    // analytic gradient, then the ordinary theta check at its eta (cheap, on the blocks).
    const g = fitByGradient(prep, DenseBlocks.of(prep)!, reml, budget, signal);
    eta = g.eta;
    DenseBlocks.of(prep)!.reset(eta);
    residual.apply(eta);
    const finalBudget = new Budget(budget.evalMs, budget.limitMs / 4, onProgress, "fitting");
    opt = minimizeTheta((th) => model.evaluate(th, reml), g.theta, lower, signal, prep.design.n, estimatedMs(prep), 0, finalBudget);
    opt.evaluations += g.evaluations;
    opt.optimizer = "bfgs";
    if (!g.converged) {
      opt.converged = false;
      opt.messages.push(...g.messages);
    }
  } else {
    const r = outerSearch(prep, reml, lower, budget, signal);
    const nth = theta.length, k = nth + r.eta.length;
    // Joint evaluations whiten again; on large data (where lme4 also stops checking) keep the
    // inner fit at the outer search's eta instead. Deterministic cost model, never the clock.
    const jointAffordable = prep.design.n <= JOINT_MAX_ROWS && estimatedMs(prep) * (40 * (k + 1) + 2 * k * k) < JOINT_BUDGET_MS;
    // The final fit at the chosen eta runs even when the search used up the budget: it is
    // warm-started at the best theta and, with its own small allowance, ends at a proper optimum.
    const finalBudget = new Budget(budget.evalMs, budget.limitMs / 4, onProgress, "fitting");
    if (!jointAffordable) {
      eta = r.eta;
      residual.apply(eta);
      opt = minimizeTheta((th) => model.evaluate(th, reml), r.theta, lower, signal, prep.design.n, estimatedMs(prep), 0.25, finalBudget);
    } else {
      // The outer search sees the inner fits' own tolerance as noise in its objective, so it ends
      // within ~1e-4 of the optimum in eta, enough to move df and p-values in the 6th digit. A final
      // joint Newton polish over (theta, eta) on the full objective, with minimizeTheta's convergence
      // check (and its search again if the check fails), finishes it (each evaluation whitens again).
      const joint = (x: Float64Array): number => {
        const logdet = residual.apply(x.subarray(nth));
        if (!Number.isFinite(logdet)) return Infinity;
        return model.evaluate(x.subarray(0, nth), reml) + logdet;
      };
      const jointLower = Float64Array.from([...lower, ...new Array<number>(r.eta.length).fill(-Infinity)]);
      const start = Float64Array.from([...r.theta, ...r.eta]);
      opt = minimizeTheta(joint, start, jointLower, signal, prep.design.n, estimatedMs(prep), 0, finalBudget);
      eta = Float64Array.from(opt.theta.subarray(nth));
      opt.theta = Float64Array.from(opt.theta.subarray(0, nth));
      residual.apply(eta);
    }
    opt.evaluations += r.evaluations;
    if (!r.converged) {
      opt.converged = false;
      opt.messages.push(`the residual-structure parameters did not converge: ${r.message}`);
    }
  }
  theta = opt.theta;
  const base = model.evaluate(theta, reml);
  const objective = base + (residual ? residual.logdet : 0) + (prep.weightLogdet ?? 0);
  if (!Number.isFinite(objective)) {
    throw new DataError("the model could not be fitted: the objective is not finite at any parameter value tried (is the response fully explained by the fixed effects?)");
  }
  return { ...prep, method, theta, eta, objective, opt: { ...opt, objective } };
}
