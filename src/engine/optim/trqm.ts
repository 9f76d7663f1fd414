// A bound-constrained derivative-free minimizer of the BOBYQA class (Powell 2009): a quadratic
// model interpolating f at 2n+1 points, updated by the least change in the Frobenius norm of its
// second-derivative matrix, minimized in a trust region intersected with the box; the trust
// region radius falls from rhobeg to rhoend. Written from the published description. We solve
// the small KKT system of the least-change update directly at each step instead of updating its
// inverse (n is at most a few tens here, and direct solves are easier to keep accurate).
import type { OptimOptions, OptimResult } from "./types";

export function bobyqa(f: (x: Float64Array) => number, x0In: ArrayLike<number>, opts: OptimOptions = {}): OptimResult {
  const n = x0In.length;
  const lower = Float64Array.from({ length: n }, (_, i) => (opts.lower ? opts.lower[i] : -Infinity));
  const upper = Float64Array.from({ length: n }, (_, i) => (opts.upper ? opts.upper[i] : Infinity));
  const x0 = Float64Array.from(x0In, (v, i) => Math.min(Math.max(v, lower[i]), upper[i]));
  let minWidth = Infinity;
  for (let i = 0; i < n; i++) minWidth = Math.min(minWidth, upper[i] - lower[i]);
  const rhobeg = Math.min(opts.rhobeg ?? 0.5, Number.isFinite(minWidth) ? minWidth / 2 : Infinity);
  const rhoend = Math.min(opts.rhoend ?? 1e-8, rhobeg);
  const maxfun = opts.maxfun ?? Math.max(1000 * n, 200);
  const npt = 2 * n + 1;

  let nfev = 0;
  let stopped = false;
  const xbuf = new Float64Array(n);
  const evalAt = (x: Float64Array): number => {
    for (let i = 0; i < n; i++) xbuf[i] = Math.min(Math.max(x[i], lower[i]), upper[i]);
    nfev++;
    const v = f(xbuf);
    if (opts.shouldStop && opts.shouldStop()) stopped = true;
    return Number.isFinite(v) ? v : Number.MAX_VALUE;
  };
  if (n === 0) {
    const v = evalAt(x0);
    return { x: x0, fval: v, nfev, status: "converged", message: "no parameters" };
  }

  // Interpolation points (absolute), values.
  const Y: Float64Array[] = [];
  const F: number[] = [];
  const push = (x: Float64Array) => {
    Y.push(Float64Array.from(x));
    F.push(evalAt(x));
  };
  push(x0);
  for (let i = 0; i < n; i++) {
    // Steps along each axis, kept inside the box (both on one side when at a bound).
    const up = upper[i] - x0[i], down = x0[i] - lower[i];
    let s1 = rhobeg, s2 = -rhobeg;
    if (down < rhobeg) {
      s1 = rhobeg;
      s2 = Math.min(2 * rhobeg, up);
    } else if (up < rhobeg) {
      s1 = -rhobeg;
      s2 = -Math.min(2 * rhobeg, down);
    }
    const a = Float64Array.from(x0), b = Float64Array.from(x0);
    a[i] += s1;
    b[i] += s2;
    push(a);
    push(b);
  }

  // Model around xbase: q(x) = c + g'(x - xb) + 1/2 (x - xb)' H (x - xb).
  let xb = Float64Array.from(x0);
  let c = 0;
  let g = new Float64Array(n);
  let H = new Float64Array(n * n);
  const qAt = (x: Float64Array): number => {
    let lin = 0, quad = 0;
    for (let i = 0; i < n; i++) {
      const di = x[i] - xb[i];
      lin += g[i] * di;
      let hi = 0;
      for (let j = 0; j < n; j++) hi += H[i * n + j] * (x[j] - xb[j]);
      quad += di * hi;
    }
    return c + lin + 0.5 * quad;
  };
  const dim = npt + n + 1;
  const K = new Float64Array(dim * dim);
  // The KKT system is formed in displacements divided by their largest length `sc`, so that its
  // entries stay O(1) however small the trust region gets.
  let sc = 1;
  const kkt = () => {
    sc = 0;
    for (let k = 0; k < npt; k++) {
      let d = 0;
      for (let i = 0; i < n; i++) d += (Y[k][i] - xb[i]) ** 2;
      sc = Math.max(sc, Math.sqrt(d));
    }
    if (!(sc > 0)) sc = 1;
    K.fill(0);
    for (let k = 0; k < npt; k++) {
      for (let j = 0; j <= k; j++) {
        let d = 0;
        for (let i = 0; i < n; i++) d += (Y[k][i] - xb[i]) * (Y[j][i] - xb[i]);
        d /= sc * sc;
        K[k * dim + j] = K[j * dim + k] = 0.5 * d * d;
      }
      K[k * dim + npt] = K[npt * dim + k] = 1;
      for (let i = 0; i < n; i++) K[k * dim + npt + 1 + i] = K[(npt + 1 + i) * dim + k] = (Y[k][i] - xb[i]) / sc;
    }
  };
  /** Solve the KKT system and return (lambda, c, g) in unscaled units. */
  const solveKkt = (rhs: Float64Array): Float64Array | null => {
    const sol = gaussSolve(K, rhs, dim);
    if (!sol) return null;
    const s4 = sc * sc * sc * sc;
    for (let k = 0; k < npt; k++) sol[k] /= s4;
    for (let i = 0; i < n; i++) sol[npt + 1 + i] /= sc;
    return sol;
  };
  /** Least-Frobenius-change update of the model so that it interpolates every point. */
  const refit = (): boolean => {
    kkt();
    const rhs = new Float64Array(dim);
    for (let k = 0; k < npt; k++) rhs[k] = F[k] - qAt(Y[k]);
    const sol = solveKkt(rhs);
    if (!sol) return false;
    c += sol[npt];
    for (let i = 0; i < n; i++) g[i] += sol[npt + 1 + i];
    for (let k = 0; k < npt; k++) {
      const lam = sol[k];
      if (lam === 0) continue;
      for (let i = 0; i < n; i++) {
        const yi = Y[k][i] - xb[i];
        for (let j = 0; j < n; j++) H[i * n + j] += lam * yi * (Y[k][j] - xb[j]);
      }
    }
    return true;
  };
  /** Lagrange function of point k: its coefficients (lambdas, c, g) from the KKT system. */
  const lagrange = (k: number) => {
    kkt();
    const rhs = new Float64Array(dim);
    rhs[k] = 1;
    return solveKkt(rhs);
  };
  const lagAt = (sol: Float64Array, x: Float64Array): number => {
    let v = sol[npt];
    for (let i = 0; i < n; i++) v += sol[npt + 1 + i] * (x[i] - xb[i]);
    for (let j = 0; j < npt; j++) {
      let d = 0;
      for (let i = 0; i < n; i++) d += (Y[j][i] - xb[i]) * (x[i] - xb[i]);
      v += 0.5 * sol[j] * d * d;
    }
    return v;
  };
  const shiftBase = (to: Float64Array) => {
    // Re-express the model around `to` (keeps the KKT system well scaled near the optimum).
    const s = new Float64Array(n);
    for (let i = 0; i < n; i++) s[i] = to[i] - xb[i];
    c = qAt(to);
    const gn = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      let v = g[i];
      for (let j = 0; j < n; j++) v += H[i * n + j] * s[j];
      gn[i] = v;
    }
    g = gn;
    xb = Float64Array.from(to);
  };
  refit();

  let kopt = 0;
  for (let k = 1; k < npt; k++) if (F[k] < F[kopt]) kopt = k;
  let rho = rhobeg;
  let delta = rhobeg;
  let status: OptimResult["status"] = "converged";
  let message = "rho reached rhoend";
  const dist = (a: Float64Array, b: Float64Array) => {
    let s = 0;
    for (let i = 0; i < n; i++) s += (a[i] - b[i]) ** 2;
    return Math.sqrt(s);
  };

  outer: for (;;) {
    if (stopped) {
      status = "cancelled";
      message = "stopped by request";
      break;
    }
    if (nfev >= maxfun) {
      status = "maxfun";
      message = `reached ${maxfun} evaluations`;
      break;
    }
    const xopt = Y[kopt];
    if (dist(xopt, xb) > 2 * delta) {
      shiftBase(xopt);
    }
    // Trust-region step within the box.
    const gopt = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      let v = g[i];
      for (let j = 0; j < n; j++) v += H[i * n + j] * (xopt[j] - xb[j]);
      gopt[i] = v;
    }
    const d = trsbox(gopt, H, n, delta, xopt, lower, upper);
    const dnorm = Math.sqrt(d.reduce((s, v) => s + v * v, 0));
    if (dnorm < 0.5 * rho) {
      // Step too short to be informative: improve geometry or shrink rho.
      if (improveGeometry()) continue;
      if (rho <= rhoend) break;
      rho = nextRho(rho, rhoend);
      delta = Math.max(0.5 * delta, rho);
      continue;
    }
    const xnew = new Float64Array(n);
    for (let i = 0; i < n; i++) xnew[i] = Math.min(Math.max(xopt[i] + d[i], lower[i]), upper[i]);
    const predicted = F[kopt] - qAt(xnew) + (qAt(xopt) - F[kopt]);
    const fnew = evalAt(xnew);
    const ratio = predicted > 0 ? (F[kopt] - fnew) / predicted : -1;
    if (ratio <= 0.1) delta = Math.max(0.5 * delta, rho);
    else if (ratio <= 0.7) delta = Math.max(0.5 * delta, dnorm);
    else delta = Math.max(delta, 2 * dnorm);
    if (delta <= 1.5 * rho) delta = rho;
    // Choose the point to drop: large Lagrange value at xnew, weighted by distance from xopt.
    let kdrop = -1, best = -1;
    for (let k = 0; k < npt; k++) {
      if (k === kopt && fnew >= F[kopt]) continue;
      const lk = lagrange(k);
      if (!lk) continue;
      const w = Math.max(1, (dist(Y[k], fnew < F[kopt] ? xnew : xopt) / delta) ** 2);
      const score = Math.abs(lagAt(lk, xnew)) * w;
      if (score > best) {
        best = score;
        kdrop = k;
      }
    }
    if (kdrop >= 0) {
      Y[kdrop] = xnew;
      F[kdrop] = fnew;
      if (!refit()) rebuildAround(Y[kopt]);
      if (fnew < F[kopt]) kopt = kdrop;
      for (let k = 0; k < npt; k++) if (F[k] < F[kopt]) kopt = k;
    }
    if (ratio <= 0.1) {
      // A poor step: fix the geometry if a point is far away; shrink rho only when the
      // trust region is already at rho and the points are close (the model is as good as
      // this rho allows).
      if (improveGeometry()) continue;
      if (delta <= rho) {
        if (rho <= rhoend) break outer;
        rho = nextRho(rho, rhoend);
        delta = Math.max(0.5 * delta, rho);
      }
    }
  }

  return { x: Float64Array.from(Y[kopt], (v, i) => Math.min(Math.max(v, lower[i]), upper[i])), fval: F[kopt], nfev, status, message };

  /** Replace the point farthest from xopt (if beyond 2 delta) by one that maximizes its Lagrange function. */
  function improveGeometry(): boolean {
    const xopt = Y[kopt];
    let kfar = -1, far = 2 * Math.max(delta, rho);
    for (let k = 0; k < npt; k++) {
      const dk = dist(Y[k], xopt);
      if (k !== kopt && dk > far) {
        far = dk;
        kfar = k;
      }
    }
    if (kfar < 0 || nfev >= maxfun || stopped) return false;
    const lk = lagrange(kfar);
    const r = Math.max(rho, Math.min(delta, 0.1 * far));
    let bestX: Float64Array | null = null, bestV = -1;
    // Candidates: along the lines from xopt through the other points, and along the Lagrange gradient.
    const cand = (dir: Float64Array) => {
      const len = Math.sqrt(dir.reduce((s, v) => s + v * v, 0));
      if (len === 0) return;
      for (const sgn of [1, -1]) {
        const x = new Float64Array(n);
        for (let i = 0; i < n; i++) x[i] = Math.min(Math.max(xopt[i] + (sgn * r * dir[i]) / len, lower[i]), upper[i]);
        if (dist(x, xopt) < 0.1 * r) continue;
        const v = lk ? Math.abs(lagAt(lk, x)) : dist(x, xopt);
        if (v > bestV) {
          bestV = v;
          bestX = x;
        }
      }
    };
    for (let k = 0; k < npt; k++) if (k !== kopt) cand(Float64Array.from(Y[k], (v, i) => v - xopt[i]));
    if (lk) {
      const gl = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        let v = lk[npt + 1 + i];
        for (let j = 0; j < npt; j++) {
          let dd = 0;
          for (let m = 0; m < n; m++) dd += (Y[j][m] - xb[m]) * (xopt[m] - xb[m]);
          v += lk[j] * dd * (Y[j][i] - xb[i]);
        }
        gl[i] = v;
      }
      cand(gl);
    }
    for (let i = 0; i < n; i++) {
      const e = new Float64Array(n);
      e[i] = 1;
      cand(e);
    }
    if (!bestX) return false;
    Y[kfar] = bestX;
    F[kfar] = evalAt(bestX);
    if (!refit()) rebuildAround(Y[kopt]);
    for (let k = 0; k < npt; k++) if (F[k] < F[kopt]) kopt = k;
    return true;
  }

  /** Start the interpolation set afresh around x (used if the KKT system turns singular). */
  function rebuildAround(x: Float64Array): void {
    const keepF = F[kopt];
    Y.length = 0;
    F.length = 0;
    Y.push(Float64Array.from(x));
    F.push(keepF);
    const r = Math.max(rho, Math.min(delta, rhobeg));
    for (let i = 0; i < n; i++) {
      for (const s of [1, -1]) {
        const a = Float64Array.from(x);
        a[i] = Math.min(Math.max(a[i] + s * r, lower[i]), upper[i]);
        if (a[i] === x[i]) a[i] = Math.min(Math.max(x[i] - s * 2 * r, lower[i]), upper[i]);
        Y.push(a);
        F.push(evalAt(a));
      }
    }
    xb = Float64Array.from(x);
    c = 0;
    g = new Float64Array(n);
    H = new Float64Array(n * n);
    refit();
    kopt = 0;
    for (let k = 1; k < npt; k++) if (F[k] < F[kopt]) kopt = k;
  }
}

