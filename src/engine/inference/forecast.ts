// The residual structure's part of a prediction for a new row: its variance ratio (varIdent
// level, ARH1/UN occasion) for prediction intervals, and the forecast of a new occasion of a
// group seen in the data. With e ~ N(0, sigma^2 R) and R block-diagonal by group, the best
// linear unbiased predictor of y_new (Goldberger 1962; SAS OUTP with REPEATED) is
//   y-hat = x' beta-hat + z' b-hat + a' e-hat_g,  a = R_g^{-1} k,  k = Cov(e_g, e_new) / sigma^2,
// e-hat_g the group's conditional residuals. Its error is
//   x~' (beta - beta-hat) + z~' (b - b-hat) + (e_new - a' e_g),  x~ = x - X_g' a, z~ = z - Z_g' a,
// and the last part is independent of the data, so
//   Var = sigma^2 ( ||L^{-1} w~||^2 + r_new - k' a )   (joint.ts for the first term).
// R_g is the group's own m x m block (m = its rows, small in repeated measures); nothing n x n.
import type { Column } from "../types";
import { DataError } from "../errors";
import type { ResidualModel } from "../model/residual";
import type { NewRows } from "../model/newdata";
import { cholLower, solveLower, solveLowerT } from "../linalg/dense";
import { FitState, addLevel } from "./fit-state";

/** Longest group whose residual block the forecast factors (m^3 / 3 operations). */
const MAX_GROUP = 2000;

export type Forecast = { ok: true; shift: number; xTilde: Float64Array; condVar: number } | { ok: false; why: string };

export interface ForecastContext {
  /** The row's residual SD ratio (1 without variance parameters); null when it has none. */
  sdRatio(i: number): number | null;
  /** The forecast of new row i; updates w (the random-effect coefficients) to w~ when ok. */
  forecast(i: number, w: Map<number, Float64Array>[], x: Float64Array): Forecast;
}

function label(c: Column, r: number): string | null {
  if (c.kind === "numeric") return c.values[r] === c.values[r] ? String(c.values[r]) : null;
  return c.codes[r] >= 0 ? c.levels[c.codes[r]] : null;
}

/** The structures whose correlations the forecast knows. */
const FORECAST_TYPES = new Set(["AR1", "ARH1", "CAR1", "CS", "UN"]);

