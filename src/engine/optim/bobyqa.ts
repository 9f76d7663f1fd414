// Bound-constrained minimization without derivatives, of the BOBYQA class (Powell 2009, "The
// BOBYQA algorithm for bound constrained optimization without derivatives", Cambridge NA
// Report 2009/NA06), written from that description:
//  - a quadratic model interpolates f at 2n+1 points; when a point is replaced, the model
//    changes by the least amount in the Frobenius norm of its second derivatives (kkt.ts);
//  - each iteration minimizes the model in a trust region intersected with the box
//    (trsbox.ts); rho, a lower bound on the trust-region radius, falls from rhobeg to rhoend,
//    and is reduced only when the model is trusted at the current scale;
//  - "geometry" steps replace a distant point by one that keeps the interpolation
//    well-posed.
// Departures from the report, made because n is small here (at most a few tens) and every
// evaluation is expensive: the model Hessian is held explicitly; the inverse KKT matrix is
// rebuilt from the points (instead of updated by formulas) whenever the base point moves, at
// every reduction of rho and when rounding errors show; a geometry step maximizes the exact
// denominator of the update over a set of candidate steps; and a poisedness failure restarts
// the interpolation set around the best point instead of Powell's RESCUE procedure.
// Every evaluation is at a point inside [lower, upper], with coordinates that sit on a bound
// equal to it exactly, so a solution on a bound is returned exactly on it.
import type { OptimOptions, OptimResult } from "./types";
import { Interpolation } from "./kkt";
import { TrsWork } from "./trsbox";
import { defaultRhobeg, reduceProblem } from "./problem";

type Status = OptimResult["status"];

const SIGNS = [1, -1] as const;
/** Where f is undefined at a geometry step: the step shortened, then reversed. */
const RETRY_SCALES = [1, 0.5, 0.25, -1] as const;

class Stop extends Error {
  constructor(readonly status: Status, message: string) {
    super(message);
  }
}

export function bobyqa(f: (x: Float64Array) => number, x0: ArrayLike<number>, opts: OptimOptions = {}): OptimResult {
  const p = reduceProblem(f, x0, opts);
  if ("status" in p) return p;
  const { n, lower, upper } = p;
  if (n === 0) {
    p.call(p.x0);
    return p.result("converged", "no free parameters");
  }
  let minWidth = Infinity;
  for (let j = 0; j < n; j++) minWidth = Math.min(minWidth, upper[j] - lower[j]);
  let rhobeg = opts.rhobeg ?? defaultRhobeg(lower, upper);
  if (!(rhobeg > 0) || !Number.isFinite(rhobeg)) return p.result("failed", "rhobeg must be positive and finite");
  // The initial points stand rhobeg and 2 rhobeg apart; they must fit in the box.
  rhobeg = Math.min(rhobeg, 0.5 * minWidth);
  const rhoend = Math.min(opts.rhoend ?? 1e-8, rhobeg);
  if (!(rhoend > 0)) return p.result("failed", "rhoend must be positive");
  const maxfun = Math.max(opts.maxfun ?? 1000 * n, 2 * n + 2);
  const out = new Run(n, lower, upper, p.call, p.x0, rhobeg, rhoend, maxfun, opts.shouldStop, opts.ftolAbs ?? 0, opts.ftolRel ?? 0, !!opts.flatStop).minimize();
  return p.result(out.status, out.message);
}

/** Two distinct nonzero steps along one axis from a point with `down`/`up` room to the bounds. */
function axisSteps(down: number, up: number, r: number): [number, number] {
  if (down >= r && up >= r) return [r, -r];
  if (up >= down) {
    if (up >= 2 * r) return [r, 2 * r];
    if (down > 0) return [Math.min(r, up), -down];
    const a = Math.min(r, up);
    return [a, 0.5 * a];
  }
  if (down >= 2 * r) return [-r, -2 * r];
  if (up > 0) return [-Math.min(r, down), up];
  const a = Math.min(r, down);
  return [-a, -0.5 * a];
}

class Run {
  private readonly it: Interpolation;
  private readonly tr: TrsWork;
  private readonly npt: number;
  /** Model gradient at the best point and the model Hessian (full, row-major). */
  private readonly gopt: Float64Array;
  private readonly hq: Float64Array;
  private kopt = 0;
  /**
   * Values are held multiplied by this power of two, chosen from the spread of the initial
   * values: the method is invariant to the scale of f in exact arithmetic, and this keeps its
   * arithmetic clear of overflow and underflow whatever that scale is.
   */
  private fscale = 1;
  private scaled = false;
  private rho: number;
  private delta: number;
  private nfev = 0;
  private readonly xrel: Float64Array;
  private readonly xabs: Float64Array;
  private readonly step: Float64Array;
  private readonly glag: Float64Array;
  private readonly cand: Float64Array;
  private readonly bestStep: Float64Array;
  private readonly galt: Float64Array;
  private readonly lamAlt: Float64Array;
  private readonly held: Uint8Array;

