// Residual covariance structures (nlme's corStruct + varIdent) by whitening (ARCHITECTURE.md §3.1):
// R = blockdiag(R_i) over residual groups, R_i = V_i^{1/2} C_i V_i^{1/2} relative to sigma^2,
// V_i diagonal variance ratios (varIdent, and per occasion for ARH1/UN), C_i the correlation.
// Each group's rows of [Z X y] are divided by their SD ratio and multiplied by F_i with
// F_i' F_i = C_i^{-1}; the objective gains log|R| = sum_i log|R_i|. AR1, ARH1 and CAR1 whiten
// with a bidiagonal F (the process is Markov), CS with its symmetric inverse root (closed form),
// UN with the Cholesky factor of the group's sub-matrix. Each evaluation is one streaming pass.
import type { Column, DataTable, Design, ModelSpec, ResidualResult, ResidualType } from "../types";
import { DataError } from "../errors";

export interface ResidualModel {
  type: ResidualType | "varIdent";
  group: string | null;
  time: string | null;
  /** Number of unconstrained parameters (correlation, then variance ratios). */
  nPar: number;
  /** log|R| for eta, and the whitened copies of the columns (each n x width, row-major). */
  whiten(eta: Float64Array, cols: { src: Float64Array; dst: Float64Array; width: number }[]): number;
  params(eta: Float64Array): ResidualResult["params"];
  /** Group index of each used row (to find random-effect terms that vary within groups). */
  groupOf: Int32Array;
  ngroups: number;
  /** The groups, occasions and strata, for starting values and the crossed-effects path. */
  layout: ResidualLayout;
  /**
   * The correlation parameters for eta: rho (AR1/ARH1/CAR1 phi, CS rho) or the UN matrix. CAR1
   * also gives log phi per unit time (lagCorrelation uses it: phi is near 1 when time is in small
   * units, and phi^lag loses digits where lag * log phi does not).
   */
  corr(eta: Float64Array): CorrParams;
  /** Per-row SD ratios (varIdent and per occasion) of the last whiten() call. */
  readonly sd: Float64Array;
}

export interface CorrParams {
  rho: number;
  corr?: Float64Array;
  logRho?: number;
}

/**
 * Correlation r of two neighbours `lag` apart and 1 - r^2: phi^lag for AR1 (lag in occasions),
 * exp(lag log phi) for CAR1, with 1 - r^2 = -expm1(2 lag log phi) so that it keeps its digits
 * when r is near 1.
 */
export function lagCorrelation(c: CorrParams, lag: number, out: { r: number; one: number }): void {
  if (c.logRho !== undefined) {
    const x = lag * c.logRho;
    out.r = Math.exp(x);
    out.one = -Math.expm1(2 * x);
  } else {
    out.r = Math.pow(c.rho, lag);
    out.one = 1 - out.r * out.r;
  }
}

/** How a residual structure's rows are organized (fixed for a model; no parameter values). */
export interface ResidualLayout {
  type: ResidualType | null;
  /** Rows of group g (time order): grows[gptr[g] .. gptr[g+1]). */
  gptr: Int32Array;
  grows: Int32Array;
  maxSize: number;
  /** Time values and occasion ranks per row (null for CS and varIdent alone). */
  time: Float64Array | null;
  occasion: Int32Array | null;
  nOcc: number;
  /** varIdent stratum per row (0 = reference), and the number of strata. */
  vStrata: Int32Array | null;
  nStrata: number;
  /** Parameter blocks in eta: correlation, then per-occasion log SD ratios, then varIdent. */
  nCorr: number;
  nOccVar: number;
  nIdent: number;
  /** Lower bound of the CS correlation (-1/(max group size - 1)). */
  csInf: number;
  /**
   * CAR1: the mean gap between neighbouring times within groups (1 otherwise). Its parameter is
   * the correlation at this gap, so the optimizer sees the same problem whatever the time unit
   * (days or seconds), while phi is reported per unit time as nlme does.
   */
  timeScale: number;
}

function columnByName(table: DataTable, name: string): Column {
  const c = table.columns.find((x) => x.name === name);
  if (!c) throw new DataError(`unknown column '${name}' in the residual structure; the data has: ${table.columns.map((x) => x.name).join(", ")}`);
  return c;
}

