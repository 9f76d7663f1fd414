// Approximate confidence intervals for the parameters of a model with a residual structure, as
// nlme's intervals(gls) and intervals(lme): Wald intervals on nlme's unconstrained ("natural")
// scale, from the Hessian of the log-likelihood (REML or ML, sigma not profiled), transformed
// back. The scales are nlme's:
//   - the random-effect SDs (absolute) and sigma on the log scale, random-effect correlations
//     and the UN correlations by Fisher's z (pdNatural, corNatural);
//   - AR1/ARH1 phi by log((1+phi)/(1-phi)), CAR1 phi by its logit, CS rho by
//     log((rho - inf)/(1 - rho)) (inf = -1/(largest group - 1));
//   - varIdent ratios (and ARH1/CSH/UN's per-occasion SD ratios) on the log scale, varPower and
//     varExp's exponents as they are, varConstPower's constant on the log scale.
// The Hessian is taken in our own parameters (working theta, eta, log sigma) by central differences
// of the analytic gradient (model/residual-gradient.ts) and carried to nlme's by the delta method
// (exact at the optimum, where the gradient vanishes). The spatial structures' range on the log
// scale and nugget on the logit, ARMA(1,0)/(0,1)/(1,1)'s coefficients by Fisher's z (nlme's
// partial-autocorrelation scale at order 1). TOEP (not in nlme) and higher ARMA orders get no
// interval for their own parameters (said).
import type { LmmFit } from "../model/prepared";
import type { ResidualInterval } from "../types";
import { DenseBlocks } from "../model/residual-gradient";
import { hessianOfGradient } from "../model/quasi-newton";
import { fillTemplate } from "../model/remat";
import { relativeCovariance } from "../model/components";
import { qNorm } from "./dist";
import { cholLower, invFromChol } from "../linalg/dense";

/** One parameter on nlme's natural scale: where it reports, and how its value maps back. */
interface Natural {
  part: ResidualInterval["part"];
  name: string;
  /** Varcomp row it fills (random effects and sigma), as group / effect / effect2. */
  row?: { group: string; effect: string | null; effect2: string | null };
  back: (u: number) => number;
}

export interface StructureIntervals {
  level: number;
  params: ResidualInterval[];
  /** Bounds for the varcomp rows (SDs, correlations, the residual SD), keyed group|effect|effect2. */
  rows: Map<string, [number | null, number | null]>;
  messages: string[];
}

const fisher = (r: number) => Math.log((1 + r) / (1 - r));
const unFisher = (u: number) => Math.tanh(u / 2);
const logit = (p: number) => Math.log(p / (1 - p));
const logistic = (u: number) => 1 / (1 + Math.exp(-u));
const ident = (u: number) => u;
export const rowKey = (group: string, effect: string | null, effect2: string | null) => `${group}|${effect ?? ""}|${effect2 ?? ""}`;

const CACHE = new WeakMap<LmmFit, StructureIntervals>();
const SPATIAL = new Set(["EXP", "GAUS", "SPHER", "LIN", "RATIO"]);

/** The orders of an ARMA structure from its reported coefficients (Phi1 .., Theta1 ..). */
function armaOrder(p: Record<string, unknown>): { p: number; q: number } {
  const keys = Object.keys(p);
  return { p: keys.filter((k) => /^Phi\d+$/.test(k)).length, q: keys.filter((k) => /^Theta\d+$/.test(k)).length };
}

/**
 * The natural parameters of the fit at w = (working theta, eta, log sigma): their values, and
 * once (with `meta`) what they are. Values that are not finite (an SD of 0) are NaN.
 */
