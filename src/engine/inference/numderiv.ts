// Numerical derivatives with Richardson extrapolation (the approach of R's numDeriv, which
// lmerTest uses): central differences at h, h/2, h/4, h/8 combined to cancel the error terms.

/**
 * First step: 10% of |x| (absolute 1e-4 near 0). Richardson extrapolation removes the truncation
 * error of such a large step, while small steps would amplify the rounding noise of the deviance.
 */
function stepFor(x: number): number {
  return Math.max(0.1 * Math.abs(x), 1e-4);
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
export function jacobian(f: (x: Float64Array) => Float64Array, x0: ArrayLike<number>, levels = 4): Float64Array[] {
  const x = Float64Array.from(x0);
  const out: Float64Array[] = [];
  for (let k = 0; k < x.length; k++) {
    const h0 = stepFor(x[k]);
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

/** Hessian of a scalar function (symmetric, row-major n x n). */
export function hessian(f: (x: Float64Array) => number, x0: ArrayLike<number>, levels = 4): Float64Array {
  const n = x0.length;
  const x = Float64Array.from(x0);
  const f0 = f(x);
  const H = new Float64Array(n * n);
  const hs = Array.from(x0, (v) => stepFor(v));
  for (let i = 0; i < n; i++) {
    const d: number[] = [];
    for (let l = 0; l < levels; l++) {
      const h = hs[i] / Math.pow(2, l);
      x[i] = x0[i] + h;
      const fp = f(x);
      x[i] = x0[i] - h;
      const fm = f(x);
      x[i] = x0[i];
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
        dd.push((at(1, 1) - at(1, -1) - at(-1, 1) + at(-1, -1)) / (4 * hi * hj));
      }
      const v = richardson(dd);
      H[i * n + j] = v;
      H[j * n + i] = v;
    }
  }
  return H;
}
