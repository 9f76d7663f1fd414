// LMM.ANOVA's arguments and table (formatting only; the engine computes every number), and the
// ddf argument of LMM.FIT. No engine import: the functions' bundle stays small.
import type { AnovaResult, DdfOption } from "../engine/types";
import { InputError } from "./inputs";
import { Num, Rich } from "./format";
import * as NF from "./number-formats";

const omitted = (v: unknown): boolean => v === null || v === undefined || v === 0 || (typeof v === "string" && v.trim() === "");

/** The anova type: 1, 2 or 3 (also "I", "II", "III"); 3 when left out. */
export function anovaTypeArg(v: unknown): 1 | 2 | 3 {
  if (omitted(v)) return 3;
  const s = String(v).trim().toUpperCase();
  const t = s === "I" ? 1 : s === "II" ? 2 : s === "III" ? 3 : Number(s);
  if (t === 1 || t === 2 || t === 3) return t;
  throw new InputError(`type must be 1 (sequential), 2 or 3 (the default, as lmerTest and SAS Type 3), not "${String(v)}"`);
}

/** Denominator df: "satterthwaite" (the default), "residual" or "containment". */
export function ddfArg(v: unknown): DdfOption | undefined {
  if (omitted(v)) return undefined;
  const s = typeof v === "string" ? v.trim().toLowerCase() : "";
  if (s === "satterthwaite" || s === "residual" || s === "containment") return s;
  if (s === "kr" || s === "kenward-roger") return "kr";
  throw new InputError(`ddf must be "satterthwaite" (the default), "kr" (Kenward-Roger), "residual" (n - p) or "containment" (nlme's between/within df), not "${String(v)}"`);
}

/** LMM.FIT's `ci`: the fixed effects' intervals, "wald" (the default: estimate ± t quantile × SE) or "profile" (profile likelihood, as lme4's confint). */
export function fixefCiArg(v: unknown): "t" | "profile" | undefined {
  if (omitted(v)) return undefined;
  const s = typeof v === "string" ? v.trim().toLowerCase() : "";
  if (s === "wald" || s === "t") return undefined;
  if (s === "profile") return "profile";
  throw new InputError(`ci must be "wald" (the default: estimate ± t quantile × SE) or "profile" (profile likelihood, as lme4's confint(method = "profile")), not "${String(v)}"`);
}

const cell = (x: number | null | undefined, format: string): Rich => (x === null || x === undefined || !Number.isFinite(x) ? "" : new Num(x, format));

/**
 * lmerTest's anova table: a header row, one row per term, then a row naming the type and df
 * method, then notes. Each number carries its format (cell-values.ts): sums of squares to four
 * significant digits, NumDF whole, DenDF one decimal, F two decimals, p as R prints it.
 */
export function anovaTable(res: AnovaResult): Rich[][] {
  const rows: Rich[][] = [["", "Sum Sq", "Mean Sq", "NumDF", "DenDF", "F value", "Pr(>F)"]];
  for (const r of res.rows) {
    const ss = (x: number | null) => (x === null ? NF.INTEGER : NF.significant(x, 4));
    rows.push([r.term, cell(r["Sum Sq"], ss(r["Sum Sq"])), cell(r["Mean Sq"], ss(r["Mean Sq"])), cell(r.NumDF, NF.INTEGER), cell(r.DenDF, NF.DF), cell(r["F value"], NF.T_VALUE), cell(r["Pr(>F)"], NF.P_VALUE)]);
  }
  rows.push([`Type ${["I", "II", "III"][res.type - 1]}`, `${res.ddf} df`, res.method, "", "", "", ""]);
  for (const m of res.messages) rows.push(["note", m, "", "", "", "", ""]);
  return rows;
}
