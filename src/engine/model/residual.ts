// Residual covariance structures (nlme's corStruct and varFunc) by whitening (ARCHITECTURE.md
// §3.1): R = blockdiag(R_i) over residual groups, R_i = S_i C_i S_i relative to sigma^2. This
// file composes one correlation structure (residual/<family>.ts behind CorrStructure) and the
// variance functions (residual/var-*.ts behind VarFunction, multiplied as nlme's varComb):
// per-occasion ratios for ARH1/CSH/UN, varIdent, then varPower/varExp/varConstPower/varFixed.
// Each evaluation is one streaming pass: SD ratios per row, then each group's rows of
// [Z X y] whitened by its structure's verb (residual/whiten-group.ts); the objective gains
// log|R| = sum_i log|C_i| + 2 sum_rows log s.
import { fittedCovariate } from "./fitted-covariate";
import type { Column, DataTable, Design, ModelSpec, ResidualResult, ResidualType } from "../types";
import { DataError } from "../errors";
import type { CorrStructure, ResidualLayout, VarFunction, ParamReport } from "./residual/types";
import { ar1, car1 } from "./residual/markov";
import { cs } from "./residual/cs";
import { un, unCorrelation } from "./residual/un";
import { toep } from "./residual/toep";
import { arma } from "./residual/arma";
import { spatial } from "./residual/spatial";
import { varIdent } from "./residual/var-ident";
import { varOfCovariate } from "./residual/var-power";
import { Col, whitenCs, whitenDense, whitenMarkov } from "./residual/whiten-group";

export type { ResidualLayout } from "./residual/types";

export interface ResidualModel {
  type: ResidualType | "varIdent";
  group: string | null;
  time: string | null;
  /** Number of unconstrained parameters (correlation, then the variance functions'). */
  nPar: number;
  /** log|R| for eta, and the whitened copies of the columns (each n x width, row-major). */
  whiten(eta: Float64Array, cols: Col[]): number;
  params(eta: Float64Array): ResidualResult["params"];
  /** Group index of each used row (to find random-effect terms that vary within groups). */
  groupOf: Int32Array;
  ngroups: number;
  /** The groups, occasions and strata, for starting values and the crossed-effects path. */
  layout: ResidualLayout;
  /** The correlation structure (null for variance functions alone); set by the last whiten(). */
  structure: CorrStructure | null;
  /** The variance functions in eta order, after the structure's block. */
  vars: VarFunction[];
  /** Correlation parameters for eta: rho (AR1/ARH1 phi, CS rho) or the UN matrix (tests, reports). */
  corr(eta: Float64Array): CorrParams;
  /** Per-row SD ratios of the last whiten() call. */
  readonly sd: Float64Array;
}

export interface CorrParams {
  rho: number;
  corr?: Float64Array;
}

const SPATIAL: ReadonlySet<ResidualType> = new Set(["EXP", "GAUS", "SPHER", "LIN", "RATIO"]);
/** Structures with one residual SD per occasion. */
const OCC_VAR: ReadonlySet<ResidualType> = new Set(["ARH1", "UN", "CSH"]);

function columnByName(table: DataTable, name: string): Column {
  const c = table.columns.find((x) => x.name === name);
  if (!c) throw new DataError(`unknown column '${name}' in the residual structure; the data has: ${table.columns.map((x) => x.name).join(", ")}`);
  return c;
}

/** Codes and sorted level labels of a column over the used rows (numbers sort numerically). */
function codesOf(col: Column, rows: Int32Array): { codes: Int32Array; levels: string[] } {
  if (col.kind === "factor") return factorCodes(col.levels, col.codes, rows);
  const raw: string[] = [];
  const key = (r: number) => String(col.values[r]);
  const seen = new Map<string, number>();
  for (const r of rows) {
    const k = key(r);
    if (!seen.has(k)) {
      seen.set(k, 0);
      raw.push(k);
    }
  }
  const numeric = raw.every((s) => s !== "" && !Number.isNaN(Number(s)));
  const coll = new Intl.Collator("en");
  raw.sort((a, b) => (numeric ? Number(a) - Number(b) : coll.compare(a, b)));
  raw.forEach((k, i) => seen.set(k, i));
  const codes = new Int32Array(rows.length);
  rows.forEach((r, i) => (codes[i] = seen.get(key(r))!));
  return { codes, levels: raw };
}

