// `lmm influence DATA.csv "SPEC" [--group g] [--method REML|ML] [--json]`: leverages and Cook's
// distances per observation (lme4's hatvalues, cooks.distance) and per-group deletion (lme4's
// influence(fit, groups =)). --json prints {hat, cooks, groups: {g: {levels, cooks, ...}}, ...};
// the readable output lists the most influential rows and groups. Formatting only.
import { influenceModel } from "../engine";
import type { InfluenceResult } from "../engine";
import type { DataTable, Method } from "../engine/types";
import { formatColumn } from "./rformat";
import { table } from "./format";

/** Rows and groups the readable output lists (largest Cook's distance first). */
const SHOW = 10;

export function runInfluence(data: DataTable, spec: string, group: string | undefined, method: Method | undefined): InfluenceResult {
  return influenceModel(data, spec, { method, groups: group === undefined ? undefined : [group] });
}

/** Indices of the k largest finite values, largest first. */
function largest(values: number[], k: number): number[] {
  return values.map((v, i) => [v, i] as const).filter(([v]) => Number.isFinite(v)).sort((a, b) => b[0] - a[0]).slice(0, k).map(([, i]) => i);
}

export function formatInfluence(res: InfluenceResult): string {
  const out: string[] = [`Influence of ${res.spec} (${res.method}, ${res.n} rows)`];
  if (res.hat.length > 0) {
    const tr = res.hat.reduce((s, h) => s + h, 0);
    const lo = Math.min(...res.hat), hi = Math.max(...res.hat);
    out.push("", `Leverage (hat values): min ${formatColumn([lo], 4)[0].trim()}, max ${formatColumn([hi], 4)[0].trim()}, sum ${formatColumn([tr], 5)[0].trim()} (the effective number of parameters)`);
    const top = largest(res.cooks, SHOW);
    const hat = formatColumn(top.map((i) => res.hat[i]), 4), ck = formatColumn(top.map((i) => res.cooks[i]), 4);
    const fit = formatColumn(top.map((i) => res.fitted[i]), 5), rs = formatColumn(top.map((i) => res.residual[i]), 4);
    out.push("", `Largest Cook's distances (of ${res.cooks.length} rows):`, table(["row", "fitted", "residual", "hat", "cooks"], top.map((i, k) => [String(res.rows[i]), fit[k], rs[k], hat[k], ck[k]])));
  }
  for (const [g, gi] of Object.entries(res.groups)) {
    const top = largest(gi.cooks, SHOW);
    const ck = formatColumn(top.map((i) => gi.cooks[i]), 4);
    const cols = gi.terms.map((_, f) => formatColumn(top.map((i) => gi.dfbeta[i][f]), 4));
    const rows = top.map((i, k) => [gi.levels[i], ck[k], ...cols.map((c) => c[k])]);
    out.push("", `Deleting each ${g} (${gi.levels.length} refits): largest Cook's distances, and the change in each fixed effect (dfbeta)`, table([g, "cooks", ...gi.terms], rows));
  }
  for (const m of res.notes) out.push(`note: ${m}`);
  return out.join("\n");
}