function nextRho(rho: number, rhoend: number): number {
  const ratio = rho / rhoend;
  if (ratio <= 16) return rhoend;
  if (ratio <= 250) return Math.sqrt(ratio) * rhoend;
  return 0.1 * rho;
}

/**
 * Approximately minimize g'd + 1/2 d'Hd subject to |d| <= delta and lower <= x + d <= upper:
 * conjugate gradients on the free variables, fixing a variable when it reaches its bound and
 * stopping on the trust-region boundary (the idea of Powell's TRSBOX).
 */
function trsbox(g: Float64Array, H: Float64Array, n: number, delta: number, x: Float64Array, lower: Float64Array, upper: Float64Array): Float64Array {
  const d = new Float64Array(n);
  const free = new Uint8Array(n).fill(1);
  for (let i = 0; i < n; i++) {
    if ((x[i] <= lower[i] && g[i] > 0) || (x[i] >= upper[i] && g[i] < 0)) free[i] = 0;
  }
  for (let restart = 0; restart <= n; restart++) {
    // Gradient of the model at d.
    const r = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      let v = g[i];
      for (let j = 0; j < n; j++) v += H[i * n + j] * d[j];
      r[i] = free[i] ? -v : 0;
    }
    const p = Float64Array.from(r);
    let rr = r.reduce((s, v) => s + v * v, 0);
    if (rr < 1e-30) return d;
    let hitBound = false;
    for (let it = 0; it < n && rr > 1e-30; it++) {
      const Hp = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        if (!free[i]) continue;
        let v = 0;
        for (let j = 0; j < n; j++) v += H[i * n + j] * p[j];
        Hp[i] = v;
      }
      const pHp = p.reduce((s, v, i) => s + v * Hp[i], 0);
      // Largest step keeping |d + a p| <= delta.
      const dp = d.reduce((s, v, i) => s + v * p[i], 0), pp = p.reduce((s, v) => s + v * v, 0), dd = d.reduce((s, v) => s + v * v, 0);
      const aTr = (-dp + Math.sqrt(Math.max(dp * dp + pp * (delta * delta - dd), 0))) / pp;
      // Largest step keeping the box.
      let aBox = Infinity, ib = -1;
      for (let i = 0; i < n; i++) {
        if (!free[i] || p[i] === 0) continue;
        const lim = p[i] > 0 ? (upper[i] - x[i] - d[i]) / p[i] : (lower[i] - x[i] - d[i]) / p[i];
        if (lim < aBox) {
          aBox = lim;
          ib = i;
        }
      }
      let a = pHp > 0 ? rr / pHp : Infinity;
      const limit = Math.min(aTr, aBox);
      if (a >= limit) {
        a = limit;
        for (let i = 0; i < n; i++) d[i] += a * p[i];
        if (aBox <= aTr && ib >= 0) {
          free[ib] = 0;
          d[ib] = (p[ib] > 0 ? upper[ib] : lower[ib]) - x[ib];
          hitBound = true;
          break;
        }
        return d;
      }
      for (let i = 0; i < n; i++) {
        d[i] += a * p[i];
        r[i] -= a * Hp[i];
      }
      const rrNew = r.reduce((s, v) => s + v * v, 0);
      const beta = rrNew / rr;
      rr = rrNew;
      for (let i = 0; i < n; i++) p[i] = r[i] + beta * p[i];
    }
    if (!hitBound) return d;
  }
  return d;
}

