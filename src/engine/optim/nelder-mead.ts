// Nelder & Mead (1965) simplex search, the fallback when the model-based method fails: it
// needs nothing from f but comparisons, so it copes with noise, kinks and undefined regions
// (an undefined value simply ranks last). Standard coefficients: reflection 1, expansion 2,
// contraction 1/2, shrink 1/2. Bounds: every trial point is projected onto the box.
// Projection can flatten the simplex into a face of the box, and the method can stall on
// a ridge; so a converged run is restarted from its best point with a fresh simplex, and
// the run ends only when a restart no longer improves f.
import type { OptimOptions, OptimResult } from "./types";
import { defaultRhobeg, reduceProblem } from "./problem";

const MAX_RESTARTS = 4;

class Stop extends Error {
  constructor(readonly status: OptimResult["status"], message: string) {
    super(message);
  }
}

export function nelderMead(f: (x: Float64Array) => number, x0: ArrayLike<number>, opts: OptimOptions = {}): OptimResult {
  const p = reduceProblem(f, x0, opts);
  if ("status" in p) return p;
  const { n, lower, upper } = p;
  if (n === 0) {
    p.call(p.x0);
    return p.result("converged", "no free parameters");
  }
  const step0 = opts.rhobeg ?? defaultRhobeg(lower, upper);
  const xtol = opts.rhoend ?? 1e-8;
  if (!(step0 > 0) || !(xtol > 0)) return p.result("failed", "rhobeg and rhoend must be positive");
  const maxfun = opts.maxfun ?? 1000 * n;
  const m = n + 1;
  const X = new Float64Array(m * n); // vertices, row-major
  const F = new Float64Array(m);
  const order = new Int32Array(m);
  const cen = new Float64Array(n);
  const xr = new Float64Array(n), xe = new Float64Array(n), xc = new Float64Array(n);

  const evaluate = (x: Float64Array): number => {
    if (p.nfev() >= maxfun) throw new Stop("maxfun", `reached maxfun = ${maxfun} evaluations`);
    const v = p.call(x);
    if (opts.shouldStop && opts.shouldStop()) throw new Stop("cancelled", "stopped by request");
    return Number.isNaN(v) ? Infinity : v;
  };
  /** f at a trial point, reusing the best vertex's value when projection has landed on it. */
  const trial = (x: Float64Array, b: number): number => {
    for (let i = 0; i < n; i++) if (x[i] !== X[b * n + i]) return evaluate(x);
    return F[b];
  };
  /** cen + t (cen - worst), projected onto the box. */
  const along = (t: number, worst: number, out: Float64Array) => {
    for (let i = 0; i < n; i++) {
      const v = cen[i] + t * (cen[i] - X[worst * n + i]);
      out[i] = Math.min(Math.max(v, lower[i]), upper[i]);
    }
  };
  const put = (k: number, x: Float64Array, v: number) => {
    X.set(x, k * n);
    F[k] = v;
  };
  const sortVertices = () => {
    for (let k = 0; k < m; k++) order[k] = k;
    for (let a = 1; a < m; a++) {
      const k = order[a];
      let b = a - 1;
      while (b >= 0 && F[order[b]] > F[k]) {
        order[b + 1] = order[b];
        b--;
      }
      order[b + 1] = k;
    }
  };
  /** A simplex around x: x plus a step along each axis, turned inward at an upper bound. */
  const fresh = (x: Float64Array, fx: number, step: number) => {
    put(0, x, fx);
    for (let i = 0; i < n; i++) {
      xr.set(x);
      const room = upper[i] - x[i];
      xr[i] = room >= step ? x[i] + step : Math.max(x[i] - step, lower[i]);
      if (xr[i] === x[i]) xr[i] = x[i] + 0.5 * room;
      put(i + 1, xr, evaluate(xr));
    }
  };

  let status: OptimResult["status"] = "converged";
  let message = "simplex smaller than rhoend";
  try {
    const start = Float64Array.from(p.x0);
    let fStart = evaluate(start);
    fresh(start, fStart, step0);
    for (let restart = 0; ; restart++) {
      for (;;) {
        sortVertices();
        const b = order[0], w = order[n], sw = order[n - 1];
        let size = 0;
        for (let k = 0; k < m; k++) for (let i = 0; i < n; i++) size = Math.max(size, Math.abs(X[k * n + i] - X[b * n + i]));
        if (size <= xtol) break;
        cen.fill(0);
        for (let a = 0; a < n; a++) {
          const k = order[a];
          for (let i = 0; i < n; i++) cen[i] += X[k * n + i];
        }
        for (let i = 0; i < n; i++) cen[i] /= n;
        along(1, w, xr);
        const fr = trial(xr, b);
        if (fr < F[b]) {
          along(2, w, xe);
          const fe = trial(xe, b);
          if (fe < fr) put(w, xe, fe);
          else put(w, xr, fr);
          continue;
        }
        if (fr < F[sw]) {
          put(w, xr, fr);
          continue;
        }
        // Contract: outside if the reflection beat the worst vertex, inside otherwise.
        const outside = fr < F[w];
        along(outside ? 0.5 : -0.5, w, xc);
        const fc = trial(xc, b);
        if (fc < (outside ? fr : F[w])) {
          put(w, xc, fc);
          continue;
        }
        for (let a = 1; a < m; a++) {
          const k = order[a];
          for (let i = 0; i < n; i++) xr[i] = X[b * n + i] + 0.5 * (X[k * n + i] - X[b * n + i]);
          put(k, xr, evaluate(xr));
        }
      }
      const b = order[0];
      const fBest = F[b];
      if (restart > 0 && !(fBest < fStart - 1e-12 * Math.max(1, Math.abs(fStart)))) break;
      if (restart >= MAX_RESTARTS) break;
      fStart = fBest;
      const xb = Float64Array.from(X.subarray(b * n, b * n + n));
      // A smaller simplex: enough to leave a face of the box or a stalled ridge.
      fresh(xb, fBest, Math.max(0.01 * step0, 10 * xtol));
    }
  } catch (e) {
    if (!(e instanceof Stop)) throw e;
    status = e.status;
    message = e.message;
  }
  return p.result(status, message);
}
