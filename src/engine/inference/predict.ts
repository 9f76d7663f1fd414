// Predictions for new rows (ARCHITECTURE.md §5, `lmm predict`): the fit, then per new row
//  - population: x' beta-hat, SE sqrt(x' vcov(beta) x);
//  - group: x' beta-hat + z' b-hat; a level the data do not have gets b = 0 for that term (lme4's
//    allow.new.levels = TRUE), said row by row; SE from the joint conditional covariance of
//    (beta-hat, b-hat) through the blocked factor (joint.ts);
//  - forecast: group level plus E[e_new | the group's residuals] = k' R_g^{-1} e-hat_g, the BLUP of
//    a new occasion under the residual correlation (SAS OUTP with REPEATED), with its error
//    variance (forecast.ts).
// Confidence intervals use the SE; prediction intervals add sigma^2 times the row's variance
// ratio and, for each term whose group is new (every term at the population level), z' G z.
// Intervals use the normal quantile (the prediction targets are not single coefficients, so no
// one denominator df applies; said in the notes).
import type { DataTable, Method, PredictInterval, PredictLevel, PredictOptions, PredictResult, PredictRow } from "../types";
import { checkPredictArgs } from "../options";
import { FitState, addLevel, fitForPrediction, fitState, workingX } from "./fit-state";
import { newRows } from "../model/newdata";
import { jointQuadratic } from "./joint";
import { qNorm } from "./dist";
import { ForecastContext, forecastContext } from "./forecast";

