// The =LMM.* custom functions. Thin adapters: Excel's arguments (inputs.ts) -> the shared client,
// which runs the engine in a Web Worker and caches by inputs, so FIT, VARCOMP, BLUP and FITTED
// on the same data and spec fit once -> a 2-D table (format.ts) -> Excel's cells, numbers with
// their number formats where the host supports it (cell-values.ts). Any failure becomes #VALUE!
// with a message that says what to fix.
// The JSDoc is Excel's function help: custom-functions-metadata turns it into functions.json, so
// every function is a top-level declaration with plain parameter types (optional arguments are
// `T | null`: Excel passes null for an omitted one), and the last parameter is the cancellation
// handle (which makes the function @cancelable).
import { lmmClient } from "../worker/shared";
import { blupCells, fitCells, fittedCells, lrtCells, rlrtCells, varcompCells } from "./format";
import { toExcel } from "./cell-values";
import { anovaTable, anovaTypeArg, ddfArg, fixefCiArg } from "./anova-format";
import { candidatesArg, structuresCells } from "./structures-format";
import { adjustArg, atArg, boolArg, contrastCells, emmeansCells, lMatrixArg, namesArg } from "./emmeans-format";
import { newdataArg, predictIntervalArg, predictLevelArg, predictTable } from "./predict-format";
import { ciArg, dataArg, dataNotes, fail, fittedTypeArg, intArg, levelArg, methodArg, nameArg, onCancel, specArg, specsArg } from "./inputs";

/**
 * Fits a linear mixed model (REML or ML, as lme4 and nlme) and returns the fixed effects with Satterthwaite t tests, then logLik, AIC, BIC, the groups, convergence, the residual structure and notes.
 * Example: =LMM.FIT(A1:D396, "size ~ time*treat + (1|tree)")
 * @customfunction FIT
 * @param data The data with a header row, e.g. A1:D396 or Table1[#All].
 * @param spec The model, e.g. "size ~ time*treat + (1|tree)"; add "; AR1(time | tree)" for correlated residuals.
 * @param [method] "REML" (the default) or "ML".
 * @param [ddf] Denominator df of the t tests: "satterthwaite" (the default, as lmerTest), "kr" (Kenward-Roger, as pbkrtest; REML), "residual" (n - p) or "containment" (nlme's between/within df).
 * @param [ci] Intervals of the estimates: "wald" (the default: estimate ± t quantile × SE) or "profile" (profile likelihood, as lme4's confint(method = "profile"); models without a residual structure; refused, with the time it would take, on data too large).
 * @param invocation Cancellation handle (supplied by Excel).
 * @returns A table to spill: estimates, then fit statistics.
 */
export async function fit(data: any[][], spec: string, method: string | null, ddf: string | null, ci: string | null, invocation: CustomFunctions.CancelableInvocation): Promise<any[][]> {
  try {
    const d = dataArg(data);
    const fixefCi = fixefCiArg(ci);
    const r = await lmmClient.fit(d.rows, specArg(spec), { method: methodArg(method), ddf: ddfArg(ddf), ...(fixefCi ? { fixefCi } : {}) }, onCancel(invocation));
    return toExcel(fitCells(r, dataNotes(d)));
  } catch (e) {
    throw fail(e);
  }
}

/**
 * The variance components, as the lecture's Table 1: group, effect, variance, sd, the profile-likelihood interval of the sd, and the share of the total variance; correlation rows for correlated effects. With a residual structure, nlme's approximate intervals() for the SDs and, in rows after them, for the structure's parameters (phi, correlations, variance ratios, power) with their estimate.
 * Example: =LMM.VARCOMP(A1:D396, "size ~ time*treat + (1|tree)")
 * @customfunction VARCOMP
 * @param data The data with a header row.
 * @param spec The model, e.g. "size ~ time*treat + (1|tree)".
 * @param [method] "REML" (the default) or "ML".
 * @param [level] Confidence level of the intervals (default 0.95).
 * @param [ci] "profile" (profile likelihood, as lme4's confint), "wald" (on the log-SD scale), or "auto" (the default: profile unless that would take long on data this size).
 * @param invocation Cancellation handle (supplied by Excel).
 * @returns A table to spill.
 */