/** Gaussian elimination with partial pivoting on a copy; null if singular. */
function gaussSolve(A0: Float64Array, b0: Float64Array, m: number): Float64Array | null {
  const A = Float64Array.from(A0), b = Float64Array.from(b0);
  let scale = 0;
  for (let i = 0; i < A.length; i++) scale = Math.max(scale, Math.abs(A[i]));
  for (let col = 0; col < m; col++) {
    let piv = col, big = Math.abs(A[col * m + col]);
    for (let r = col + 1; r < m; r++) {
      const v = Math.abs(A[r * m + col]);
      if (v > big) {
        big = v;
        piv = r;
      }
    }
    if (big <= 1e-14 * scale) return null;
    if (piv !== col) {
      for (let j = 0; j < m; j++) {
        const t = A[col * m + j];
        A[col * m + j] = A[piv * m + j];
        A[piv * m + j] = t;
      }
      const t = b[col];
      b[col] = b[piv];
      b[piv] = t;
    }
    const d = A[col * m + col];
    for (let r = col + 1; r < m; r++) {
      const fct = A[r * m + col] / d;
      if (fct === 0) continue;
      for (let j = col; j < m; j++) A[r * m + j] -= fct * A[col * m + j];
      b[r] -= fct * b[col];
    }
  }
  const x = new Float64Array(m);
  for (let r = m - 1; r >= 0; r--) {
    let s = b[r];
    for (let j = r + 1; j < m; j++) s -= A[r * m + j] * x[j];
    x[r] = s / A[r * m + r];
  }
  return x;
}