/**
 * Codes of a grouping column over the used rows: only which rows share a value matters (groups
 * are numbered by first appearance), so a factor's codes serve without sorting its levels.
 */
function groupCodes(col: Column, rows: Int32Array): { codes: Int32Array; levels: unknown[] } {
  if (col.kind === "numeric") return codesOf(col, rows);
  const first = new Int32Array(col.levels.length).fill(-1);
  const codes = new Int32Array(rows.length);
  let k = 0;
  for (let i = 0; i < rows.length; i++) {
    const c = col.codes[rows[i]];
    if (first[c] < 0) first[c] = k++;
    codes[i] = first[c];
  }
  return { codes, levels: new Array<unknown>(k) };
}

/** codesOf for a factor: the same codes and levels, sorting the levels used rather than the rows' labels. */
function factorCodes(labels: string[], src: Int32Array, rows: Int32Array): { codes: Int32Array; levels: string[] } {
  const used = new Uint8Array(labels.length);
  for (const r of rows) used[src[r]] = 1;
  const distinct = Array.from(new Set(labels.filter((_, k) => used[k])));
  const numeric = distinct.every((s) => s !== "" && !Number.isNaN(Number(s)));
  const coll = new Intl.Collator("en");
  distinct.sort((a, b) => (numeric ? Number(a) - Number(b) : coll.compare(a, b)));
  const rankOf = new Map(distinct.map((k, i) => [k, i]));
  const rank = Int32Array.from(labels, (l, k) => (used[k] ? rankOf.get(l)! : -1));
  return { codes: Int32Array.from(rows, (r) => rank[src[r]]), levels: distinct };
}

function numericColumn(table: DataTable, name: string, rows: Int32Array, what: string, role = ""): Float64Array {
  const c = columnByName(table, name);
  if (c.kind !== "numeric") throw new DataError(`the ${role}column '${name}' of ${what} has text; it must be numeric${what.startsWith("a spatial") ? " (a distance needs numbers: coordinates or times)" : ""}`);
  const out = new Float64Array(rows.length);
  for (let i = 0; i < rows.length; i++) out[i] = c.values[rows[i]];
  return out;
}

