// Influence of observations and of groups, as lme4 defines it:
//  - leverage h_ii, the diagonal of the conditional hat matrix (lme4's hatvalues.merMod):
//    H = [ZΛ X] A^{-1} [ZΛ X]' with A = [Λ'Z'ZΛ + I, Λ'Z'X; X'ZΛ, X'X], so h_ii = |L^{-1} w_i|^2
//    with w_i = [Λ'z_i; x_i] and L the blocked Cholesky factor. w_i has q entries per term (at the
//    row's levels) and p fixed-effect entries, and a forward solve with the blocked factor keeps
//    it that sparse along the nesting chain: O(q^2 + p q + p^2) per row, never an n x n matrix.
//    The dense block of crossed factors costs up to QD^2 / 2 per row, which the cost check bounds.
//  - Cook's distance per observation (lme4's cooks.distance.merMod):
//    D_i = (e_i / (1 - h_ii))^2 h_ii / (sigma^2 p), e_i the conditional (Pearson, unweighted)
//    residual, p the rank of X.
//  - per-group influence by deletion (lme4's influence(fit, groups =)): the model refitted without
//    each level of a grouping variable, warm-started at the full fit's theta; dfbeta = beta(-g) -
//    beta and Cook's distance as lme4 1.1-31's cooks.distance.influence.merMod,
//    D_g = (G - p) / (G p) dfbeta' vcov(beta)^{-1} dfbeta (G deleted groups, vcov of the full fit).
//    The refits are counted before they start (cost.ts's units); a deletion that would take too
//    long is skipped with a note that says so.
// Residual structures are outside lme4's definitions (the rows are then correlated): refused.
import type { DataTable, Method } from "../types";
import type { FactorColumn, NumericColumn } from "../types";
import { DataError } from "../errors";
import { checkTable, nearest } from "../options";
import { LmmFit, fitPrepared, prepareFit } from "../model/prepared";
import { fitCost } from "../model/cost";
import { restore } from "./fixef";
import { fixedEffects, sphericalModes, unscaledVcov, workingModes } from "../model/solve";
import { cholCopy, solveLower } from "../linalg/dense";

export interface InfluenceOptions {
  method?: Method;
  /**
   * Grouping variables to delete level by level: model grouping factors ("Subject", "cask:batch")
   * or columns of the data. Omitted: every grouping factor of the model. [] for none.
   */
  groups?: string[];
  /**
   * false: the group deletions only (no leverages, per-row Cook's distances or per-row values:
   * the pane's Cook's-distance chart needs none of them, and at a million rows they are large).
   */
  rows?: boolean;
  signal?: { cancelled: boolean };
}

export interface GroupInfluence {
  /** The deleted levels. */
  levels: string[];
  /** Cook's distance of each deleted level. */
  cooks: number[];
  /** The fixed-effect names of dfbeta's columns. */
  terms: string[];
  /** beta without the level minus beta (lme4's dfbeta), one row per level. */
  dfbeta: number[][];
  /** sigma of each refit. */
  sigma: number[];
  converged: boolean[];
}

export interface InfluenceResult {
  spec: string;
  method: Method;
  n: number;
  /** 1-based data rows of hat and cooks (rows with missing values are not used). */
  rows: number[];
  hat: number[];
  cooks: number[];
  /** The fitted values and residuals the Cook's distances come from (conditional). */
  fitted: number[];
  residual: number[];
  groups: Record<string, GroupInfluence>;
  notes: string[];
}

/** Multiply-adds per second of the leverage loop and the ceiling it may spend (about 20 s). */
const HAT_FLOPS_LIMIT = 2e10;
/** Estimated ms the deletions of one grouping variable may take (cost.ts's units). */
export const DELETION_MS = 60000;
/** Building a subset's design and cross-products: estimated ms per row and column. */
const BUILD_MS_PER_CELL = 2e-4;
/** A warm-started refit needs about this share of a cold fit's typical evaluations. */
const WARM_SHARE = 0.5;

