// `lmm anova DATA.csv "SPEC" [--type 1|2|3] [--ddf satterthwaite|kr|residual|containment]
//  [--method REML|ML] [--L "0,1,0;0,0,1"] [--json]`: lmerTest's anova table of the fixed-effect
// terms, or with --L the F test of L beta = 0 (lmerTest's contest). Formatting only.
import { anovaModel, contestModel, ddfName, parseDdf } from "../engine";
import type { AnovaResult, AnovaRow, DataTable, Method } from "../engine/types";
import { DataError } from "../engine/errors";
import { formatColumn } from "./rformat";
import { pval, table } from "./format";

/** "0,1,0;0,0,1" -> [[0,1,0],[0,0,1]] (rows by ';', numbers by ',' or spaces). */
export function parseLMatrix(text: string): number[][] {
  const rows = text.split(";").map((r) => r.trim()).filter((r) => r !== "");
  if (rows.length === 0) throw new DataError("--L needs at least one row, e.g. --L \"0,1,0;0,0,1\"");
  return rows.map((r, i) => r.split(/[\s,]+/).filter((x) => x !== "").map((x) => {
    const v = Number(x);
    if (!Number.isFinite(v)) throw new DataError(`--L row ${i + 1}: '${x}' is not a number`);
    return v;
  }));
}

export interface AnovaCommand {
  json: unknown;
  text: string;
}

export function runAnova(data: DataTable, spec: string, flags: Map<string, string | true>, method: Method | undefined): AnovaCommand {
  const flag = (k: string): string | undefined => {
    const v = flags.get(k);
    if (v === true) throw new DataError(`${k} needs a value`);
    return v;
  };
  const type = flag("--type");
  const ddf = flag("--ddf");
  const L = flag("--L");
  if (L !== undefined) {
    const row = contestModel(data, spec, parseLMatrix(L), { method, ddf: ddf as never });
    const name = ddfName(parseDdf(ddf));
    const res = { ddf: name, rows: [row] };
    return { json: res, text: formatRows([row], `F test of L beta = 0 (${name} df)`) };
  }
  const res = anovaModel(data, spec, { type: type as never, ddf: ddf as never, method });
  return { json: res, text: formatAnova(res) };
}

const ROMAN = { 1: "I", 2: "II", 3: "III" } as const;

export function formatAnova(res: AnovaResult): string {
  const method = res.ddf === "Satterthwaite" ? "Satterthwaite's method" : res.ddf === "residual" ? "residual df (n - p)" : res.ddf === "containment" ? "containment df (nlme)" : res.ddf;
  const out = [formatRows(res.rows, `Type ${ROMAN[res.type]} Analysis of Variance Table with ${method}`)];
  for (const m of res.messages) out.push(`note: ${m}`);
  return out.join("\n");
}

function formatRows(rows: AnovaRow[], heading: string): string {
  const col = (k: keyof AnovaRow, digits: number) => formatColumn(rows.map((r) => r[k] as number | null), digits);
  const ss = col("Sum Sq", 5), ms = col("Mean Sq", 5), nd = col("NumDF", 5), dd = col("DenDF", 5), F = col("F value", 5);
  const body = rows.map((r, i) => [r.term, ss[i], ms[i], nd[i], dd[i], F[i], pval(r["Pr(>F)"])]);
  return `${heading}\n${table(["", "Sum Sq", "Mean Sq", "NumDF", "DenDF", "F value", "Pr(>F)"], body)}`;
}
