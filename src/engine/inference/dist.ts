// Distribution functions. Quantiles come from jStat (the design card's choice); every p-value is
// an upper tail computed directly as a regularized incomplete beta or gamma function (never
// 1 - cdf, which loses the small p-values and can round above 1), so a p-value is always in [0, 1].
// eslint-disable-next-line @typescript-eslint/no-var-requires
const { jStat } = require("jstat") as { jStat: JStat };

interface JStat {
  studentt: { inv(p: number, df: number): number };
  chisquare: { inv(p: number, df: number): number };
  normal: { inv(p: number, mean: number, sd: number): number };
  gammaln(x: number): number;
}

/**
 * Above this df the t distribution is the normal to far below a printed digit (the difference is
 * O(1/df): 2e-7 in the 97.5% quantile at 1e7, less than jStat's own error there), and jStat's t
 * functions break down beyond it (at 1e8 the quantile is off in the third digit; at df ~ 1e22, a
 * Satterthwaite df where a variance is estimated as 0, they return p = 0 or Infinity and a
 * zero-width interval).
 */
const T_AS_NORMAL_DF = 1e7;

/** Relative accuracy at which the continued fractions and the series stop. */
const EPS = 1e-15;
/** Guard against division by zero in the modified Lentz algorithm. */
const TINY = 1e-300;
/** Iteration cap: the fractions need O(sqrt(max(a, b))) steps; this covers df up to ~1e9. */
const MAX_IT = 100000;

function clamp01(p: number): number {
  return p < 0 ? 0 : p > 1 ? 1 : p;
}

/**
 * The continued fraction of the regularized incomplete beta I_x(a, b) (without its prefactor),
 * evaluated by the modified Lentz method; it converges fast for x < (a + 1) / (a + b + 2).
 */
function betaFraction(x: number, a: number, b: number): number {
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  if (Math.abs(d) < TINY) d = TINY;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= MAX_IT; m++) {
    const m2 = 2 * m;
    // even step: m (b - m) x / ((a + 2m - 1)(a + 2m))
    let num = (m * (b - m) * x) / ((a + m2 - 1) * (a + m2));
    d = 1 + num * d;
    if (Math.abs(d) < TINY) d = TINY;
    c = 1 + num / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    h *= d * c;
    // odd step: -(a + m)(a + b + m) x / ((a + 2m)(a + 2m + 1))
    num = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1));
    d = 1 + num * d;
    if (Math.abs(d) < TINY) d = TINY;
    c = 1 + num / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < EPS) break;
  }
  return h;
}

/**
 * Regularized incomplete beta I_x(a, b) for x in [0, 1], given also y = 1 - x (the caller passes
 * the complement computed without cancellation). Uses I_x(a, b) = 1 - I_y(b, a) on the side where
 * the fraction converges, so the small tail is always the directly computed one.
 */
export function incBeta(x: number, y: number, a: number, b: number): number {
  if (!(a > 0 && b > 0) || !(x >= 0 && y >= 0)) return NaN;
  if (x === 0) return 0;
  if (y === 0) return 1;
  const logFront = jStat.gammaln(a + b) - jStat.gammaln(a) - jStat.gammaln(b) + a * Math.log(x) + b * Math.log(y);
  const front = Math.exp(logFront);
  if (x < (a + 1) / (a + b + 2)) return clamp01((front * betaFraction(x, a, b)) / a);
  return clamp01(1 - (front * betaFraction(y, b, a)) / b);
}

/** Regularized upper incomplete gamma Q(a, x) = P(Gamma(a) > x). */
export function gammaUpper(a: number, x: number): number {
  if (!(a > 0) || Number.isNaN(x)) return NaN;
  if (x <= 0) return 1;
  if (x === Infinity) return 0;
  const logFront = -x + a * Math.log(x) - jStat.gammaln(a);
  if (x < a + 1) {
    // The series for the lower tail P; here P is not close to 1, so 1 - P keeps the digits of Q.
    let term = 1 / a, sum = term;
    for (let n = 1; n <= MAX_IT; n++) {
      term *= x / (a + n);
      sum += term;
      if (Math.abs(term) < Math.abs(sum) * EPS) break;
    }
    return clamp01(1 - sum * Math.exp(logFront));
  }
  // Continued fraction for Q itself (modified Lentz).
  let b = x + 1 - a;
  let c = 1 / TINY;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i <= MAX_IT; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < TINY) d = TINY;
    c = b + an / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < EPS) break;
  }
  return clamp01(Math.exp(logFront) * h);
}

/**
 * Two-sided p-value of a t statistic, P(|T_df| > |t|) = I_{df/(df+t^2)}(df/2, 1/2): one directly
 * computed tail probability, so it is in [0, 1] by construction (p = 1 exactly at t = 0).
 */
export function pT2(t: number, df: number): number {
  if (!(df > 0) || Number.isNaN(t)) return NaN;
  if (!Number.isFinite(t)) return 0;
  const t2 = t * t;
  if (t2 === 0) return 1;
  // Beyond T_AS_NORMAL_DF the t is the normal to far below a printed digit, and the incomplete
  // beta's log-gamma prefactor would cancel at that magnitude: P(chi2_1 > t^2), the normal limit.
  if (df > T_AS_NORMAL_DF) return gammaUpper(0.5, t2 / 2);
  const den = df + t2;
  return incBeta(df / den, t2 / den, df / 2, 0.5);
}

export function qT(p: number, df: number): number {
  if (df > T_AS_NORMAL_DF) return qNorm(p);
  return jStat.studentt.inv(p, df);
}

/** P(chi^2_df > x); df = 0 is the point mass at 0. */
export function pChisqUpper(x: number, df: number): number {
  if (df === 0) return x > 0 ? 0 : 1;
  if (Number.isNaN(x) || !(df > 0)) return NaN;
  if (x <= 0) return 1;
  return gammaUpper(df / 2, x / 2);
}

export function qChisq(p: number, df: number): number {
  return jStat.chisquare.inv(p, df);
}

export function qNorm(p: number): number {
  return jStat.normal.inv(p, 0, 1);
}

/** P(F_{df1, df2} > x) = I_{df2/(df2 + df1 x)}(df2/2, df1/2). */
export function pFUpper(x: number, df1: number, df2: number): number {
  if (Number.isNaN(x) || !(df1 > 0 && df2 > 0)) return NaN;
  if (x <= 0) return 1;
  if (!Number.isFinite(x)) return 0;
  const den = df2 + df1 * x;
  return incBeta(df2 / den, (df1 * x) / den, df2 / 2, df1 / 2);
}
