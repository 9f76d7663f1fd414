// LMM.PREDICT's arguments and table (formatting only; the engine computes every number). No
// engine import: the functions' bundle stays small.
import type { PredictInterval, PredictLevel, PredictResult } from "../engine/types";
import { InputError } from "./inputs";
import { Num, Rich, rect } from "./format";
import * as NF from "./number-formats";

const omitted = (v: unknown): boolean => v === null || v === undefined || v === 0 || (typeof v === "string" && v.trim() === "");

/** The new rows: a range whose first row names the model's columns. */
export function newdataArg(v: unknown): unknown[][] {
  if (!Array.isArray(v) || v.length === 0 || !Array.isArray(v[0])) {
    throw new InputError("newdata must be a range whose first row names the model's columns (such as time, treat, tree), with the new rows below it");
  }
  const rows = v as unknown[][];
  const header = rows[0];
  const bad = header.findIndex((h) => typeof h !== "string" || h.trim() === "" || Number.isFinite(Number(h)));
  if (bad >= 0) {
    throw new InputError(`newdata has no header row: its first row must name the model's columns (such as time, treat, tree), but cell ${bad + 1} of it is ${typeof header[bad] === "string" && header[bad] !== "" ? `"${String(header[bad])}"` : header[bad] === "" || header[bad] === null ? "blank" : String(header[bad])}; include the header row in the range`);
  }
  if (rows.length < 2) throw new InputError("newdata has only its header row: add the new rows below it");
  return rows;
}

export function predictLevelArg(v: unknown): PredictLevel {
  if (omitted(v)) return "population";
  const s = typeof v === "string" ? v.trim().toLowerCase() : "";
  if (s === "population" || s === "group" || s === "forecast") return s;
  throw new InputError(`level must be "population" (fixed effects only, the default), "group" (fixed + random effects; a new group gets the population value) or "forecast" (group level plus what the group's residuals predict through a residual correlation), not "${String(v)}"`);
}

export function predictIntervalArg(v: unknown): PredictInterval {
  if (omitted(v)) return "none";
  const s = typeof v === "string" ? v.trim().toLowerCase() : "";
  if (s === "none" || s === "confidence" || s === "prediction") return s;
  throw new InputError(`interval must be "none" (the default), "confidence" or "prediction", not "${String(v)}"`);
}

/**
 * The table's one number format for fit, se and the bounds: four significant digits of the
 * smallest SE (the precision the best-known prediction has), so the column's decimals line up;
 * without any SE, four significant digits of the largest prediction.
 */
export function predictFormat(r: PredictResult): string {
  let se = Infinity, fit = 0;
  for (const row of r.rows) {
    if (row.se !== null && Number.isFinite(row.se) && row.se > 0 && row.se < se) se = row.se;
    if (row.fit !== null && Number.isFinite(row.fit) && Math.abs(row.fit) > Math.abs(fit)) fit = row.fit;
  }
  return NF.bySE(Number.isFinite(se) ? se : null, fit);
}

/** A header row, then one row per new row (fit, se, [lower, upper], level, note), each number with its format. */
export function predictTable(r: PredictResult): Rich[][] {
  const iv = r.interval !== "none";
  const pct = `${r.conf * 100}%`;
  const f = predictFormat(r);
  const cell = (x: number | null): Rich => (x === null || !Number.isFinite(x) ? "" : new Num(x, f));
  const out: Rich[][] = [["fit", "se", ...(iv ? [`lower ${pct}`, `upper ${pct}`] : []), "level", "note"]];
  for (const row of r.rows) out.push([cell(row.fit), cell(row.se), ...(iv ? [cell(row.lower), cell(row.upper)] : []), row.level ?? "", row.note ?? ""]);
  return rect(out);
}
