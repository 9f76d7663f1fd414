// A fit with the tables an analyst reads next, all from the one fit (the pane's summary sheet):
// the fit result, the Type III tests of the fixed-effect terms (lmerTest's anova), and for each
// fixed-effect factor its estimated marginal means with Tukey-adjusted pairwise comparisons
// (emmeans's emmeans + pairs) and, when the factor interacts with a covariate (time), its means
// at a few values of that covariate (the lines per level over time) and its slope per level
// (emtrends) with their pairwise comparisons. The same ddf choice runs
// through the t tests, the F tests and the means. Runs in the worker; the pane only lays it out.
import type { AnovaResult, DataTable, FitOptions, FitResultWithRows, ModelSpec } from "../types";
import { CancelledError, DataError } from "../errors";
import type { LmmFit } from "../model/prepared";
import { fitModelKept } from "../fit";
import { anovaFit, parseAnovaType } from "./anova";
import { EmmeansResult, emmeansFit } from "./emmeans";
import { buildRefGrid, predictorNames } from "./refgrid";

export interface SummaryTests {
  /** The anova type of the tests of terms (default 3); null: none. */
  anova?: 1 | 2 | 3 | null;
  /** Marginal means of the fixed-effect factors (default true). */
  means?: boolean;
  /** The covariate to draw the means over when a factor interacts with it (the pane's time column). */
  covariate?: string | null;
}

/** The means of one factor, and over a covariate it interacts with. */
export interface FactorMeans {
  factor: string;
  /** emmeans(fit, ~ factor) with pairs(adjust = "tukey"). */
  means: EmmeansResult;
  /**
   * emmeans(fit, ~ factor | x, at = list(x = values)) with pairs within each value, and
   * emtrends(fit, ~ factor, var = "x") with pairs of the slopes; null when no covariate interacts.
   */
  over: { covariate: string; means: EmmeansResult; trends: EmmeansResult | null } | null;
}

export interface SummaryResult extends FitResultWithRows {
  anova: AnovaResult | null;
  means: FactorMeans[];
}

/** Factors with more levels than this get no means table (the pairs would fill pages); said in the messages. */
export const MAX_MEANS_LEVELS = 12;
/** At most this many factors get means. */
export const MAX_MEANS_FACTORS = 4;
/** A covariate with at most this many distinct values in the rows used is drawn at those values. */
export const MAX_DISTINCT_AT = 7;

export function fitSummary(table: DataTable, specText: string, opts: FitOptions = {}, tests: SummaryTests = {}): SummaryResult {
  const type = tests.anova === null ? null : parseAnovaType(tests.anova ?? 3);
  const { fit, result } = fitModelKept(table, specText, opts);
  const out = result as SummaryResult;
  out.anova = null;
  out.means = [];
  const ddf = opts.ddf ?? "satterthwaite";
  // A table that cannot be computed (Kenward-Roger undefined for this model, say) is said, and the fit still stands.
  const attempt = <T>(what: string, f: () => T): T | null => {
    try {
      return f();
    } catch (e) {
      if (e instanceof CancelledError || (e as Error)?.name === "CancelledError") throw e;
      out.messages.push(`${what} not computed: ${(e as Error)?.message ?? String(e)}`);
      return null;
    }
  };
  if (type !== null && fit.design.fixedTerms.length > 0) {
    out.anova = attempt(`Type ${type} tests`, () => anovaFit(fit, { type, ddf }));
    if (out.anova && out.anova.rows.length === 0) out.anova = null;
  }
  if (tests.means === false) return out;
  const plan = attempt("Marginal means", () => meansPlan(fit, table, tests.covariate ?? null));
  if (!plan) return out;
  out.messages.push(...plan.notes);
  const level = opts.level ?? 0.95;
  for (const p of plan.factors) {
    const means = attempt(`Marginal means of ${p.factor}`, () => emmeansFit(fit, table, { specs: [p.factor], ddf, level, adjust: "tukey" }));
    if (!means) continue;
    let over: FactorMeans["over"] = null;
    if (p.covariate) {
      const cov = p.covariate;
      const m = attempt(`Marginal means of ${p.factor} over ${cov}`, () => emmeansFit(fit, table, { specs: [p.factor], by: [cov], at: { [cov]: p.at }, ddf, level, adjust: "tukey" }));
      const tr = m ? attempt(`Slopes of ${cov} by ${p.factor}`, () => emmeansFit(fit, table, { specs: [p.factor], trend: cov, ddf, level, adjust: "tukey" })) : null;
      if (m) over = { covariate: cov, means: m, trends: tr };
    }
    out.means.push({ factor: p.factor, means, over });
  }
  return out;
}