function naturalValues(fit: LmmFit, w: Float64Array, meta: Natural[] | null): Float64Array {
  const out: number[] = [];
  const push = (u: number, m: Natural) => {
    out.push(u);
    meta?.push(m);
  };
  const remats = fit.model.remats;
  const nth = fit.theta.length, ne = fit.eta.length;
  const sigma = Math.exp(w[nth + ne]);
  for (const r of remats) {
    const q = r.q, T = new Float64Array(q * q);
    fillTemplate(w, r.thetaOffset, q, T);
    const cov = relativeCovariance(r, T);
    for (let a = 0; a < q; a++) push(Math.log(sigma * Math.sqrt(cov[a * q + a])), { part: "reStruct", name: `sd(${r.effects[a]})`, row: { group: r.label, effect: r.effects[a], effect2: null }, back: Math.exp });
    for (let a = 0; a < q; a++) {
      for (let b = a + 1; b < q; b++) {
        const rho = cov[a * q + b] / Math.sqrt(cov[a * q + a] * cov[b * q + b]);
        push(fisher(rho), { part: "reStruct", name: `cor(${r.effects[a]},${r.effects[b]})`, row: { group: r.label, effect: r.effects[a], effect2: r.effects[b] }, back: unFisher });
      }
    }
  }
  const res = fit.residual!.res;
  const eta = w.subarray(nth, nth + ne);
  const p = res.params(eta);
  const type = res.type;
  if (type === "AR1" || type === "ARH1") push(fisher(p.phi as number), { part: "corStruct", name: "Phi", back: unFisher });
  else if (type === "CAR1") push(logit(p.phi as number), { part: "corStruct", name: "Phi", back: logistic });
  else if (type === "CS" || type === "CSH") {
    const inf = res.layout.csInf, rho = p.rho as number;
    const back = (u: number) => (u > 0 ? (1 + inf * Math.exp(-u)) / (1 + Math.exp(-u)) : (Math.exp(u) + inf) / (Math.exp(u) + 1));
    push(Math.log((rho - inf) / (1 - rho)), { part: "corStruct", name: "Rho", back });
  } else if (type === "UN") {
    const C = p.corr as number[][];
    for (let i = 0; i < C.length; i++) for (let j = i + 1; j < C.length; j++) push(fisher(C[i][j]), { part: "corStruct", name: `cor(${i + 1},${j + 1})`, back: unFisher });
  } else if (SPATIAL.has(type)) {
    // nlme's corSpatial: log range, logit nugget.
    push(Math.log(p.range as number), { part: "corStruct", name: "range", back: Math.exp });
    if (typeof p.nugget === "number") push(logit(p.nugget), { part: "corStruct", name: "nugget", back: logistic });
  } else if (type === "ARMA" && armaOrder(p).p <= 1 && armaOrder(p).q <= 1) {
    // nlme's corARMA: Fisher z of the partial autocorrelations of each part; with one
    // coefficient per part that is the coefficient itself.
    for (const key of ["Phi1", "Theta1"]) if (typeof p[key] === "number") push(fisher(p[key] as number), { part: "corStruct", name: key, back: unFisher });
  }
  // Variance functions (in eta order): ratios on the log scale, exponents as they are.
  if (Array.isArray(p.sd_ratio)) {
    const times = occasionLabels(fit);
    (p.sd_ratio as number[]).slice(1).forEach((v, k) => push(Math.log(v), { part: "varStruct", name: times[k + 1], back: Math.exp }));
  }
  if (Array.isArray(p.varIdent)) {
    const levels = p.varIdent_levels as string[];
    (p.varIdent as number[]).slice(1).forEach((v, k) => push(Math.log(v), { part: "varStruct", name: levels[k + 1], back: Math.exp }));
  }
  for (const kind of ["varPower", "varExp", "varConstPower"]) {
    const levels = p[`${kind}_levels`] as string[] | undefined;
    for (const [key, name, log] of [[`${kind}_power`, "power", false], [`${kind}_expon`, "expon", false], [`${kind}_const`, "const", true]] as const) {
      const v = p[key];
      if (v === undefined) continue;
      const vals = Array.isArray(v) ? (v as number[]) : [v as number];
      vals.forEach((x, s) => push(log ? Math.log(x) : x, { part: "varStruct", name: levels ? `${name}.${levels[s]}` : name, back: log ? Math.exp : ident }));
    }
  }
  push(w[nth + ne], { part: "sigma", name: "sigma", row: { group: "Residual", effect: null, effect2: null }, back: Math.exp });
  return Float64Array.from(out, (v) => (Number.isFinite(v) ? v : NaN));
}

/** The time values of the occasions (nlme names the per-occasion variance ratios by them). */
function occasionLabels(fit: LmmFit): string[] {
  const lay = fit.residual!.res.layout;
  const out = new Array<string>(lay.nOcc).fill("");
  if (lay.time && lay.occasion) for (let i = 0; i < lay.time.length; i++) out[lay.occasion[i]] = String(lay.time[i]);
  return out;
}

/** nlme-style intervals of a fitted model with a residual structure (cached per fit and level). */
export function structureIntervals(fit: LmmFit, level: number): StructureIntervals {
  const hit = CACHE.get(fit);
  if (hit && hit.level === level) return hit;
  const out = compute(fit, level);
  CACHE.set(fit, out);
  return out;
}