export function predictModel(table: DataTable, specText: string, newdata: DataTable, opts: PredictOptions = {}): PredictResult {
  checkPredictArgs(table, specText, newdata, opts);
  const method: Method = opts.method ?? "REML";
  const level: PredictLevel = opts.level ?? "population";
  const interval: PredictInterval = opts.interval ?? "none";
  const conf = opts.conf ?? 0.95;
  const fit = fitForPrediction(table, specText, method, opts.signal);
  const st = fitState(fit);
  const { design, spec, model } = fit;
  const p = design.p;
  const res = fit.residual?.res ?? null;
  const notes: string[] = [];
  if (level === "forecast" && (!res || res.type === "varIdent")) {
    notes.push("forecast needs a residual correlation structure (AR1, CAR1, ARH1, CS or UN); without one it equals the group level, which is given");
  }
  const forecasting = level === "forecast" && !!res && res.type !== "varIdent";
  // Columns beyond the model terms: what the variance ratio and the forecast read.
  const extra: string[] = [];
  if (res && (interval === "prediction" || forecasting)) {
    if (spec.varIdent) extra.push(...spec.varIdent.split(":"));
    if ((res.type === "ARH1" || res.type === "UN" || forecasting) && res.time) extra.push(res.time);
    if (forecasting && res.group) extra.push(...res.group.split(":"));
  }
  const nr = newRows(table, design, spec, newdata, level !== "population", Array.from(new Set(extra)), level !== "population" || interval === "prediction");
  const fc: ForecastContext | null = res ? forecastContext(st, nr, res, forecasting) : null;
  const zq = interval === "none" ? 0 : qNorm(1 - (1 - conf) / 2);
  const rows: PredictRow[] = [];
  const wZ = (): Map<number, Float64Array>[] => model.remats.map(() => new Map<number, Float64Array>());
  const reTerms = design.reTerms;
  for (let i = 0; i < nr.n; i++) {
    if (!nr.ok[i]) {
      rows.push({ fit: null, se: null, lower: null, upper: null, level: null, note: nr.missing[i] });
      continue;
    }
    const x = nr.X.subarray(i * p, i * p + p);
    let fitv = 0;
    for (let j = 0; j < p; j++) fitv += x[j] * st.beta[j];
    const rowNotes: string[] = [];
    let used: PredictLevel = level === "forecast" ? "group" : level;
    let se2: number;
    // The random-effect variance a prediction interval adds (terms whose group is new).
    let reVar = 0;
    if (level === "population") {
      let s = 0;
      for (let a = 0; a < p; a++) {
        let inner = 0;
        for (let c = 0; c < p; c++) inner += st.vcov[a * p + c] * x[c];
        s += x[a] * inner;
      }
      se2 = st.sigma2 * s;
      if (interval === "prediction") {
        design.reTerms.forEach((rt, dt) => (reVar += quadG(st, st.termOf[dt], nr.Z![dt].z, i * rt.effects.length)));
      }
    } else {
      const w = wZ();
      const newTerms: string[] = [];
      reTerms.forEach((rt, dt) => {
        const t = st.termOf[dt];
        const q = rt.effects.length;
        const Zt = nr.Z![dt];
        const c = Zt.level[i];
        if (c < 0) {
          newTerms.push(`${rt.group} '${Zt.labels[i]}'`);
          reVar += quadG(st, t, Zt.z, i * q);
          return;
        }
        for (let a = 0; a < q; a++) fitv += Zt.z[i * q + a] * st.b[t][c * q + a];
        addLevel(st, w, t, c, Zt.z, i * q, 1);
      });
      if (newTerms.length === reTerms.length) used = "population";
      if (newTerms.length > 0) {
        const uniq = Array.from(new Set(newTerms));
        rowNotes.push(`${uniq.join(", ")} ${uniq.length === 1 ? "is" : "are"} not in the data: ${newTerms.length === reTerms.length ? "population level" : "0 for that term"} (a new group)`);
      }
      let wF = workingX(fit, x);
      let extraVar = 0;
      if (forecasting && fc) {
        const f = fc.forecast(i, w, x);
        if (f.ok) {
          fitv += f.shift;
          wF = workingX(fit, f.xTilde);
          extraVar = f.condVar;
          used = "forecast";
        } else if (used !== "population") rowNotes.push(f.why);
      }
      se2 = st.sigma2 * jointQuadratic(model, w, wF);
      if (used === "forecast") reVar += extraVar;
    }
    let se = Math.sqrt(Math.max(se2, 0));
    let lower: number | null = null, upper: number | null = null;
    if (interval === "confidence") {
      lower = fitv - zq * se;
      upper = fitv + zq * se;
    } else if (interval === "prediction") {
      // The new observation's own variance: sigma^2 times its variance ratio squared (already
      // in the forecast's conditional variance), and the new groups' random-effect variance.
      let own = 0;
      if (used !== "forecast") {
        const ratio = fc ? fc.sdRatio(i) : 1;
        if (ratio === null) {
          rowNotes.push("no variance ratio for this row (its level or occasion is not in the data): no prediction interval");
          own = NaN;
        } else own = ratio * ratio;
      }
      const pe = Math.sqrt(se2 + st.sigma2 * (own + reVar));
      if (Number.isFinite(pe)) {
        lower = fitv - zq * pe;
        upper = fitv + zq * pe;
      }
      if (!Number.isFinite(se)) se = NaN;
    }
    rows.push({ fit: fitv, se: Number.isFinite(se) ? se : null, lower, upper, level: used, note: rowNotes.length ? rowNotes.join("; ") : null });
  }
  rows.forEach((r, i) => {
    if (r.note) notes.push(`row ${i + 2}: ${r.note}`);
  });
  if (interval !== "none") {
    notes.push(`${interval === "confidence" ? "confidence" : "prediction"} intervals at ${conf * 100} % use the normal quantile`);
  }
  if (interval === "prediction" && level === "population" && reTerms.length > 0) {
    notes.push("population-level prediction intervals are for a new observation of a new group: they add the random-effect variances and sigma^2");
  }
  return { spec: spec.text, method, level, interval, conf, rows, notes };
}

/** z' G z / sigma^2 for model term t at z[off..]. */
function quadG(st: FitState, t: number, z: ArrayLike<number>, off: number): number {
  const q = st.fit.model.remats[t].q, G = st.G[t];
  let s = 0;
  for (let a = 0; a < q; a++) for (let c = 0; c < q; c++) s += z[off + a] * G[a * q + c] * z[off + c];
  return s;
}
