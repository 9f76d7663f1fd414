// A model ready to optimize: the parsed spec, its design and the blocked cross-products. Built
// once per (table, spec); REML, ML, refits and profiles all reuse it.
import type { DataTable, Design, Method, ModelSpec } from "../types";
import { parseSpec } from "../formula/parse";
import { buildDesign } from "./design";
import { BlockedModel } from "./blocked";
import { DataError } from "../errors";
import { ThetaFit, minimizeTheta } from "./optimize";
import { buildReMats, thetaLowerBounds, thetaStart } from "./remat";

export interface PreparedModel {
  spec: ModelSpec;
  design: Design;
  model: BlockedModel;
}

export interface LmmFit extends PreparedModel {
  method: Method;
  theta: Float64Array;
  objective: number;
  opt: ThetaFit;
}

export function prepareFit(table: DataTable, specText: string): PreparedModel {
  const spec = parseSpec(specText);
  if (spec.residual || spec.varIdent) {
    throw new DataError("residual correlation structures and varIdent are not available in this version; remove the '; ...' part of the spec");
  }
  const design = buildDesign(table, spec);
  const remats = buildReMats(design.reTerms, design.n);
  const model = new BlockedModel(remats, design.X, design.y, design.p);
  return { spec, design, model };
}

/** Optimize theta for a prepared model and method. Used by fitModel, LRT refits and profiles. */
export function fitPrepared(prep: PreparedModel, method: Method, signal?: { cancelled: boolean }): LmmFit {
  const { model } = prep;
  const reml = method === "REML";
  const lower = thetaLowerBounds(model.remats);
  const start = thetaStart(model.remats);
  const opt = minimizeTheta((th) => model.evaluate(th, reml), start, lower, signal);
  const objective = model.evaluate(opt.theta, reml);
  if (!Number.isFinite(objective)) {
    throw new DataError("the model could not be fitted: the objective is not finite at any parameter value tried (check for a response that is fully explained by the fixed effects)");
  }
  return { ...prep, method, theta: opt.theta, objective, opt };
}

