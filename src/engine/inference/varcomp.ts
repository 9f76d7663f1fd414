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
import { ReMat, fillTerm } from "../model/remat";
import { varparTheta } from "../model/theta";
import { varcompRows } from "../model/components";
import type { ReStructureResult } from "../types";
import { spreadIntervals } from "../model/re-cov/report";
import { hessian } from "./numderiv";
import { pullBack, varparHessian } from "./shared-hessian";
import { pinvSym } from "./fixef";
import { qChisq, qNorm } from "./dist";
import { rowKey, structureIntervals } from "./structure-intervals";
import { etaOf, newtonProfileEnds, newtonProfileMs } from "./profile-newton";

/** Profile intervals estimated above this are Wald intervals even when asked for (estimated ms). */
const ASKED_PROFILE_MS = 60000;

/** One entry of the sd/cor parameter vector: which row of the varcomp table it fills. */
interface Par {
  kind: "sd" | "cor" | "sigma";
  term: number;
  a: number;
  b: number;
  /** The parameter's range (a structure's correlation: cs's rho lies in (-1/(q-1), 1)). */
  lo: number;
  hi: number;
  /** A structured term's own parameter (re-cov/): `a` indexes its natural parameters. */
  structured?: boolean;
}

function parList(remats: ReMat[]): Par[] {
  const out: Par[] = [];
  remats.forEach((r, t) => {
    const s = r.structure;
    if (s.type !== "us") {
      const bounds = s.bounds();
      s.kinds.forEach((kind, a) => out.push({ kind, term: t, a, b: a, lo: bounds[a][0], hi: bounds[a][1], structured: true }));
      return;
    }
    for (let a = 0; a < r.q; a++) out.push({ kind: "sd", term: t, a, b: a, lo: 0, hi: Infinity });
    for (let a = 0; a < r.q; a++) for (let b = a + 1; b < r.q; b++) out.push({ kind: "cor", term: t, a, b, lo: -1, hi: 1 });
  });
  out.push({ kind: "sigma", term: -1, a: 0, b: 0, lo: 1e-12, hi: Infinity });
  return out;
}

