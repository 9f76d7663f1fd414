// Confidence intervals for the variance components (the lecture's Table 1 sd_2.5 / sd_97.5).
// "profile" follows lme4's confint(method = "profile"): the ML deviance (REML fits are refitted
// by ML first) is profiled in the standard-deviation / correlation scale; each end is where the
// signed root zeta(x) = sign(x - x^) sqrt(dev(x) - dev^) crosses the normal quantile. We find that
// crossing exactly (lme4 interpolates a spline through profile points). An SD whose profile never
// reaches the quantile above 0 gets lower end 0. "wald" is the cheaper Wald interval on the log
// scale of each SD (atanh for correlations), labelled as such.
import type { VarcompRow } from "../types";
import { LmmFit, estimatedMs, fitPrepared } from "../model/prepared";
import { PROFILE_MS, profileMs } from "../model/cost";
import { bobyqa } from "../optim";
import { cholCopy } from "../linalg/dense";
import type { ReMat } from "../model/remat";
import { varcompRows } from "../model/components";
import { hessian } from "./numderiv";
import { pinvSym } from "./fixef";
import { qNorm } from "./dist";

/** One entry of the sd/cor parameter vector: which row of the varcomp table it fills. */
interface Par {
  kind: "sd" | "cor" | "sigma";
  term: number;
  a: number;
  b: number;
}

function parList(remats: ReMat[]): Par[] {
  const out: Par[] = [];
  remats.forEach((r, t) => {
    for (let a = 0; a < r.q; a++) out.push({ kind: "sd", term: t, a, b: a });
    for (let a = 0; a < r.q; a++) for (let b = a + 1; b < r.q; b++) out.push({ kind: "cor", term: t, a, b });
  });
  out.push({ kind: "sigma", term: -1, a: 0, b: 0 });
  return out;
}

/** Working theta from (sd, cor, sigma); null when the correlation matrix is not valid. */
function thetaFromSdcor(remats: ReMat[], phi: Float64Array, out: Float64Array): boolean {
  const sigma = phi[phi.length - 1];
  let k = 0;
  for (const r of remats) {
    const q = r.q;
    const sd = phi.subarray(k, k + q);
    const S = new Float64Array(q * q);
    for (let a = 0; a < q; a++) S[a * q + a] = (sd[a] * sd[a]) / (sigma * sigma);
    let c = k + q;
    for (let a = 0; a < q; a++) for (let b = a + 1; b < q; b++) {
      const v = (phi[c++] * sd[a] * sd[b]) / (sigma * sigma);
      S[a * q + b] = v;
      S[b * q + a] = v;
    }
    // Working scale: C^{-1} S C^{-T}; C is upper triangular with positive diagonal.
    const W = conjugateByCInverse(r.C, S, q);
    const L = cholCopy(W, q);
    if (!L) return false;
    let o = r.thetaOffset;
    for (let j = 0; j < q; j++) for (let i = j; i < q; i++) out[o++] = L[i * q + j];
    k = c;
  }
  return true;
}

function conjugateByCInverse(C: Float64Array, S: Float64Array, q: number): Float64Array {
  // Solve C X = S, then X C' = ... i.e. W = C^{-1} S C^{-T} by back substitution (C upper).
  const X = new Float64Array(q * q);
  for (let col = 0; col < q; col++) {
    for (let i = q - 1; i >= 0; i--) {
      let s = S[i * q + col];
      for (let k = i + 1; k < q; k++) s -= C[i * q + k] * X[k * q + col];
      X[i * q + col] = s / C[i * q + i];
    }
  }
  const W = new Float64Array(q * q);
  for (let row = 0; row < q; row++) {
    for (let i = q - 1; i >= 0; i--) {
      let s = X[row * q + i];
      for (let k = i + 1; k < q; k++) s -= C[i * q + k] * W[row * q + k];
      W[row * q + i] = s / C[i * q + i];
    }
  }
  return W;
}

/** The fit's SD/correlation/sigma vector, read off the varcomp rows. */
function phiFromRows(rows: VarcompRow[], remats: ReMat[], pars: Par[]): Float64Array {
  const phi = new Float64Array(pars.length);
  pars.forEach((p, i) => {
    const row = rowFor(rows, remats, p);
    phi[i] = p.kind === "cor" ? row.corr ?? 0 : row.sd ?? 0;
  });
  return phi;
}

function rowFor(rows: VarcompRow[], remats: ReMat[], p: Par): VarcompRow {
  if (p.kind === "sigma") return rows[rows.length - 1];
  const r = remats[p.term];
  const hit = rows.find((x) => x.group === r.label && x.effect === r.effects[p.a] && (p.kind === "sd" ? x.effect2 === null : x.effect2 === r.effects[p.b]));
  if (!hit) throw new Error("internal: variance-component row not found");
  return hit;
}


