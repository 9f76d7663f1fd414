// Nelder–Mead (1965) with bounds by clamping, the fallback when the model-based method stops
// early. Standard coefficients: reflection 1, expansion 2, contraction 1/2, shrink 1/2.
import type { OptimOptions, OptimResult } from "./types";

export function nelderMead(f: (x: Float64Array) => number, x0In: ArrayLike<number>, opts: OptimOptions = {}): OptimResult {
  const n = x0In.length;
  const lo = (i: number) => (opts.lower ? opts.lower[i] : -Infinity);
  const hi = (i: number) => (opts.upper ? opts.upper[i] : Infinity);
  const clamp = (x: Float64Array) => {
    for (let i = 0; i < n; i++) x[i] = Math.min(Math.max(x[i], lo(i)), hi(i));
    return x;
  };
  const maxfun = opts.maxfun ?? 2000 * Math.max(n, 1);
  const tol = opts.rhoend ?? 1e-8;
  const step = opts.rhobeg ?? 0.1;
  let nfev = 0;
  const ev = (x: Float64Array) => {
    nfev++;
    const v = f(x);
    return Number.isFinite(v) ? v : Number.MAX_VALUE;
  };
  const simplex: Float64Array[] = [clamp(Float64Array.from(x0In))];
  for (let i = 0; i < n; i++) {
    const x = Float64Array.from(simplex[0]);
    x[i] += x[i] + step <= hi(i) ? step : -step;
    simplex.push(clamp(x));
  }
  const fv = simplex.map(ev);
  const order = () => {
    const idx = fv.map((_, i) => i).sort((a, b) => fv[a] - fv[b]);
    const s = idx.map((i) => simplex[i]), v = idx.map((i) => fv[i]);
    simplex.splice(0, simplex.length, ...s);
    fv.splice(0, fv.length, ...v);
  };
  let status: OptimResult["status"] = "maxfun";
  let message = `reached ${maxfun} evaluations`;
  while (nfev < maxfun) {
    order();
    let size = 0;
    for (let k = 1; k <= n; k++) for (let i = 0; i < n; i++) size = Math.max(size, Math.abs(simplex[k][i] - simplex[0][i]));
    if (size <= tol && Math.abs(fv[n] - fv[0]) <= 1e-12 * (1 + Math.abs(fv[0]))) {
      status = "converged";
      message = "simplex size below tolerance";
      break;
    }
    if (opts.shouldStop && opts.shouldStop()) {
      status = "cancelled";
      message = "stopped by request";
      break;
    }
    const cen = new Float64Array(n);
    for (let k = 0; k < n; k++) for (let i = 0; i < n; i++) cen[i] += simplex[k][i] / n;
    const at = (t: number) => clamp(Float64Array.from(cen, (c, i) => c + t * (simplex[n][i] - c)));
    const xr = at(-1), fr = ev(xr);
    if (fr < fv[0]) {
      const xe = at(-2), fe = ev(xe);
      if (fe < fr) {
        simplex[n] = xe;
        fv[n] = fe;
      } else {
        simplex[n] = xr;
        fv[n] = fr;
      }
    } else if (fr < fv[n - 1]) {
      simplex[n] = xr;
      fv[n] = fr;
    } else {
      const xc = fr < fv[n] ? at(-0.5) : at(0.5), fc = ev(xc);
      if (fc < Math.min(fr, fv[n])) {
        simplex[n] = xc;
        fv[n] = fc;
      } else {
        for (let k = 1; k <= n; k++) {
          simplex[k] = clamp(Float64Array.from(simplex[k], (v, i) => simplex[0][i] + 0.5 * (v - simplex[0][i])));
          fv[k] = ev(simplex[k]);
        }
      }
    }
  }
  order();
  return { x: simplex[0], fval: fv[0], nfev, status, message };
}
