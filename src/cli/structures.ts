// `lmm structures DATA.csv "SPEC" [--candidates "CS,AR1,..."] [--json]`: the ranked table of
// residual structures (engine/inference/structures.ts), laid out as nlme's anova of gls fits.
// Formatting only.
import type { StructuresResult } from "../engine/inference/structures";
import { formatColumn } from "./rformat";
import { pval, table } from "./format";

/** "CS, AR1, TOEP(bands = 2)" -> ["CS", "AR1", "TOEP(bands = 2)"] (commas inside parentheses kept). */
export function splitCandidates(text: string): string[] {
  const out: string[] = [];
  let depth = 0, cur = "";
  for (const ch of text) {
    if (ch === "(") depth++;
    if (ch === ")") depth = Math.max(0, depth - 1);
    if (ch === "," && depth === 0) {
      out.push(cur.trim());
      cur = "";
    } else cur += ch;
  }
  out.push(cur.trim());
  return out.filter((s) => s !== "");
}

export function formatStructures(res: StructuresResult): string {
  const r = res.rows;
  const col = (vals: (number | null)[], d: number) => formatColumn(vals, d);
  const aic = col(r.map((x) => x.AIC), 7), bic = col(r.map((x) => x.BIC), 7), ll = col(r.map((x) => x.logLik), 7);
  const lr = col(r.map((x) => x["L.Ratio"]), 5);
  const body = r.map((x, i) => [x.structure, String(x.df), aic[i], bic[i], ll[i], x.Test, x["L.Ratio"] === null ? "" : lr[i], x.p === null ? "" : pval(x.p)]);
  const out = [`Residual structures by REML, ranked by AIC`, table(["", "df", "AIC", "BIC", "logLik", "Test", "L.Ratio", "p-value"], body)];
  for (const s of res.skipped) out.push(`not fitted: ${s.structure}: ${s.reason}`);
  for (const m of res.messages) out.push(`note: ${m}`);
  return out.join("\n");
}