export function varcompIntervals(fit: LmmFit, rows: VarcompRow[], level: number, how: string, messages: string[]): void {
  const { model } = fit;
  const remats = model.remats;
  const pars = parList(remats);
  const z = qNorm(1 - (1 - level) / 2);
  // Neither kind is implemented jointly with the residual-structure parameters (a Wald interval
  // at fixed residual parameters would be too narrow): none, at any size, said plainly.
  if (fit.residual) {
    messages.push("variance-component intervals are not computed for models with a residual structure");
    return;
  }
  // The estimate is deterministic (cost.ts). Beyond PROFILE_MS profiles are Wald intervals, and
  // beyond ten times that even when asked for, so that no interval request can run for minutes.
  const estimate = profileMs(fit, pars.length);
  if (how === "profile" && estimate > 2 * PROFILE_MS) {
    messages.push(`profile-likelihood intervals for ${pars.length} parameters would take about ${Math.round(estimate / 1000)} s; Wald intervals on the log-SD scale are shown instead (simplify the random effects to get profile intervals)`);
    waldIntervals(fit, rows, pars, z);
    return;
  }
  if (how === "auto") {
    how = estimate > PROFILE_MS ? "wald" : "profile";
    if (how === "wald") messages.push(`profile-likelihood intervals would take about ${Math.round(estimate / 1000)} s on data this size; so Wald intervals on the log-SD scale are shown (ask for ci = "profile" to get them)`);
    if (how === "wald") {
      waldIntervals(fit, rows, pars, z);
      return;
    }
  }
  if (how === "wald") {
    waldIntervals(fit, rows, pars, z);
    messages.push("the variance-component intervals are Wald intervals on the log-SD scale (atanh for correlations), not profile likelihood");
    return;
  }
  // ML refit (lme4 profiles the ML deviance, also for REML fits).
  const ml = fit.method === "ML" ? fit : fitPrepared(fit, "ML");
  const n = fit.design.n;
  const th = new Float64Array(fit.theta.length);
  const dev = (phi: Float64Array): number => {
    const sigma = phi[phi.length - 1];
    if (!(sigma > 0) || !thetaFromSdcor(remats, phi, th) || !model.factorObjective(th)) return Infinity;
    return model.ldL2 + model.pwrss / (sigma * sigma) + n * Math.log(2 * Math.PI * sigma * sigma);
  };
  // ML estimates in the sd/cor scale.
  model.factor(ml.theta);
  const mlRows = rowsAt(ml);
  const phiHat = phiFromRows(mlRows, remats, pars);
  const devMin = dev(phiHat);
  const scale = Float64Array.from(phiHat, (v, i) => (pars[i].kind === "cor" ? 1 : Math.max(Math.abs(v), 1e-3 * Math.max(phiHat[phiHat.length - 1], 1e-8))));
  const lowerB = pars.map((p) => (p.kind === "cor" ? -1 : p.kind === "sigma" ? 1e-12 : 0));
  const upperB = pars.map((p) => (p.kind === "cor" ? 1 : Infinity));
  let warm = Float64Array.from(phiHat);
  // Profile value at x for parameter j: re-optimize the others from a warm start.
  const profile = (j: number, x: number): number => {
    const others = pars.map((_, i) => i).filter((i) => i !== j);
    const phi = Float64Array.from(warm);
    phi[j] = x;
    if (others.length === 0) return dev(phi);
    const x0 = others.map((i) => Math.min(Math.max(phi[i] / scale[i], lowerB[i] / scale[i]), upperB[i] / scale[i]));
    const res = bobyqa(
      (s) => {
        others.forEach((i, k) => (phi[i] = s[k] * scale[i]));
        return dev(phi);
      },
      x0,
      { lower: others.map((i) => lowerB[i] / scale[i]), upper: others.map((i) => upperB[i] / scale[i]), rhobeg: 0.05, rhoend: 1e-7, maxfun: 400 * others.length },
    );
    others.forEach((i, k) => (phi[i] = res.x[k] * scale[i]));
    warm = phi;
    return res.fval;
  };
  const zeta = (j: number, x: number): number => {
    const d = profile(j, x) - devMin;
    return Math.sign(x - phiHat[j]) * Math.sqrt(Math.max(d, 0));
  };
  let undefinedEnds = 0;
  pars.forEach((par, j) => {
    const row = rowFor(rows, remats, par);
    const hat = phiHat[j];
    const ends: (number | null)[] = [];
    for (const dir of [-1, 1]) {
      warm = Float64Array.from(phiHat);
      ends.push(findEnd(zeta, j, hat, dir, dir * z, lowerB[j], upperB[j], scale[j]));
    }
    // Where the profiled deviance is undefined (no finite value near there) the end is NaN: blank.
    const bad = ends.some((e) => e !== null && !Number.isFinite(e));
    if (bad) undefinedEnds++;
    row.sd_lower = ends[0] !== null && Number.isFinite(ends[0]) ? ends[0] : null;
    row.sd_upper = ends[1] !== null && Number.isFinite(ends[1]) ? ends[1] : null;
  });
  if (undefinedEnds > 0) messages.push(`the profile likelihood of ${undefinedEnds} variance parameter(s) is undefined near the estimate (the fit is at a boundary or did not converge): those interval ends are left blank`);
  model.factor(fit.theta);
}