export function forecastContext(st: FitState, nr: NewRows, res: ResidualModel, forecasting: boolean): ForecastContext {
  const { fit } = st;
  const { design, spec } = fit;
  const eta = fit.eta;
  const params = res.params(eta);
  const cp = res.corr(eta);
  const lay = res.layout;
  const type = lay.type;
  if (forecasting && type !== null && !FORECAST_TYPES.has(type)) {
    throw new DataError(`the forecast from a group's residuals is computed for AR1, ARH1, CAR1, CS and UN, not yet for ${type}: use level "group"`);
  }
  // CAR1: log phi per unit time from eta as residual/markov.ts maps it, so that phi^lag keeps
  // its digits near phi = 1.
  const e0 = eta.length > 0 ? eta[0] : 0;
  const logPhi = (e0 >= 0 ? -Math.log1p(Math.exp(-e0)) : e0 - Math.log1p(Math.exp(e0))) / lay.timeScale;
  const col = (name: string) => nr.table.columns.find((c) => c.name === name) ?? null;
  const nT = nr.nTrain;

  // Occasion times (distinct training times in order).
  const occTimes: number[] = [];
  if (lay.time && lay.occasion) for (let i = 0; i < design.n; i++) occTimes[lay.occasion[i]] = lay.time[i];
  const occIndex = new Map(occTimes.map((t, k) => [t, k]));
  const timeCol = res.time ? col(res.time) : null;
  const timeOf = (i: number): number => (timeCol && timeCol.kind === "numeric" ? timeCol.values[nT + i] : NaN);
  // AR1 counts occasions: new times after the last training occasion join the occasions in order.
  const after = new Map<number, number>();
  if (type === "AR1" && timeCol) {
    const last = occTimes.length ? occTimes[occTimes.length - 1] : -Infinity;
    const later = new Set<number>();
    for (let i = 0; i < nr.n; i++) {
      const t = timeOf(i);
      if (t > last && !occIndex.has(t)) later.add(t);
    }
    Array.from(later).sort((a, b) => a - b).forEach((t, k) => after.set(t, occTimes.length + k));
  }
  const occasionOf = (t: number): number | null => occIndex.get(t) ?? after.get(t) ?? null;

  const vCol = spec.varIdent && !spec.varIdent.includes(":") ? col(spec.varIdent) : null;
  const vLevels = (params.varIdent_levels as string[] | undefined) ?? [];
  const vRatio = (params.varIdent as number[] | undefined) ?? [];
  const occRatio = (params.sd_ratio as number[] | undefined) ?? null;

  // varPower, varExp ... of a covariate: not carried to new rows yet, so no ratio (and no
  // prediction interval) rather than a wrong one.
  const otherVarFuncs = (spec.varFuncs?.length ?? 0) > 0;
  const sdRatio = (i: number): number | null => {
    if (otherVarFuncs) return null;
    let s = 1;
    if (vLevels.length > 0) {
      const l = vCol ? label(vCol, nT + i) : null;
      const k = l === null ? -1 : vLevels.indexOf(l);
      if (k < 0) return null;
      s *= vRatio[k];
    }
    if (occRatio) {
      const k = occIndex.get(timeOf(i));
      if (k === undefined) return null;
      s *= occRatio[k];
    }
    return s;
  };

  // Residual groups by label (the columns of the group, joined).
  const groupCols = res.group ? res.group.split(":").map((g) => col(g)) : [];
  const keyOf = (r: number): string | null => {
    const parts: string[] = [];
    for (const c of groupCols) {
      const l = c ? label(c, r) : null;
      if (l === null) return null;
      parts.push(l);
    }
    return parts.join("\u0001");
  };
  const groupIndex = new Map<string, number>();
  if (forecasting) for (let i = 0; i < design.n; i++) {
    const k = keyOf(design.rows[i]);
    if (k !== null && !groupIndex.has(k)) groupIndex.set(k, res.groupOf[i]);
  }

  /** Correlation of two different rows of one group. */
  const corr = (oa: number, ob: number, ta: number, tb: number): number => {
    switch (type) {
      case "AR1":
      case "ARH1":
        return Math.pow(cp.rho, Math.abs(oa - ob));
      case "CAR1":
        return Math.exp(Math.abs(ta - tb) * logPhi);
      case "CS":
        return cp.rho;
      case "UN":
        return cp.corr![oa * lay.nOcc + ob];
      default:
        return 0;
    }
  };

  const groupName = res.group ?? "the data";
  const forecast = (i: number, w: Map<number, Float64Array>[], x: Float64Array): Forecast => {
    const key = keyOf(nT + i);
    const g = key === null ? undefined : groupIndex.get(key);
    const shown = key === null ? "" : key.split("\u0001").join(":");
    if (g === undefined) return { ok: false, why: `${groupName} '${shown}' has no rows in the data, so there are no residuals to forecast from: group level` };
    const o = lay.gptr[g], m = lay.gptr[g + 1] - o;
    const needTime = type !== "CS";
    const t = needTime ? timeOf(i) : NaN;
    const occ = type === "AR1" || type === "ARH1" || type === "UN" ? occasionOf(t) : 0;
    if (occ === null) {
      return { ok: false, why: `${res.time} = ${t} is not an occasion of the data${type === "AR1" ? " and not after the last one" : ""} (${type} correlates by occasion), so no forecast: group level` };
    }
    if (m > MAX_GROUP) return { ok: false, why: `${groupName} '${shown}' has ${m} rows, more than the ${MAX_GROUP} a forecast factors: group level` };
    const rows = lay.grows.subarray(o, o + m);
    if (needTime) {
      for (const r of rows) if (lay.time![r] === t) return { ok: false, why: `${groupName} '${shown}' already has a row at ${res.time} = ${t}: not a new occasion, so group level` };
    }
    const sNew = sdRatio(i);
    if (sNew === null) return { ok: false, why: "no variance ratio for this row (its level or occasion is not in the data), so no forecast: group level" };
    const sd = res.sd;
    const occOf = (r: number) => (lay.occasion ? lay.occasion[r] : 0);
    const timeAt = (r: number) => (lay.time ? lay.time[r] : 0);
    const R = new Float64Array(m * m);
    const k = new Float64Array(m);
    for (let a = 0; a < m; a++) {
      const ra = rows[a];
      k[a] = sNew * sd[ra] * corr(occ, occOf(ra), t, timeAt(ra));
      for (let b = 0; b <= a; b++) {
        const rb = rows[b];
        R[a * m + b] = sd[ra] * sd[rb] * (a === b ? 1 : corr(occOf(ra), occOf(rb), timeAt(ra), timeAt(rb)));
      }
    }
    if (!cholLower(R, m)) return { ok: false, why: `the residual correlation of ${groupName} '${shown}' is not positive definite: group level` };
    const a = Float64Array.from(k);
    solveLower(R, m, 0, m, a);
    let kRk = 0;
    for (let j = 0; j < m; j++) kRk += a[j] * a[j];
    solveLowerT(R, m, 0, m, a);
    // Conditional residuals of the group's rows, and x~, z~.
    const p = design.p;
    const xTilde = Float64Array.from(x);
    let shift = 0;
    for (let j = 0; j < m; j++) {
      const r = rows[j];
      let e = design.y[r];
      for (let f = 0; f < p; f++) {
        e -= design.X[r * p + f] * st.beta[f];
        xTilde[f] -= a[j] * design.X[r * p + f];
      }
      design.reTerms.forEach((rt, dt) => {
        const tt = st.termOf[dt], q = rt.effects.length, c = rt.refs[r];
        for (let h = 0; h < q; h++) e -= rt.z[r * q + h] * st.b[tt][c * q + h];
        addLevel(st, w, tt, c, rt.z, r * q, -a[j]);
      });
      shift += a[j] * e;
    }
    return { ok: true, shift, xTilde, condVar: sNew * sNew - kRk };
  };
  return { sdRatio, forecast };
}
