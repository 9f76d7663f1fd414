// LMM.EMMEANS's and LMM.CONTRAST's arguments and tables (formatting only: the engine computes
// every number). No engine import at run time: the functions' bundle stays small.
import type { EmmeansResult, LContrastResult } from "../engine";
import { InputError } from "./inputs";
import { Num, Rich } from "./format";
import * as NF from "./number-formats";

const omitted = (v: unknown): boolean => v === null || v === undefined || (typeof v === "string" && v.trim() === "");
const cellsOf = (v: unknown): unknown[] => (Array.isArray(v) ? (v as unknown[]).flat(2) : [v]);

/** Factor names: one text ("treat", "N, Variety") or a range of names. */
export function namesArg(v: unknown, what: string, required: boolean): string[] {
  if (omitted(v)) {
    if (required) throw new InputError(`${what} must name the factor(s) whose means you want, e.g. "treat" or "N, Variety"`);
    return [];
  }
  const out: string[] = [];
  for (const c of cellsOf(v)) {
    if (omitted(c)) continue;
    if (typeof c !== "string") throw new InputError(`${what} must be factor names in quotes, such as "treat", not ${String(c)}`);
    out.push(...c.split(/[,+*]/).map((s) => s.trim()).filter((s) => s !== ""));
  }
  if (required && out.length === 0) throw new InputError(`${what} must name at least one factor, e.g. "treat"`);
  return out;
}

/** "time=200, treat=ozone" or "time=150|200|250". */
export function atArg(v: unknown): Record<string, (number | string)[]> {
  const out: Record<string, (number | string)[]> = {};
  if (omitted(v)) return out;
  if (typeof v !== "string") throw new InputError('at must be text such as "time=200" or "time=150|200, treat=ozone"');
  for (const part of v.split(",").map((s) => s.trim()).filter((s) => s !== "")) {
    const eq = part.indexOf("=");
    if (eq <= 0) throw new InputError(`at needs name=value pairs separated by commas (e.g. "time=200"), not "${part}"`);
    const name = part.slice(0, eq).trim();
    const vals = part.slice(eq + 1).split("|").map((s) => s.trim()).filter((s) => s !== "");
    if (vals.length === 0) throw new InputError(`at: ${name}= needs a value`);
    out[name] = vals.map((s) => (Number.isFinite(Number(s)) ? Number(s) : s));
  }
  return out;
}

/** The matrix L: a range of numbers, one row per contrast. */
export function lMatrixArg(v: unknown): number[][] {
  if (!Array.isArray(v) || v.length === 0) throw new InputError("L must be a range of numbers: one row per contrast, one column per fixed-effect coefficient");
  return (v as unknown[][]).map((r, i) => (Array.isArray(r) ? r : [r]).map((c, j) => {
    if (typeof c === "number" && Number.isFinite(c)) return c;
    if (omitted(c)) return 0;
    throw new InputError(`L[${i + 1}, ${j + 1}] is not a number ("${String(c)}")`);
  }));
}

const ADJUST = ["tukey", "holm", "bonferroni", "sidak", "none"];

/** A p-value adjustment; undefined (Tukey) when left out. */
export function adjustArg(v: unknown): string | undefined {
  if (omitted(v)) return undefined;
  const s = typeof v === "string" ? v.trim().toLowerCase() : "";
  if (!ADJUST.includes(s)) throw new InputError(`adjust must be "tukey" (the default), "holm", "bonferroni", "sidak" or "none", not "${String(v)}"`);
  return s;
}

export function boolArg(v: unknown): boolean {
  if (omitted(v)) return false;
  if (typeof v === "boolean") return v;
  if (typeof v === "number") return v !== 0;
  const s = String(v).trim().toLowerCase();
  if (s === "true" || s === "yes" || s === "joint") return true;
  if (s === "false" || s === "no") return false;
  throw new InputError(`joint must be TRUE or FALSE, not "${String(v)}"`);
}

const n = (x: number | null | undefined, f: string): Rich => (x === null || x === undefined || !Number.isFinite(x) ? "" : new Num(x, f));

/** Means table (emmeans's columns), a blank row, the pairwise contrasts, then the notes. */
export function emmeansCells(res: EmmeansResult): Rich[][] {
  const keys = [...res.specs, ...res.by];
  const head = keys.length ? keys : ["1"];
  const w = Math.max(head.length + 5, 7);
  const pad = (r: Rich[]): Rich[] => [...r, ...new Array<Rich>(Math.max(0, w - r.length)).fill("")];
  const rows: Rich[][] = [pad([...head, res.value, "SE", "df", "lower.CL", "upper.CL"])];
  for (const r of res.emmeans) {
    const f = NF.bySE(r.SE, r.estimate);
    rows.push(pad([...(keys.length ? keys.map((k) => r.levels[k]) : ["overall"]), r.estimable ? n(r.estimate, f) : "nonEst", n(r.SE, f), n(r.df, NF.DF), n(r["lower.CL"], f), n(r["upper.CL"], f)]));
  }
  if (res.contrasts.length) {
    rows.push(pad([]));
    const byHead = res.by.length ? res.by : [];
    rows.push(pad(["contrast", ...byHead, "estimate", "SE", "df", "t.ratio", "p.value"]));
    for (const c of res.contrasts) {
      const f = NF.bySE(c.SE, c.estimate);
      rows.push(pad([c.contrast, ...byHead.map((b) => c.by[b]), c.estimate === null ? "nonEst" : n(c.estimate, f), n(c.SE, f), n(c.df, NF.DF), n(c["t.ratio"], NF.T_VALUE), n(c["p.value"], NF.P_VALUE)]));
    }
  }
  for (const m of res.notes) rows.push(pad(["note", m]));
  return rows;
}

/** One row per row of L (estimate, SE, df, t, p), then the joint F test when asked for, then notes. */
export function contrastCells(res: LContrastResult): Rich[][] {
  const rows: Rich[][] = [["", "Estimate", "Std. Error", "df", "t value", "Pr(>|t|)"]];
  res.rows.forEach((r, i) => {
    const f = NF.bySE(r.SE, r.estimate);
    rows.push([`row ${i + 1}`, n(r.estimate, f), n(r.SE, f), n(r.df, NF.DF), n(r["t value"], NF.T_VALUE), n(r["Pr(>|t|)"], NF.P_VALUE)]);
  });
  if (res.joint) {
    const j = res.joint;
    rows.push(["", "NumDF", "DenDF", "F value", "Pr(>F)", ""]);
    rows.push(["joint F test", n(j.NumDF, NF.INTEGER), n(j.DenDF, NF.DF), n(j["F value"], NF.T_VALUE), n(j["Pr(>F)"], NF.P_VALUE), ""]);
  }
  rows.push(["df method", `${res.ddf}`, "", "", "", ""]);
  for (const m of res.messages) rows.push(["note", m, "", "", "", ""]);
  return rows;
}
