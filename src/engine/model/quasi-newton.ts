// A quasi-Newton minimizer for smooth objectives with an analytic gradient (BFGS on the inverse
// Hessian, Nocedal & Wright ch. 6: Armijo backtracking, the initial scaling s'y / y'y, updates
// skipped when the curvature s'y is not positive), and a Newton finish on the finite-difference
// Hessian of the gradient: it polishes the end to the objective's rounding and measures how far
// the optimum is (lme4's scaled gradient, as optimize.ts), so "converged" means at the optimum.
// Used for the residual-structure parameters (residual-gradient.ts), which have no bounds.

export type ValueGrad = (x: Float64Array, grad: Float64Array) => number;

export interface QuasiNewtonResult {
  x: Float64Array;
  f: number;
  grad: Float64Array;
  evaluations: number;
  iterations: number;
  status: "converged" | "maxiter" | "failed" | "cancelled";
  message: string;
  /** The inverse-Hessian approximation at the end (k x k). */
  invHessian: Float64Array;
}

export interface QuasiNewtonOptions {
  maxIter?: number;
  /** Stop when max |g_i| is below this. */
  gtol?: number;
  /** Stop when an iteration lowers f by less than ftol (1 + |f|), twice in a row. */
  ftol?: number;
  shouldStop?: () => boolean;
}

export function bfgs(fg: ValueGrad, x0: Float64Array, opts: QuasiNewtonOptions = {}): QuasiNewtonResult {
  const k = x0.length;
  const maxIter = opts.maxIter ?? 200 + 20 * k, gtol = opts.gtol ?? 1e-6, ftol = opts.ftol ?? 1e-13;
  let evaluations = 0;
  const call = (x: Float64Array, g: Float64Array): number => {
    evaluations++;
    const v = fg(x, g);
    return Number.isFinite(v) ? v : Infinity;
  };
  const x = Float64Array.from(x0), g = new Float64Array(k);
  let f = call(x, g);
  if (!Number.isFinite(f)) return { x, f, grad: g, evaluations, iterations: 0, status: "failed", message: "the objective is not finite at the start", invHessian: new Float64Array(k * k) };
  const H = new Float64Array(k * k);
  for (let i = 0; i < k; i++) H[i * k + i] = 1;
  let scaled = false;
  const d = new Float64Array(k), xn = new Float64Array(k), gn = new Float64Array(k), s = new Float64Array(k), yv = new Float64Array(k), Hy = new Float64Array(k);
  let small = 0;
  for (let it = 0; it < maxIter; it++) {
    if (opts.shouldStop?.()) return { x, f, grad: g, evaluations, iterations: it, status: "cancelled", message: "stopped", invHessian: H };
    let gmax = 0;
    for (let i = 0; i < k; i++) gmax = Math.max(gmax, Math.abs(g[i]));
    if (gmax < gtol) return { x, f, grad: g, evaluations, iterations: it, status: "converged", message: "gradient below tolerance", invHessian: H };
    // d = -H g; fall back to steepest descent when H has lost descent.
    let slope = 0;
    for (let i = 0; i < k; i++) {
      let v = 0;
      for (let j = 0; j < k; j++) v -= H[i * k + j] * g[j];
      d[i] = v;
      slope += v * g[i];
    }
    if (!(slope < 0)) {
      H.fill(0);
      for (let i = 0; i < k; i++) H[i * k + i] = 1;
      scaled = false;
      slope = 0;
      for (let i = 0; i < k; i++) {
        d[i] = -g[i];
        slope -= g[i] * g[i];
      }
    }
    // First step: at most 1 in any coordinate (the parameters are on unconstrained log/logit scales).
    let t = 1;
    if (!scaled) {
      let dmax = 0;
      for (let i = 0; i < k; i++) dmax = Math.max(dmax, Math.abs(d[i]));
      if (dmax > 1) t = 1 / dmax;
    }
    let fn = Infinity, ok = false;
    for (let ls = 0; ls < 40; ls++) {
      for (let i = 0; i < k; i++) xn[i] = x[i] + t * d[i];
      fn = call(xn, gn);
      if (fn <= f + 1e-4 * t * slope) {
        ok = true;
        break;
      }
      t *= fn === Infinity ? 0.1 : 0.5;
    }
    if (!ok) return { x, f, grad: g, evaluations, iterations: it, status: "converged", message: "no further decrease along the search direction", invHessian: H };
    let sy = 0, yy = 0;
    for (let i = 0; i < k; i++) {
      s[i] = xn[i] - x[i];
      yv[i] = gn[i] - g[i];
      sy += s[i] * yv[i];
      yy += yv[i] * yv[i];
    }
    const decrease = f - fn;
    x.set(xn);
    g.set(gn);
    f = fn;
    if (sy > 1e-12 * Math.sqrt(yy) * Math.sqrt(s.reduce((a, v) => a + v * v, 0))) {
      if (!scaled) {
        const sc = sy / yy;
        H.fill(0);
        for (let i = 0; i < k; i++) H[i * k + i] = sc;
        scaled = true;
      }
      // H <- (I - rho s y') H (I - rho y s') + rho s s'.
      const rho = 1 / sy;
      let yHy = 0;
      for (let i = 0; i < k; i++) {
        let v = 0;
        for (let j = 0; j < k; j++) v += H[i * k + j] * yv[j];
        Hy[i] = v;
        yHy += yv[i] * v;
      }
      const c = (1 + rho * yHy) * rho;
      // Entry (i, j) gains c s_i s_j - rho (Hy_i s_j + s_i Hy_j) = a_i s_j - b_i Hy_j (k^2 work with k = 200 parameters: hoisted).
      for (let i = 0; i < k; i++) {
        const a = c * s[i] - rho * Hy[i], b = rho * s[i], row = i * k;
        for (let j = 0; j < k; j++) H[row + j] += a * s[j] - b * Hy[j];
      }
    }
    if (decrease < ftol * (1 + Math.abs(f))) {
      if (++small >= 2) return { x, f, grad: g, evaluations, iterations: it + 1, status: "converged", message: "the objective no longer decreases", invHessian: H };
    } else small = 0;
  }
  return { x, f, grad: g, evaluations, iterations: maxIter, status: "maxiter", message: `no convergence in ${maxIter} iterations`, invHessian: H };
}

