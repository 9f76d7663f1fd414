// LMM.STRUCTURES: its candidates argument and its table (formatting only; the engine ranks and
// tests, engine/inference/structures.ts). No engine import: the functions' bundle stays small.
import type { StructuresResult } from "../engine/inference/structures";
import { InputError } from "./inputs";
import { Num, Rich, rect } from "./format";
import * as NF from "./number-formats";

const num = (x: number | null | undefined, format: string): Rich => (x === null || x === undefined || !Number.isFinite(x) ? "" : new Num(x, format));

/** Candidates: omitted (the default ladder), a text "CS, AR1, UN", or a range of names. */
export function candidatesArg(v: unknown): string[] | null {
  if (v === null || v === undefined || (typeof v === "string" && v.trim() === "")) return null;
  const cells: unknown[] = Array.isArray(v) ? (v as unknown[]).flat(2) : [v];
  const out: string[] = [];
  for (const c of cells) {
    if (c === null || c === undefined || c === "") continue;
    if (typeof c !== "string") throw new InputError(`candidates are structure names such as "CS, AR1, ARH1, UN" (text), not ${String(c)}`);
    let depth = 0, cur = "";
    for (const ch of c) {
      if (ch === "(") depth++;
      if (ch === ")") depth = Math.max(0, depth - 1);
      if (ch === "," && depth === 0) {
        out.push(cur.trim());
        cur = "";
      } else cur += ch;
    }
    out.push(cur.trim());
  }
  const names = out.filter((s) => s !== "");
  return names.length ? names : null;
}

/** nlme's anova layout of the candidates, ranked by AIC; then the skipped ones and notes. */
export function structuresCells(res: StructuresResult): Rich[][] {
  const L = NF.LIKELIHOOD;
  const rows: Rich[][] = [["Structure", "df", "AIC", "BIC", "logLik", "Test", "L.Ratio", "p-value", "spec"]];
  for (const r of res.rows) rows.push([r.structure, num(r.df, NF.INTEGER), num(r.AIC, L), num(r.BIC, L), num(r.logLik, L), r.Test, num(r["L.Ratio"], L), num(r.p, NF.P_VALUE), r.spec]);
  for (const s of res.skipped) rows.push(["not fitted", `${s.structure}: ${s.reason}`]);
  for (const m of res.messages) rows.push(["note", m]);
  return rect(rows);
}
