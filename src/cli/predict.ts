// `lmm predict DATA.csv "SPEC" NEWDATA.csv [--level population|group|forecast]
//  [--interval none|confidence|prediction] [--conf 0.95] [--method REML|ML] [--json]`.
// For predict, --level is the prediction level (ARCHITECTURE.md §5); the confidence level of the
// intervals is --conf. The readable output is one line per new row, then the notes.
import type { DataTable, Method, PredictInterval, PredictLevel, PredictResult } from "../engine/types";
import { predictModel } from "../engine";

export class PredictUsageError extends Error {}

const LEVELS = ["population", "group", "forecast"];
const INTERVALS = ["none", "confidence", "prediction"];

export function predictOptions(flags: Map<string, string | true>, method: Method | undefined): { level: PredictLevel; interval: PredictInterval; conf: number; method?: Method } {
  const lv = String(flags.get("--level") ?? "population").trim().toLowerCase();
  if (!LEVELS.includes(lv)) {
    const num = Number(lv) > 0 && Number(lv) < 1 ? ` (for predict, --level is population, group or forecast; the confidence level is --conf ${lv})` : "";
    throw new PredictUsageError(`--level must be population, group or forecast, not '${flags.get("--level")}'${num}`);
  }
  const iv = String(flags.get("--interval") ?? "none").trim().toLowerCase();
  if (!INTERVALS.includes(iv)) throw new PredictUsageError(`--interval must be none, confidence or prediction, not '${flags.get("--interval")}'`);
  const cs = flags.get("--conf");
  let conf = 0.95;
  if (cs !== undefined) {
    const s = String(cs).trim();
    const pct = /^(\d+(?:\.\d+)?)\s*%$/.exec(s);
    conf = pct ? Number(pct[1]) / 100 : Number(s);
    if (!(conf > 0 && conf < 1)) throw new PredictUsageError(`--conf must be a number between 0 and 1 (exclusive), such as 0.95, not '${cs}'`);
  }
  return { level: lv as PredictLevel, interval: iv as PredictInterval, conf, ...(method ? { method } : {}) };
}

const num = (v: number | null) => (v === null ? "" : v.toPrecision(7));

export function formatPredict(r: PredictResult, newName: string): string {
  const head = ["row", "fit", "se", ...(r.interval === "none" ? [] : ["lower", "upper"]), "level"];
  const body = r.rows.map((row, i) => [String(i + 2), num(row.fit), num(row.se), ...(r.interval === "none" ? [] : [num(row.lower), num(row.upper)]), row.level ?? ""]);
  const width = head.map((h, j) => Math.max(h.length, ...body.map((b) => b[j].length)));
  const line = (cells: string[]) => cells.map((c, j) => (j === cells.length - 1 ? c : c.padStart(width[j]))).join("  ");
  const out = [`Predictions (${r.level} level${r.interval === "none" ? "" : `, ${r.interval} intervals at ${r.conf * 100} %`}) for ${newName}`, `Model: ${r.spec} (${r.method})`, "", line(head), ...body.map(line)];
  if (r.notes.length) out.push("", ...r.notes.map((n) => `Note: ${n}`));
  return out.join("\n");
}

export function runPredict(table: DataTable, spec: string, newdata: DataTable, flags: Map<string, string | true>, method: Method | undefined): PredictResult {
  return predictModel(table, spec, newdata, predictOptions(flags, method));
}
