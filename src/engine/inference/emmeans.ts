// Estimated marginal means and trends, as R's emmeans: the reference grid (refgrid.ts), the
// means of the `specs` (and `by`) cells averaged with equal weights over the other predictors,
// each with SE, df and a confidence interval; pairwise contrasts within each `by` group with a
// multiplicity adjustment (adjust.ts; Tukey by default, as emmeans's pairs()); emtrends: the
// derivative of the linear predictor with respect to a covariate, per cell, and contrasts of
// those slopes. The df follow the fit's choice: Satterthwaite (lmerTest), Kenward-Roger
// (pbkrtest: adjusted SE and df), residual (n - p) or containment (the smallest containment df
// of the coefficients a combination uses). Non-estimable means and contrasts are null with a note.
import type { DataTable, DdfName, DdfOption, Method } from "../types";
import { DataError } from "../errors";
import type { LmmFit } from "../model/prepared";
import { fitPrepared, prepareFit } from "../model/prepared";
import { nearest } from "../options";
import { ddfName, parseDdf } from "./anova";
import { TestContext, satterthwaiteDf, testContext } from "./ddf";
import { containmentDf } from "./containment";
import { krContext, krT } from "./kr";
import type { KrContext } from "./kr";
import { pT2, qT } from "./dist";
import { Adjust, adjustFamily, adjustNote, parseAdjust } from "./adjust";
import { AtSpec, GridVar, Point, RefGrid, buildRefGrid, fullRow, toKept } from "./refgrid";

export interface EmmeansOptions {
  /** The factors (or covariates with several `at` values) whose means are wanted; [] = the overall mean. */
  specs: string[];
  by?: string[];
  at?: AtSpec;
  /** A covariate: its slope per cell instead of the means (emtrends). */
  trend?: string | null;
  adjust?: Adjust | string | null;
  ddf?: DdfOption | string | null;
  method?: Method;
  /** Confidence level of the intervals (0.95). */
  level?: number;
  /** Leave out the pairwise contrasts. */
  noContrasts?: boolean;
  signal?: { cancelled: boolean };
}

/** One mean (or trend): `emmean` or `<trend>.trend` holds the value, as emmeans names the column. */
export interface EmmeanRow {
  levels: Record<string, string>;
  estimate: number | null;
  SE: number | null;
  df: number | null;
  "lower.CL": number | null;
  "upper.CL": number | null;
  estimable: boolean;
  [value: string]: number | null | boolean | Record<string, string>;
}

export interface ContrastRow {
  contrast: string;
  by: Record<string, string>;
  estimate: number | null;
  SE: number | null;
  df: number | null;
  "t.ratio": number | null;
  "p.value": number | null;
}

export interface EmmeansResult {
  specs: string[];
  by: string[];
  at: Record<string, string[]>;
  trend: string | null;
  /** The name of the value column: "emmean" or "<trend>.trend". */
  value: string;
  adjust: Adjust;
  ddf: DdfName;
  method: Method;
  level: number;
  /** Predictors the means are averaged over. */
  averaged: string[];
  emmeans: EmmeanRow[];
  contrasts: ContrastRow[];
  notes: string[];
}

/** SE and df of a linear function of the kept coefficients under the ddf choice. */
type Inference = (l: Float64Array) => { se: number; df: number | null };