/** Walk from the estimate in direction dir until zeta crosses target, then bisect/secant. */
function findEnd(zeta: (j: number, x: number) => number, j: number, hat: number, dir: number, target: number, lo: number, hi: number, scale: number): number | null {
  const bound = dir < 0 ? lo : hi;
  let step = 0.1 * scale;
  let a = hat, za = 0;
  for (let it = 0; it < 60; it++) {
    let b = a + dir * step;
    if ((dir < 0 && b <= bound) || (dir > 0 && b >= bound)) {
      b = bound;
      const zb = zeta(j, b);
      if ((dir < 0 && zb > target) || (dir > 0 && zb < target) || !Number.isFinite(zb)) {
        return Number.isFinite(bound) ? bound : null;
      }
      return solveBracket(zeta, j, a, za, b, zb, target);
    }
    const zb = zeta(j, b);
    if ((dir < 0 && zb <= target) || (dir > 0 && zb >= target)) return solveBracket(zeta, j, a, za, b, zb, target);
    a = b;
    za = zb;
    step *= 1.6;
  }
  return null;
}

/** Illinois (regula falsi) on zeta(x) - target over [a, b]. */
function solveBracket(zeta: (j: number, x: number) => number, j: number, a: number, za: number, b: number, zb: number, target: number): number {
  let fa = za - target, fb = zb - target;
  let side = 0;
  for (let it = 0; it < 60; it++) {
    const c = (a * fb - b * fa) / (fb - fa);
    const fc = zeta(j, c) - target;
    if (Math.abs(fc) < 1e-9 || Math.abs(b - a) < 1e-10 * Math.max(1, Math.abs(c))) return c;
    if (fc * fb > 0) {
      b = c;
      fb = fc;
      if (side === -1) fa /= 2;
      side = -1;
    } else {
      a = c;
      fa = fc;
      if (side === 1) fb /= 2;
      side = 1;
    }
  }
  return (a + b) / 2;
}

/** Varcomp rows of a (refitted) fit, for its estimates in the sd/cor scale. */
function rowsAt(fit: LmmFit): VarcompRow[] {
  const { model, design } = fit;
  model.factor(fit.theta);
  const dof = fit.method === "REML" ? design.n - design.p : design.n;
  const sigma2 = model.pwrss / dof;
  return varcompRows(model.remats, model.T, sigma2);
}

/** Wald intervals on log(sd) / atanh(cor) from the Hessian of the fit's own deviance. */
function waldIntervals(fit: LmmFit, rows: VarcompRow[], pars: Par[], z: number): void {
  const { model, design } = fit;
  const remats = model.remats;
  const reml = fit.method === "REML";
  const n = design.n, p = design.p;
  const phiHat = phiFromRows(rows, remats, pars);
  const th = new Float64Array(fit.theta.length);
  const toPhi = (eta: Float64Array) => Float64Array.from(eta, (v, i) => (pars[i].kind === "cor" ? Math.tanh(v) : Math.exp(v)));
  const dev = (eta: Float64Array): number => {
    const phi = toPhi(eta);
    const sigma = phi[phi.length - 1];
    if (!thetaFromSdcor(remats, phi, th) || !model.factorObjective(th)) return Infinity;
    const s2 = sigma * sigma;
    const base = model.ldL2 + model.pwrss / s2;
    return reml ? base + model.ldRX2 + (n - p) * Math.log(2 * Math.PI * s2) : base + n * Math.log(2 * Math.PI * s2);
  };
  const eta = Float64Array.from(phiHat, (v, i) => (pars[i].kind === "cor" ? Math.atanh(Math.max(-0.999999, Math.min(0.999999, v))) : Math.log(Math.max(v, 1e-300))));
  const k = eta.length;
  const cost = estimatedMs(fit) * 10 * k * k;
  const levels = cost * 4 < 1500 ? 4 : cost * 2 < 3000 ? 2 : 1;
  const cov = pinvSym(hessian(dev, eta, levels), k).map((v) => 2 * v);
  pars.forEach((par, i) => {
    const row = rowFor(rows, remats, par);
    const se = Math.sqrt(cov[i * k + i]);
    if (!Number.isFinite(se) || se === 0 || phiHat[i] === 0) return;
    const f = par.kind === "cor" ? Math.tanh : Math.exp;
    const lower = f(eta[i] - z * se), upper = f(eta[i] + z * se);
    // An SD near 0 has a huge log-scale se: exp overflows, and there is no useful interval.
    if (!Number.isFinite(lower) || !Number.isFinite(upper)) return;
    row.sd_lower = lower;
    row.sd_upper = upper;
  });
  model.factor(fit.theta);
}