/**
 * The scaled gradient of optimize.ts at the end of a BFGS run, from its inverse-Hessian
 * approximation B instead of a finite-difference Hessian: min(sqrt(g'Bg), max |g_i|) (|L^-1 g| is
 * sqrt(g'H^-1 g) in norm). For many parameters, where 2k more gradients would double the fit.
 */
export function scaledGradient(r: QuasiNewtonResult): number {
  const k = r.x.length, g = r.grad, B = r.invHessian;
  let q = 0, gmax = 0;
  for (let i = 0; i < k; i++) {
    gmax = Math.max(gmax, Math.abs(g[i]));
    for (let j = 0; j < k; j++) q += g[i] * B[i * k + j] * g[j];
  }
  return Math.min(Math.sqrt(Math.max(q, 0)), gmax);
}

export interface NewtonCheck {
  x: Float64Array;
  f: number;
  grad: Float64Array;
  /** Symmetrized finite-difference Hessian at x (k x k). */
  hessian: Float64Array;
  /** lme4's scaled gradient max_i min(|L^-1 g|_i, |g_i|) (H = L L'); the diagonal stands in if H is not positive definite. */
  size: number;
  definite: boolean;
  evaluations: number;
}

/** Central-difference Hessian of the gradient at x (2k gradient evaluations; steps rel * scales, or rel * max(1, |x|)). */
export function hessianOfGradient(fg: ValueGrad, x: Float64Array, rel = 1e-4, scales?: ArrayLike<number>): Float64Array {
  const k = x.length, H = new Float64Array(k * k);
  const xp = Float64Array.from(x), gp = new Float64Array(k), gm = new Float64Array(k);
  for (let j = 0; j < k; j++) {
    const h = rel * (scales ? scales[j] : Math.max(1, Math.abs(x[j])));
    xp[j] = x[j] + h;
    fg(xp, gp);
    xp[j] = x[j] - h;
    fg(xp, gm);
    xp[j] = x[j];
    for (let i = 0; i < k; i++) H[i * k + j] = (gp[i] - gm[i]) / (2 * h);
  }
  for (let i = 0; i < k; i++) for (let j = 0; j < i; j++) H[i * k + j] = H[j * k + i] = 0.5 * (H[i * k + j] + H[j * k + i]);
  return H;
}