  constructor(
    private readonly n: number,
    private readonly lower: Float64Array,
    private readonly upper: Float64Array,
    private readonly call: (x: Float64Array) => number,
    private readonly x0: Float64Array,
    private readonly rhobeg: number,
    private readonly rhoend: number,
    private readonly maxfun: number,
    private readonly shouldStop: (() => boolean) | undefined,
    private readonly ftolAbs: number,
    private readonly ftolRel: number,
    private readonly flatStop: boolean,
  ) {
    this.it = new Interpolation(n, lower, upper);
    this.tr = new TrsWork(n);
    this.npt = 2 * n + 1;
    this.gopt = new Float64Array(n);
    this.hq = new Float64Array(n * n);
    this.rho = rhobeg;
    this.delta = rhobeg;
    this.xrel = new Float64Array(n);
    this.xabs = new Float64Array(n);
    this.step = new Float64Array(n);
    this.glag = new Float64Array(n);
    this.cand = new Float64Array(n);
    this.bestStep = new Float64Array(n);
    this.galt = new Float64Array(n);
    this.lamAlt = new Float64Array(this.npt);
    this.held = new Uint8Array(n);
  }

  minimize(): { status: Status; message: string } {
    try {
      this.initialize(this.x0, this.rhobeg);
      return this.mainLoop();
    } catch (e) {
      if (e instanceof Stop) return { status: e.status, message: e.message };
      throw e;
    }
  }

  // ---- evaluations ----------------------------------------------------------------------

  /**
   * f (times fscale) at xbase + rel, with coordinates at or beyond a bound put exactly on it;
   * the vector evaluated is left in xabs. NaN where f is not finite: each caller decides what
   * such a point means for it.
   */
  private evaluate(rel: Float64Array): number {
    if (this.nfev >= this.maxfun) throw new Stop("maxfun", `reached maxfun = ${this.maxfun} evaluations`);
    this.toAbs(rel);
    this.nfev++;
    const v = this.call(this.xabs);
    if (this.shouldStop && this.shouldStop()) throw new Stop("cancelled", "stopped by request");
    return v * this.fscale;
  }

  /** xbase + rel into xabs, inside the box, with coordinates at or near a bound exactly on it. */
  private toAbs(rel: Float64Array): void {
    const { n, it, xabs } = this;
    for (let i = 0; i < n; i++) {
      let v: number;
      if (rel[i] <= it.sl[i]) v = this.lower[i];
      else if (rel[i] >= it.su[i]) v = this.upper[i];
      else {
        v = it.xbase[i] + rel[i];
        // Closer to a bound than a thousandth of the accuracy asked for is on it: a parameter
        // whose solution is 0 must come out as 0, not 1e-23.
        const tol = Math.max(1e-3 * this.rhoend, 8 * Number.EPSILON * (Math.abs(it.xbase[i]) + Math.abs(rel[i])));
        if (v - this.lower[i] <= tol) v = this.lower[i];
        else if (this.upper[i] - v <= tol) v = this.upper[i];
      }
      xabs[i] = v;
    }
  }

  /** The stand-in for a non-finite value, given the values of the current set. */
  private penalty(): number {
    const { fval } = this.it;
    let lo = Infinity, hi = -Infinity;
    for (let k = 0; k < this.npt; k++) {
      if (!Number.isFinite(fval[k])) continue;
      lo = Math.min(lo, fval[k]);
      hi = Math.max(hi, fval[k]);
    }
    if (!Number.isFinite(hi)) return NaN;
    return hi + Math.max(hi - lo, 1e-8 * Math.max(1, Math.abs(hi)));
  }

  /** Value recorded for a point where f is not finite, given the model's prediction there. */
  private stand_in(fopt: number, vquad: number): number {
    return Math.max(fopt + vquad, fopt) + Math.max(Math.abs(vquad), 1e-10 * Math.max(1, Math.abs(fopt)));
  }

  // ---- the initial set ------------------------------------------------------------------