/** Multiply-adds per row of hatValues (worst case for the dense block). */
export function hatFlopsPerRow(fit: LmmFit): number {
  const { remats, m, p, QD } = fit.model;
  let s = p * p;
  let above = 0;
  for (let j = 0; j < m; j++) {
    const q = remats[j].q;
    s += q * q + q * above + p * q;
    above += q;
  }
  if (QD > 0) s += QD + (QD * QD) / 2 + p * QD + QD * above;
  return s;
}

/**
 * Leverages h_ii for every row of a fit without a residual structure; the model must be factored
 * at the fit's theta (restore()).
 */
export function hatValues(fit: LmmFit): Float64Array {
  const { model, basis } = fit;
  const { remats, m, p, pp, QD } = model;
  const n = model.n;
  const X = basis.X;
  const v = remats.map((r) => new Float64Array(r.q));
  const g = new Float64Array(QD);
  const xf = new Float64Array(p);
  const h = new Float64Array(n);
  const { LDD, LFD, LFF } = model;
  for (let r = 0; r < n; r++) {
    let s = 0;
    for (let f = 0; f < p; f++) xf[f] = X[r * p + f];
    // The nesting chain: v_j lives at the row's level of term j only.
    for (let j = 0; j < m; j++) {
      const rm = remats[j], q = rm.q, c = rm.refs[r], T = model.T[j], vj = v[j];
      for (let a = 0; a < q; a++) {
        let t = 0;
        for (let b = a; b < q; b++) t += T[b * q + a] * rm.z[r * q + b];
        vj[a] = t;
      }
      for (let i = 0; i < j; i++) {
        const qi = remats[i].q, ci = remats[i].refs[r], L = model.Lij[j][i], vi = v[i];
        for (let a = 0; a < q; a++) {
          let t = 0;
          for (let b = 0; b < qi; b++) t += L[ci * q * qi + a * qi + b] * vi[b];
          vj[a] -= t;
        }
      }
      solveLower(model.Ljj[j], q, c * q * q, q, vj);
      const LF = model.LFj[j], o = c * pp * q;
      for (let a = 0; a < q; a++) s += vj[a] * vj[a];
      for (let f = 0; f < p; f++) {
        let t = 0;
        for (let b = 0; b < q; b++) t += LF[o + f * q + b] * vj[b];
        xf[f] -= t;
      }
    }
    if (QD > 0) {
      // The dense block: the row's own dense levels, less the chain's rows in D.
      g.fill(0);
      let lo = QD;
      for (let t = m; t < model.k; t++) {
        const rm = remats[t], q = rm.q, T = model.T[t], off = model.dOff[t] + rm.refs[r] * q;
        for (let a = 0; a < q; a++) {
          let u = 0;
          for (let b = a; b < q; b++) u += T[b * q + a] * rm.z[r * q + b];
          g[off + a] = u;
        }
        if (off < lo) lo = off;
      }
      for (let j = 0; j < m; j++) {
        const q = remats[j].q, c = remats[j].refs[r], pat = model.dPat[j], LD = model.LDj[j], vj = v[j];
        for (let e = pat.ptr[c]; e < pat.ptr[c + 1]; e++) {
          let u = 0;
          for (let b = 0; b < q; b++) u += LD[e * q + b] * vj[b];
          const d = pat.idx[e];
          g[d] -= u;
          if (d < lo) lo = d;
        }
      }
      for (let i = lo; i < QD; i++) {
        const li = i * QD;
        let u = g[i];
        for (let k = lo; k < i; k++) u -= LDD[li + k] * g[k];
        u /= LDD[li + i];
        g[i] = u;
        s += u * u;
      }
      for (let f = 0; f < p; f++) {
        let u = 0;
        for (let d = lo; d < QD; d++) u += LFD[f * QD + d] * g[d];
        xf[f] -= u;
      }
    }
    solveLower(LFF, p, 0, pp, xf);
    for (let f = 0; f < p; f++) s += xf[f] * xf[f];
    h[r] = s;
  }
  return h;
}