function cholesky(H: Float64Array, k: number): Float64Array | null {
  const L = Float64Array.from(H);
  for (let i = 0; i < k; i++) {
    for (let j = 0; j <= i; j++) {
      let s = L[i * k + j];
      for (let m = 0; m < j; m++) s -= L[i * k + m] * L[j * k + m];
      if (i === j) {
        if (!(s > 0)) return null;
        L[i * k + i] = Math.sqrt(s);
      } else L[i * k + j] = s / L[j * k + j];
    }
    for (let j = i + 1; j < k; j++) L[i * k + j] = 0;
  }
  return L;
}

/**
 * Newton steps on the finite-difference Hessian of the gradient (up to `steps`, each kept only if
 * it does not raise f beyond its rounding), then the scaled gradient at the end.
 */
export function newtonFinish(fg: ValueGrad, x0: Float64Array, f0: number, steps = 3): NewtonCheck {
  const k = x0.length;
  let evaluations = 0;
  const call = (x: Float64Array, g: Float64Array) => {
    evaluations++;
    return fg(x, g);
  };
  let x = Float64Array.from(x0), f = f0;
  const g = new Float64Array(k);
  call(x, g);
  const H = hessianOfGradient(call, x);
  for (let it = 0; it < steps; it++) {
    const L = cholesky(H, k);
    if (!L) break;
    const step = solveChol(L, k, g);
    const xn = Float64Array.from(x, (v, i) => v - step[i]);
    const gn = new Float64Array(k);
    const fn = call(xn, gn);
    const noise = 1e-12 * Math.max(1, Math.abs(f));
    if (!(fn <= f + noise)) break;
    let change = 0;
    for (let i = 0; i < k; i++) change = Math.max(change, Math.abs(step[i]));
    x = xn;
    f = fn;
    g.set(gn);
    // The Hessian changes little over a Newton step: the one at the start scales the end's gradient.
    if (change < 1e-9) break;
  }
  const L = cholesky(H, k);
  let size = 0;
  if (L) {
    const sg = new Float64Array(k);
    for (let i = 0; i < k; i++) {
      let s = g[i];
      for (let m = 0; m < i; m++) s -= L[i * k + m] * sg[m];
      sg[i] = s / L[i * k + i];
      size = Math.max(size, Math.min(Math.abs(sg[i]), Math.abs(g[i])));
    }
  } else {
    for (let i = 0; i < k; i++) {
      const hii = H[i * k + i];
      size = Math.max(size, hii > 0 ? Math.min(Math.abs(g[i]) / Math.sqrt(hii), Math.abs(g[i])) : Math.abs(g[i]));
    }
  }
  return { x, f, grad: g, hessian: H, size, definite: !!L, evaluations };
}

/** H^-1 g from the Cholesky factor L of H. */
function solveChol(L: Float64Array, k: number, g: Float64Array): Float64Array {
  const y = new Float64Array(k);
  for (let i = 0; i < k; i++) {
    let s = g[i];
    for (let m = 0; m < i; m++) s -= L[i * k + m] * y[m];
    y[i] = s / L[i * k + i];
  }
  for (let i = k - 1; i >= 0; i--) {
    let s = y[i];
    for (let m = i + 1; m < k; m++) s -= L[m * k + i] * y[m];
    y[i] = s / L[i * k + i];
  }
  return y;
}
