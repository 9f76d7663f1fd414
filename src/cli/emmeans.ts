// `lmm emmeans DATA.csv "SPEC" --specs "f[,g]" [--by "h"] [--at "x=1,z=2"] [--trend x]
//  [--adjust tukey|holm|bonferroni|sidak|none] [--ddf ...] [--method REML|ML] [--level 0.95] [--json]`:
// emmeans's marginal means (or emtrends's slopes) and pairwise contrasts, printed as emmeans
// prints them. `--at "time=150|200"` gives a covariate several values. Formatting only.
import { emmeansModel } from "../engine";
import type { DataTable, EmmeansResult, Method } from "../engine";
import { DataError } from "../engine/errors";
import { formatColumn } from "./rformat";
import { table } from "./format";

/** "f, g" -> ["f", "g"]. */
export function parseNames(text: string | undefined): string[] {
  if (text === undefined) return [];
  return text.split(/[,+*]/).map((s) => s.trim()).filter((s) => s !== "");
}

/** "time=200, treat=ozone" or "time=150|200|250" -> { time: [...], treat: [...] }. */
export function parseAt(text: string | undefined): Record<string, (number | string)[]> {
  const out: Record<string, (number | string)[]> = {};
  if (text === undefined) return out;
  for (const part of text.split(",").map((s) => s.trim()).filter((s) => s !== "")) {
    const eq = part.indexOf("=");
    if (eq <= 0) throw new DataError(`--at needs name=value pairs separated by commas (e.g. --at "time=200"), not '${part}'`);
    const name = part.slice(0, eq).trim();
    const vals = part.slice(eq + 1).split("|").map((v) => v.trim()).filter((v) => v !== "");
    if (vals.length === 0) throw new DataError(`--at ${name}= needs a value`);
    if (out[name]) throw new DataError(`--at names '${name}' twice`);
    out[name] = vals.map((v) => (v !== "" && Number.isFinite(Number(v)) ? Number(v) : v));
  }
  return out;
}

export interface EmmeansCommand {
  json: unknown;
  text: string;
}

export function runEmmeans(data: DataTable, spec: string, flags: Map<string, string | true>, method: Method | undefined, level: number | undefined): EmmeansCommand {
  const flag = (k: string): string | undefined => {
    const v = flags.get(k);
    if (v === true) throw new DataError(`${k} needs a value`);
    return v;
  };
  const specsText = flag("--specs");
  if (specsText === undefined) throw new DataError('lmm emmeans needs --specs, the factor(s) whose means you want, e.g. --specs "treat"');
  const res = emmeansModel(data, spec, {
    specs: parseNames(specsText),
    by: parseNames(flag("--by")),
    at: parseAt(flag("--at")),
    trend: flag("--trend") ?? null,
    adjust: flag("--adjust") ?? null,
    ddf: flag("--ddf") ?? null,
    method,
    level,
  });
  return { json: jsonOf(res), text: formatEmmeans(res) };
}

/** The §5 shape: rows without our internal keys. */
function jsonOf(res: EmmeansResult): unknown {
  const emmeans = res.emmeans.map((r) => ({ levels: r.levels, [res.value]: r.estimate, SE: r.SE, df: r.df, "lower.CL": r["lower.CL"], "upper.CL": r["upper.CL"] }));
  return { specs: res.specs, by: res.by, adjust: res.adjust, ddf: res.ddf, method: res.method, level: res.level, trend: res.trend, at: res.at, averaged: res.averaged, emmeans, contrasts: res.contrasts, notes: res.notes };
}

const fmt = (xs: (number | null)[]) => formatColumn(xs, 4).map((s) => (s === "NA" ? "NA" : s));

/** One block per `by` group, as emmeans prints: "time = 152:" then the table. */
function groups<T>(rows: T[], by: string[], key: (r: T) => Record<string, string>): { title: string; rows: T[] }[] {
  const out: { title: string; rows: T[] }[] = [];
  for (const r of rows) {
    const k = key(r);
    const title = by.map((b) => `${b} = ${k[b]}`).join(", ");
    const last = out[out.length - 1];
    if (last && last.title === title) last.rows.push(r);
    else out.push({ title, rows: [r] });
  }
  return out;
}

export function formatEmmeans(res: EmmeansResult): string {
  const out: string[] = [];
  const specs = res.specs;
  for (const g of groups(res.emmeans, res.by, (r) => r.levels)) {
    if (g.title) out.push(`${g.title}:`);
    const est = fmt(g.rows.map((r) => r.estimate)), se = fmt(g.rows.map((r) => r.SE)), df = fmt(g.rows.map((r) => r.df));
    const lo = fmt(g.rows.map((r) => r["lower.CL"])), hi = fmt(g.rows.map((r) => r["upper.CL"]));
    const body = g.rows.map((r, i) => [...(specs.length ? specs.map((s) => r.levels[s]) : ["overall"]), r.estimable ? est[i] : "nonEst", se[i], df[i], lo[i], hi[i]]);
    out.push(table([...(specs.length ? specs : ["1"]), res.value, "SE", "df", "lower.CL", "upper.CL"], body, " "));
    out.push("");
  }
  const contrastNotes = res.notes.filter((n) => n.startsWith("P value") || n.startsWith("P values"));
  for (const n of res.notes.filter((x) => !contrastNotes.includes(x))) out.push(n);
  if (res.contrasts.length) {
    out.push("");
    for (const g of groups(res.contrasts, res.by, (r) => r.by)) {
      if (g.title) out.push(`${g.title}:`);
      const e = fmt(g.rows.map((r) => r.estimate)), se = fmt(g.rows.map((r) => r.SE)), df = fmt(g.rows.map((r) => r.df));
      const t = g.rows.map((r) => (r["t.ratio"] === null ? "NA" : r["t.ratio"].toFixed(3)));
      const p = g.rows.map((r) => (r["p.value"] === null ? "NA" : r["p.value"] < 0.0001 ? "<.0001" : r["p.value"].toFixed(4)));
      out.push(table(["contrast", "estimate", "SE", "df", "t.ratio", "p.value"], g.rows.map((r, i) => [r.contrast, r.estimate === null ? "nonEst" : e[i], se[i], df[i], t[i], p[i]]), " "));
      out.push("");
    }
    out.push(`Degrees-of-freedom method: ${res.ddf}`);
    out.push(...contrastNotes);
  }
  return out.join("\n").replace(/\n+$/, "");
}
