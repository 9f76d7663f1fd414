// A model ready to optimize: the parsed spec, its design, the blocked cross-products and, when
// the spec has one, the residual structure. Built once per (table, spec); REML, ML, refits and
// profiles all reuse it.
import type { DataTable, Design, Method, ModelSpec } from "../types";
import { parseSpec } from "../formula/parse";
import { buildDesign } from "./design";
import { BlockedModel } from "./blocked";
import { DataError } from "../errors";
import { ThetaFit, minimizeTheta } from "./optimize";
import { buildReMats, thetaLowerBounds, thetaStart } from "./remat";
import { ResidualModel, buildResidual } from "./residual";
import { bobyqa } from "../optim";
import { CancelledError } from "../errors";

export interface PreparedModel {
  spec: ModelSpec;
  design: Design;
  model: BlockedModel;
  residual: Whitening | null;
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

/** A residual structure bound to a model: whitens the columns into the blocks for a given eta. */
export class Whitening {
  private readonly Xw: Float64Array;
  private readonly yw: Float64Array;
  private readonly zw: Float64Array[];
  private lastEta: Float64Array | null = null;
  logdet = 0;

  constructor(readonly res: ResidualModel, private readonly design: Design, private readonly model: BlockedModel) {
    this.Xw = new Float64Array(design.X.length);
    this.yw = new Float64Array(design.y.length);
    this.zw = model.remats.map((r) => new Float64Array(r.z.length));
  }

  /** Re-whiten and re-accumulate for eta (skipped when eta is unchanged). Returns log|R|. */
  apply(eta: Float64Array): number {
    if (this.lastEta && this.lastEta.length === eta.length && this.lastEta.every((v, i) => v === eta[i])) return this.logdet;
    const { design, model } = this;
    const cols = [
      { src: design.X, dst: this.Xw, width: design.p },
      { src: design.y, dst: this.yw, width: 1 },
      ...model.remats.map((r, t) => ({ src: r.z, dst: this.zw[t], width: r.q })),
    ];
    this.logdet = this.res.whiten(eta, cols);
    if (Number.isFinite(this.logdet)) model.accumulate(this.Xw, this.yw, this.zw);
    this.lastEta = Float64Array.from(eta);
    return this.logdet;
  }
}

export function prepareFit(table: DataTable, specText: string): PreparedModel {
  const spec = parseSpec(specText);
  const design = buildDesign(table, spec);
  const remats = buildReMats(design.reTerms, design.n);
  const model = new BlockedModel(remats, design.X, design.y, design.p);
  const res = buildResidual(table, spec, design);
  if (res && res.type !== "varIdent") {
    for (const r of remats) {
      const first = new Int32Array(res.ngroups).fill(-1);
      for (let i = 0; i < design.n; i++) {
        const g = res.groupOf[i];
        if (first[g] === -1) first[g] = r.refs[i];
        else if (first[g] !== r.refs[i]) {
          throw new DataError(`the random effect '${r.group}' varies within the residual groups of '${res.group}'; with a residual structure, each random-effect grouping factor must be constant within the residual groups (group the residuals by '${r.group}' or by a factor nested in it)`);
        }
      }
    }
  }
  return { spec, design, model, residual: res ? new Whitening(res, design, model) : null };
}

/** Optimize theta (and the residual parameters) for a prepared model and method. */
export function fitPrepared(prep: PreparedModel, method: Method, signal?: { cancelled: boolean }): LmmFit {
  const { model, residual } = prep;
  const reml = method === "REML";
  const lower = thetaLowerBounds(model.remats);
  let theta = thetaStart(model.remats);
  let eta = new Float64Array(0);
  let opt: ThetaFit;
  if (!residual) {
    opt = minimizeTheta((th) => model.evaluate(th, reml), theta, lower, signal, prep.design.n, estimatedMs(prep));
  } else {
    // Residual parameters outside, theta inside (warm-started): A is re-accumulated only when
    // the residual parameters move, and the inner problem is the cheap block-only one.
    const outer = (e: Float64Array): number => {
      if (signal?.cancelled) throw new CancelledError();
      const logdet = residual.apply(e);
      if (!Number.isFinite(logdet)) return Infinity;
      const inner = minimizeTheta((th) => model.evaluate(th, reml), theta, lower, signal, Infinity);
      if (Number.isFinite(inner.objective)) theta = inner.theta;
      return inner.objective + logdet;
    };
    const res = bobyqa(outer, new Float64Array(residual.res.nPar), { rhobeg: 0.5, rhoend: 1e-7, maxfun: 500 * (residual.res.nPar + 1) });
    eta = Float64Array.from(res.x);
    residual.apply(eta);
    opt = minimizeTheta((th) => model.evaluate(th, reml), theta, lower, signal, prep.design.n, estimatedMs(prep));
    if (res.status !== "converged") {
      opt.converged = false;
      opt.messages.push(`the residual-structure parameters did not converge: ${res.message}`);
    }
  }
  theta = opt.theta;
  const base = model.evaluate(theta, reml);
  const objective = base + (residual ? residual.logdet : 0);
  if (!Number.isFinite(objective)) {
    throw new DataError("the model could not be fitted: the objective is not finite at any parameter value tried (is the response fully explained by the fixed effects?)");
  }
  return { ...prep, method, theta, eta, objective, opt: { ...opt, objective } };
}