export async function varcomp(data: any[][], spec: string, method: string | null, level: number | null, ci: string | null, invocation: CustomFunctions.CancelableInvocation): Promise<any[][]> {
  try {
    const d = dataArg(data);
    const lv = levelArg(level);
    const r = await lmmClient.fit(d.rows, specArg(spec), { method: methodArg(method), level: lv, ci: ciArg(ci) }, onCancel(invocation));
    return toExcel(varcompCells(r, lv));
  } catch (e) {
    throw fail(e);
  }
}

/**
 * Likelihood-ratio tests between nested models, laid out as R's anova (Model, df, AIC, BIC, logLik, Test, L.Ratio, p-value), with the chi-bar-square p-value where a variance is 0 under the null.
 * Example: =LMM.LRT(A1:D396, F1:F2, "ML") with one model spec in each of F1:F2.
 * @customfunction LRT
 * @param data The data with a header row.
 * @param specs Two or more model specs: a range of cells (blanks skipped) or an array such as {"size ~ time + (1|tree)","size ~ time + (time|tree)"}.
 * @param [method] "REML" (the default; fits whose fixed effects differ are refitted by ML) or "ML".
 * @param invocation Cancellation handle (supplied by Excel).
 * @returns A table to spill.
 */
export async function lrt(data: any[][], specs: any[][], method: string | null, invocation: CustomFunctions.CancelableInvocation): Promise<any[][]> {
  try {
    const d = dataArg(data);
    const r = await lmmClient.lrt(d.rows, specsArg(specs), { method: methodArg(method) }, onCancel(invocation));
    return toExcel(lrtCells(r));
  } catch (e) {
    throw fail(e);
  }
}

/**
 * Predicted random effects (BLUPs, the conditional modes) with their conditional SDs, one row per level of a grouping factor.
 * Example: =LMM.BLUP(A1:D396, "size ~ time + (time|tree)", "tree")
 * @customfunction BLUP
 * @param data The data with a header row.
 * @param spec The model.
 * @param [group] The grouping factor, e.g. "tree" (default: the model's first).
 * @param [method] "REML" (the default) or "ML".
 * @param invocation Cancellation handle (supplied by Excel).
 * @returns A table to spill.
 */
export async function blup(data: any[][], spec: string, group: string | null, method: string | null, invocation: CustomFunctions.CancelableInvocation): Promise<any[][]> {
  try {
    const d = dataArg(data);
    const g = nameArg(group, "group");
    const r = await lmmClient.fit(d.rows, specArg(spec), { method: methodArg(method) }, onCancel(invocation));
    return toExcel(blupCells(r, g));
  } catch (e) {
    throw fail(e);
  }
}

/**
 * Fitted values (conditional: fixed + random effects; marginal: fixed effects only) or residuals, one per data row: enter it beside the header row and it lines up with the data; rows with missing values are left blank.
 * Example: =LMM.FITTED(A1:D396, "size ~ time*treat + (1|tree)")
 * @customfunction FITTED
 * @param data The data with a header row.
 * @param spec The model.
 * @param [type] "conditional" (the default), "marginal", "residual", "pearson" (residual / (sigma x the row's SD ratio)) or "normalized" (Pearson residuals whitened by the residual correlation, as nlme's resid(type = "normalized")).
 * @param [method] "REML" (the default) or "ML".
 * @param invocation Cancellation handle (supplied by Excel).
 * @returns One column as tall as the data.
 */
export async function fitted(data: any[][], spec: string, type: string | null, method: string | null, invocation: CustomFunctions.CancelableInvocation): Promise<any[][]> {
  try {
    const d = dataArg(data);
    const t = fittedTypeArg(type);
    const r = await lmmClient.fit(d.rows, specArg(spec), { method: methodArg(method), fitted: true }, onCancel(invocation));
    return toExcel(fittedCells(r, t, d.rows.length));
  } catch (e) {
    throw fail(e);
  }
}

/**
 * The exact restricted likelihood-ratio test that the one variance component of the spec is 0 (Crainiceanu and Ruppert 2004, as R's RLRsim::exactRLRT), by simulation with a fixed seed.
 * Example: =LMM.RLRT(A1:D396, "size ~ time + (1|tree)")
 * @customfunction RLRT
 * @param data The data with a header row.
 * @param spec A model with exactly one random effect, e.g. "size ~ time + (1|tree)".
 * @param [nsim] Number of simulated values (default 10000).
 * @param [seed] Seed of the simulation (default 1).
 * @param invocation Cancellation handle (supplied by Excel).
 * @returns A table to spill: RLRT statistic, p-value, nsim.
 */