  /**
   * Points x, x + a_i e_i, x + b_i e_i (two distinct steps per axis of length about r, inside
   * the box) and the model they determine: gradient and diagonal curvature from the three
   * values along each axis; off-diagonal curvature kept from `hq` (zero at the start), as the
   * axis points carry no information on it.
   */
  private initialize(center: Float64Array, r: number, fcenter?: number): void {
    const { n, it, npt } = this;
    it.setBase(center);
    const a = new Float64Array(n), b = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      [a[i], b[i]] = axisSteps(center[i] - this.lower[i], this.upper[i] - center[i], r);
    }
    const rel = this.xrel;
    const store = (k: number, v: number) => {
      for (let i = 0; i < n; i++) it.xabs[k * n + i] = this.xabs[i];
      it.fval[k] = v;
    };
    rel.fill(0);
    if (fcenter === undefined) store(0, this.evaluate(rel));
    else {
      this.xabs.set(center);
      store(0, fcenter);
    }
    for (let i = 0; i < n; i++) {
      const ka = 1 + i, kb = 1 + n + i;
      store(ka, this.axisPoint(i, a[i], NaN, center));
      const sa = this.xabs[i] - center[i];
      store(kb, this.axisPoint(i, b[i], sa, center));
    }
    let anyFinite = false;
    for (let k = 0; k < npt; k++) if (Number.isFinite(it.fval[k])) anyFinite = true;
    if (!anyFinite) throw new Stop("failed", "f was not finite at any of the initial points");
    if (!this.scaled) {
      this.scaled = true;
      let lo = Infinity, hi = -Infinity;
      for (let k = 0; k < npt; k++) {
        if (!Number.isFinite(it.fval[k])) continue;
        lo = Math.min(lo, it.fval[k]);
        hi = Math.max(hi, it.fval[k]);
      }
      const spread = hi - lo > 0 && Number.isFinite(hi - lo) ? hi - lo : Math.abs(hi);
      if (spread > 0 && Number.isFinite(spread)) {
        this.fscale = 2 ** -Math.round(Math.log2(spread));
        for (let k = 0; k < npt; k++) it.fval[k] *= this.fscale;
      }
    }
    const bad = this.penalty();
    for (let k = 0; k < npt; k++) if (!Number.isFinite(it.fval[k])) it.fval[k] = bad;
    it.setBase(center);