export function inferenceFor(fit: LmmFit, ddf: DdfOption): { estimate: (l: Float64Array) => number; infer: Inference } {
  const p = fit.design.p;
  let ctx: TestContext | null = null;
  let kctx: KrContext | null = null;
  if (ddf === "kr") kctx = krContext(fit);
  ctx = testContext(fit, ddf === "satterthwaite");
  const beta = (kctx ?? ctx).beta;
  const estimate = (l: Float64Array) => {
    let s = 0;
    for (let j = 0; j < p; j++) s += l[j] * beta[j];
    return s;
  };
  const vcovSE = (l: Float64Array) => {
    let v = 0;
    for (let a = 0; a < p; a++) {
      if (l[a] === 0) continue;
      for (let b = 0; b < p; b++) v += l[a] * ctx!.vcov[a * p + b] * l[b];
    }
    return Math.sqrt(Math.max(v, 0));
  };
  const okDf = (d: number) => (Number.isFinite(d) && d > 0 ? d : null);
  if (ddf === "kr") return { estimate, infer: (l) => { const r = krT(kctx!, l); return { se: r.se, df: okDf(r.df) }; } };
  if (ddf === "satterthwaite") return { estimate, infer: (l) => ({ se: vcovSE(l), df: okDf(satterthwaiteDf(ctx!, l)) }) };
  if (ddf === "residual") return { estimate, infer: (l) => ({ se: vcovSE(l), df: fit.design.n - p }) };
  const cols = containmentDf(fit.design).columns;
  return {
    estimate,
    infer: (l) => {
      const used = cols.filter((_, j) => Math.abs(l[j]) > 1e-12);
      return { se: vcovSE(l), df: used.length ? Math.min(...used) : fit.design.n - p };
    },
  };
}

function checkNames(what: string, names: string[], grid: RefGrid): void {
  const all = grid.vars.map((v) => v.name);
  const factors = grid.vars.filter((v) => v.kind === "factor").map((v) => v.name);
  for (const nm of names) {
    if (!all.includes(nm)) {
      const near = nearest(nm, all);
      throw new DataError(`unknown factor '${nm}' in ${what}${near ? ` (did you mean '${near}'?)` : ""}; the model's factors are: ${factors.join(", ") || "(none)"}${all.length > factors.length ? `; its covariates: ${all.filter((x) => !factors.includes(x)).join(", ")}` : ""}`);
    }
  }
}

/** The cartesian product of some grid variables (first fastest), as index tuples. */
function product(vars: GridVar[]): number[][] {
  let out: number[][] = [[]];
  for (const v of vars) {
    const next: number[][] = [];
    for (let k = 0; k < v.labels.length; k++) for (const o of out) next.push([...o, k]);
    out = next;
  }
  return out;
}

/** emmeans's label of one cell in a contrast: level labels joined by spaces; a covariate's value after its name. */
function cellLabel(vars: GridVar[], idx: number[]): string {
  return vars.map((v, j) => (v.kind === "numeric" ? `${v.name}${v.labels[idx[j]]}` : v.labels[idx[j]])).join(" ");
}

