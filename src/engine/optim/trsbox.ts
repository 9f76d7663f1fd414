// Approximate minimizer of the quadratic model g'd + d'Hd/2 subject to |d| <= delta and
// sl <= xo + d <= su, after the TRSBOX procedure of Powell (2009, section 3):
//  1. truncated conjugate gradients on the free variables; a variable that reaches a bound is
//     fixed there and the iteration restarts on the rest;
//  2. once the step reaches the trust-region boundary, further reductions are sought on the
//     boundary by turning d in the plane of d and the reduced gradient, again fixing a
//     variable whenever the turn takes it to a bound.
// Both phases stop as soon as an iteration gains less than 1% of the reduction so far: the
// model is only an approximation, so solving this subproblem accurately would be wasted work.
// (The search along the arc in phase 2 is our own: the model along the arc is a
// trigonometric polynomial of degree two, minimized by sampling and a parabolic refinement.)

export class TrsWork {
  readonly d: Float64Array;
  /** xo + d with every variable that finished on a bound set exactly to it. */
  readonly xnew: Float64Array;
  /** Model gradient at xo + d. */
  readonly gnew: Float64Array;
  /** -1/+1 for a variable fixed at its lower/upper bound, 0 if free. */
  readonly fixed: Int8Array;
  /**
   * Least curvature seen along the CG directions when the step ended inside the trust region,
   * 0 when it ended on the boundary, -1 when unknown.
   */
  crvmin = -1;
  private readonly s: Float64Array;
  private readonly hs: Float64Array;
  private readonly hu: Float64Array;
  private readonly samples = new Float64Array(ARC_SAMPLES + 1);
  // Coefficients of the model change along the current arc (see `arc`).
  private cDg = 0;
  private cSg = 0;
  private cUhu = 0;
  private cUhs = 0;
  private cShs = 0;

  constructor(n: number) {
    this.d = new Float64Array(n);
    this.xnew = new Float64Array(n);
    this.gnew = new Float64Array(n);
    this.fixed = new Int8Array(n);
    this.s = new Float64Array(n);
    this.hs = new Float64Array(n);
    this.hu = new Float64Array(n);
  }