/** Conditional fitted values X beta + Z b of a factored fit. */
function conditionalFit(fit: LmmFit): Float64Array {
  const { design, model } = fit;
  const { n, p, X } = design;
  const beta = fixedEffects(model);
  const b = workingModes(model, sphericalModes(model));
  const out = new Float64Array(n);
  for (let r = 0; r < n; r++) {
    let s = 0;
    for (let f = 0; f < p; f++) s += X[r * p + f] * beta[f];
    model.remats.forEach((rm, t) => {
      const q = rm.q, lev = rm.refs[r];
      for (let a = 0; a < q; a++) s += rm.z[r * q + a] * b[t][lev * q + a];
    });
    out[r] = s;
  }
  return out;
}

/** Residual variance of a factored fit (REML: over n - p). */
function sigma2Of(fit: LmmFit): number {
  const { design, model } = fit;
  return model.pwrss / (fit.method === "REML" ? design.n - design.p : design.n);
}

/** A column's text for a data row (factor label or number as text); null when missing. */
function cellText(col: FactorColumn | NumericColumn, row: number): string | null {
  if (col.kind === "factor") {
    const c = col.codes[row];
    return c < 0 ? null : col.levels[c];
  }
  const v = col.values[row];
  return Number.isNaN(v) ? null : String(v);
}

/** The rows of a table (in order), factors recoded to the levels that remain (R drops unused levels). */
export function subsetTable(table: DataTable, keep: Int32Array): DataTable {
  const columns = table.columns.map((col) => {
    if (col.kind === "numeric") return { kind: "numeric" as const, name: col.name, values: Float64Array.from(keep, (r) => col.values[r]) };
    const used = new Uint8Array(col.levels.length);
    for (const r of keep) if (col.codes[r] >= 0) used[col.codes[r]] = 1;
    const map = new Int32Array(col.levels.length).fill(-1);
    const levels: string[] = [];
    col.levels.forEach((l, i) => {
      if (used[i]) {
        map[i] = levels.length;
        levels.push(l);
      }
    });
    return { kind: "factor" as const, name: col.name, levels, codes: Int32Array.from(keep, (r) => (col.codes[r] < 0 ? -1 : map[col.codes[r]])) };
  });
  return { nrow: keep.length, columns, decimalComma: table.decimalComma };
}

/** Each used row's label of a grouping variable ("a:b" joins columns as R's interaction). */
function groupLabels(table: DataTable, fit: LmmFit, group: string): string[] {
  const names = group.split(":").map((s) => s.trim());
  const cols = names.map((nm) => table.columns.find((c) => c.name === nm));
  const missing = names.filter((_, i) => !cols[i]);
  if (missing.length > 0 || names.length === 0) {
    const model = Array.from(new Set(fit.model.remats.map((r) => r.group)));
    const near = nearest(group, [...model, ...table.columns.map((c) => c.name)]);
    throw new DataError(`unknown group '${group}': ${missing.length ? `no column '${missing.join("', '")}' in the data` : "no column named"}${near ? ` (did you mean '${near}'?)` : ""}; the model's grouping factors are ${model.join(", ") || "(none)"} (or name any column of the data)`);
  }
  return Array.from(fit.design.rows, (row) => {
    const parts = cols.map((c) => cellText(c!, row));
    return parts.some((x) => x === null) ? "" : parts.join(":");
  });
}

/** Estimated ms of deleting each of `levels` levels in turn (cost.ts's units). */
export function deletionMs(fit: LmmFit, levels: number): number {
  const cols = fit.design.p + 1 + fit.model.remats.reduce((s, r) => s + r.q, 0);
  const perRefit = WARM_SHARE * fitCost(fit).typicalMs + fit.design.n * cols * BUILD_MS_PER_CELL;
  return levels * perRefit;
}

