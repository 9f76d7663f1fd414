// Likelihood-ratio tests between nested models, laid out as nlme's anova (the lecture's tables):
// one row per model in the order given, a test between consecutive models. REML fits whose fixed
// effects differ are refitted by ML (as lme4 does; REML likelihoods of different X are not
// comparable); REML fits with the same fixed effects stay REML, as in the lecture.
import type { DataTable, LrtResult, LrtTestRow, Method } from "../types";
import { DataError } from "../errors";
import { LmmFit, fitPrepared, nParams, prepareFit } from "../model/prepared";
import { pChisqUpper } from "./dist";
import { boundaryMixture } from "./mixture";
import { checkCompareArgs } from "../options";
import { checkIdentifiable } from "../model/confounding";

export interface CompareOptions {
  method?: Method;
  signal?: { cancelled: boolean };
  onProgress?: (evaluations: number, phase: string) => void;
}

export function compareModels(table: DataTable, specs: string[], opts: CompareOptions = {}): LrtResult {
  checkCompareArgs(table, specs, opts);
  if (specs.length < 2) throw new DataError("a likelihood-ratio test needs at least two model specs");
  let method: Method = opts.method ?? "REML";
  const preps = specs.map((s) => prepareFit(table, s));
  preps.forEach(checkIdentifiable);
  const n0 = preps[0].design.n;
  preps.forEach((p, i) => {
    if (p.design.n !== n0) {
      throw new DataError(`model ${i + 1} uses ${p.design.n} rows but model 1 uses ${n0} (missing values differ); models compared by a likelihood-ratio test must use the same rows`);
    }
  });
  const messages: string[] = [];
  let refit = false;
  if (method === "REML") {
    const key = (i: number) => preps[i].design.xnames.join("\u0001");
    if (preps.some((_, i) => key(i) !== key(0))) {
      refit = true;
      method = "ML";
      messages.push("refitting model(s) with ML (instead of REML): the fixed effects differ, and REML likelihoods are only comparable for the same fixed effects");
    }
  }
  const fits: LmmFit[] = preps.map((p, i) => fitPrepared(p, method, opts.signal, opts.onProgress && ((k, phase) => opts.onProgress!(k, `${phase} model ${i + 1} of ${preps.length}`))));
  const models = fits.map((f, i) => {
    const df = nParams(f);
    const logLik = -f.objective / 2;
    const nb = method === "REML" ? f.design.n - f.design.p : f.design.n;
    return { spec: specs[i], df, AIC: -2 * logLik + 2 * df, BIC: -2 * logLik + df * Math.log(nb), logLik };
  });
  const tests: LrtTestRow[] = [];
  for (let i = 1; i < fits.length; i++) {
    const a = models[i - 1], b = models[i];
    const L = 2 * Math.abs(b.logLik - a.logLik);
    const df = Math.abs(b.df - a.df);
    if (df === 0) {
      messages.push(`models ${i} and ${i + 1} have the same number of parameters; no test between them`);
      continue;
    }
    const [small, large] = a.df < b.df ? [fits[i - 1], fits[i]] : [fits[i], fits[i - 1]];
    const mix = boundaryMixture(small, large);
    tests.push({
      from: i,
      to: i + 1,
      "L.Ratio": L,
      df,
      p: pChisqUpper(L, df),
      p_mixture: mix ? mix.p(L) : null,
      mixture: mix ? mix.description : null,
    });
  }
  return { method, refit_ml: refit, models, tests, messages };
}