/** Means (or trends) and pairwise contrasts of a fitted model. */
export function emmeansFit(fit: LmmFit, table: DataTable, opts: EmmeansOptions): EmmeansResult {
  const ddf = parseDdf(opts.ddf);
  const adjust = parseAdjust(opts.adjust);
  const level = opts.level ?? 0.95;
  if (!(level > 0 && level < 1)) throw new DataError(`the confidence level must be between 0 and 1, not ${level}`);
  const specs = opts.specs.filter((s) => s !== "1");
  const by = opts.by ?? [];
  const trend = opts.trend ?? null;
  const grid = buildRefGrid(fit, table, opts.at ?? {});
  checkNames("specs", specs, grid);
  checkNames("by", by, grid);
  for (const b of by) if (specs.includes(b)) throw new DataError(`'${b}' is in both specs and by: name each factor once`);
  if (trend !== null) {
    const tv = grid.vars.find((v) => v.name === trend);
    if (!tv) throw new DataError(`the trend variable '${trend}' is not a predictor of the model's fixed effects; its predictors are: ${grid.vars.map((v) => v.name).join(", ") || "(none)"}`);
    if (tv.kind !== "numeric") throw new DataError(`the trend variable '${trend}' is a factor; a trend is the slope of a numeric covariate`);
  }
  const p = fit.design.p;
  const notes: string[] = [];
  const { estimate, infer } = inferenceFor(fit, ddf);
  const keep = [...specs, ...by].map((nm) => grid.vars.find((v) => v.name === nm)!);
  const avg = grid.vars.filter((v) => !specs.includes(v.name) && !by.includes(v.name));
  const averaged = avg.filter((v) => v.labels.length > 1).map((v) => v.name);
  const cells = product(keep);
  const others = product(avg);
  const value = trend === null ? "emmean" : `${trend}.trend`;
  const alpha = (1 - level) / 2;
  const pt: Point = { label: new Map(), value: new Map() };
  const setVar = (v: GridVar, k: number) => {
    pt.label.set(v.name, v.labels[k]);
    if (v.kind === "numeric") pt.value.set(v.name, v.values[k]);
    else if (v.values.length) pt.value.set(v.name, v.values[k]);
  };
  const h = trend === null ? 0 : trendStep(fit, table, trend);
  const lfull: Float64Array[] = cells.map((idx) => {
    const acc = new Float64Array(grid.P);
    keep.forEach((v, j) => setVar(v, idx[j]));
    for (const o of others) {
      avg.forEach((v, j) => setVar(v, o[j]));
      if (trend === null) {
        const x = fullRow(grid, pt, null);
        for (let c = 0; c < grid.P; c++) acc[c] += x[c];
      } else {
        // emmeans's difference quotient (f(x + h) - f(x)) / h, h = range / 1000: exact for
        // terms linear in the covariate, and what R reports for I(x^2) and log(x).
        const x0 = pt.value.get(trend)!;
        const f0 = fullRow(grid, pt, null);
        pt.value.set(trend, x0 + h);
        const f1 = fullRow(grid, pt, null);
        pt.value.set(trend, x0);
        for (let c = 0; c < grid.P; c++) acc[c] += (f1[c] - f0[c]) / h;
      }
    }
    for (let c = 0; c < grid.P; c++) acc[c] /= others.length;
    return acc;
  });
  const nonEst: string[] = [];
  const rows: EmmeanRow[] = cells.map((idx, i) => {
    const levels: Record<string, string> = {};
    keep.forEach((v, j) => (levels[v.name] = v.labels[idx[j]]));
    const l = toKept(grid, lfull[i], p);
    if (!l) {
      nonEst.push(keep.map((v, j) => v.labels[idx[j]]).join(" ") || "overall");
      return { levels, estimate: null, SE: null, df: null, "lower.CL": null, "upper.CL": null, estimable: false, [value]: null };
    }
    const est = estimate(l);
    const { se, df } = infer(l);
    const q = df === null ? NaN : qT(1 - alpha, df);
    const lo = df === null ? null : est - q * se, hi = df === null ? null : est + q * se;
    return { levels, estimate: est, SE: se, df, "lower.CL": lo, "upper.CL": hi, estimable: true, [value]: est };
  });
  if (nonEst.length) notes.push(`not estimable (NA): ${nonEst.join(", ")} (the data have no rows for some cells these means average over, and the model has an interaction there)`);
  if (averaged.length) notes.push(`Results are averaged over the levels of: ${averaged.join(", ")}`);
  // emmeans's warning when a factor shown interacts with a predictor not shown: one averaged over, or a covariate held at its mean.
  const notShown = grid.vars.map((v) => v.name).filter((nm) => !specs.includes(nm) && !by.includes(nm));
  if (trend === null && notShown.length && interacts(fit, [...specs, ...by], notShown)) notes.push("Results may be misleading due to involvement in interactions");
  const contrasts: ContrastRow[] = [];
  const specVars = keep.slice(0, specs.length);
  const byVars = keep.slice(specs.length);
  let nmeans = 0, ntests = 0;
  if (!opts.noContrasts) {
    // Groups: cells with equal by-indices, in order.
    const groups = new Map<string, number[]>();
    cells.forEach((idx, i) => {
      const key = idx.slice(specs.length).join(",");
      let g = groups.get(key);
      if (!g) groups.set(key, (g = []));
      g.push(i);
    });
    for (const members of groups.values()) {
      const fam: ContrastRow[] = [];
      const raw: (number | null)[] = [], ts: (number | null)[] = [], dfs: (number | null)[] = [];
      const byRec: Record<string, string> = {};
      byVars.forEach((v, j) => (byRec[v.name] = v.labels[cells[members[0]][specs.length + j]]));
      for (let a = 0; a < members.length; a++) {
        for (let b = a + 1; b < members.length; b++) {
          const ia = members[a], ib = members[b];
          const d = new Float64Array(grid.P);
          for (let c = 0; c < grid.P; c++) d[c] = lfull[ia][c] - lfull[ib][c];
          const label = `${cellLabel(specVars, cells[ia].slice(0, specs.length))} - ${cellLabel(specVars, cells[ib].slice(0, specs.length))}`;
          const l = toKept(grid, d, p);
          if (!l) {
            fam.push({ contrast: label, by: { ...byRec }, estimate: null, SE: null, df: null, "t.ratio": null, "p.value": null });
            raw.push(null), ts.push(null), dfs.push(null);
            continue;
          }
          const est = estimate(l);
          const { se, df } = infer(l);
          const t = est / se;
          const pv = df === null ? null : pT2(t, df);
          fam.push({ contrast: label, by: { ...byRec }, estimate: est, SE: se, df, "t.ratio": t, "p.value": pv });
          raw.push(pv), ts.push(t), dfs.push(df);
        }
      }
      const k = members.length;
      const adj = adjustFamily(adjust, raw, ts, dfs, k);
      fam.forEach((r, i) => (r["p.value"] = adj[i]));
      nmeans = Math.max(nmeans, k);
      ntests = Math.max(ntests, raw.length);
      contrasts.push(...fam);
    }
  }
  notes.push(`Degrees-of-freedom method: ${ddfName(ddf)}`);
  notes.push(`Confidence level used: ${level}`);
  if (contrasts.length) notes.push(adjustNote(adjust, nmeans, ntests));
  const at: Record<string, string[]> = {};
  for (const v of grid.vars) if (v.kind === "numeric") at[v.name] = v.labels;
  return { specs, by, at, trend, value, adjust, ddf: ddfName(ddf), method: fit.method, level, averaged, emmeans: rows, contrasts, notes };
}