/** Per-group influence for one grouping variable; null (with a note) when it would take too long. */
export function groupDeletion(table: DataTable, fit: LmmFit, group: string, notes: string[], signal?: { cancelled: boolean }): GroupInfluence | null {
  const labels = groupLabels(table, fit, group);
  const remat = fit.model.remats.find((r) => r.group === group);
  const seen = new Set(labels);
  seen.delete("");
  const levels = remat ? remat.levels.filter((l) => seen.has(l)) : Array.from(seen);
  const p = fit.design.p;
  if (levels.length < 2) throw new DataError(`'${group}' has ${levels.length} level${levels.length === 1 ? "" : "s"} among the rows used: deleting a group needs at least two`);
  const ms = deletionMs(fit, levels.length);
  if (ms > DELETION_MS) {
    const each = ms / levels.length;
    notes.push(`per-group influence for '${group}' was skipped: deleting each of its ${levels.length} levels means ${levels.length} refits of about ${each < 1000 ? `${Math.max(1, Math.round(each))} ms` : `${(each / 1000).toFixed(1)} s`} each, about ${Math.round(ms / 1000)} s in all (the limit is ${DELETION_MS / 1000} s); the leverages and per-observation Cook's distances are still given`);
    return null;
  }
  const beta0 = fixedEffects(fit.model);
  const sigma2 = sigma2Of(fit);
  const V = unscaledVcov(fit.model).map((x) => x * sigma2);
  const LV = cholCopy(V, p);
  const terms = fit.design.xnames;
  const out: GroupInfluence = { levels, cooks: [], terms, dfbeta: [], sigma: [], converged: [] };
  const G = levels.length;
  const byLevel = new Map<string, number[]>();
  labels.forEach((l, i) => {
    if (!byLevel.has(l)) byLevel.set(l, []);
    byLevel.get(l)!.push(i);
  });
  const z = new Float64Array(p);
  for (const level of levels) {
    const keep = Int32Array.from(fit.design.rows.filter((_, i) => labels[i] !== level));
    let db: number[] = new Array<number>(p).fill(NaN);
    let sig = NaN, conv = false;
    try {
      const prep = prepareFit(subsetTable(table, keep), fit.spec.text);
      const sameTheta = prep.model.remats.length === fit.model.remats.length && prep.model.remats.every((r, t) => r.label === fit.model.remats[t].label && r.q === fit.model.remats[t].q);
      const sub = fitPrepared(prep, fit.method, signal, undefined, prep.residual || !sameTheta ? undefined : fit.theta);
      restore(sub);
      const beta = fixedEffects(sub.model);
      const names = sub.design.xnames;
      db = terms.map((t, f) => {
        const i = names.indexOf(t);
        return i < 0 ? NaN : beta[i] - beta0[f];
      });
      sig = Math.sqrt(sigma2Of(sub));
      conv = sub.opt.converged;
      if (db.some((x) => Number.isNaN(x))) notes.push(`without ${group} ${level} the fixed effect${terms.filter((_, f) => Number.isNaN(db[f])).length > 1 ? "s" : ""} ${terms.filter((_, f) => Number.isNaN(db[f])).join(", ")} cannot be estimated: its change and Cook's distance are not given`);
    } catch (e) {
      if (!(e instanceof DataError)) throw e;
      notes.push(`the model could not be refitted without ${group} ${level}: ${e.message}`);
    }
    let d = NaN;
    if (LV && db.every(Number.isFinite)) {
      for (let f = 0; f < p; f++) z[f] = db[f];
      solveLower(LV, p, 0, p, z);
      let s = 0;
      for (let f = 0; f < p; f++) s += z[f] * z[f];
      d = ((G - p) / (G * p)) * s;
    }
    out.cooks.push(d);
    out.dfbeta.push(db);
    out.sigma.push(sig);
    out.converged.push(conv);
  }
  const bad = out.converged.filter((c) => !c).length;
  if (bad > 0) notes.push(`${bad} of the ${G} refits without a level of '${group}' did not converge (see converged)`);
  return out;
}

