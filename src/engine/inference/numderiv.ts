// Numerical derivatives with Richardson extrapolation (the approach of R's numDeriv, which
// lmerTest uses): central differences at h, h/2, h/4, h/8 combined to cancel the error terms.

/** numDeriv's zero.tol: below it (relative to the parameter's scale) a step gets an absolute part. */
const ZERO_TOL = Math.sqrt(2.220446049250313e-16 / 7e-7);

/**
 * First step, numDeriv's rule (d = 0.1, eps = 1e-4): 10% of |x|, plus 1e-4 when x is near 0.
 * "Near 0" and the absolute part are relative to `scale`, the parameter's natural size: for
 * lme4's theta the size of its row of the conditioning transform, so that a random slope on time
 * in seconds gets the same relative steps (and the same df) as one on time in days. With scale 1
 * this is exactly numDeriv's step. Richardson extrapolation removes the truncation error of such
 * a large step, while small steps would amplify the rounding noise of the deviance.
 */
export function stepFor(x: number, scale = 1): number {
  const s = scale > 0 && Number.isFinite(scale) ? scale : 1;
  return 0.1 * Math.abs(x) + (Math.abs(x) < ZERO_TOL * s ? 1e-4 * s : 0);
}

function richardson(d: number[]): number {
  // d[i] uses step h / 2^i; error series in h^2.
  const a = d.slice();
  for (let m = 1; m < a.length; m++) {
    const f = Math.pow(4, m);
    for (let i = 0; i < a.length - m; i++) a[i] = (f * a[i + 1] - a[i]) / (f - 1);
  }
  return a[0];
}

/** Jacobian of a vector function: J[k] = d f / d x_k (each a vector). */
export function jacobian(f: (x: Float64Array) => Float64Array, x0: ArrayLike<number>, levels = 4, scales?: ArrayLike<number>): Float64Array[] {
  const x = Float64Array.from(x0);
  const out: Float64Array[] = [];
  for (let k = 0; k < x.length; k++) {
    const h0 = stepFor(x[k], scales ? scales[k] : 1);
    const ests: Float64Array[] = [];
    for (let l = 0; l < levels; l++) {
      const h = h0 / Math.pow(2, l);
      x[k] = x0[k] + h;
      const fp = f(x);
      x[k] = x0[k] - h;
      const fm = f(x);
      x[k] = x0[k];
      ests.push(fp.map((v, i) => (v - fm[i]) / (2 * h)));
    }
    const m = ests[0].length;
    const d = new Float64Array(m);
    for (let i = 0; i < m; i++) d[i] = richardson(ests.map((e) => e[i]));
    out.push(d);
  }
  return out;
}

/**
 * Hessian of a scalar function (symmetric, row-major n x n). `shared`: each cross derivative
 * from two new points (+h_i +h_j and -h_i -h_j) and the diagonal's four, instead of four new
 * ones (numDeriv's); the same O(h^2) error series, so Richardson applies alike. For expensive
 * functions (a factorization per point), where it saves n(n-1) evaluations.
 */
export function hessian(f: (x: Float64Array) => number, x0: ArrayLike<number>, levels = 4, scales?: ArrayLike<number>, shared = false): Float64Array {
  const n = x0.length;
  const x = Float64Array.from(x0);
  const f0 = f(x);
  const H = new Float64Array(n * n);
  const hs = Array.from(x0, (v, i) => stepFor(v, scales ? scales[i] : 1));
  // f at x0 +- h_i / 2^l, kept for the shared stencil: fpm[(i * levels + l) * 2 + 0 | 1].
  const fpm = new Float64Array(n * levels * 2);
  for (let i = 0; i < n; i++) {
    const d: number[] = [];
    for (let l = 0; l < levels; l++) {
      const h = hs[i] / Math.pow(2, l);
      x[i] = x0[i] + h;
      const fp = f(x);
      x[i] = x0[i] - h;
      const fm = f(x);
      x[i] = x0[i];
      fpm[(i * levels + l) * 2] = fp;
      fpm[(i * levels + l) * 2 + 1] = fm;
      d.push((fp - 2 * f0 + fm) / (h * h));
    }
    H[i * n + i] = richardson(d);
    for (let j = 0; j < i; j++) {
      const dd: number[] = [];
      for (let l = 0; l < levels; l++) {
        const hi = hs[i] / Math.pow(2, l), hj = hs[j] / Math.pow(2, l);
        const at = (si: number, sj: number) => {
          x[i] = x0[i] + si * hi;
          x[j] = x0[j] + sj * hj;
          const v = f(x);
          x[i] = x0[i];
          x[j] = x0[j];
          return v;
        };
        if (shared) {
          const di = fpm[(i * levels + l) * 2] + fpm[(i * levels + l) * 2 + 1];
          const dj = fpm[(j * levels + l) * 2] + fpm[(j * levels + l) * 2 + 1];
          dd.push((at(1, 1) + at(-1, -1) - di - dj + 2 * f0) / (2 * hi * hj));
          continue;
        }
        dd.push((at(1, 1) - at(1, -1) - at(-1, 1) + at(-1, -1)) / (4 * hi * hj));
      }
      const v = richardson(dd);
      H[i * n + j] = v;
      H[j * n + i] = v;
    }
  }
  return H;
}
