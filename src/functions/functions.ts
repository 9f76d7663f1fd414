// The =LMM.* custom functions. Thin adapters: Excel values -> the shared client (a Web Worker
// fit, cached) -> a 2-D table (format.ts). Bad input becomes #VALUE! with the engine's message.
// The JSDoc below is Excel's function help; custom-functions-metadata turns it into
// functions.json, so every function is a top-level declaration with plain parameter types.
import { lmmClient } from "../worker/shared";
import { FittedType, blupTable, fitTable, fittedColumn, lrtTable, varcompTable } from "./format";
import { fail, methodArg, specsArg, textArg, levelArg, onCancel, dataArg } from "./inputs";

/**
 * Fits a linear mixed model (REML or ML, as lme4 and nlme) and returns the fixed effects with Satterthwaite t tests, then logLik, AIC, BIC and the fit's status.
 * Example: =LMM.FIT(A1:D396, "size ~ time*treat + (1|tree)")
 * @customfunction FIT
 * @param data The data with a header row, e.g. A1:D396 or Table1[#All].
 * @param spec The model, e.g. "size ~ time*treat + (1|tree)"; add "; AR1(time | tree)" for correlated residuals.
 * @param [method] "REML" (the default) or "ML".
 * @param invocation Cancellation handle (supplied by Excel).
 * @returns A table to spill: estimates, then fit statistics.
 */
export async function fit(data: any[][], spec: string, method: string | null, invocation: CustomFunctions.CancelableInvocation): Promise<any[][]> {
  try {
    const r = await lmmClient.fit(dataArg(data), textArg(spec, "spec"), { method: methodArg(method) }, onCancel(invocation));
    return fitTable(r);
  } catch (e) {
    throw fail(e);
  }
}

/**
 * The variance components of a linear mixed model, as the lecture's Table 1: group, effect, variance, sd, profile-likelihood CI of the sd, and the share of the total variance.
 * Example: =LMM.VARCOMP(A1:D396, "size ~ time*treat + (1|tree)")
 * @customfunction VARCOMP
 * @param data The data with a header row.
 * @param spec The model, e.g. "size ~ time*treat + (1|tree)".
 * @param [method] "REML" (the default) or "ML".
 * @param [level] Confidence level of the intervals (default 0.95).
 * @param invocation Cancellation handle (supplied by Excel).
 * @returns A table to spill.
 */
export async function varcomp(data: any[][], spec: string, method: string | null, level: number | null, invocation: CustomFunctions.CancelableInvocation): Promise<any[][]> {
  try {
    const r = await lmmClient.fit(dataArg(data), textArg(spec, "spec"), { method: methodArg(method), level: levelArg(level) }, onCancel(invocation));
    return varcompTable(r);
  } catch (e) {
    throw fail(e);
  }
}

/**
 * Likelihood-ratio tests between nested models, laid out as R's anova: one row per model, a test between consecutive ones, and the chi-bar-square p-value when a variance is 0 under the null.
 * Example: =LMM.LRT(A1:D396, F1:F2, "ML") with the two model specs in F1:F2.
 * @customfunction LRT
 * @param data The data with a header row.
 * @param specs Two or more model specs: a range of cells, an array such as {"size ~ time + (1|tree)","size ~ time + (time|tree)"}, or one spec per cell.
 * @param [method] "REML" (the default; fits with different fixed effects are refitted by ML) or "ML".
 * @param invocation Cancellation handle (supplied by Excel).
 * @returns A table to spill.
 */
export async function lrt(data: any[][], specs: any[][], method: string | null, invocation: CustomFunctions.CancelableInvocation): Promise<any[][]> {
  try {
    const r = await lmmClient.lrt(dataArg(data), specsArg(specs), { method: methodArg(method) }, onCancel(invocation));
    return lrtTable(r);
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
 * @param [group] The grouping factor (default: the model's first).
 * @param [method] "REML" (the default) or "ML".
 * @param invocation Cancellation handle (supplied by Excel).
 * @returns A table to spill.
 */
export async function blup(data: any[][], spec: string, group: string | null, method: string | null, invocation: CustomFunctions.CancelableInvocation): Promise<any[][]> {
  try {
    const r = await lmmClient.fit(dataArg(data), textArg(spec, "spec"), { method: methodArg(method) }, onCancel(invocation));
    return blupTable(r, group === null || group === undefined || group === "" ? null : String(group));
  } catch (e) {
    throw fail(e);
  }
}

/**
 * Fitted values (conditional: fixed + random effects; or marginal: fixed only) or residuals, one per data row, aligned with the data when entered beside its header row.
 * Example: =LMM.FITTED(A1:D396, "size ~ time*treat + (1|tree)")
 * @customfunction FITTED
 * @param data The data with a header row.
 * @param spec The model.
 * @param [type] "conditional" (the default), "marginal" or "residual".
 * @param [method] "REML" (the default) or "ML".
 * @param invocation Cancellation handle (supplied by Excel).
 * @returns One column as tall as the data.
 */
export async function fitted(data: any[][], spec: string, type: string | null, method: string | null, invocation: CustomFunctions.CancelableInvocation): Promise<any[][]> {
  try {
    const t = (type === null || type === undefined || type === "" ? "conditional" : String(type).toLowerCase()) as FittedType;
    if (t !== "conditional" && t !== "marginal" && t !== "residual") throw new TypeError(`type must be "conditional", "marginal" or "residual", not "${type}"`);
    const rows = dataArg(data);
    const r = await lmmClient.fit(rows, textArg(spec, "spec"), { method: methodArg(method), fitted: true }, onCancel(invocation));
    return fittedColumn(r, t, data.length);
  } catch (e) {
    throw fail(e);
  }
}