export async function rlrt(data: any[][], spec: string, nsim: number | null, seed: number | null, invocation: CustomFunctions.CancelableInvocation): Promise<any[][]> {
  try {
    const d = dataArg(data);
    const options = { nsim: intArg(nsim, "nsim", 100, 1000000), seed: intArg(seed, "seed", 1, 2147483647) };
    const r = await lmmClient.rlrt(d.rows, specArg(spec), options, onCancel(invocation));
    return toExcel(rlrtCells(r));
  } catch (e) {
    throw fail(e);
  }
}

/**
 * F tests of the fixed-effect terms, as lmerTest's anova: Sum Sq, Mean Sq, NumDF, DenDF, F value, Pr(>F). Type 3 (the default) does not depend on the contrast coding and agrees with SAS PROC MIXED Type 3.
 * Example: =LMM.ANOVA(A1:D396, "size ~ time*treat + (1|tree)")
 * @customfunction ANOVA
 * @param data The data with a header row.
 * @param spec The model, e.g. "size ~ time*treat + (1|tree)"; residual structures work too.
 * @param [type] 1 (sequential), 2, or 3 (the default).
 * @param [ddf] Denominator df: "satterthwaite" (the default, as lmerTest), "kr" (Kenward-Roger, as pbkrtest; REML), "residual" (n - p, SAS DDFM=RESIDUAL) or "containment" (nlme's between/within df).
 * @param [method] "REML" (the default) or "ML".
 * @param invocation Cancellation handle (supplied by Excel).
 * @returns A table to spill: one row per term.
 */
export async function anova(data: any[][], spec: string, type: any, ddf: string | null, method: string | null, invocation: CustomFunctions.CancelableInvocation): Promise<any[][]> {
  try {
    const d = dataArg(data);
    const options = { type: anovaTypeArg(type), ddf: ddfArg(ddf), method: methodArg(method) };
    const r = await lmmClient.anova(d.rows, specArg(spec), options, onCancel(invocation));
    return toExcel(anovaTable(r));
  } catch (e) {
    throw fail(e);
  }
}

/**
 * Which residual structure? Fits the candidates (independence, CS, AR1, ARH1, CSH, TOEP, UN, and CAR1 and the spatial ones when time is continuous) with the same fixed effects by REML, ranked by AIC, each tested against the largest candidate nested in it.
 * Example: =LMM.STRUCTURES(A1:D396, "size ~ time*treat ; AR1(time | tree)")
 * @customfunction STRUCTURES
 * @param data The data with a header row.
 * @param spec The model with any structure naming the time and group columns, e.g. "size ~ time*treat ; AR1(time | tree)".
 * @param [candidates] Structures to compare, e.g. "CS, AR1, ARH1, UN, TOEP(bands = 2), EXP(nugget)" (default: the ladder above).
 * @param invocation Cancellation handle (supplied by Excel).
 * @returns A table to spill.
 */
export async function structures(data: any[][], spec: string, candidates: string | null, invocation: CustomFunctions.CancelableInvocation): Promise<any[][]> {
  try {
    const d = dataArg(data);
    const r = await lmmClient.structures(d.rows, specArg(spec), { candidates: candidatesArg(candidates) }, onCancel(invocation));
    return toExcel(structuresCells(r));
  } catch (e) {
    throw fail(e);
  }
}

/**
 * Estimated marginal means, as R's emmeans: each mean with SE, df and confidence interval (factors crossed with equal weights, covariates at their means unless `at`), then the pairwise contrasts (Tukey-adjusted by default), then notes. Non-estimable means show "nonEst".
 * Example: =LMM.EMMEANS(A1:D396, "size ~ time*treat + (1|tree)", "treat", , "time=200")
 * @customfunction EMMEANS
 * @param data The data with a header row.
 * @param spec The model, e.g. "size ~ time*treat + (1|tree)".
 * @param specs The factor(s) whose means you want, e.g. "treat" or "N, Variety" (a covariate with several `at` values works too).
 * @param [by] Factor(s) to group the means and contrasts by, e.g. "Variety".
 * @param [at] Covariate values (or factor levels) for the grid, e.g. "time=200" or "time=150|200|250".
 * @param [adjust] P-value adjustment of the contrasts: "tukey" (the default), "holm", "bonferroni", "sidak" or "none".
 * @param [method] "REML" (the default) or "ML".
 * @param [ddf] Denominator df: "satterthwaite" (the default), "kr" (Kenward-Roger), "residual" or "containment".
 * @param [trend] A covariate: its slope per cell (emtrends) instead of the means, e.g. "time".
 * @param invocation Cancellation handle (supplied by Excel).
 * @returns A table to spill: the means, a blank row, the contrasts, notes.
 */
