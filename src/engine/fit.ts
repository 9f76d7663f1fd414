// fitModel: table + spec -> result object. The one place where the pieces meet: parse, design,
// blocked model, optimizer, then the tables users read. Inference that needs refits (profile
// CIs, Satterthwaite) lives in inference/ and is called from here.
import type { DataTable, FitOptions, FitResultWithRows, FixefRow, Method } from "./types";
import { conditionalBlocks, fixedEffects, sphericalModes, unscaledVcov, workingModes } from "./model/solve";
import { blupTables, isSingular, lme4Theta, varcompRows } from "./model/components";
import { fixefInference } from "./inference/fixef";
import { varcompIntervals } from "./inference/varcomp";
import { LmmFit, fitPrepared, nParams, prepareFit } from "./model/prepared";
import { restore, restoreObjective } from "./inference/fixef";
import { checkFitArgs } from "./options";
import { checkIdentifiable, ridgeNotes } from "./model/confounding";
import { reTermText, singularMessages } from "./model/singular";
import { structureResults, structureRidgeNotes, zeroResidualNote } from "./model/re-cov/report";
import { nakagawaR2 } from "./inference/r2";
import { standardized } from "./inference/residuals";
import { ddfName, fixedDf, parseDdf, setFixefDf, setFixefKr } from "./inference/anova";
import { profileBetaIntervals, profileBetaRefusal } from "./inference/profile-beta";
import { DataError } from "./errors";
import { residualIntervals } from "./inference/structure-intervals";

export function fitModel(table: DataTable, specText: string, opts: FitOptions = {}): FitResultWithRows {
  return fitModelKept(table, specText, opts).result;
}

/** fitModel, also returning the fitted model, for what is computed from the same fit (inference/summary.ts: the pane's tests and means). */
export function fitModelKept(table: DataTable, specText: string, opts: FitOptions = {}): { fit: LmmFit; result: FitResultWithRows } {
  checkFitArgs(table, specText, opts);
  const method: Method = opts.method ?? "REML";
  parseDdf(opts.ddf);
  const prep = prepareFit(table, specText);
  checkIdentifiable(prep);
  // Profile intervals of beta that would take too long are refused before the fit (cost.ts's units).
  if (opts.fixefCi === "profile") {
    const why = profileBetaRefusal(prep, method);
    if (why) throw new DataError(why);
  }
  const fit = fitPrepared(prep, method, opts.signal, opts.onProgress);
  return { fit, result: summarize(fit, opts) };
}

