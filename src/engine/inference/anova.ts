// Tests of fixed-effect terms: lmerTest's anova tables (Types I, II, III; Sum Sq, Mean Sq, NumDF,
// DenDF, F value, Pr(>F)) and the F test of any L matrix (lmerTest's contest, SAS CONTRAST), with
// Satterthwaite, residual (n - rank X, SAS DDFM=RESIDUAL) or nlme's containment df.
import type { AnovaOptions, AnovaResult, AnovaRow, DataTable, DdfName, DdfOption, FixefRow, Method } from "../types";
import { DataError } from "../errors";
import { parseDdf } from "./ddf-option";
import type { LmmFit } from "../model/prepared";
import { fitPrepared, prepareFit } from "../model/prepared";
import { AnovaType, termContrasts } from "./contrast";
import { containmentDf } from "./containment";
import { FRow, TestContext, contestMD, testContext } from "./ddf";
import { reportDf } from "./fixef";
import { krContext, krT, krTest } from "./kr";

const DDF_NAMES: Record<DdfOption, DdfName> = { satterthwaite: "Satterthwaite", kr: "Kenward-Roger", residual: "residual", containment: "containment" };


/** An anova type: 1, 2, 3 (or I, II, III). */
export function parseAnovaType(x: unknown): AnovaType {
  if (x === null || x === undefined || x === "") return 3;
  const s = String(x).trim().toUpperCase();
  const t = s === "I" ? 1 : s === "II" ? 2 : s === "III" ? 3 : Number(s);
  if (t === 1 || t === 2 || t === 3) return t;
  throw new DataError(`the anova type must be 1, 2 or 3 (sequential, II, III), not '${String(x)}'`);
}

export function ddfName(d: DdfOption): DdfName {
  return DDF_NAMES[d];
}

function checkAvailable(_d: DdfOption): void {
  // Every method is available; Kenward-Roger's own limits (REML, no residual structure) are checked in kr.ts.
}

function row(term: string, f: FRow | null): AnovaRow {
  if (!f) return { term, "Sum Sq": null, "Mean Sq": null, NumDF: null, DenDF: null, "F value": null, "Pr(>F)": null };
  return { term, ...f };
}

/** The anova table of a fitted model. */
export function anovaFit(fit: LmmFit, opts: AnovaOptions = {}): AnovaResult {
  const type = parseAnovaType(opts.type);
  const ddf = parseDdf(opts.ddf);
  checkAvailable(ddf);
  const { design } = fit;
  const messages: string[] = [];
  const contrasts = termContrasts(design, type, messages);
  if (ddf === "kr") {
    const kctx = krContext(fit);
    const rows = contrasts.filter((c) => !opts.terms || opts.terms.includes(c.term)).map((c) => row(c.term, krTest(kctx, c.L, c.rows)));
    checkTerms(opts.terms, contrasts.map((c) => c.term));
    return { type, ddf: ddfName(ddf), method: fit.method, rows, messages };
  }
  const ctx = testContext(fit, ddf === "satterthwaite");
  const denom = ddf === "containment" ? containmentDf(design).terms : null;
  if (ddf === "satterthwaite" && !ctx.A) messages.push("the model has no variance parameters besides sigma: the df are the residual df n - p");
  if (design.aliased.length > 0) messages.push(`the tests leave out the aliased columns (${design.aliased.join(", ")})`);
  const want = opts.terms;
  checkTerms(want, contrasts.map((c) => c.term));
  const rows = contrasts
    .map((c, i) => ({ c, i }))
    .filter(({ c }) => !want || want.includes(c.term))
    .map(({ c, i }) => row(c.term, contestMD(ctx, c.L, c.rows, ddf === "satterthwaite" ? "satterthwaite" : ddf === "residual" ? ctx.n - ctx.p : denom![i])));
  return { type, ddf: ddfName(ddf), method: fit.method, rows, messages };
}

function checkTerms(want: string[] | undefined, terms: string[]): void {
  for (const t of want ?? []) {
    if (!terms.includes(t)) throw new DataError(`unknown term '${t}'; the model's fixed-effect terms are: ${terms.join(", ") || "(none)"}`);
  }
}