  solve(n: number, xo: Float64Array, xoOff: number, sl: Float64Array, su: Float64Array, g: Float64Array, H: Float64Array, delta: number): void {
    const { d, gnew, fixed, s, hs, hu } = this;
    d.fill(0);
    gnew.set(g);
    let nact = 0;
    for (let i = 0; i < n; i++) {
      const x = xo[xoOff + i];
      fixed[i] = 0;
      if (x <= sl[i] && g[i] >= 0) fixed[i] = -1;
      else if (x >= su[i] && g[i] <= 0) fixed[i] = 1;
      if (fixed[i] !== 0) nact++;
    }
    const delsq = delta * delta;
    let qred = 0;
    let crvmin = -1;
    let beta = 0;
    let gredsq = 0;
    let iterc = 0;
    let itermax = 0;
    let onBoundary = false;
    s.fill(0);

    // Phase 1: conjugate gradients.
    for (let guard = 0; guard < 20 * n + 20; guard++) {
      if (nact >= n) break;
      let stepsq = 0;
      for (let i = 0; i < n; i++) {
        s[i] = fixed[i] !== 0 ? 0 : beta * s[i] - gnew[i];
        stepsq += s[i] * s[i];
      }
      if (stepsq === 0) break;
      if (beta === 0) {
        gredsq = stepsq;
        itermax = iterc + n - nact;
      }
      if (gredsq * delsq <= 1e-4 * qred * qred) break;
      let dd = 0, ds = 0;
      for (let i = 0; i < n; i++) {
        dd += d[i] * d[i];
        ds += d[i] * s[i];
      }
      const resid = delsq - dd;
      if (resid <= 0) {
        onBoundary = true;
        break;
      }
      let shs = 0;
      for (let i = 0; i < n; i++) {
        let v = 0;
        for (let j = 0; j < n; j++) if (s[j] !== 0) v += H[i * n + j] * s[j];
        hs[i] = v;
        shs += s[i] * v;
      }
      // Positive root of |d + a s|^2 = delta^2, in whichever form is free of cancellation.
      const root = Math.sqrt(stepsq * resid + ds * ds);
      const blen = ds >= 0 ? resid / (root + ds) : (root - ds) / stepsq;
      let stplen = blen;
      if (shs > 0) stplen = Math.min(blen, gredsq / shs);
      let iact = -1;
      for (let i = 0; i < n; i++) {
        if (s[i] === 0) continue;
        const room = (s[i] > 0 ? su[i] : sl[i]) - xo[xoOff + i] - d[i];
        const lim = room / s[i];
        if (lim < stplen) {
          stplen = Math.max(lim, 0);
          iact = i;
        }
      }
      let sdec = 0;
      const ggsav = gredsq;
      if (stplen > 0) {
        iterc++;
        const curv = shs / stepsq;
        if (iact < 0 && stplen < blen && curv > 0) crvmin = crvmin === -1 ? curv : Math.min(crvmin, curv);
        gredsq = 0;
        for (let i = 0; i < n; i++) {
          gnew[i] += stplen * hs[i];
          d[i] += stplen * s[i];
          if (fixed[i] === 0) gredsq += gnew[i] * gnew[i];
        }
        sdec = Math.max(stplen * (ggsav - 0.5 * stplen * shs), 0);
        qred += sdec;
      }
      if (iact >= 0) {
        fixed[iact] = s[iact] > 0 ? 1 : -1;
        d[iact] = (s[iact] > 0 ? su[iact] : sl[iact]) - xo[xoOff + iact];
        nact++;
        beta = 0;
        continue;
      }
      if (stplen < blen) {
        if (iterc >= itermax || sdec <= 0.01 * qred) break;
        beta = gredsq / ggsav;
        continue;
      }
      onBoundary = true;
      break;
    }

    if (onBoundary) {
      crvmin = 0;
      // Phase 2: turn d along the boundary.
      for (let iter = 0; iter < 10 * n + 10; iter++) {
        if (nact >= n - 1) break;
        let dredsq = 0, dredg = 0, gsq = 0;
        for (let i = 0; i < n; i++) {
          if (fixed[i] !== 0) continue;
          dredsq += d[i] * d[i];
          dredg += d[i] * gnew[i];
          gsq += gnew[i] * gnew[i];
        }
        const temp = gsq * dredsq - dredg * dredg;
        if (!(temp > 1e-4 * qred * qred) || dredsq === 0) break;
        const root = Math.sqrt(temp);
        for (let i = 0; i < n; i++) s[i] = fixed[i] !== 0 ? 0 : (dredg * d[i] - dredsq * gnew[i]) / root;
        let uhu = 0, uhs = 0, shs = 0;
        for (let i = 0; i < n; i++) {
          let a = 0, b = 0;
          for (let j = 0; j < n; j++) {
            if (fixed[j] !== 0) continue;
            a += H[i * n + j] * d[j];
            b += H[i * n + j] * s[j];
          }
          hu[i] = a;
          hs[i] = b;
          if (fixed[i] === 0) {
            uhu += d[i] * a;
            uhs += d[i] * b;
            shs += s[i] * b;
          }
        }
        // The largest turn that keeps every free variable inside its bounds.
        let thmax = Math.PI / 2;
        let ibd = -1, side = 0;
        for (let i = 0; i < n; i++) {
          if (fixed[i] !== 0) continue;
          const x = xo[xoOff + i];
          const tl = arcCross(d[i], s[i], sl[i] - x);
          if (tl < thmax) {
            thmax = tl;
            ibd = i;
            side = -1;
          }
          const tu = arcCross(-d[i], -s[i], x - su[i]);
          if (tu < thmax) {
            thmax = tu;
            ibd = i;
            side = 1;
          }
        }
        if (thmax <= 0) {
          // Already on that bound and the turn would leave the box: fix it and try again.
          fixed[ibd] = side as -1 | 1;
          d[ibd] = (side > 0 ? su[ibd] : sl[ibd]) - xo[xoOff + ibd];
          nact++;
          continue;
        }
        this.cDg = dredg;
        this.cSg = -root;
        this.cUhu = uhu;
        this.cUhs = uhs;
        this.cShs = shs;
        const vals = this.samples;
        const m = Math.max(8, Math.min(ARC_SAMPLES, Math.ceil((ARC_SAMPLES * thmax) / (Math.PI / 2))));
        const h = thmax / m;
        let best = 0, jb = 0;
        vals[0] = 0;
        for (let j = 1; j <= m; j++) {
          vals[j] = this.arc(h * j);
          if (vals[j] < best) {
            best = vals[j];
            jb = j;
          }
        }
        let bestTh = h * jb;
        if (jb > 0 && jb < m) {
          const fPrev = vals[jb - 1], fNext = vals[jb + 1];
          const den = fPrev - 2 * best + fNext;
          if (den > 0) {
            const th = bestTh + (0.5 * h * (fPrev - fNext)) / den;
            if (th > bestTh - h && th < bestTh + h) {
              const v = this.arc(th);
              if (v < best) {
                best = v;
                bestTh = th;
              }
            }
          }
        }
        if (!(best < 0)) break;
        const c = Math.cos(bestTh), sn = Math.sin(bestTh);
        for (let i = 0; i < n; i++) {
          gnew[i] += (c - 1) * hu[i] + sn * hs[i];
          if (fixed[i] === 0) d[i] = c * d[i] + sn * s[i];
        }
        const sdec = -best;
        qred += sdec;
        if (ibd >= 0 && jb === m && bestTh === h * m) {
          fixed[ibd] = side as -1 | 1;
          d[ibd] = (side > 0 ? su[ibd] : sl[ibd]) - xo[xoOff + ibd];
          nact++;
        }
        if (sdec <= 0.01 * qred) break;
      }
    }
    this.crvmin = crvmin;
    for (let i = 0; i < n; i++) {
      const x = xo[xoOff + i];
      let v: number;
      if (fixed[i] < 0) v = sl[i];
      else if (fixed[i] > 0) v = su[i];
      else v = Math.min(Math.max(x + d[i], sl[i]), su[i]);
      this.xnew[i] = v;
      d[i] = v - x;
    }
  }

  /** Change of the model when d's free part u turns by th towards s: u -> u cos th + s sin th. */
  private arc(th: number): number {
    const cm = Math.cos(th) - 1, sn = Math.sin(th);
    return cm * this.cDg + sn * this.cSg + 0.5 * (cm * cm * this.cUhu + 2 * cm * sn * this.cUhs + sn * sn * this.cShs);
  }
}

const ARC_SAMPLES = 24;

/**
 * Smallest angle th >= 0 at which a cos th + b sin th falls to c, given a >= c (feasible at
 * th = 0); Infinity if it never does.
 */
function arcCross(a: number, b: number, c: number): number {
  const r = Math.hypot(a, b);
  if (!(c > -r)) return Infinity;
  if (c >= r) return 0;
  return Math.max(0, Math.atan2(b, a) + Math.acos(c / r));
}