interface MeansPlan {
  factors: { factor: string; covariate: string | null; at: number[] }[];
  notes: string[];
}

/** Which factors get means, and over which covariate values (no statistics: the design's structure and the covariate's values). */
export function meansPlan(fit: LmmFit, table: DataTable, preferred: string | null): MeansPlan {
  const grid = buildRefGrid(fit, table, {});
  const notes: string[] = [];
  const factors = grid.vars.filter((v) => v.kind === "factor");
  const numeric = new Set(grid.vars.filter((v) => v.kind === "numeric").map((v) => v.name));
  const terms = fit.spec.formula.fixed.map((t) => predictorNames(oneTerm(fit.spec, t)).names);
  const out: MeansPlan["factors"] = [];
  for (const f of factors) {
    if (out.length >= MAX_MEANS_FACTORS) {
      notes.push(`marginal means are shown for the first ${MAX_MEANS_FACTORS} factors only; =LMM.EMMEANS gives the others`);
      break;
    }
    if (f.labels.length < 2) continue;
    if (f.labels.length > MAX_MEANS_LEVELS) {
      notes.push(`no marginal means for '${f.name}': it has ${f.labels.length} levels (more than ${MAX_MEANS_LEVELS}); =LMM.EMMEANS gives them`);
      continue;
    }
    // Covariates in a term with the factor (time:treat), the pane's time first.
    const partners = new Set<string>();
    for (const names of terms) if (names.includes(f.name)) for (const nm of names) if (numeric.has(nm)) partners.add(nm);
    const cov = preferred && partners.has(preferred) ? preferred : (Array.from(partners)[0] ?? null);
    out.push({ factor: f.name, covariate: cov, at: cov ? covariateValues(fit, table, cov) : [] });
  }
  return { factors: out, notes };
}

function oneTerm(spec: ModelSpec, t: ModelSpec["formula"]["fixed"][number]): ModelSpec {
  return { ...spec, formula: { ...spec.formula, fixed: [t] } };
}

/**
 * Where to draw the means over a covariate: its distinct values in the rows used when there are
 * few (the measurement occasions), else five round numbers spread over its range.
 */
export function covariateValues(fit: LmmFit, table: DataTable, name: string): number[] {
  const col = table.columns.find((c) => c.name === name);
  if (!col || col.kind !== "numeric") throw new DataError(`'${name}' is not a numeric column`);
  const rows = fit.design.rows;
  const distinct = new Set<number>();
  let lo = Infinity, hi = -Infinity;
  for (let i = 0; i < rows.length; i++) {
    const v = col.values[rows[i]];
    if (!Number.isFinite(v)) continue;
    if (distinct.size <= MAX_DISTINCT_AT) distinct.add(v);
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (distinct.size <= MAX_DISTINCT_AT) return Array.from(distinct).sort((a, b) => a - b);
  return roundGrid(lo, hi);
}

/** About five round values inside [lo, hi], ends included when they are round themselves. */
export function roundGrid(lo: number, hi: number): number[] {
  const span = hi - lo;
  if (!(span > 0)) return [lo];
  const clean = (x: number) => Number(x.toPrecision(12));
  let best: number[] = [lo, hi];
  for (let e = Math.floor(Math.log10(span)) - 2; e <= Math.floor(Math.log10(span)); e++) {
    for (const k of [1, 2, 2.5, 5]) {
      const step = k * Math.pow(10, e);
      const first = Math.ceil(lo / step - 1e-9) * step;
      const vals: number[] = [];
      for (let x = first; x <= hi + 1e-9 * span; x += step) vals.push(clean(x));
      if (vals.length >= 4 && vals.length <= 6) return vals;
      if (vals.length >= 3 && vals.length <= 8) best = vals;
    }
  }
  return best;
}