export function buildResidual(table: DataTable, spec: ModelSpec, design: Design): ResidualModel | null {
  const res = spec.residual;
  const varFuncs = spec.varFuncs ?? [];
  if (!res && !spec.varIdent && varFuncs.length === 0) return null;
  const n = design.n;
  const rows = design.rows;
  // Residual groups: the named column, else the model's one grouping factor, else one group.
  let groupName: string | null = res?.group ?? null;
  if (res && !groupName) {
    const gs = Array.from(new Set(design.reTerms.map((t) => t.group)));
    if (gs.length !== 1) {
      throw new DataError(`say which column groups the residuals, as in ${res.type}(${res.time ?? "1"} | tree): the model has ${gs.length === 0 ? "no" : "several"} grouping factors`);
    }
    groupName = gs[0];
  }
  const groupOf = new Int32Array(n);
  let ngroups = 1;
  if (groupName) {
    const parts = groupName.split(":");
    const keyCodes = parts.map((p) => groupCodes(columnByName(table, p), rows));
    if (keyCodes.length === 1) {
      // One column: groups numbered in order of first appearance, as the joined keys below.
      const kc = keyCodes[0].codes, first = new Int32Array(keyCodes[0].levels.length).fill(-1);
      ngroups = 0;
      for (let i = 0; i < n; i++) {
        if (first[kc[i]] < 0) first[kc[i]] = ngroups++;
        groupOf[i] = first[kc[i]];
      }
    } else {
      const map = new Map<string, number>();
      for (let i = 0; i < n; i++) {
        const k = keyCodes.map((kc) => kc.codes[i]).join(":");
        let g = map.get(k);
        if (g === undefined) map.set(k, (g = map.size));
        groupOf[i] = g;
      }
      ngroups = map.size;
    }
  }
  // Time and occasions (coordinates for the spatial structures).
  const type = res?.type ?? null;
  const isSpatial = !!type && SPATIAL.has(type);
  let time: Float64Array | null = null;
  let occasion: Int32Array | null = null;
  let coords: Float64Array | null = null;
  let dims = 0;
  let nOcc = 0;
  if (type && type !== "CS") {
    if (!res!.time || res!.time === "1") throw new DataError(`${type} needs a ${isSpatial ? "distance (time or coordinate) column" : "time column"}, as in ${type}(${isSpatial ? "x" : "time"} | ${groupName ?? "group"})`);
    const what = isSpatial ? `a spatial structure ${type}` : type;
    time = numericColumn(table, res!.time, rows, what, isSpatial ? "" : "time ");
    const distinct = Float64Array.from(new Set(time)).sort();
    occasion = new Int32Array(n);
    // Each row's rank among the distinct times, by bisection (a Map of doubles is slower at 1M rows).
    for (let i = 0; i < n; i++) {
      let lo = 0, hi = distinct.length - 1;
      const v = time[i];
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (distinct[mid] < v) lo = mid + 1;
        else hi = mid;
      }
      occasion[i] = lo;
    }
    nOcc = distinct.length;
    if (isSpatial) {
      const extra = (res!.coords ?? []).map((c) => numericColumn(table, c, rows, what));
      dims = 1 + extra.length;
      coords = new Float64Array(n * dims);
      for (let i = 0; i < n; i++) {
        coords[i * dims] = time[i];
        for (let k = 1; k < dims; k++) coords[i * dims + k] = extra[k - 1][i];
      }
    }
  }
  // Rows of each group, ordered by time (then the further coordinates).
  const gptr = new Int32Array(ngroups + 1);
  for (let i = 0; i < n; i++) gptr[groupOf[i] + 1]++;
  for (let g = 0; g < ngroups; g++) gptr[g + 1] += gptr[g];
  const fill = gptr.slice(0, ngroups);
  const grows = new Int32Array(n);
  for (let i = 0; i < n; i++) grows[fill[groupOf[i]]++] = i;
  let maxSize = 0;
  const cmp = (a: number, b: number): number => {
    if (coords) {
      for (let k = 0; k < dims; k++) if (coords[a * dims + k] !== coords[b * dims + k]) return coords[a * dims + k] - coords[b * dims + k];
      return 0;
    }
    return time![a] - time![b];
  };
  for (let g = 0; g < ngroups; g++) {
    const seg = grows.subarray(gptr[g], gptr[g + 1]);
    if (time) {
      // Data usually come in time order within groups: sort only when they do not.
      let ordered = true;
      for (let k = 1; k < seg.length && ordered; k++) ordered = cmp(seg[k - 1], seg[k]) < 0 || (cmp(seg[k - 1], seg[k]) === 0 && seg[k - 1] < seg[k]);
      if (!ordered) seg.sort((a, b) => cmp(a, b) || a - b);
      for (let k = 1; k < seg.length; k++) {
        if (cmp(seg[k], seg[k - 1]) === 0) {
          const where = coords && dims > 1 ? `the same ${[res!.time, ...(res!.coords ?? [])].join(", ")}` : `${res!.time} = ${time[seg[k]]}`;
          throw new DataError(`${type} needs distinct ${isSpatial ? "positions" : "times"} within each group: ${groupName ?? "the data"} has two rows at ${where} in one group; remove duplicates or use CS`);
        }
      }
    }
    maxSize = Math.max(maxSize, seg.length);
  }
  // Variance strata: varIdent factor, and the occasion for ARH1 / CSH / UN.
  let vStrata: Int32Array | null = null;
  let vLevels: string[] = [];
  if (spec.varIdent) {
    // The first level (R's factor order) is the reference stratum, with ratio 1.
    const c = codesOf(columnByName(table, spec.varIdent), rows);
    vStrata = c.codes;
    vLevels = c.levels;
    if (vLevels.length < 2) throw new DataError(`varIdent(${spec.varIdent}) needs at least 2 levels; '${spec.varIdent}' has 1 in the rows used`);
  }
  const occVar = !!type && OCC_VAR.has(type);
  const nOccVar = occVar ? nOcc - 1 : 0;
  const nIdent = vStrata ? vLevels.length - 1 : 0;
  let timeScale = 1;
  if (type === "CAR1") {
    let sum = 0, gaps = 0;
    for (let g = 0; g < ngroups; g++) {
      for (let k = gptr[g] + 1; k < gptr[g + 1]; k++) {
        sum += time![grows[k]] - time![grows[k - 1]];
        gaps++;
      }
    }
    if (gaps > 0 && sum > 0 && Number.isFinite(sum)) timeScale = sum / gaps;
  }
  const csInf = maxSize > 1 ? -1 / (maxSize - 1) : -1;
  const layout: ResidualLayout = { type, gptr, grows, maxSize, time, occasion, nOcc, coords, dims, vStrata, nStrata: vLevels.length, nCorr: 0, nOccVar, nIdent, csInf, timeScale };

  checkIdentifiable(layout, res, ngroups);
  const structure = type ? corrStructure(layout, res!) : null;
  layout.nCorr = structure ? structure.nPar : 0;

  const vars: VarFunction[] = [];
  if (occVar) vars.push(varIdent(occasion!, nOcc, (r) => ({ sd_ratio: r })));
  if (vStrata) vars.push(varIdent(vStrata, vLevels.length, (r) => ({ varIdent: r, varIdent_levels: vLevels })));
  for (const vf of varFuncs) {
    const v = vf.fitted ? fittedCovariate(design) : numericColumn(table, vf.covariate, rows, `${vf.kind}(${vf.covariate})`);
    const st = vf.strata ? codesOf(columnByName(table, vf.strata), rows) : null;
    vars.push(varOfCovariate(vf.kind, vf.covariate, v, st ? st.codes : null, st ? st.levels : []));
  }
  const nPar = layout.nCorr + vars.reduce((s, v) => s + v.nPar, 0);

  const sdRow = new Float64Array(n).fill(1);
  const isd = new Float64Array(n).fill(1);
  // The dense structures factor one group at a time (scratch of the largest group squared).
  const Cg = new Float64Array(structure?.kind === "dense" ? Math.max(maxSize * maxSize, 1) : 1);
  // A dense correlation depends on the rows' positions only: a group at the same positions as
  // the one before it (every group of a balanced panel) reuses its factor.
  const samePositions = structure?.kind === "dense" ? positionsRepeat(layout) : null;
  const markov = structure?.kind === "markov";
  const arR = new Float64Array(markov ? n : 0), arC = new Float64Array(markov ? n : 0);
  const lc = { r: 0, one: 1 };

  const whiten: ResidualModel["whiten"] = (eta, cols) => {
    let logdet = 0;
    // SD ratios per row: the product of the variance functions, log|S|^2 = 2 sum log s.
    if (vars.length > 0) {
      sdRow.fill(1);
      let off = layout.nCorr;
      for (const v of vars) {
        logdet += 2 * v.apply(eta.subarray(off, off + v.nPar), sdRow);
        off += v.nPar;
      }
      for (let i = 0; i < n; i++) isd[i] = 1 / sdRow[i];
      if (!Number.isFinite(logdet)) return Infinity;
    }
    if (structure && !structure.set(eta.subarray(0, layout.nCorr))) return Infinity;
    for (let g = 0; g < ngroups; g++) {
      // Offsets into grows, not a subarray per group: this runs once per evaluation per group.
      const o = gptr[g], m = gptr[g + 1] - o;
      if (!structure) {
        for (const c of cols) {
          const w = c.width;
          for (let k = 0; k < m; k++) {
            const r = grows[o + k], s = isd[r];
            for (let j = 0; j < w; j++) c.dst[r * w + j] = c.src[r * w + j] * s;
          }
        }
      } else if (structure.kind === "markov") logdet += whitenMarkov(structure, grows, o, m, isd, cols, arR, arC, lc);
      else if (structure.kind === "cs") logdet += whitenCs(structure, grows, o, m, isd, cols);
      else {
        const ld = whitenDense(structure, grows, o, m, isd, cols, Cg, !!samePositions![g]);
        if (!Number.isFinite(ld)) return Infinity;
        logdet += ld;
      }
    }
    return logdet;
  };

  const params: ResidualModel["params"] = (eta) => {
    const out: ParamReport = structure ? structure.params(eta.subarray(0, layout.nCorr)) : {};
    let off = layout.nCorr;
    for (const v of vars) {
      Object.assign(out, v.params(eta.subarray(off, off + v.nPar)));
      off += v.nPar;
    }
    return out;
  };

  const corr = (eta: Float64Array): CorrParams => {
    if (type === "UN") return { rho: 0, corr: unCorrelation(eta, nOcc) };
    if (!structure) return { rho: 0 };
    const p = structure.params(eta.subarray(0, layout.nCorr));
    return { rho: typeof p.phi === "number" ? p.phi : typeof p.rho === "number" ? p.rho : 0 };
  };

  return {
    type: type ?? "varIdent",
    group: groupName,
    time: res?.time ?? null,
    nPar,
    whiten,
    params,
    groupOf,
    ngroups,
    layout,
    structure,
    vars,
    corr,
    sd: sdRow,
  };
}