export async function emmeans(data: any[][], spec: string, specs: any, by: any, at: string | null, adjust: string | null, method: string | null, ddf: string | null, trend: string | null, invocation: CustomFunctions.CancelableInvocation): Promise<any[][]> {
  try {
    const d = dataArg(data);
    const tr = nameArg(trend, "trend");
    const options = { specs: namesArg(specs, "specs", true), by: namesArg(by, "by", false), at: atArg(at), adjust: adjustArg(adjust), method: methodArg(method), ddf: ddfArg(ddf), trend: tr };
    const r = await lmmClient.emmeans(d.rows, specArg(spec), options, onCancel(invocation));
    return toExcel(emmeansCells(r));
  } catch (e) {
    throw fail(e);
  }
}

/**
 * t tests of linear combinations of the fixed effects: each row of L is one combination (one column per coefficient, in LMM.FIT's order) with estimate, SE, df, t and p; `joint` adds the F test of all rows (lmerTest's contest, SAS CONTRAST).
 * Example: =LMM.CONTRAST(A1:D396, "size ~ time*treat + (1|tree)", {0,0,1,0;0,0,0,1}, TRUE)
 * @customfunction CONTRAST
 * @param data The data with a header row.
 * @param spec The model.
 * @param L A range of numbers: one row per contrast, one column per fixed-effect coefficient.
 * @param [joint] TRUE adds the joint F test of all rows.
 * @param [ddf] Denominator df: "satterthwaite" (the default), "kr" (Kenward-Roger), "residual" or "containment".
 * @param invocation Cancellation handle (supplied by Excel).
 * @returns A table to spill.
 */
export async function contrast(data: any[][], spec: string, L: any[][], joint: any, ddf: string | null, invocation: CustomFunctions.CancelableInvocation): Promise<any[][]> {
  try {
    const d = dataArg(data);
    const options = { L: lMatrixArg(L), joint: boolArg(joint), ddf: ddfArg(ddf) ?? null };
    const r = await lmmClient.contrast(d.rows, specArg(spec), options, onCancel(invocation));
    return toExcel(contrastCells(r));
  } catch (e) {
    throw fail(e);
  }
}

/**
 * Predictions for new rows: one row per row of newdata (fit, se, interval, level, note). Type a new row and the prediction updates.
 * Example: =LMM.PREDICT(A1:D396, "size ~ time*treat + (1|tree)", F1:H3, "group", "prediction")
 * @customfunction PREDICT
 * @param data The data with a header row.
 * @param spec The model, e.g. "size ~ time*treat + (1|tree)".
 * @param newdata The new rows with a header row naming the model's columns (a response column is not needed).
 * @param [level] "population" (fixed effects, the default), "group" (fixed + random effects; a new group gets the population value, noted) or "forecast" (with a residual structure: group level plus what the group's residuals predict for a new occasion).
 * @param [interval] "none" (the default), "confidence" or "prediction" (95 %).
 * @param [method] "REML" (the default) or "ML".
 * @param invocation Cancellation handle (supplied by Excel).
 * @returns A header row, then one row per new row.
 */
export async function predict(data: any[][], spec: string, newdata: any[][], level: string | null, interval: string | null, method: string | null, invocation: CustomFunctions.CancelableInvocation): Promise<any[][]> {
  try {
    const d = dataArg(data);
    const options = { newdata: newdataArg(newdata), level: predictLevelArg(level), interval: predictIntervalArg(interval), method: methodArg(method) };
    const r = await lmmClient.predict(d.rows, specArg(spec), options, onCancel(invocation));
    return toExcel(predictTable(r));
  } catch (e) {
    throw fail(e);
  }
}
