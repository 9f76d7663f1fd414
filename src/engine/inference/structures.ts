// "Which structure?" (`lmm structures`, =LMM.STRUCTURES): the lecture's covariance ladder,
// generalised. The candidate residual structures are fitted with the same fixed and random
// effects by REML (likelihoods of the same X are comparable), ranked by AIC (and BIC shown),
// and each is tested by a likelihood-ratio test against the largest fitted candidate nested in
// it (independence < CS < CSH, AR1 < ARH1 < UN, AR1 and CS < TOEP < UN, ...), as nlme's anova
// of two gls fits. A candidate that cannot be fitted to these data (too few occasions, too
// costly, not identifiable) is listed with the reason, not fitted.
import type { DataTable, ModelSpec } from "../types";
import { DataError, SpecError } from "../errors";
import { fitPrepared, nParams, prepareFit } from "../model/prepared";
import { parseSpec } from "../formula/parse";
import { pChisqUpper } from "./dist";

export interface StructureRow {
  structure: string;
  spec: string;
  df: number;
  AIC: number;
  BIC: number;
  logLik: number;
  /** "AR1 vs ARH1": the nested candidate it is tested against, or "" */
  Test: string;
  "L.Ratio": number | null;
  p: number | null;
  converged: boolean;
}

export interface StructuresResult {
  method: "REML";
  /** Ranked by AIC. */
  rows: StructureRow[];
  /** The same rows' structures ranked by BIC. */
  byBIC: string[];
  skipped: { structure: string; reason: string }[];
  messages: string[];
}

export interface StructuresOptions {
  candidates?: string[] | null;
  signal?: { cancelled: boolean };
  onProgress?: (evaluations: number, phase: string) => void;
}

const BASE = ["independence", "CS", "AR1", "ARH1", "CSH", "TOEP", "UN"];
const CONTINUOUS = ["CAR1", "EXP", "GAUS", "SPHER", "LIN", "RATIO"];

/** Direct special cases of each candidate (a structure nests these). */
const NESTS: Record<string, string[]> = {
  CS: ["independence"],
  AR1: ["independence"],
  CAR1: ["independence"],
  ARH1: ["AR1"],
  CSH: ["CS"],
  TOEP: ["AR1", "CS"],
  UN: ["ARH1", "CSH", "TOEP"],
  EXP: ["independence"],
  GAUS: ["independence"],
  SPHER: ["independence"],
  LIN: ["independence"],
  RATIO: ["independence"],
  ARMA: ["AR1"],
};

