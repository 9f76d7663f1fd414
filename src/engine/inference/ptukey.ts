// The upper tail of the studentized range distribution, P(Q_{k,df} > q), for Tukey's HSD p-values
// (emmeans: ptukey(sqrt(2) |t|, k, df, lower.tail = FALSE)).
//
// The range W of k iid N(0,1) has (x the smallest value)
//   P(W > w) = k ∫ φ(x) [a^m - b^m] dx,  m = k - 1,  a = Φc(x),  b = Φ(x + w) - Φ(x),
// because k ∫ φ a^m dx = 1. With a - b = Φc(x + w), a^m - b^m = Φc(x + w) Σ_{i<m} a^(m-1-i) b^i: a
// sum of non-negative terms, so the upper tail is computed directly, without 1 - cdf (a tiny
// p-value keeps its digits). The studentized range divides by s = sqrt(chi2_df / df):
//   P(Q > q) = ∫_0^∞ f_df(s) P(W > q s) ds,
// integrated by Gauss-Legendre rules (nodes by Newton's method on the Legendre polynomials),
// fixed unit panels in x and adaptive panels in s. Our own derivation and code.
import { DataError } from "../errors";
// eslint-disable-next-line @typescript-eslint/no-var-requires
const { jStat } = require("jstat") as { jStat: { gammaln(x: number): number } };

/** Gauss-Legendre nodes and weights on [-1, 1]. */
function gaussLegendre(n: number): { x: Float64Array; w: Float64Array } {
  const x = new Float64Array(n), w = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let z = Math.cos((Math.PI * (i + 0.75)) / (n + 0.5));
    let dp = 0;
    for (let it = 0; it < 100; it++) {
      let p0 = 1, p1 = z;
      for (let j = 2; j <= n; j++) {
        const p2 = ((2 * j - 1) * z * p1 - (j - 1) * p0) / j;
        p0 = p1;
        p1 = p2;
      }
      if (n === 1) p0 = 1;
      dp = (n * (z * p1 - p0)) / (z * z - 1);
      const dz = p1 / dp;
      z -= dz;
      if (Math.abs(dz) < 1e-16) break;
    }
    x[i] = z;
    w[i] = 2 / ((1 - z * z) * dp * dp);
  }
  return { x, w };
}

const G16 = gaussLegendre(16);
const G8 = gaussLegendre(8);

const SQRT_PI = Math.sqrt(Math.PI);
const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);

/** erfc(x) for x >= 0: a positive series for x < 2.5, a continued fraction beyond. */
function erfcPos(x: number): number {
  if (x < 2.5) {
    // erf(x) = 2/sqrt(pi) exp(-x^2) Σ 2^n x^(2n+1) / (1·3···(2n+1))
    let term = x, sum = x;
    const x2 = 2 * x * x;
    for (let n = 1; n < 200; n++) {
      term *= x2 / (2 * n + 1);
      sum += term;
      if (term < 1e-17 * sum) break;
    }
    return 1 - (2 / SQRT_PI) * Math.exp(-x * x) * sum;
  }
  // erfc(x) = exp(-x^2)/sqrt(pi) · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + 2/(x + ...))))) by Lentz.
  const tiny = 1e-300;
  let f = x, c = x, d = 0;
  for (let n = 1; n < 500; n++) {
    const an = n / 2;
    d = x + an * d;
    d = Math.abs(d) < tiny ? 1 / tiny : 1 / d;
    c = x + an / c;
    if (Math.abs(c) < tiny) c = tiny;
    const del = c * d;
    f *= del;
    if (Math.abs(del - 1) < 1e-16) break;
  }
  return Math.exp(-x * x) / (SQRT_PI * f);
}

/** Φc(z) = P(Z > z). */
export function normUpper(z: number): number {
  return z >= 0 ? 0.5 * erfcPos(z / Math.SQRT2) : 1 - 0.5 * erfcPos(-z / Math.SQRT2);
}

/**
 * The x nodes for P(W > w), w <= wMax: 16-point Gauss-Legendre panels of width about 4 over
 * [-wMax/2 - 8.5, 8.5]. The integrand peaks near x = -w/2 (for small w near the expected
 * smallest of k normals) and is below e^-36 of its peak beyond 8.5 either side of [-w/2, 0].
 * Each node keeps its weight times φ(x) and a = Φc(x), which do not depend on w.
 */
interface RangeNodes {
  x: Float64Array;
  wphi: Float64Array;
  a: Float64Array;
}