/** Codes and sorted level labels of a column over the used rows (numbers sort numerically). */
function codesOf(col: Column, rows: Int32Array): { codes: Int32Array; levels: string[] } {
  const raw: string[] = [];
  const key = (r: number) => (col.kind === "numeric" ? String(col.values[r]) : col.levels[col.codes[r]]);
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

const logistic = (x: number) => 1 / (1 + Math.exp(-x));

export function buildResidual(table: DataTable, spec: ModelSpec, design: Design): ResidualModel | null {
  const res = spec.residual;
  if (!res && !spec.varIdent) return null;
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
    const cols = parts.map((p) => columnByName(table, p));
    const keyCodes = cols.map((c) => codesOf(c, rows));
    const map = new Map<string, number>();
    for (let i = 0; i < n; i++) {
      const k = keyCodes.map((kc) => kc.codes[i]).join(":");
      let g = map.get(k);
      if (g === undefined) map.set(k, (g = map.size));
      groupOf[i] = g;
    }
    ngroups = map.size;
  }
  // Time and occasions.
  const type = res?.type ?? null;
  let time: Float64Array | null = null;
  let occasion: Int32Array | null = null;
  let nOcc = 0;
  if (type && type !== "CS") {
    if (!res!.time || res!.time === "1") throw new DataError(`${type} needs a time column, as in ${type}(time | ${groupName ?? "group"})`);
    const tc = columnByName(table, res!.time);
    if (tc.kind !== "numeric") throw new DataError(`the time column '${res!.time}' of ${type} has text; it must be numeric`);
    time = Float64Array.from(rows, (r) => tc.values[r]);
    const distinct = Array.from(new Set(time)).sort((a, b) => a - b);
    const rank = new Map(distinct.map((v, i) => [v, i]));
    occasion = Int32Array.from(time, (v) => rank.get(v)!);
    nOcc = distinct.length;
  }
  // Rows of each group, ordered by time.
  const gptr = new Int32Array(ngroups + 1);
  for (let i = 0; i < n; i++) gptr[groupOf[i] + 1]++;
  for (let g = 0; g < ngroups; g++) gptr[g + 1] += gptr[g];
  const fill = gptr.slice(0, ngroups);
  const grows = new Int32Array(n);
  for (let i = 0; i < n; i++) grows[fill[groupOf[i]]++] = i;
  let maxSize = 0;
  for (let g = 0; g < ngroups; g++) {
    const seg = grows.subarray(gptr[g], gptr[g + 1]);
    if (time) {
      const t = time;
      seg.sort((a, b) => t[a] - t[b] || a - b);
      for (let k = 1; k < seg.length; k++) {
        if (t[seg[k]] === t[seg[k - 1]]) {
          throw new DataError(`${type} needs distinct times within each group: ${groupName ?? "the data"} has two rows at ${res!.time} = ${t[seg[k]]} in one group; remove duplicates or use CS`);
        }
      }
    }
    maxSize = Math.max(maxSize, seg.length);
  }
  // Variance strata: varIdent factor, and the occasion for ARH1 / UN.
  let vStrata: Int32Array | null = null;
  let vLevels: string[] = [];
  if (spec.varIdent) {
    // The first level (R's factor order) is the reference stratum, with ratio 1.
    const c = codesOf(columnByName(table, spec.varIdent), rows);
    vStrata = c.codes;
    vLevels = c.levels;
    if (vLevels.length < 2) throw new DataError(`varIdent(${spec.varIdent}) needs at least 2 levels; '${spec.varIdent}' has 1 in the rows used`);
  }
  const occVar = type === "ARH1" || type === "UN";
  const nCorr = type === "AR1" || type === "ARH1" || type === "CAR1" || type === "CS" ? 1 : type === "UN" ? (nOcc * (nOcc - 1)) / 2 : 0;
  if (type === "UN") {
    const pairs = new Set<number>();
    for (let g = 0; g < ngroups; g++) {
      const seg = grows.subarray(gptr[g], gptr[g + 1]);
      for (let a = 0; a < seg.length; a++) for (let b = 0; b < a; b++) pairs.add(occasion![seg[a]] * nOcc + occasion![seg[b]]);
    }
    if (pairs.size < (nOcc * (nOcc - 1)) / 2 || ngroups < nOcc) {
      throw new DataError(`UN with ${nOcc} occasions of '${res!.time}' cannot be identified from these data (${ngroups} groups${pairs.size < (nOcc * (nOcc - 1)) / 2 ? ", and some pairs of occasions never occur in the same group" : ""}); use AR1, ARH1 or CS, or fewer occasions`);
    }
  }
  const nOccVar = occVar ? nOcc - 1 : 0;
  const nIdent = vStrata ? vLevels.length - 1 : 0;
  const nPar = nCorr + nOccVar + nIdent;
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

  // Scratch for UN.
  const Cg = new Float64Array(Math.max(maxSize * maxSize, 1));
  const sdRow = new Float64Array(n).fill(1);
  const ratio = new Float64Array(nOccVar + nIdent);
  // AR1-family whitening coefficients per row (lag correlation, 1/sqrt(1 - r^2), 1/sd).
  const markov = type === "AR1" || type === "ARH1" || type === "CAR1";
  const arR = new Float64Array(markov ? n : 0), arC = new Float64Array(markov ? n : 0), isd = new Float64Array(markov ? n : 0);

  const corrParams = (eta: Float64Array): CorrParams => {
    if (type === "AR1" || type === "ARH1") return { rho: Math.tanh(eta[0] / 2) };
    if (type === "CAR1") {
      // log logistic(eta), without overflow either way.
      const logGap = eta[0] >= 0 ? -Math.log1p(Math.exp(-eta[0])) : eta[0] - Math.log1p(Math.exp(eta[0]));
      const logRho = logGap / timeScale;
      return { rho: Math.exp(logRho), logRho };
    }
    if (type === "CS") return { rho: (Math.exp(eta[0]) + csInf) / (Math.exp(eta[0]) + 1) };
    if (type === "UN") return { rho: 0, corr: unCorrelation(eta, nOcc) };
    return { rho: 0 };
  };

  const whiten: ResidualModel["whiten"] = (eta, cols) => {
    const cp = corrParams(eta);
    const { rho, corr } = cp;
    const lc = { r: 0, one: 1 };
    let logdet = 0;
    // SD ratios per row (exp of the few log ratios once, not per row). log s = sum of the eta's.
    if (occVar || vStrata) {
      for (let k = 0; k < nOccVar + nIdent; k++) ratio[k] = Math.exp(eta[nCorr + k]);
      for (let i = 0; i < n; i++) {
        let s = 1, ls = 0;
        if (occVar && occasion![i] > 0) {
          s *= ratio[occasion![i] - 1];
          ls += eta[nCorr + occasion![i] - 1];
        }
        if (vStrata && vStrata[i] > 0) {
          s *= ratio[nOccVar + vStrata[i] - 1];
          ls += eta[nCorr + nOccVar + vStrata[i] - 1];
        }
        sdRow[i] = s;
        logdet += 2 * ls;
      }
    }
    for (let g = 0; g < ngroups; g++) {
      // Offsets into grows, not a subarray per group: this runs once per evaluation per group.
      const o = gptr[g], m = gptr[g + 1] - o;
      if (type === "AR1" || type === "ARH1" || type === "CAR1") {
        // Per-row coefficients once (pow and sqrt per row, not per row and column), then each
        // column is one multiply-add per value: row k becomes (v_k - r_k v_(k-1)) c_k, v = x / s.
        const r0 = grows[o];
        arR[r0] = 0;
        arC[r0] = 1;
        isd[r0] = 1 / sdRow[r0];
        for (let k = 1; k < m; k++) {
          const row = grows[o + k];
          const lag = type === "CAR1" ? time![row] - time![grows[o + k - 1]] : occasion![row] - occasion![grows[o + k - 1]];
          lagCorrelation(cp, lag, lc);
          const r = lc.r, one = lc.one;
          logdet += Math.log(one);
          arR[row] = r;
          arC[row] = 1 / Math.sqrt(one);
          isd[row] = 1 / sdRow[row];
        }
        for (const c of cols) {
          const w = c.width, src = c.src, dst = c.dst;
          const o0 = r0 * w, i0 = isd[r0];
          for (let j = 0; j < w; j++) dst[o0 + j] = src[o0 + j] * i0;
          for (let k = 1; k < m; k++) {
            const row = grows[o + k], prev = grows[o + k - 1];
            const ro = row * w, op = prev * w;
            const r = arR[row], cf = arC[row], ic = isd[row], ip = isd[prev];
            for (let j = 0; j < w; j++) dst[ro + j] = (src[ro + j] * ic - r * src[op + j] * ip) * cf;
          }
        }
      } else if (type === "CS") {
        // C = (1-rho) I + rho 11'; C^{-1/2} = (I - P)/sqrt(1-rho) + P/sqrt(1+(m-1)rho), P = 11'/m.
        const a = 1 / Math.sqrt(1 - rho), b = 1 / Math.sqrt(1 + (m - 1) * rho);
        logdet += (m - 1) * Math.log(1 - rho) + Math.log(1 + (m - 1) * rho);
        for (const c of cols) {
          const w = c.width;
          for (let j = 0; j < w; j++) {
            let mean = 0;
            for (let k = 0; k < m; k++) mean += c.src[grows[o + k] * w + j] / sdRow[grows[o + k]];
            mean /= m;
            for (let k = 0; k < m; k++) {
              const v = c.src[grows[o + k] * w + j] / sdRow[grows[o + k]];
              c.dst[grows[o + k] * w + j] = a * (v - mean) + b * mean;
            }
          }
        }
      } else if (type === "UN") {
        for (let a = 0; a < m; a++) for (let b = 0; b <= a; b++) Cg[a * m + b] = corr![occasion![grows[o + a]] * nOcc + occasion![grows[o + b]]];
        // In-place Cholesky of the group's correlation sub-matrix.
        for (let a = 0; a < m; a++) {
          for (let b = 0; b <= a; b++) {
            let s = Cg[a * m + b];
            for (let k = 0; k < b; k++) s -= Cg[a * m + k] * Cg[b * m + k];
            if (a === b) {
              if (!(s > 0)) return Infinity;
              Cg[a * m + a] = Math.sqrt(s);
              logdet += 2 * Math.log(Cg[a * m + a]);
            } else Cg[a * m + b] = s / Cg[b * m + b];
          }
        }
        for (const c of cols) {
          const w = c.width;
          for (let j = 0; j < w; j++) {
            for (let a = 0; a < m; a++) {
              let s = c.src[grows[o + a] * w + j] / sdRow[grows[o + a]];
              for (let k = 0; k < a; k++) s -= Cg[a * m + k] * c.dst[grows[o + k] * w + j];
              c.dst[grows[o + a] * w + j] = s / Cg[a * m + a];
            }
          }
        }
      } else {
        for (const c of cols) {
          const w = c.width;
          for (let k = 0; k < m; k++) for (let j = 0; j < w; j++) c.dst[grows[o + k] * w + j] = c.src[grows[o + k] * w + j] / sdRow[grows[o + k]];
        }
      }
    }
    return logdet;
  };

  const params: ResidualModel["params"] = (eta) => {
    const out: ResidualResult["params"] = {};
    const { rho, corr } = corrParams(eta);
    if (type === "AR1" || type === "ARH1" || type === "CAR1") out.phi = rho;
    if (type === "CS") out.rho = rho;
    if (type === "UN") out.corr = Array.from({ length: nOcc }, (_, a) => Array.from(corr!.subarray(a * nOcc, a * nOcc + nOcc)));
    if (occVar) out.sd_ratio = [1, ...Array.from(eta.subarray(nCorr, nCorr + nOccVar), Math.exp)];
    if (vStrata) {
      out.varIdent = [1, ...Array.from(eta.subarray(nCorr + nOccVar), Math.exp)];
      out.varIdent_levels = vLevels;
    }
    return out;
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
    layout: { type, gptr, grows, maxSize, time, occasion, nOcc, vStrata, nStrata: vLevels.length, nCorr, nOccVar, nIdent, csInf, timeScale },
    corr: corrParams,
    sd: sdRow,
  };
}

/**
 * Unstructured correlation from unconstrained angles (nlme's corSymm spherical parameterization):
 * column by column, the Cholesky factor of the correlation matrix has unit rows built from cosines
 * and sines of angles alpha = pi * logistic(eta) in (0, pi). Returns the full m x m correlation.
 */
function unCorrelation(eta: Float64Array, m: number): Float64Array {
  const L = new Float64Array(m * m);
  let k = 0;
  L[0] = 1;
  for (let i = 1; i < m; i++) {
    let rest = 1;
    for (let j = 0; j < i; j++) {
      const alpha = Math.PI * logistic(eta[k++]);
      L[i * m + j] = rest * Math.cos(alpha);
      rest *= Math.sin(alpha);
    }
    L[i * m + i] = rest;
  }
  const C = new Float64Array(m * m);
  for (let a = 0; a < m; a++) for (let b = 0; b <= a; b++) {
    let s = 0;
    for (let g = 0; g <= b; g++) s += L[a * m + g] * L[b * m + g];
    C[a * m + b] = s;
    C[b * m + a] = s;
  }
  return C;
}