function compute(fit: LmmFit, level: number): StructureIntervals {
  const result: StructureIntervals = { level, params: [], rows: new Map(), messages: [] };
  const dense = fit.residual ? DenseBlocks.of(fit) : null;
  if (!dense) {
    result.messages.push("intervals of the variance components and the residual-structure parameters are not computed for this model: its rows do not split into small independent groups (a crossed design or one long series), where the Hessian they need is too expensive");
    return result;
  }
  const reml = fit.method === "REML";
  const nth = dense.nTheta, ne = dense.nEta, k = nth + ne + 1;
  const x = Float64Array.from([...fit.theta, ...fit.eta]);
  dense.evaluate(x, reml);
  const d = reml ? fit.design.n - fit.basis.map.p : fit.design.n;
  const w0 = Float64Array.from([...x, 0.5 * Math.log(dense.lastRss / d)]);
  // Gradient in (working theta, eta, log sigma) of the deviance with sigma not profiled.
  const xs = new Float64Array(nth + ne), gs = new Float64Array(nth + ne + 1);
  const fg = (w: Float64Array, g: Float64Array): number => {
    xs.set(w.subarray(0, nth + ne));
    const sigma = Math.exp(w[nth + ne]);
    const f = dense.evaluate(xs, reml, gs, sigma);
    g.set(gs);
    g[nth + ne] = gs[nth + ne] * sigma;
    return f;
  };
  const H = hessianOfGradient(fg, w0);
  dense.reset(fit.eta);
  const cov = inverseSpd(H, k);
  if (!cov) {
    result.messages.push("no intervals for the variance components and the residual-structure parameters: the Hessian of the log-likelihood is not positive definite at the estimates (a parameter on its boundary, or a structure the data hardly identify), as nlme's intervals() says");
    return result;
  }
  for (let i = 0; i < k * k; i++) cov[i] *= 2;
  const meta: Natural[] = [];
  const u0 = naturalValues(fit, w0, meta);
  const m = u0.length;
  // Jacobian of the natural parameters in w, by central differences (each map is cheap).
  const J = new Float64Array(m * k);
  const wp = Float64Array.from(w0);
  for (let j = 0; j < k; j++) {
    const h = 1e-6 * Math.max(1, Math.abs(w0[j]));
    wp[j] = w0[j] + h;
    const up = naturalValues(fit, wp, null);
    wp[j] = w0[j] - h;
    const um = naturalValues(fit, wp, null);
    wp[j] = w0[j];
    for (let i = 0; i < m; i++) J[i * k + j] = (up[i] - um[i]) / (2 * h);
  }
  const z = qNorm(1 - (1 - level) / 2);
  const missing: string[] = [], overflow: string[] = [];
  meta.forEach((par, i) => {
    let v = 0;
    for (let a = 0; a < k; a++) {
      let s = 0;
      for (let b = 0; b < k; b++) s += cov[a * k + b] * J[i * k + b];
      v += J[i * k + a] * s;
    }
    const ok = Number.isFinite(u0[i]) && v >= 0 && Number.isFinite(v);
    const se = ok ? Math.sqrt(v) : NaN;
    // A bound beyond what a double holds (exp of a huge log-SD at an extreme level) is left empty.
    const end = (u: number): number | null => {
      const v = par.back(u);
      return Number.isFinite(v) ? v : null;
    };
    const lower = ok ? end(u0[i] - z * se) : null, upper = ok ? end(u0[i] + z * se) : null;
    if (!ok) missing.push(par.name);
    else if (lower === null || upper === null) overflow.push(par.name);
    const estimate = par.back(u0[i]);
    if (par.row) result.rows.set(rowKey(par.row.group, par.row.effect, par.row.effect2), [lower, upper]);
    if (par.part === "corStruct" || par.part === "varStruct") result.params.push({ part: par.part, name: par.name, lower, estimate, upper });
  });
  result.messages.push(`the intervals of the variance components and residual-structure parameters are nlme's intervals(): approximate (Wald on nlme's scales: log SD, Fisher z for correlations, log ratios), from the Hessian of the ${fit.method} log-likelihood`);
  const t = fit.residual!.res.type;
  const higherArma = t === "ARMA" && (() => {
    const o = armaOrder(fit.residual!.res.params(fit.eta));
    return o.p > 1 || o.q > 1;
  })();
  if (t === "TOEP" || higherArma) result.messages.push(`the ${t} correlation parameters get no interval (${t === "TOEP" ? "nlme has no Toeplitz structure to take the scale from" : "nlme's partial-autocorrelation scale for ARMA orders above 1 is not implemented"}); the intervals of the other parameters account for them`);
  if (missing.length > 0) result.messages.push(`no interval for ${missing.join(", ")}: the estimate is on the boundary (an SD of 0 or a correlation of ±1)`);
  if (overflow.length > 0) result.messages.push(`the interval of ${overflow.join(", ")} has an end beyond any representable number (the data hardly determine it): that end is left empty`);
  return result;
}

/** Inverse of a symmetric positive definite k x k matrix (null if not positive definite). */
function inverseSpd(H: Float64Array, k: number): Float64Array | null {
  if (!H.every(Number.isFinite)) return null;
  const L = Float64Array.from(H);
  return cholLower(L, k) ? invFromChol(L, k) : null;
}

/** The `intervals` keys of a fit's residual result (none when ci = "none"). */
export function residualIntervals(fit: LmmFit, ci: string, level: number): { intervals?: ResidualInterval[]; intervals_level?: number } {
  if (ci === "none" || !fit.residual) return {};
  return { intervals: structureIntervals(fit, level).params, intervals_level: level };
}
