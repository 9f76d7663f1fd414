// LMM.ANOVA's arguments and table (formatting only; the engine computes every number), and the
// ddf argument of LMM.FIT. No engine import: the functions' bundle stays small.
import type { AnovaResult, DdfOption } from "../engine/types";
import { InputError } from "./inputs";
import type { Cell } from "./format";

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

const cell = (x: number | null | undefined): Cell => (x === null || x === undefined || !Number.isFinite(x) ? "" : x);

/** lmerTest's anova table: a header row, one row per term, then a row naming the type and df method, then notes. */
export function anovaTable(res: AnovaResult): Cell[][] {
  const rows: Cell[][] = [["", "Sum Sq", "Mean Sq", "NumDF", "DenDF", "F value", "Pr(>F)"]];
  for (const r of res.rows) rows.push([r.term, cell(r["Sum Sq"]), cell(r["Mean Sq"]), cell(r.NumDF), cell(r.DenDF), cell(r["F value"]), cell(r["Pr(>F)"])]);
  rows.push([`Type ${["I", "II", "III"][res.type - 1]}`, `${res.ddf} df`, res.method, "", "", "", ""]);
  for (const m of res.messages) rows.push(["note", m, "", "", "", "", ""]);
  return rows;
}