function nestedIn(name: string): Set<string> {
  const out = new Set<string>();
  const base = name.replace(/\(.*$/, "");
  const stack = [...(NESTS[base] ?? [])];
  if (/nugget/.test(name)) stack.push(base);
  while (stack.length) {
    const s = stack.pop()!;
    if (out.has(s)) continue;
    out.add(s);
    stack.push(...(NESTS[s] ?? []));
  }
  return out;
}

/** The spec text of a formula with the candidate structure in place of the user's. */
function candidateSpec(formulaText: string, cand: string, time: string, group: string, rest: string[]): string {
  const parts = [formulaText];
  if (cand !== "independence") {
    const m = /^([A-Z0-9]+)(?:\((.*)\))?$/.exec(cand)!;
    const type = m[1], opts = m[2] ? `, ${m[2]}` : "";
    parts.push(`${type}(${type === "CS" ? "1" : time} | ${group}${opts})`);
  }
  return [...parts, ...rest].join(" ; ");
}

/** Canonical candidate names: "AR1", "TOEP(bands = 2)", "EXP(nugget)", "ARMA(p = 1, q = 1)". */
function canonical(c: string): string {
  const t = c.trim();
  if (/^(none|indep|independence|id)$/i.test(t)) return "independence";
  const m = /^([A-Za-z0-9]+)\s*(?:\((.*)\))?$/.exec(t);
  if (!m) throw new SpecError(`unknown candidate structure '${t}': use names such as CS, AR1, ARH1, CSH, TOEP, UN, CAR1, EXP, GAUS, SPHER, LIN, RATIO, EXP(nugget), TOEP(bands = 2), ARMA(p = 1, q = 1)`, 1);
  return m[2] ? `${m[1].toUpperCase()}(${m[2].trim()})` : m[1].toUpperCase();
}

/**
 * Said when the model also has a random intercept for the residual group: CS, TOEP and UN
 * already contain a constant covariance within the group, so the group's variance and theirs are
 * not identified separately (their logLik is that of the structure alone).
 */
export function confoundedNote(spec: ModelSpec): string | null {
  const g = spec.residual?.group;
  if (!g || !spec.formula.random.some((r) => r.intercept && r.group.join(":") === g)) return null;
  return `with a random intercept (1|${g}) in the model, CS, TOEP and UN already contain a constant covariance within ${g}: the ${g} variance and theirs are not identified separately (their logLik equals that of the structure without (1|${g}))`;
}

export function compareStructures(table: DataTable, specText: string, opts: StructuresOptions = {}): StructuresResult {
  if (typeof specText !== "string") throw new SpecError("the model spec must be text", 1);
  const parts = specText.split(";").map((s) => s.trim());
  const spec: ModelSpec = parseSpec(specText);
  if (!spec.residual || !spec.residual.time || !spec.residual.group) {
    throw new DataError("say the time and group columns with a structure in the spec, as in size ~ time*treat ; AR1(time | tree) (its type is replaced by each candidate)");
  }
  const { time, group } = spec.residual;
  const formulaText = parts[0];
  // Keep the variance part (varIdent, varPower ...), drop the user's correlation structure.
  const rest = parts.slice(1).filter((p) => /^\s*var/i.test(p));
  const timeCol = table.columns.find((c) => c.name === time);
  if (!timeCol) throw new DataError(`unknown time column '${time}'; the data has: ${table.columns.map((c) => c.name).join(", ")}`);
  let names: string[];
  if (opts.candidates && opts.candidates.length > 0) names = opts.candidates.map(canonical);
  else {
    names = [...BASE];
    // Continuous time (unequal gaps between the distinct times): CAR1 and the spatial family.
    if (timeCol.kind === "numeric") {
      const d = Array.from(new Set(timeCol.values.filter(Number.isFinite))).sort((a, b) => a - b);
      const gaps = d.slice(1).map((v, i) => v - d[i]);
      if (gaps.length > 1 && gaps.some((g) => Math.abs(g - gaps[0]) > 1e-9 * Math.abs(gaps[0]))) names.push(...CONTINUOUS);
    }
  }
  names = Array.from(new Set(names));
  if (names.length < 2) throw new DataError("give at least two candidate structures to compare");
  const rows: StructureRow[] = [];
  const skipped: { structure: string; reason: string }[] = [];
  const messages: string[] = [];
  let p0: number | null = null, n0: number | null = null;
  names.forEach((name, i) => {
    const s = candidateSpec(formulaText, name, time, group, rest);
    let prep;
    try {
      prep = prepareFit(table, s);
    } catch (e) {
      if (e instanceof DataError || e instanceof SpecError) {
        skipped.push({ structure: name, reason: e.message });
        return;
      }
      throw e;
    }
    if (n0 === null) {
      n0 = prep.design.n;
      p0 = prep.design.p;
    } else if (prep.design.n !== n0) throw new DataError(`the candidate ${name} uses ${prep.design.n} rows but the first uses ${n0}`);
    const fit = fitPrepared(prep, "REML", opts.signal, opts.onProgress && ((k, phase) => opts.onProgress!(k, `${phase} ${name} (${i + 1} of ${names.length})`)));
    const df = nParams(fit), logLik = -fit.objective / 2;
    rows.push({ structure: name, spec: s, df, AIC: -2 * logLik + 2 * df, BIC: -2 * logLik + df * Math.log(n0 - p0!), logLik, Test: "", "L.Ratio": null, p: null, converged: fit.opt.converged });
    if (!fit.opt.converged) messages.push(`${name}: the fit did not converge (${fit.opt.messages.join("; ")})`);
  });
  if (rows.length === 0) throw new DataError(`no candidate structure could be fitted: ${skipped.map((s) => `${s.structure}: ${s.reason}`).join("; ")}`);
  // Each row against the largest fitted candidate nested in it.
  for (const r of rows) {
    const inner = nestedIn(r.structure);
    const sub = rows.filter((x) => inner.has(x.structure) && x.df < r.df).sort((a, b) => b.df - a.df || b.logLik - a.logLik)[0];
    if (!sub) continue;
    const L = Math.max(0, 2 * (r.logLik - sub.logLik));
    r.Test = `${sub.structure} vs ${r.structure}`;
    r["L.Ratio"] = L;
    r.p = pChisqUpper(L, r.df - sub.df);
  }
  rows.sort((a, b) => a.AIC - b.AIC);
  const byBIC = rows.slice().sort((a, b) => a.BIC - b.BIC).map((r) => r.structure);
  const confounded = confoundedNote(spec);
  if (confounded) messages.push(confounded);
  messages.push(`ranked by AIC; by BIC: ${byBIC.join(", ")}. Every candidate has the same fixed effects, fitted by REML; each test is against the largest fitted structure nested in it`);
  return { method: "REML", rows, byBIC, skipped, messages };
}
