// One fuzz case from its number: a table, a spec (or two, for an LRT), options, and the check of
// what the engine did with them. Shared by test/fuzz.test.ts and the exploration script.
import { CancelledError, DataError, SpecError, compareModels, exactRlrt, fitModel, tableFromRows } from "../../src/engine";
import type { FitOptions } from "../../src/engine";
import { Gen, genSpec, genTable } from "./gen";

export interface FuzzCase {
  id: number;
  kind: "fit" | "lrt" | "rlrt";
  rows: unknown[][];
  specs: string[];
  opts: FitOptions & { nsim?: number };
}

export function makeCase(id: number): FuzzCase {
  const g = new Gen(0x5eed0000 + id);
  const { rows } = genTable(g);
  const r = g.u();
  const kind = r < 0.88 ? "fit" : r < 0.96 ? "lrt" : "rlrt";
  const specs = kind === "lrt" ? [genSpec(g), genSpec(g)] : [genSpec(g)];
  const opts: FuzzCase["opts"] = {
    method: g.chance(0.3) ? "ML" : "REML",
    ci: g.pick(["none", "none", "none", "none", "none", "wald", "wald", "auto", "profile"] as const),
    level: g.chance(0.9) ? 0.95 : g.pick([0.5, 0.99, 0.999999]),
    fitted: g.chance(0.2),
  };
  if (kind === "rlrt") opts.nsim = g.pick([1, 10, 100, 1000]);
  return { id, kind, rows, specs, opts };
}

export type Outcome =
  | { ok: true; how: "fit" | "error"; error?: string }
  | { ok: false; why: string };

/** The engine's own error classes: what bad input must raise. */
export function isEngineError(e: unknown): e is Error {
  return (e instanceof DataError || e instanceof SpecError || e instanceof CancelledError) && typeof e.message === "string" && e.message.length > 0;
}

/** Paths of numbers in `v` that are NaN or infinite. */
export function nonFinite(v: unknown, path = "", out: string[] = []): string[] {
  if (typeof v === "number") {
    if (!Number.isFinite(v)) out.push(`${path}=${v}`);
  } else if (v instanceof Float64Array || v instanceof Int32Array) {
    v.forEach((x, i) => nonFinite(x, `${path}[${i}]`, out));
  } else if (Array.isArray(v)) {
    v.forEach((x, i) => nonFinite(x, `${path}[${i}]`, out));
  } else if (v && typeof v === "object") {
    for (const [k, x] of Object.entries(v)) nonFinite(x, path ? `${path}.${k}` : k, out);
  }
  return out;
}

export function runCase(c: FuzzCase): Outcome {
  let result: unknown;
  try {
    const table = tableFromRows(c.rows);
    if (c.kind === "fit") result = fitModel(table, c.specs[0], c.opts);
    else if (c.kind === "lrt") result = compareModels(table, c.specs, { method: c.opts.method });
    else result = exactRlrt(table, c.specs[0], { nsim: c.opts.nsim, seed: 1 });
  } catch (e) {
    if (isEngineError(e)) return { ok: true, how: "error", error: e.message };
    const err = e as Error;
    return { ok: false, why: `uncaught ${err?.name ?? typeof e}: ${err?.message ?? String(e)}\n${err?.stack?.split("\n").slice(1, 5).join("\n") ?? ""}` };
  }
  const bad = nonFinite(result);
  if (bad.length) {
    const messages = (result as { messages?: string[] }).messages ?? [];
    return { ok: false, why: `non-finite numbers: ${bad.slice(0, 6).join(", ")}${bad.length > 6 ? ` (+${bad.length - 6})` : ""}; messages: ${JSON.stringify(messages)}` };
  }
  return { ok: true, how: "fit" };
}