/** Per group: 1 when it has the same size, times and coordinates as the group before it. */
function positionsRepeat(lay: ResidualLayout): Uint8Array {
  const { gptr, grows, time, coords, dims } = lay;
  const ng = gptr.length - 1, out = new Uint8Array(ng);
  for (let g = 1; g < ng; g++) {
    const o = gptr[g], p = gptr[g - 1], m = gptr[g + 1] - o;
    if (m !== o - p) continue;
    let same = true;
    for (let k = 0; k < m && same; k++) {
      const a = grows[o + k], b = grows[p + k];
      if (coords) for (let d = 0; d < dims; d++) same = same && coords[a * dims + d] === coords[b * dims + d];
      else if (time) same = time[a] === time[b];
    }
    out[g] = same ? 1 : 0;
  }
  return out;
}

/** The correlation structure of a spec (one constructor per family). */
function corrStructure(lay: ResidualLayout, res: NonNullable<ModelSpec["residual"]>): CorrStructure {
  switch (res.type) {
    case "AR1":
    case "ARH1":
      return ar1(lay);
    case "CAR1":
      return car1(lay);
    case "CS":
    case "CSH":
      return cs(lay);
    case "UN":
      return un(lay);
    case "TOEP":
      return toep(lay, res.bands ?? null);
    case "ARMA":
      return arma(lay, res.p ?? 0, res.q ?? 0);
    default:
      return spatial(lay, res.type, !!res.nugget);
  }
}