function checkInfluenceArgs(table: unknown, spec: unknown, opts: unknown): void {
  checkTable(table);
  if (typeof spec !== "string" || spec.trim() === "") throw new DataError("the model spec must be a non-empty text such as 'y ~ x + (1|g)'");
  if (opts === null || typeof opts !== "object" || Array.isArray(opts)) throw new DataError("the influence options must be an object");
  const o = opts as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!["method", "groups", "rows", "signal"].includes(k)) throw new DataError(`unknown influence option '${k}' (known: method, groups, rows)`);
  if (o.method !== undefined && o.method !== "REML" && o.method !== "ML") throw new DataError(`method must be 'REML' or 'ML', not ${JSON.stringify(o.method)}`);
  if (o.groups !== undefined && !(Array.isArray(o.groups) && o.groups.every((g) => typeof g === "string" && g.trim() !== ""))) {
    throw new DataError("groups must be a list of grouping-variable names, such as ['Subject']");
  }
  if (o.rows !== undefined && typeof o.rows !== "boolean") throw new DataError("rows must be true or false");
}

/** hat values, Cook's distances and per-group deletion influence of a model (lme4's definitions). */
export function influenceModel(table: DataTable, specText: string, opts: InfluenceOptions = {}): InfluenceResult {
  checkInfluenceArgs(table, specText, opts);
  const method: Method = opts.method ?? "REML";
  const prep = prepareFit(table, specText);
  if (prep.residual) {
    throw new DataError(`influence (leverages, Cook's distances, group deletion) is defined for models without a residual structure (as lme4's): fit '${specText.split(";")[0].trim()}' for these diagnostics`);
  }
  if (prep.model.remats.length === 0) {
    throw new DataError("influence needs a model with random effects, such as 'y ~ x + (1|g)' (for a linear model use R's lm influence measures)");
  }
  const fit = fitPrepared(prep, method, opts.signal);
  restore(fit);
  const notes = [...fit.design.messages, ...fit.opt.messages];
  const n = fit.design.n, p = fit.design.p;
  const groupsAsked = opts.groups ?? Array.from(new Set(fit.model.remats.map((r) => r.group)));
  // Unknown names fail before any work.
  for (const g of groupsAsked) groupLabels(table, fit, g);
  let hat: number[] = [], cooks: number[] = [];
  const perRow = opts.rows !== false;
  const fitted = perRow ? conditionalFit(fit) : new Float64Array(0);
  const residual = Array.from(fitted, (f, i) => fit.design.y[i] - f);
  const flops = hatFlopsPerRow(fit) * n;
  if (!perRow) {
    /* the deletions only */
  } else if (flops > HAT_FLOPS_LIMIT) {
    notes.push(`the leverages and Cook's distances were skipped: the dense block of the crossed random effects (${fit.model.QD} levels) makes them cost about ${Math.round(flops / 1e9)} s over ${n} rows; reduce the levels of the crossed factors`);
  } else {
    const h = hatValues(fit);
    const sigma2 = sigma2Of(fit);
    hat = Array.from(h);
    cooks = hat.map((hi, i) => {
      const d = (residual[i] / (1 - hi)) ** 2 * hi / (sigma2 * p);
      return Number.isFinite(d) ? d : NaN;
    });
    if (hat.some((x) => x > 1 - 1e-10)) notes.push("some rows have leverage 1 (their fitted value is their own observation): their Cook's distance is not defined");
  }
  const groups: Record<string, GroupInfluence> = {};
  for (const g of groupsAsked) {
    const gi = groupDeletion(table, fit, g, notes, opts.signal);
    if (gi) groups[g] = gi;
  }
  return { spec: fit.spec.text, method, n, rows: perRow ? Array.from(fit.design.rows, (r) => r + 1) : [], hat, cooks, fitted: Array.from(fitted), residual, groups, notes };
}