/** Fit a model and return its anova table. */
export function anovaModel(table: DataTable, specText: string, opts: AnovaOptions = {}): AnovaResult {
  parseAnovaType(opts.type);
  checkAvailable(parseDdf(opts.ddf));
  const method: Method = opts.method ?? "REML";
  const fit = fitPrepared(prepareFit(table, specText), method, opts.signal);
  const res = anovaFit(fit, opts);
  res.messages.unshift(...fit.design.messages, ...fit.opt.messages);
  return res;
}

/** A user's L: rows of p numbers each (fixef order). */
function checkL(L: number[][], fit: LmmFit): Float64Array {
  const p = fit.design.p;
  if (!Array.isArray(L) || L.length === 0) throw new DataError("the contrast matrix L needs at least one row");
  L.forEach((r, i) => {
    if (!Array.isArray(r) || r.length !== p) {
      throw new DataError(`row ${i + 1} of the contrast matrix L has ${Array.isArray(r) ? r.length : 0} numbers, but the model has ${p} fixed-effect columns (${fit.design.xnames.join(", ")}): L needs one column per coefficient`);
    }
    r.forEach((v, j) => {
      if (typeof v !== "number" || !Number.isFinite(v)) throw new DataError(`L[${i + 1}, ${j + 1}] is not a number`);
    });
  });
  return Float64Array.from(L.flat());
}

/**
 * The F test of L beta = 0 (lmerTest's contest with joint = TRUE). With containment df the test
 * takes the smallest containment df of the coefficients it involves.
 */
export function contestFit(fit: LmmFit, L: number[][], ddfOpt: unknown = "satterthwaite", label = "L"): AnovaRow {
  const ddf = parseDdf(ddfOpt);
  checkAvailable(ddf);
  const Lf = checkL(L, fit);
  if (ddf === "kr") return row(label, krTest(krContext(fit), Lf, L.length));
  const ctx = testContext(fit, ddf === "satterthwaite");
  let d: "satterthwaite" | number = "satterthwaite";
  if (ddf === "residual") d = ctx.n - ctx.p;
  if (ddf === "containment") {
    const cols = containmentDf(fit.design).columns;
    const used = cols.filter((_, j) => L.some((r) => r[j] !== 0));
    d = used.length ? Math.min(...used) : ctx.n - ctx.p;
  }
  return row(label, contestMD(ctx, Lf, L.length, d));
}

/** Fit a model and test L beta = 0. */
export function contestModel(table: DataTable, specText: string, L: number[][], opts: AnovaOptions = {}): AnovaRow {
  checkAvailable(parseDdf(opts.ddf));
  const fit = fitPrepared(prepareFit(table, specText), opts.method ?? "REML", opts.signal);
  return contestFit(fit, L, opts.ddf);
}

/** Per-coefficient df for the t tests with residual or containment df (Satterthwaite lives in fixef.ts). */
export function fixedDf(fit: LmmFit, ddf: "residual" | "containment", ctx?: TestContext): number[] {
  const p = fit.design.p;
  if (ddf === "residual") return new Array<number>(p).fill(fit.design.n - (ctx?.p ?? p));
  return containmentDf(fit.design).columns;
}

/**
 * Kenward-Roger t tests (lmerTest's summary with ddf "Kenward-Roger"): the adjusted SE and the KR
 * df. Returns the adjusted vcov (pbkrtest's vcovAdj, row-major p x p) and the df notes.
 */
export function setFixefKr(fit: LmmFit, rows: FixefRow[], level: number): { vcov: Float64Array; notes: string[] } {
  const ctx = krContext(fit);
  const p = fit.design.p;
  const dfs = rows.map((r, i) => {
    const l = new Float64Array(p);
    l[i] = 1;
    const { se, df } = krT(ctx, l);
    r.se = se;
    r.t = r.estimate / se;
    return df;
  });
  return { vcov: ctx.PhiA, notes: reportDf(rows, dfs, level, "Kenward-Roger") };
}

/** Fill df, p and the CI of t-test rows from given df (through reportDf, with its notes). */
export function setFixefDf(rows: FixefRow[], dfs: number[], level: number, method: string): string[] {
  return reportDf(rows, dfs, level, method);
}

export { parseDdf };