/** Structures that the data cannot identify, said before fitting. */
function checkIdentifiable(lay: ResidualLayout, res: ModelSpec["residual"], ngroups: number): void {
  if (!res) return;
  const { nOcc, gptr, grows, occasion } = lay;
  const t = res.type;
  if (t === "UN") {
    const seen = new Uint8Array(nOcc * nOcc);
    let pairs = 0;
    for (let g = 0; g < ngroups; g++) {
      for (let a = gptr[g]; a < gptr[g + 1]; a++) for (let b = gptr[g]; b < a; b++) {
        const k = occasion![grows[a]] * nOcc + occasion![grows[b]];
        if (!seen[k]) {
          seen[k] = 1;
          pairs++;
        }
      }
    }
    if (pairs < (nOcc * (nOcc - 1)) / 2 || ngroups < nOcc) {
      throw new DataError(`UN with ${nOcc} occasions of '${res.time}' cannot be identified from these data (${ngroups} groups${pairs < (nOcc * (nOcc - 1)) / 2 ? ", and some pairs of occasions never occur in the same group" : ""}); use AR1, ARH1 or CS, or fewer occasions`);
    }
  }
  if (lay.maxSize < 2 && t !== "ARH1" && t !== "CSH") {
    throw new DataError(`${t} correlates rows within groups, but every group of '${res.group ?? "the residual groups"}' has one row: nothing to correlate; leave the structure out or group the rows differently`);
  }
  if (t === "TOEP" || t === "ARMA") {
    // Lags present within groups: a lag never seen cannot be estimated.
    const seen = new Uint8Array(Math.max(nOcc, 1));
    for (let g = 0; g < ngroups; g++) for (let a = gptr[g]; a < gptr[g + 1]; a++) for (let b = gptr[g]; b < a; b++) seen[occasion![grows[a]] - occasion![grows[b]]] = 1;
    const maxLag = nOcc - 1;
    if (t === "ARMA") {
      const p = res.p ?? 0, q = res.q ?? 0;
      if (p + q === 0) throw new DataError("ARMA needs an order: write ARMA(time | group, p = 1, q = 1) (p autoregressive and q moving-average terms)");
      if (p > maxLag || q > maxLag) {
        throw new DataError(`ARMA(${p}, ${q}) has an order larger than the series: '${res.time}' has ${nOcc} occasions, so p and q can be at most ${maxLag}`);
      }
    } else {
      const b = res.bands ?? nOcc;
      if (b < 2) throw new DataError(`TOEP(${b}) has no correlation (one band is independence): use bands = 2 or more, or leave the structure out`);
      for (let k = 1; k < Math.min(b, nOcc); k++) {
        if (!seen[k]) throw new DataError(`TOEP: no group has two rows ${k} occasion${k === 1 ? "" : "s"} apart, so the correlation at lag ${k} cannot be estimated; use fewer bands (bands = ${k}) or AR1`);
      }
    }
  }
}