function summarize(fit: LmmFit, opts: FitOptions): FitResultWithRows {
  const { model, design, spec } = fit;
  const reml = fit.method === "REML";
  const n = design.n, p = design.p;
  // The tables up to the BLUPs need the objective's factorization only; the full one (modes,
  // conditional variances) is formed once, after the Hessian's points, where restore() is called.
  restoreObjective(fit);
  const dof = reml ? n - p : n;
  const sigma2 = model.pwrss / dof;
  const beta = fixedEffects(model);
  const vc = unscaledVcov(model);
  const se = Array.from(beta, (_, i) => Math.sqrt(sigma2 * vc[i * p + i]));
  const T = model.T.map((t) => Float64Array.from(t));
  const theta = lme4Theta(model.remats, T);
  const singular = isSingular(model.remats, theta);
  const messages = [...design.messages, ...fit.opt.messages];
  if (singular) {
    messages.push(...singularMessages(fit, theta, T));
  }
  const nPar = nParams(fit);
  const logLik = -fit.objective / 2;
  const bicN = reml ? n - p : n;
  const fixefRows: FixefRow[] = design.xnames.map((term, i) => ({
    term, estimate: beta[i], se: se[i], df: null, t: beta[i] / se[i], p: null, lower: null, upper: null,
  }));
  const level = opts.level ?? 0.95;
  const ddf = parseDdf(opts.ddf);
  // Every ddf choice fills df, p and the interval through reportDf (fixef.ts) and its notes.
  let vcovKr: Float64Array | null = null;
  if (ddf === "satterthwaite") messages.push(...fixefInference(fit, fixefRows, level, true));
  else if (ddf === "residual" || ddf === "containment") messages.push(...setFixefDf(fixefRows, fixedDf(fit, ddf), level, ddfName(ddf)));
  else {
    const kr = setFixefKr(fit, fixefRows, level);
    vcovKr = kr.vcov;
    messages.push(...kr.notes);
  }
  const fixefCi = opts.fixefCi ?? "t";
  if (fixefCi === "profile") messages.push(...profileBetaIntervals(fit, fixefRows, level, opts.signal));
  const varcomp = varcompRows(model.remats, T, sigma2);
  const reTexts = model.remats.map((r) => reTermText(fit, r));
  const reStructures = structureResults(model.remats, fit.theta, Math.sqrt(sigma2), reTexts);
  const zeroResidual = zeroResidualNote(model.remats, fit.theta, reTexts);
  if (zeroResidual) messages.push(zeroResidual);
  if ((opts.ci ?? "auto") !== "none") varcompIntervals(fit, varcomp, level, opts.ci ?? "auto", messages, reStructures);
  if (zeroResidual) {
    const res = varcomp[varcomp.length - 1];
    res.sd_lower = res.sd_upper = null;
  }
  ridgeNotes(fit, varcomp, messages);
  structureRidgeNotes(model.remats, reTexts, varcomp, reStructures, messages);
  restore(fit);
  const u = sphericalModes(model);
  const bWork = workingModes(model, u);
  const blups = blupTables(model.remats, T, bWork, conditionalBlocks(model), sigma2);
  const groups: Record<string, number> = {};
  for (const r of model.remats) groups[r.group] = r.ell;
  const result: FitResultWithRows = {
    spec: spec.text,
    method: fit.method,
    n,
    n_dropped: design.nDropped,
    groups,
    logLik,
    df: nPar,
    AIC: -2 * logLik + 2 * nPar,
    BIC: -2 * logLik + nPar * Math.log(bicN),
    sigma: Math.sqrt(sigma2),
    converged: fit.opt.converged,
    singular,
    messages,
    fixef: fixefRows,
    varcomp,
    ...(reStructures.length > 0 ? { re_structures: reStructures } : {}),
    residual: fit.residual ? { type: fit.residual.res.type, group: fit.residual.res.group, time: fit.residual.res.time, params: fit.residual.res.params(fit.eta), ...residualIntervals(fit, opts.ci ?? "auto", level) } : null,
    blups,
    optimizer: { name: fit.opt.optimizer, evaluations: fit.opt.evaluations, theta, objective: fit.objective },
  };
  const ri = model.remats.length === 1 && model.remats[0].q === 1 && model.remats[0].effects[0] === "(Intercept)" && !fit.residual;
  const v = varcomp[0].variance;
  result.icc = ri && v !== null ? v / (v + sigma2) : null;
  result.ddf = ddfName(ddf);
  result.fixef_ci = fixefCi;
  // Under Kenward-Roger the covariance of beta is the adjusted one (pbkrtest's vcovAdj).
  result.vcov = vcovKr
    ? Array.from({ length: p }, (_, i) => Array.from(vcovKr!.subarray(i * p, i * p + p)))
    : Array.from({ length: p }, (_, i) => Array.from(vc.subarray(i * p, i * p + p), (v) => sigma2 * v));
  restore(fit);
  result.r2 = nakagawaR2(fit, beta, sigma2);
  if (opts.fitted) result.fitted = fittedRows(fit, beta, bWork, Math.sqrt(sigma2));
  return result;
}

function fittedRows(fit: LmmFit, beta: Float64Array, bWork: Float64Array[], sigma: number): FitResultWithRows["fitted"] {
  const { design, model } = fit;
  const { n, p, X, y } = design;
  const conditional: number[] = new Array(n);
  const marginal: number[] = new Array(n);
  const residual: number[] = new Array(n);
  for (let r = 0; r < n; r++) {
    let m = 0;
    for (let f = 0; f < p; f++) m += X[r * p + f] * beta[f];
    let c = m;
    model.remats.forEach((rm, t) => {
      const q = rm.q, lev = rm.refs[r];
      for (let a = 0; a < q; a++) c += rm.z[r * q + a] * bWork[t][lev * q + a];
    });
    marginal[r] = m;
    conditional[r] = c;
    residual[r] = y[r] - c;
  }
  const residualMarginal = Array.from(marginal, (m, r) => y[r] - m);
  const cond = standardized(fit, residual, sigma);
  const marg = standardized(fit, residualMarginal, sigma);
  return {
    rows: Array.from(design.rows), conditional, marginal, residual,
    pearson: Array.from(cond.pearson), normalized: Array.from(cond.normalized),
    residual_marginal: residualMarginal, pearson_marginal: Array.from(marg.pearson), normalized_marginal: Array.from(marg.normalized),
  };
}