function rangeNodes(wMax: number): RangeNodes {
  const lo = -wMax / 2 - 8.5, hi = 8.5;
  const panels = Math.ceil((hi - lo) / 4);
  const width = (hi - lo) / panels, h = width / 2;
  const n = panels * G16.x.length;
  const out: RangeNodes = { x: new Float64Array(n), wphi: new Float64Array(n), a: new Float64Array(n) };
  let k = 0;
  for (let pnl = 0; pnl < panels; pnl++) {
    const mid = lo + pnl * width + h;
    for (let i = 0; i < G16.x.length; i++, k++) {
      const x = mid + h * G16.x[i];
      out.x[k] = x;
      out.wphi[k] = G16.w[i] * h * INV_SQRT_2PI * Math.exp(-0.5 * x * x);
      out.a[k] = normUpper(x);
    }
  }
  return out;
}

/** P(W > w) for the range of k standard normals (nodes from rangeNodes(wMax >= w)). */
function rangeUpperAt(w: number, k: number, nodes: RangeNodes): number {
  if (!(w > 0)) return 1;
  const m = k - 1;
  let total = 0;
  const { x, wphi, a } = nodes;
  for (let i = 0; i < x.length; i++) {
    const c = normUpper(x[i] + w);
    if (c === 0) continue;
    total += wphi[i] * c * powerSum(a[i], a[i] - c, m);
  }
  const p = k * total;
  return p > 1 ? 1 : p;
}

/** P(W > w) for the range of k standard normals. */
export function rangeUpper(w: number, k: number): number {
  return rangeUpperAt(w, k, rangeNodes(Math.max(w, 0)));
}

/** Σ_{i=0}^{m-1} a^(m-1-i) b^i = a^(m-1) Σ (b/a)^i, for a >= b >= 0. */
function powerSum(a: number, b: number, m: number): number {
  if (m === 1) return 1;
  if (!(a > 0)) return 0;
  const r = b / a;
  let s = 0, ri = 1;
  for (let i = 0; i < m; i++) {
    s += ri;
    ri *= r;
  }
  return s * Math.pow(a, m - 1);
}

/** log of the density of s = sqrt(chi2_df / df). */
function logDensityS(s: number, df: number, logConst: number): number {
  return logConst + (df - 1) * Math.log(s) - 0.5 * df * s * s;
}

/** Above this df the studentized range is the range of normals to far below 1e-9. */
const NORMAL_DF = 1e7;

/** P(Q_{k,df} > q): the studentized range's upper tail (R's ptukey(q, k, df, lower.tail = FALSE)). */
export function ptukeyUpper(q: number, k: number, df: number): number {
  if (Number.isNaN(q) || Number.isNaN(df)) return NaN;
  if (!(k >= 2) || !Number.isInteger(k)) throw new DataError(`the studentized range needs at least 2 means, not ${k}`);
  if (!(df > 0)) return NaN;
  if (!(q > 0)) return 1;
  if (!Number.isFinite(q)) return 0;
  if (df > NORMAL_DF) return rangeUpper(q, k);
  const logConst = 0.5 * df * Math.log(df) - jStat.gammaln(0.5 * df) - (0.5 * df - 1) * Math.LN2;
  // The chi density's mass lies within 12 sd of its mode (sd ~ 1/sqrt(2 df)) and, for small df,
  // below the s where chi2_df's upper tail is e^-25.
  const sd = 1 / Math.sqrt(2 * df);
  const mode = df > 1 ? Math.sqrt((df - 1) / df) : 0;
  const sLo = Math.max(0, mode - 12 * sd);
  const sHi = Math.sqrt((df + 12 * Math.sqrt(2 * df) + 50) / df);
  const nodes = rangeNodes(q * sHi);
  const f = (s: number) => (s <= 0 ? 0 : Math.exp(logDensityS(s, df, logConst)) * rangeUpperAt(q * s, k, nodes));
  const panels = 4;
  let total = 0;
  const width = (sHi - sLo) / panels;
  for (let i = 0; i < panels; i++) total += adaptive(f, sLo + i * width, sLo + (i + 1) * width, 0);
  return total > 1 ? 1 : total < 0 ? 0 : total;
}

/** ∫_a^b f by Gauss-Legendre 16 against 8, bisecting where they differ. */
function adaptive(f: (x: number) => number, a: number, b: number, depth: number): number {
  const g16 = rule(f, a, b, G16), g8 = rule(f, a, b, G8);
  if (Math.abs(g16 - g8) <= 1e-13 + 1e-9 * Math.abs(g16) || depth > 12) return g16;
  const m = 0.5 * (a + b);
  return adaptive(f, a, m, depth + 1) + adaptive(f, m, b, depth + 1);
}

function rule(f: (x: number) => number, a: number, b: number, g: { x: Float64Array; w: Float64Array }): number {
  const h = 0.5 * (b - a), mid = 0.5 * (a + b);
  let s = 0;
  for (let i = 0; i < g.x.length; i++) s += g.w[i] * f(mid + h * g.x[i]);
  return s * h;
}