/** Working theta from (sd, cor, sigma); null when the correlation matrix is not valid. */
function thetaFromSdcor(remats: ReMat[], phi: Float64Array, out: Float64Array): boolean {
  const sigma = phi[phi.length - 1];
  let k = 0;
  for (const r of remats) {
    const q = r.q;
    if (r.structure.type !== "us") {
      // A structure's natural parameters: SDs on the data's scale (relative to sigma in theta) and rho.
      const st = r.structure;
      const nat = Array.from(st.kinds, (kind, a) => (kind === "sd" ? phi[k + a] / sigma : phi[k + a]));
      if (!st.fromNatural(nat, out, r.thetaOffset)) return false;
      k += st.kinds.length;
      continue;
    }
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
  if (p.kind === "sigma") return rows.find((x) => x.group === "Residual")!;
  const r = remats[p.term];
  if (p.structured) {
    const key = pseudoEffect(r, p.a);
    const row = rows.find((x) => x.group === r.label && x.effect === key);
    if (!row) throw new Error("internal: structure parameter row not found");
    return row;
  }
  const hit = rows.find((x) => x.group === r.label && x.effect === r.effects[p.a] && (p.kind === "sd" ? x.effect2 === null : x.effect2 === r.effects[p.b]));
  if (!hit) throw new Error("internal: variance-component row not found");
  return hit;
}


/** The key of a structure parameter's pseudo row: "#rho". */
function pseudoEffect(r: ReMat, a: number): string {
  return `#${r.structure.names![a]}`;
}

/**
 * The table's rows plus one pseudo row per structured parameter (its estimate in `sd` or `corr`),
 * which the interval code below fills like any other row; spreadIntervals then copies them to the
 * rows they determine and to the structure's result.
 */
function withPseudoRows(rows: VarcompRow[], remats: ReMat[], theta: ArrayLike<number>): VarcompRow[] {
  const sigma = rows.find((x) => x.group === "Residual")?.sd ?? NaN;
  const out = rows.slice();
  remats.forEach((r) => {
    const s = r.structure;
    if (s.type === "us") return;
    const nat = s.natural(theta, r.thetaOffset);
    s.kinds.forEach((kind, a) => out.push({
      group: r.label, effect: pseudoEffect(r, a), effect2: null, variance: null,
      sd: kind === "sd" ? nat[a] * sigma : null, corr: kind === "cor" ? nat[a] : null, sd_lower: null, sd_upper: null, var_prop: null,
    }));
  });
  return out;
}

/**
 * Intervals of the variance components (into `rows`) and of the structured terms' parameters
 * (into `structures`, and into the rows those parameters determine).
 */
export function varcompIntervals(fit: LmmFit, rows: VarcompRow[], level: number, how: string, messages: string[], structures: ReStructureResult[] = []): void {
  const remats = fit.model.remats;
  const all = withPseudoRows(rows, remats, fit.theta);
  intervals(fit, all, level, how, messages);
  const pars = parList(remats);
  spreadIntervals(remats, (t, i) => rowFor(all, remats, pars.find((p) => p.term === t && p.a === i && p.structured)!), rows, structures);
}

function intervals(fit: LmmFit, rows: VarcompRow[], level: number, how: string, messages: string[]): void {
  const { model } = fit;
  const remats = model.remats;
  const pars = parList(remats);
  const z = qNorm(1 - (1 - level) / 2);
  // With a residual structure: nlme's intervals(), jointly with the structure's parameters
  // (structure-intervals.ts), for every ci choice.
  if (fit.residual) {
    const si = structureIntervals(fit, level);
    for (const row of rows) [row.sd_lower, row.sd_upper] = si.rows.get(rowKey(row.group, row.effect, row.effect2)) ?? [null, null];
    messages.push(...si.messages);
    return;
  }
  if (remats.length === 0) {
    sigmaInterval(fit, rowFor(rows, remats, pars[pars.length - 1]), level, messages);
    return;
  }
  // The estimate is deterministic (cost.ts, profile-newton.ts). Beyond PROFILE_MS profiles are
  // Wald intervals unless asked for, and beyond ASKED_PROFILE_MS even when asked for, so that no
  // interval request can run for minutes. With every estimate inside its range the ends come from
  // Newton's method on the profile system (profile-newton.ts); an estimate on a boundary (an SD of
  // 0, a correlation of ±1) has them walked, at the walk's cost.
  const newton = newtonApplies(pars) && phiFromRows(rows, remats, pars).every((v, i) => Number.isFinite(etaOf(v, pars[i])));
  const estimate = newton ? newtonProfileMs(fit, pars.length, fit.method === "REML") : profileMs(fit, pars.length);
  if (how === "profile" && estimate > ASKED_PROFILE_MS) {
    messages.push(`profile-likelihood intervals for ${pars.length} parameters would take about ${Math.round(estimate / 1000)} s; Wald intervals on the log-SD scale are shown instead (simplify the random effects to get profile intervals)`);
    how = "wald";
  }
  if (how === "auto") {
    how = estimate > PROFILE_MS ? "wald" : "profile";
    if (how === "wald") messages.push(`profile-likelihood intervals would take about ${Math.round(estimate / 1000)} s on data this size; so Wald intervals on the log-SD scale are shown (ask for ci = "profile" to get them)`);
  } else if (how === "wald") {
    messages.push("the variance-component intervals are Wald intervals on the log-SD scale (atanh for correlations), not profile likelihood");
  }
  if (how === "wald") {
    const missing = waldIntervals(fit, rows, pars, z);
    if (missing.length > 0) messages.push(`no Wald interval for ${missing.map((i) => parName(remats, pars[i])).join(", ")}: the estimate is on the boundary (an SD of 0 or a correlation of ±1) or its standard error is not finite there`);
    guardContainment(rows, remats, pars, messages);
    return;
  }
  // lme4's definition: the ML deviance (REML fits are refitted by ML first), profiled from the ML
  // estimates. Its interval is about the ML estimate, so for a REML fit it can miss the REML
  // estimate shown (most often sigma when p is large against n, or an SD from few groups).
  // From the moment start, as a fit: warm-started at the REML optimum the refit of a hard model (a
  // random slope on a factor) can stop at another local optimum.
  const ml = fit.method === "ML" ? fit : fitPrepared(fit, "ML");
  const n = fit.design.n, p = fit.design.p;
  const th = new Float64Array(fit.theta.length);
  const devOf = (reml: boolean) => (phi: Float64Array): number => {
    const sigma = phi[phi.length - 1];
    if (!(sigma > 0) || !thetaFromSdcor(remats, phi, th) || !model.factorObjective(th)) return Infinity;
    const s2 = sigma * sigma;
    const base = model.ldL2 + model.pwrss / s2;
    return reml ? base + model.ldRX2 + (n - p) * Math.log(2 * Math.PI * s2) : base + n * Math.log(2 * Math.PI * s2);
  };
  model.factor(ml.theta);
  const mlHat = phiFromRows(withPseudoRows(rowsAt(ml), remats, ml.theta), remats, pars);
  const mlEnds = profileEnds(devOf(false), mlHat, pars, pars.map((_, j) => j), z);
  const failed = new Set<number>();
  pars.forEach((par, j) => {
    const row = rowFor(rows, remats, par);
    [row.sd_lower, row.sd_upper] = mlEnds[j];
    if (mlEnds[j].some((e) => e === null)) failed.add(j);
  });
  const sides = (j: number) => {
    const row = rowFor(rows, remats, pars[j]);
    return row.sd_lower === null && row.sd_upper === null ? "both ends" : row.sd_lower === null ? "lower end" : "upper end";
  };
  if (fit.method === "REML") {
    // Where lme4's ML interval misses the REML estimate, profile the REML criterion instead: its
    // profile is 0 at the REML estimate, so its interval contains it by construction.
    const remlHat = phiFromRows(rows, remats, pars);
    const missed = pars.map((_, j) => j).filter((j) => !failed.has(j) && !contains(rowFor(rows, remats, pars[j]), pars[j]));
    if (missed.length > 0) {
      model.factor(fit.theta);
      const remlEnds = profileEnds(devOf(true), remlHat, pars, missed, z);
      const said = missed.map((j) => {
        const row = rowFor(rows, remats, pars[j]);
        const was = `[${fmt(row.sd_lower)}, ${fmt(row.sd_upper)}]`;
        [row.sd_lower, row.sd_upper] = remlEnds[j];
        if (remlEnds[j].some((e) => e === null)) failed.add(j);
        return `${parName(remats, pars[j])} (ML profile ${was}, estimate ${fmt(estimateOf(row, pars[j]))})`;
      });
      messages.push(`the profile interval on the ML deviance (lme4's confint definition) does not contain the REML estimate for ${said.join("; ")}: the REML-criterion profile interval, which always contains it, is shown instead`);
    }
  }
  if (failed.size > 0) {
    messages.push(`no profile bound for ${[...failed].map((j) => `${parName(remats, pars[j])} (${sides(j)})`).join(", ")}: the profile likelihood could not be evaluated there (common at a singular fit, where the other parameters cannot be re-fitted with this one fixed); the bound is left empty`);
  }
  guardContainment(rows, remats, pars, messages);
  model.factor(fit.theta);
}

/**
 * The residual SD of a model without random effects: the chi-square interval that nlme's
 * intervals(gls) gives, sigma * sqrt(N / qchisq(1 - a/2, N)) .. sigma * sqrt(N / qchisq(a/2, N))
 * with N = n - p (REML; then exact: RSS / sigma^2 ~ chi2(n - p)) or n (ML). It contains the
 * estimate when qchisq(1 - a/2, N) >= N, i.e. for every level >= 0.5 (P(chi2_N <= N) <= 0.683);
 * at lower levels the likelihood-ratio interval of the fit's own criterion is used, with a note.
 */
function sigmaInterval(fit: LmmFit, row: VarcompRow, level: number, messages: string[]): void {
  const sigma = row.sd;
  if (sigma === null || !(sigma > 0)) return;
  const N = fit.method === "REML" ? fit.design.n - fit.design.p : fit.design.n;
  const a = (1 - level) / 2;
  const hi = qChisq(1 - a, N), lo = qChisq(a, N);
  row.sd_lower = sigma * Math.sqrt(N / hi);
  row.sd_upper = sigma * Math.sqrt(N / lo);
  if (!(hi >= N)) {
    // N (u - 1 - log u) = z^2 in u = sigma^2 / s^2: the criterion's rise is the normal quantile squared.
    const z = qNorm(1 - a);
    const g = (u: number) => N * (u - 1 - Math.log(u)) - z * z;
    const root = (x0: number, x1: number) => {
      for (let it = 0; it < 200; it++) {
        const m = 0.5 * (x0 + x1);
        if (g(m) > 0 === g(x0) > 0) x0 = m;
        else x1 = m;
      }
      return 0.5 * (x0 + x1);
    };
    let big = 2;
    while (g(big) < 0) big *= 2;
    const uSmall = root(1, 1e-300 + 0), uBig = root(1, big);
    row.sd_lower = sigma / Math.sqrt(uBig);
    row.sd_upper = sigma / Math.sqrt(uSmall);
    messages.push(`at level ${level} the chi-square interval of the residual SD (nlme's intervals(gls)) would not contain the estimate; the likelihood-ratio interval of the ${fit.method} criterion is shown`);
  }
}

/** The estimate a row shows for a parameter: its SD, or its correlation. */
function estimateOf(row: VarcompRow, par: Par): number | null {
  return par.kind === "cor" ? row.corr : row.sd;
}

/** Whether the row's interval contains its estimate (up to the ends' own accuracy). */
function contains(row: VarcompRow, par: Par): boolean {
  const est = estimateOf(row, par);
  if (est === null || row.sd_lower === null || row.sd_upper === null) return true;
  const tol = 1e-7 * Math.max(Math.abs(est), par.kind === "cor" ? 1 : 0) + 1e-12;
  return row.sd_lower <= est + tol && est <= row.sd_upper + tol;
}

/** The last line of defence: an interval that misses its estimate, or a non-finite end, is removed with a note. */
function guardContainment(rows: VarcompRow[], remats: ReMat[], pars: Par[], messages: string[]): void {
  const bad: string[] = [];
  pars.forEach((par) => {
    const row = rowFor(rows, remats, par);
    for (const k of ["sd_lower", "sd_upper"] as const) {
      const v = row[k];
      if (v !== null && !Number.isFinite(v)) row[k] = null;
    }
    if (!contains(row, par)) {
      bad.push(`${parName(remats, par)} ([${fmt(row.sd_lower)}, ${fmt(row.sd_upper)}] vs ${fmt(estimateOf(row, par))})`);
      row.sd_lower = row.sd_upper = null;
    }
  });
  if (bad.length > 0) messages.push(`interval removed for ${bad.join("; ")}: it did not contain the estimate`);
}

function fmt(v: number | null): string {
  return v === null ? "none" : v.toPrecision(4);
}

/** How a parameter reads in a note: "SD of time | tree", "cor(a, b | g)", "residual SD". */
function parName(remats: ReMat[], par: Par): string {
  if (par.kind === "sigma") return "the residual SD";
  const r = remats[par.term];
  if (par.structured) return `the ${r.structure.names![par.a]} of the ${r.structure.type} term | ${r.label}`;
  return par.kind === "sd" ? `the SD of ${r.effects[par.a]} | ${r.label}` : `cor(${r.effects[par.a]}, ${r.effects[par.b]} | ${r.label})`;
}

/**
 * Newton's method on the profile system (profile-newton.ts) is used for SDs only. With
 * correlations the inner problem can have stationary points that are not its minimum (on a
 * random slope on a factor, whose correlations run to ±1 along the profiles): Newton converged to
 * them, ends up to 25% inside the walk's, which re-minimizes at every point and is kept there.
 */
function newtonApplies(pars: Par[]): boolean {
  return pars.every((p) => p.kind !== "cor");
}

/**
 * Profile-likelihood ends for the parameters `which` of the deviance `dev` (in the sd/cor/sigma
 * scale, minimal at phiHat): for each, the points where the signed root of the deviance rise
 * crosses -z and z. null where the profile could not be evaluated.
 */
function profileEnds(dev: (phi: Float64Array) => number, phiHat: Float64Array, pars: Par[], which: number[], z: number): (number | null)[][] {
  const cors = pars.map((_, i) => i).filter((i) => pars[i].kind === "cor");
  // Moving one parameter can leave a correlation matrix indefinite (at a singular fit, with
  // correlations at ±1, even the estimate can round to just outside): shrink the correlations
  // other than `keep` towards 0 until the point is valid. The usual cause of a failed profile
  // with a random slope on a factor, whose effects are highly correlated.
  const feasible = (phi: Float64Array, keep: number): boolean => {
    if (Number.isFinite(dev(phi))) return true;
    const base = Float64Array.from(phi);
    const others = cors.filter((i) => i !== keep);
    for (const f of [1 - 1e-9, 1 - 1e-6, 1 - 1e-3, 0.9, 0.6, 0.3, 0.1, 0]) {
      if (others.length === 0) break;
      for (const i of others) phi[i] = base[i] * f;
      if (Number.isFinite(dev(phi))) return true;
    }
    phi.set(base);
    return false;
  };
  const hat = Float64Array.from(phiHat);
  feasible(hat, -1);
  phiHat = hat;
  const devMin = dev(phiHat);
  const scale = Float64Array.from(phiHat, (v, i) => (pars[i].kind === "cor" ? 1 : Math.max(Math.abs(v), 1e-3 * Math.max(phiHat[phiHat.length - 1], 1e-8))));
  const lowerB = pars.map((p) => p.lo);
  const upperB = pars.map((p) => p.hi);
  let warm: Float64Array = Float64Array.from(phiHat);
  const feasibleStart = (j: number, x: number): Float64Array | null => {
    const phi = Float64Array.from(warm);
    phi[j] = x;
    return feasible(phi, j) ? phi : null;
  };
  // Profile value at x for parameter j: re-optimize the others from a warm start.
  const profile = (j: number, x: number): number => {
    const others = pars.map((_, i) => i).filter((i) => i !== j);
    const phi = feasibleStart(j, x);
    if (!phi) return NaN;
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
    if (!Number.isFinite(res.fval)) return NaN;
    others.forEach((i, k) => (phi[i] = res.x[k] * scale[i]));
    warm = phi;
    return res.fval;
  };
  const zeta = (j: number, x: number): number => {
    const d = profile(j, x) - devMin;
    if (Number.isNaN(d)) return NaN;
    return Math.sign(x - phiHat[j]) * Math.sqrt(Math.max(d, 0));
  };
  const out: (number | null)[][] = pars.map(() => [null, null]);
  if (!Number.isFinite(devMin)) return out;
  // Newton's method on the profile system first; where it gives up, the walk below.
  const fast: (number | undefined)[][] = newtonApplies(pars) ? newtonProfileEnds(dev, phiHat, pars, which, z, devMin) : pars.map(() => [undefined, undefined]);
  for (const j of which) {
    for (const [side, dir] of [[0, -1], [1, 1]] as const) {
      const end = fast[j][side];
      if (end !== undefined) {
        out[j][side] = end;
        continue;
      }
      warm = Float64Array.from(phiHat);
      out[j][side] = findEnd(zeta, j, phiHat[j], dir, dir * z, lowerB[j], upperB[j], scale[j]);
    }
  }
  return out;
}

/**
 * Walk from the estimate in direction dir until zeta crosses target, then solve on the bracket.
 * A profile that stays short of the target up to the parameter's edge (an SD of 0, a correlation
 * of ±1) gives the edge; where zeta cannot be evaluated the step shrinks, and if it still cannot,
 * the end is null (never NaN).
 */
function findEnd(zeta: (j: number, x: number) => number, j: number, hat: number, dir: number, target: number, lo: number, hi: number, scale: number): number | null {
  const bound = dir < 0 ? lo : hi;
  const crossed = (v: number) => (dir < 0 ? v <= target : v >= target);
  let step = 0.1 * scale;
  let a = hat, za = 0;
  for (let it = 0; it < 120; it++) {
    let b = a + dir * step;
    const atBound = dir < 0 ? b <= bound : b >= bound;
    if (atBound) b = bound;
    let zb = zeta(j, b);
    if (!Number.isFinite(zb) && atBound && Number.isFinite(bound)) {
      // The edge itself may be outside the model (a correlation of exactly ±1): look just inside.
      b = bound - dir * 1e-7 * Math.max(scale, Math.abs(bound - a));
      if (dir < 0 ? b <= a : b >= a) b = 0.5 * (a + bound);
      zb = zeta(j, b);
      if (Number.isFinite(zb) && !crossed(zb)) return bound;
    }
    if (!Number.isFinite(zb)) {
      step /= 4;
      if (step < 1e-9 * scale) return null;
      continue;
    }
    if (crossed(zb)) return solveBracket(zeta, j, a, za, b, zb, target);
    if (atBound) return Number.isFinite(bound) ? bound : null;
    a = b;
    za = zb;
    step *= 1.6;
  }
  return null;
}

/** Illinois (regula falsi) on zeta(x) - target over [a, b]; bisection where zeta fails; null if it keeps failing. */
function solveBracket(zeta: (j: number, x: number) => number, j: number, a: number, za: number, b: number, zb: number, target: number): number | null {
  let fa = za - target, fb = zb - target;
  let side = 0;
  for (let it = 0; it < 80; it++) {
    let c = (a * fb - b * fa) / (fb - fa);
    if (!Number.isFinite(c) || c <= Math.min(a, b) || c >= Math.max(a, b)) c = 0.5 * (a + b);
    let fc = zeta(j, c) - target;
    if (!Number.isFinite(fc)) {
      c = 0.5 * (a + b);
      fc = zeta(j, c) - target;
      if (!Number.isFinite(fc)) return null;
    }
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
  return 0.5 * (a + b);
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
function waldIntervals(fit: LmmFit, rows: VarcompRow[], pars: Par[], z: number): number[] {
  const { model, design } = fit;
  const remats = model.remats;
  const reml = fit.method === "REML";
  const n = design.n, p = design.p;
  const phiHat = phiFromRows(rows, remats, pars);
  const th = new Float64Array(fit.theta.length);
  // Correlations on atanh of their range mapped to (-1, 1) (plain atanh for lo = -1, hi = 1).
  const corOf = (v: number, p: Par) => p.lo + ((p.hi - p.lo) * (Math.tanh(v) + 1)) / 2;
  const corInv = (c: number, p: Par) => Math.atanh(Math.max(-0.999999, Math.min(0.999999, (2 * (c - p.lo)) / (p.hi - p.lo) - 1)));
  const toPhi = (eta: Float64Array) => Float64Array.from(eta, (v, i) => (pars[i].kind === "cor" ? corOf(v, pars[i]) : Math.exp(v)));
  const dev = (eta: Float64Array): number => {
    const phi = toPhi(eta);
    const sigma = phi[phi.length - 1];
    if (!thetaFromSdcor(remats, phi, th) || !model.factorObjective(th)) return Infinity;
    const s2 = sigma * sigma;
    const base = model.ldL2 + model.pwrss / s2;
    return reml ? base + model.ldRX2 + (n - p) * Math.log(2 * Math.PI * s2) : base + n * Math.log(2 * Math.PI * s2);
  };
  const eta = Float64Array.from(phiHat, (v, i) => (pars[i].kind === "cor" ? corInv(v, pars[i]) : Math.log(Math.max(v, 1e-300))));
  // A parameter on its boundary (an SD of 0, a correlation of ±1) has no Wald interval on these
  // scales (its log or atanh is infinite): it is held at its estimate and the Hessian is taken in
  // the others only; an infinite or NaN second derivative would otherwise spoil every interval.
  const inner = pars.map((_, i) => i).filter((i) => (pars[i].kind === "cor" ? Math.abs((2 * (phiHat[i] - pars[i].lo)) / (pars[i].hi - pars[i].lo) - 1) < 0.999999 : phiHat[i] > 1e-8 * Math.max(phiHat[phiHat.length - 1], 1e-300)));
  const k = inner.length;
  const sub = Float64Array.from(inner, (i) => eta[i]);
  const full = Float64Array.from(eta);
  const devSub = (x: Float64Array): number => {
    inner.forEach((i, a) => (full[i] = x[a]));
    return dev(full);
  };
  const cost = estimatedMs(fit) * 10 * k * k;
  const levels = cost * 4 < 1500 ? 4 : cost * 2 < 3000 ? 2 : 1;
  // Where the Hessian would be cut short for cost, Satterthwaite's (same point, same deviance)
  // is pulled back to this scale instead (shared-hessian.ts), when nothing is on a boundary.
  const shared = levels < 4 && k === pars.length ? varparHessian(fit) : undefined;
  const pulled = shared ? pullBack(shared.H, shared.vp, sub, (e) => {
    const phi = toPhi(e);
    if (!thetaFromSdcor(remats, phi, th)) return null;
    const T = remats.map((r) => {
      const t = new Float64Array(r.q * r.q);
      fillTerm(r, th, t);
      return t;
    });
    return Float64Array.from([...varparTheta(remats, th, T), phi[phi.length - 1]]);
  }) : null;
  const H = pulled ?? (k > 0 ? hessian(devSub, sub, levels) : new Float64Array(0));
  const finite = H.every((v) => Number.isFinite(v));
  const covSub = finite && k > 0 ? pinvSym(H, k).map((v) => 2 * v) : new Float64Array(k * k).fill(NaN);
  const missing: number[] = [];
  pars.forEach((par, i) => {
    const row = rowFor(rows, remats, par);
    const a = inner.indexOf(i);
    const se = a >= 0 ? Math.sqrt(covSub[a * k + a]) : NaN;
    if (!Number.isFinite(se) || se === 0 || !Number.isFinite(eta[i])) {
      missing.push(i);
      return;
    }
    const f = par.kind === "cor" ? (v: number) => corOf(v, par) : Math.exp;
    const lower = f(eta[i] - z * se), upper = f(eta[i] + z * se);
    // An SD near 0 has a huge log-scale se: exp overflows, and there is no useful interval.
    if (!Number.isFinite(lower) || !Number.isFinite(upper)) return;
    row.sd_lower = lower;
    row.sd_upper = upper;
  });
  model.factor(fit.theta);
  return missing;
}