/** emmeans's delta.var: a thousandth of the covariate's range over the rows used. */
function trendStep(fit: LmmFit, table: DataTable, name: string): number {
  const col = table.columns.find((c) => c.name === name);
  if (!col || col.kind !== "numeric") throw new DataError(`the trend variable '${name}' must be a numeric column`);
  let lo = Infinity, hi = -Infinity;
  for (const r of fit.design.rows) {
    const v = col.values[r];
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (!(hi > lo)) throw new DataError(`the trend variable '${name}' is constant in the rows used: it has no slope`);
  return (hi - lo) / 1000;
}

/** Whether some fixed term holds one of `shown` and one of `averaged` (through their expressions' variables). */
function interacts(fit: LmmFit, shown: string[], averaged: string[]): boolean {
  const text = (e: unknown) => JSON.stringify(e);
  return fit.spec.formula.fixed.some((t) => {
    if (t.factors.length < 2) return false;
    const s = t.factors.map(text).join(" ");
    const has = (nm: string) => s.includes(`"name":${JSON.stringify(nm)}`);
    return shown.some(has) && averaged.some(has);
  });
}

/** Fit a model and compute its marginal means (or trends) and contrasts. */
export function emmeansModel(table: DataTable, specText: string, opts: EmmeansOptions): EmmeansResult {
  parseDdf(opts.ddf);
  parseAdjust(opts.adjust);
  if (!Array.isArray(opts.specs)) throw new DataError("specs must name the factors, e.g. \"treat\"");
  const fit = fitPrepared(prepareFit(table, specText), opts.method ?? "REML", opts.signal);
  const res = emmeansFit(fit, table, opts);
  res.notes.unshift(...fit.design.messages, ...fit.opt.messages);
  return res;
}