    const f0 = it.fval[0];
    const g = this.gopt, H = this.hq;
    for (let i = 0; i < n; i++) {
      // Actual steps (they may differ from a_i, b_i in the last bit after clamping).
      const sa = it.xpt[(1 + i) * n + i], sb = it.xpt[(1 + n + i) * n + i];
      const da = (it.fval[1 + i] - f0) / sa, db = (it.fval[1 + n + i] - f0) / sb;
      const h = (2 * (db - da)) / (sb - sa);
      H[i * n + i] = h;
      g[i] = da - 0.5 * h * sa;
    }
    let kopt = 0;
    for (let k = 1; k < npt; k++) if (it.fval[k] < it.fval[kopt]) kopt = k;
    // Gradient at the best point: g + H (xopt - xbase).
    if (kopt !== 0) {
      const o = kopt * n;
      const gx = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        let v = g[i];
        for (let j = 0; j < n; j++) v += H[i * n + j] * it.xpt[o + j];
        gx[i] = v;
      }
      g.set(gx);
    }
    this.kopt = kopt;
    if (!it.rebuild(kopt)) throw new Stop("failed", "the initial interpolation points are degenerate");
  }

  /**
   * Evaluates center + s e_i; where f is not finite there, tries s/2, s/4 and -s (inside the
   * box, and distinct from the other step on this axis, `other`) so that the set holds real
   * values wherever it can. Leaves the vector in xabs; NaN if every try failed.
   */
  private axisPoint(i: number, s: number, other: number, center: Float64Array): number {
    const rel = this.xrel;
    const room = (t: number) => center[i] + t >= this.lower[i] && center[i] + t <= this.upper[i];
    let v = NaN, tried = false;
    for (const t of [s, 0.5 * s, 0.25 * s, -s]) {
      if (t === 0 || !room(t) || Math.abs(t - other) <= 1e-3 * Math.abs(s)) continue;
      rel.fill(0);
      rel[i] = t;
      v = this.evaluate(rel);
      tried = true;
      if (Number.isFinite(v)) return v;
    }
    if (!tried) {
      rel.fill(0);
      rel[i] = s;
      v = this.evaluate(rel);
    }
    return v;
  }

  // ---- model ----------------------------------------------------------------------------

  /** Predicted change of the model from xopt along d. */
  private predicted(d: Float64Array): number {
    const { n, gopt, hq } = this;
    let lin = 0, quad = 0;
    for (let i = 0; i < n; i++) {
      lin += gopt[i] * d[i];
      let v = 0;
      for (let j = 0; j < n; j++) v += hq[i * n + j] * d[j];
      quad += d[i] * v;
    }
    return lin + 0.5 * quad;
  }

  /**
   * Puts the evaluated point (in `xabs`, value fnew, step d from xopt) in slot t, updating H
   * (vlag and beta must be current for d) and the model. False if H could not be updated.
   */
  private replace(t: number, d: Float64Array, fnew: number, vquad: number): boolean {
    const { n, npt, it, gopt, hq } = this;
    const fopt = it.fval[this.kopt];
    if (!it.update(t)) return false;
    const diff = fnew - fopt - vquad;
    for (let i = 0; i < n; i++) {
      it.xabs[t * n + i] = this.xabs[i];
      it.xpt[t * n + i] = this.xabs[i] - it.xbase[i];
    }
    it.fval[t] = fnew;
    const better = fnew < fopt;
    if (better) {
      // Move the gradient to the new best point with the old Hessian first.
      for (let i = 0; i < n; i++) {
        let v = 0;
        for (let j = 0; j < n; j++) v += hq[i * n + j] * d[j];
        gopt[i] += v;
      }
      this.kopt = t;
    }
    if (diff !== 0) {
      const lam = it.lagrangeWeights(t);
      const o = this.kopt * n;
      for (let i = 0; i < n; i++) gopt[i] += diff * it.bmat[t * n + i];
      for (let k = 0; k < npt; k++) {
        const l = diff * lam[k];
        if (l === 0) continue;
        let yx = 0;
        for (let i = 0; i < n; i++) yx += it.xpt[k * n + i] * it.xpt[o + i];
        for (let i = 0; i < n; i++) {
          const yi = it.xpt[k * n + i];
          gopt[i] += l * yx * yi;
          const lyi = l * yi;
          for (let j = 0; j < n; j++) hq[i * n + j] += lyi * it.xpt[k * n + j];
        }
      }
    }
    return true;
  }

  /**
   * The least-Frobenius-norm interpolant of the current values (not of their change). Powell
   * uses it when the updated model's gradient is much larger than this one's, which happens
   * when the updates have accumulated a poor Hessian. Returns the squared projected gradient
   * norms of both models at xopt; the alternative is left in galt and lamAlt.
   */
  private alternative(): [number, number] {
    const { n, npt, it, galt, lamAlt } = this;
    const fopt = it.fval[this.kopt];
    const m2 = it.m2;
    const o = this.kopt * n;
    lamAlt.fill(0);
    galt.fill(0);
    for (let j = 0; j < m2; j++) {
      let s = 0;
      for (let k = 0; k < npt; k++) s += it.zmat[k * m2 + j] * (it.fval[k] - fopt);
      for (let k = 0; k < npt; k++) lamAlt[k] += it.zmat[k * m2 + j] * s;
    }
    for (let k = 0; k < npt; k++) {
      const r = it.fval[k] - fopt;
      let yx = 0;
      for (let i = 0; i < n; i++) yx += it.xpt[k * n + i] * it.xpt[o + i];
      for (let i = 0; i < n; i++) galt[i] += it.bmat[k * n + i] * r + lamAlt[k] * yx * it.xpt[k * n + i];
    }
    let gq = 0, gi = 0;
    for (let i = 0; i < n; i++) {
      const x = it.xpt[o + i];
      const a = this.gopt[i], b = galt[i];
      if (x <= it.sl[i]) {
        gq += Math.min(0, a) ** 2;
        gi += Math.min(0, b) ** 2;
      } else if (x >= it.su[i]) {
        gq += Math.max(0, a) ** 2;
        gi += Math.max(0, b) ** 2;
      } else {
        gq += a * a;
        gi += b * b;
      }
    }
    return [gq, gi];
  }

  private useAlternative(): void {
    const { n, npt, it, hq, lamAlt } = this;
    this.gopt.set(this.galt);
    hq.fill(0);
    for (let k = 0; k < npt; k++) {
      const l = lamAlt[k];
      if (l === 0) continue;
      for (let i = 0; i < n; i++) {
        const lyi = l * it.xpt[k * n + i];
        for (let j = 0; j < n; j++) hq[i * n + j] += lyi * it.xpt[k * n + j];
      }
    }
  }

  // ---- geometry -------------------------------------------------------------------------

  /** The point farthest from xopt if its squared distance exceeds distsq, else -1. */
  private farthest(distsq: number): [number, number] {
    const { n, npt, it } = this;
    const o = this.kopt * n;
    let knew = -1, far = distsq;
    for (let k = 0; k < npt; k++) {
      let s = 0;
      for (let i = 0; i < n; i++) s += (it.xpt[k * n + i] - it.xpt[o + i]) ** 2;
      if (s > far) {
        far = s;
        knew = k;
      }
    }
    return [knew, Math.sqrt(far)];
  }

  /**
   * A step from xopt of length at most adelt, inside the box, for the point that replaces
   * point knew. Candidates: the best multiple of each direction to another point (along which
   * the Lagrange function of knew is a known quadratic), the bound-truncated steepest ascent
   * and descent paths of that Lagrange function, and the coordinate steps; the winner
   * maximizes the denominator of the update of H, which measures how well-posed the new set
   * will be. Leaves the step in bestStep and returns its denominator.
   */
  private geometryStep(knew: number, adelt: number): number {
    const { n, npt, it, glag, cand, bestStep } = this;
    const o = this.kopt * n;
    const lam = it.lagrangeWeights(knew);
    for (let i = 0; i < n; i++) glag[i] = it.bmat[knew * n + i];
    for (let k = 0; k < npt; k++) {
      if (lam[k] === 0) continue;
      let yx = 0;
      for (let i = 0; i < n; i++) yx += it.xpt[k * n + i] * it.xpt[o + i];
      for (let i = 0; i < n; i++) glag[i] += lam[k] * yx * it.xpt[k * n + i];
    }
    const alpha = it.omegaDiag(knew);
    let bestDen = -Infinity;
    bestStep.fill(0);
    const consider = () => {
      let len = 0;
      for (let i = 0; i < n; i++) len += cand[i] * cand[i];
      if (!(len > 0)) return;
      it.lagrangeAt(this.kopt, cand);
      const den = alpha * it.beta + it.vlag[knew] ** 2;
      if (den > bestDen) {
        bestDen = den;
        bestStep.set(cand);
      }
    };
    // Lines through xopt and the other points.
    for (let k = 0; k < npt; k++) {
      if (k === this.kopt) continue;
      let dist = 0, slope = 0;
      for (let i = 0; i < n; i++) {
        const u = it.xpt[k * n + i] - it.xpt[o + i];
        dist += u * u;
        slope += glag[i] * u;
      }
      dist = Math.sqrt(dist);
      if (dist === 0) continue;
      let amin = -adelt / dist, amax = adelt / dist;
      for (let i = 0; i < n; i++) {
        const u = it.xpt[k * n + i] - it.xpt[o + i];
        if (u === 0) continue;
        const lo = (it.sl[i] - it.xpt[o + i]) / u, hi = (it.su[i] - it.xpt[o + i]) / u;
        if (u > 0) {
          amin = Math.max(amin, lo);
          amax = Math.min(amax, hi);
        } else {
          amin = Math.max(amin, hi);
          amax = Math.min(amax, lo);
        }
      }
      if (!(amax >= amin)) continue;
      // l(a) = a slope + a^2 (delta_k - slope) along this line.
      const curv = (k === knew ? 1 : 0) - slope;
      let aBest = amin, vBest = Math.abs(amin * (slope + amin * curv));
      const vmax = Math.abs(amax * (slope + amax * curv));
      if (vmax > vBest) {
        aBest = amax;
        vBest = vmax;
      }
      if (curv !== 0) {
        const as = -slope / (2 * curv);
        if (as > amin && as < amax && Math.abs(as * (slope + as * curv)) > vBest) aBest = as;
      }
      if (aBest === 0) continue;
      for (let i = 0; i < n; i++) {
        cand[i] = aBest * (it.xpt[k * n + i] - it.xpt[o + i]);
        // Land exactly on a bound when the line meets it.
        const x = it.xpt[o + i] + cand[i];
        if (x <= it.sl[i]) cand[i] = it.sl[i] - it.xpt[o + i];
        else if (x >= it.su[i]) cand[i] = it.su[i] - it.xpt[o + i];
      }
      consider();
    }
    // Steepest ascent/descent of the Lagrange function, bent at the bounds.
    for (const sgn of SIGNS) {
      this.boundedPath(glag, sgn, adelt, o);
      consider();
    }
    // Coordinate steps.
    for (let i = 0; i < n; i++) {
      for (const sgn of SIGNS) {
        cand.fill(0);
        const x = it.xpt[o + i];
        cand[i] = Math.min(Math.max(x + sgn * adelt, it.sl[i]), it.su[i]) - x;
        consider();
      }
    }
    return bestDen;
  }

  /**
   * Into cand: a step of length adelt along sgn*g, with the coordinates that would leave the
   * box held at their bound and the remaining length given to the others.
   */
  private boundedPath(g: Float64Array, sgn: number, adelt: number, o: number): void {
    const { n, it, cand } = this;
    const held = this.held;
    held.fill(0);
    for (let i = 0; i < n; i++) {
      const x = it.xpt[o + i];
      if ((sgn * g[i] < 0 && x <= it.sl[i]) || (sgn * g[i] > 0 && x >= it.su[i]) || g[i] === 0) held[i] = 2;
    }
    cand.fill(0);
    let rem = adelt * adelt;
    for (let pass = 0; pass <= n; pass++) {
      let gg = 0;
      for (let i = 0; i < n; i++) if (held[i] === 0) gg += g[i] * g[i];
      if (!(gg > 0) || !(rem > 0)) break;
      const t = (sgn * Math.sqrt(rem)) / Math.sqrt(gg);
      let changed = false;
      for (let i = 0; i < n; i++) {
        if (held[i] !== 0) continue;
        const x = it.xpt[o + i];
        const y = x + t * g[i];
        if (y < it.sl[i] || y > it.su[i]) {
          cand[i] = (y < it.sl[i] ? it.sl[i] : it.su[i]) - x;
          held[i] = 1;
          rem -= cand[i] * cand[i];
          changed = true;
        }
      }
      if (!changed) {
        for (let i = 0; i < n; i++) if (held[i] === 0) cand[i] = t * g[i];
        break;
      }
    }
  }

  // ---- safeguards -----------------------------------------------------------------------

  /**
   * Starts a new interpolation set (2n fresh evaluations) around the best point known, which
   * may be the point just evaluated (value fnew, vector in xabs). The last resort when the
   * current points have become degenerate.
   */
  private restartSet(fnew: number): void {
    const { n, it } = this;
    const fopt = it.fval[this.kopt];
    const center = new Float64Array(n);
    let fc: number;
    if (Number.isFinite(fnew) && fnew < fopt) {
      center.set(this.xabs);
      fc = fnew;
    } else {
      for (let i = 0; i < n; i++) center[i] = it.xabs[this.kopt * n + i];
      fc = fopt;
    }
    // Keep the off-diagonal curvature; the new axis points re-estimate the rest.
    this.initialize(center, Math.max(this.rho, Math.min(this.delta, this.rhobeg)), fc);
  }

  /**
   * Chooses the point to drop for the trial point (step `this.step` from xopt) whose
   * vlag/beta are current: the largest denominator, weighted towards points far from the
   * point the next model is centred on (the trial point if it is the new best, when xopt
   * itself may go). Returns [t, weighted denominator, largest weighted vlag^2]; t = -1 if no
   * candidate.
   */
  private chooseDrop(better: boolean): [number, number, number] {
    const { n, npt, it } = this;
    const o = this.kopt * n;
    const delsq = this.delta * this.delta;
    let t = -1, scaden = 0, biglsq = 0;
    for (let k = 0; k < npt; k++) {
      if (k === this.kopt && !better) continue;
      const den = it.omegaDiag(k) * it.beta + it.vlag[k] ** 2;
      let distsq = 0;
      if (better) for (let i = 0; i < n; i++) distsq += (it.xpt[k * n + i] - it.xpt[o + i] - this.step[i]) ** 2;
      else for (let i = 0; i < n; i++) distsq += (it.xpt[k * n + i] - it.xpt[o + i]) ** 2;
      const w = Math.max(1, (distsq / delsq) ** 2);
      if (w * den > scaden) {
        scaden = w * den;
        t = k;
      }
      biglsq = Math.max(biglsq, w * it.vlag[k] ** 2);
    }
    return [t, scaden, biglsq];
  }

  // ---- the main iteration ---------------------------------------------------------------

  private mainLoop(): { status: Status; message: string } {
    const { n, it, tr } = this;
    const d = this.step;
    let diffa = 0, diffb = 0, diffc = 0;
    let nfsav = this.nfev;
    let itest = 0;
    for (;;) {
      const o = this.kopt * n;
      // Keep the base near xopt so that the terms of w stay of the size of the steps.
      let xoxo = 0;
      for (let i = 0; i < n; i++) xoxo += it.xpt[o + i] ** 2;
      if (xoxo > 1e3 * this.delta * this.delta) it.rebuild(this.kopt);

      tr.solve(n, it.xpt, this.kopt * n, it.sl, it.su, this.gopt, this.hq, this.delta);
      let dsq = 0;
      for (let i = 0; i < n; i++) dsq += tr.d[i] * tr.d[i];
      const dnorm = Math.min(this.delta, Math.sqrt(dsq));

      if (dnorm < 0.5 * this.rho) {
        // A short step: either the model is accurate enough for this rho, or it needs better
        // points first.
        let reduce = this.nfev > nfsav + 2;
        if (reduce) {
          const errbig = Math.max(diffa, diffb, diffc);
          const frhosq = 0.125 * this.rho * this.rho;
          if (tr.crvmin > 0 && errbig > frhosq * tr.crvmin) reduce = false;
          else {
            const bdtol = errbig / this.rho;
            for (let j = 0; j < n && reduce; j++) {
              let bdtest = bdtol;
              if (tr.xnew[j] === it.sl[j]) bdtest = tr.gnew[j];
              if (tr.xnew[j] === it.su[j]) bdtest = -tr.gnew[j];
              if (bdtest < bdtol) {
                bdtest += 0.5 * this.hq[j * n + j] * this.rho;
                if (bdtest < bdtol) reduce = false;
              }
            }
          }
        }
        if (!reduce) {
          const [knew, dist] = this.farthest((10 * this.rho) ** 2);
          if (knew >= 0) {
            this.delta = Math.min(0.1 * this.delta, 0.5 * dist);
            if (this.delta <= 1.5 * this.rho) this.delta = this.rho;
            this.geometryIteration(knew, Math.max(Math.min(0.1 * dist, this.delta), this.rho));
            continue;
          }
        }
        if (this.rho <= this.rhoend) return this.finish();
        if (this.flatStop) {
          // The model, accurate at this rho, has its minimum within half of rho and promises
          // less than ftol there: what smaller radii could still find is below ftol.
          const ftol = Math.max(this.ftolAbs * this.fscale, this.ftolRel * Math.abs(it.fval[this.kopt]));
          if (ftol > 0 && -this.predicted(tr.d) < ftol) {
            return { status: "converged", message: `the model promises less than ftol = ${ftol / this.fscale} within rho = ${this.rho}` };
          }
        }
        this.reduceRho();
        nfsav = this.nfev;
        continue;
      }

      // Trust-region step.
      d.set(tr.d);
      const fopt = it.fval[this.kopt];
      const fnew = this.evaluate(tr.xnew);
      for (let i = 0; i < n; i++) d[i] = this.xabs[i] - it.xbase[i] - it.xpt[o + i];
      let ratio: number;
      const vquad = this.predicted(d);
      if (Number.isNaN(fnew)) {
        // f is undefined there: a failed step. Shorten the next one, as a line search would,
        // and give the model a value that says "worse by as much as you promised": enough to
        // turn later steps away from this region without swamping the model.
        ratio = -1;
        this.delta = Math.min(0.5 * this.delta, 0.5 * dnorm);
        if (this.delta <= 1.5 * this.rho) this.delta = this.rho;
        this.insert(d, this.stand_in(fopt, vquad), vquad, -1);
      } else {
        ratio = vquad < 0 ? (fnew - fopt) / vquad : -1;
        diffc = diffb;
        diffb = diffa;
        diffa = Math.abs(fnew - fopt - vquad);
        if (dnorm > this.rho) nfsav = this.nfev;
        if (ratio <= 0.1) this.delta = Math.min(0.5 * this.delta, dnorm);
        else if (ratio <= 0.7) this.delta = Math.max(0.5 * this.delta, dnorm);
        else this.delta = Math.max(0.5 * this.delta, 2 * dnorm);
        if (this.delta <= 1.5 * this.rho) this.delta = this.rho;

        this.insert(d, fnew, vquad, -1);
        // fval and vquad are on the scaled axis (fscale); ftolAbs is in f's own units.
        const ftol = Math.max(this.ftolAbs * this.fscale, this.ftolRel * Math.abs(fopt));
        if (fnew < fopt && fopt - fnew < ftol && -vquad < ftol) {
          return { status: "converged", message: `the objective changed by less than ftolAbs = ${this.ftolAbs}` };
        }

        const [gq, gi] = this.alternative();
        if (gq < 10 * gi) itest = 0;
        else if (++itest >= 3) {
          this.useAlternative();
          itest = 0;
        }
      }
      if (ratio >= 0.1) continue;
      const [knew, dist] = this.farthest(Math.max((2 * this.delta) ** 2, (10 * this.rho) ** 2));
      if (knew >= 0) {
        this.geometryIteration(knew, Math.max(Math.min(0.1 * dist, this.delta), this.rho));
        continue;
      }
      if (ratio > 0) continue;
      if (Math.max(this.delta, dnorm) > this.rho) continue;
      if (this.rho <= this.rhoend) return this.finish();
      this.reduceRho();
      nfsav = this.nfev;
    }
  }

  /**
   * Adds the point just evaluated (vector in xabs, step d from xopt) to the set: in slot
   * `forced` if given (a geometry step), else in the slot whose removal keeps the set best
   * posed. A denominator that rounding has spoiled is retried once with H rebuilt from the
   * points. A point that still cannot enter is dropped if it was a trust-region step that
   * did not improve f (the shrinking radius carries the progress); otherwise, and whenever
   * the points turn out degenerate, the set is started afresh, so that no iteration can end
   * without changing the state.
   */
  private insert(d: Float64Array, fnew: number, vquad: number, forced: number): void {
    const { it } = this;
    const better = fnew < it.fval[this.kopt];
    for (let attempt = 0; attempt < 2; attempt++) {
      it.lagrangeAt(this.kopt, d);
      let t = forced;
      let ok: boolean;
      if (t < 0) {
        const [k, scaden, biglsq] = this.chooseDrop(better);
        t = k;
        ok = t >= 0 && scaden > 0.5 * biglsq;
      } else {
        const den = it.omegaDiag(t) * it.beta + it.vlag[t] ** 2;
        ok = den > 0.5 * it.vlag[t] ** 2 && den > 0;
      }
      if (ok && this.replace(t, d, fnew, vquad)) return;
      // Same point, same H up to rounding: the step d is unchanged by the base move.
      if (attempt === 0 && !it.rebuild(this.kopt)) break;
    }
    if (forced < 0 && !better) return;
    this.restartSet(fnew);
  }

  private geometryIteration(knew: number, adelt: number): void {
    const { n, it } = this;
    const o = this.kopt * n;
    const den0 = this.geometryStep(knew, adelt);
    const d = this.bestStep, c = this.cand;
    const alpha = it.omegaDiag(knew);
    let fnew = NaN;
    // Where f is undefined, shorter and then reversed steps keep real values in the set, but
    // only those that keep the set reasonably well posed.
    for (const scale of RETRY_SCALES) {
      for (let i = 0; i < n; i++) {
        this.xrel[i] = Math.min(Math.max(it.xpt[o + i] + scale * d[i], it.sl[i]), it.su[i]);
        c[i] = this.xrel[i] - it.xpt[o + i];
      }
      if (scale !== 1) {
        it.lagrangeAt(this.kopt, c);
        if (!(alpha * it.beta + it.vlag[knew] ** 2 > 0.01 * den0)) continue;
      }
      fnew = this.evaluate(this.xrel);
      if (!Number.isNaN(fnew)) break;
    }
    if (Number.isNaN(fnew)) {
      // No usable value near there: record the intended point with a stand-in value.
      for (let i = 0; i < n; i++) this.xrel[i] = Math.min(Math.max(it.xpt[o + i] + d[i], it.sl[i]), it.su[i]);
      this.toAbs(this.xrel);
    }
    for (let i = 0; i < n; i++) d[i] = this.xabs[i] - it.xbase[i] - it.xpt[o + i];
    const vquad = this.predicted(d);
    if (Number.isNaN(fnew)) fnew = this.stand_in(it.fval[this.kopt], vquad);
    this.insert(d, fnew, vquad, knew);
  }

  private reduceRho(): void {
    this.delta = 0.5 * this.rho;
    const ratio = this.rho / this.rhoend;
    if (ratio <= 16) this.rho = this.rhoend;
    else if (ratio <= 250) this.rho = Math.sqrt(ratio) * this.rhoend;
    else this.rho *= 0.1;
    this.delta = Math.max(this.delta, this.rho);
    // A fresh H at each new scale keeps rounding errors from accumulating over the run.
    this.it.rebuild(this.kopt);
  }

  private finish(): { status: Status; message: string } {
    return { status: "converged", message: `trust region radius reached rhoend = ${this.rhoend}` };
  }
}
