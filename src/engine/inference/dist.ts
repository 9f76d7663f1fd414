// Distribution functions, from jStat (the design card's choice), behind typed wrappers.
// eslint-disable-next-line @typescript-eslint/no-var-requires
const { jStat } = require("jstat") as { jStat: JStat };

interface JStat {
  studentt: { cdf(x: number, df: number): number; inv(p: number, df: number): number };
  chisquare: { cdf(x: number, df: number): number };
  normal: { inv(p: number, mean: number, sd: number): number; cdf(x: number, mean: number, sd: number): number };
  centralF: { cdf(x: number, df1: number, df2: number): number };
}

/**
 * Above this df the t distribution is the normal to far below a printed digit (the difference is
 * O(1/df): 2e-7 in the 97.5% quantile at 1e7, less than jStat's own error there), and jStat's t
 * functions break down beyond it (at 1e8 the quantile is off in the third digit; at df ~ 1e22, a
 * Satterthwaite df where a variance is estimated as 0, they return p = 0 or Infinity and a
 * zero-width interval).
 */
const T_AS_NORMAL_DF = 1e7;

/** Two-sided p-value of a t statistic. */
export function pT2(t: number, df: number): number {
  if (!Number.isFinite(df) || df <= 0) return NaN;
  if (df > T_AS_NORMAL_DF) return 2 * jStat.normal.cdf(-Math.abs(t), 0, 1);
  return 2 * jStat.studentt.cdf(-Math.abs(t), df);
}

export function qT(p: number, df: number): number {
  if (df > T_AS_NORMAL_DF) return qNorm(p);
  return jStat.studentt.inv(p, df);
}

/** P(chi^2_df > x); df = 0 is the point mass at 0. */
export function pChisqUpper(x: number, df: number): number {
  if (df === 0) return x > 0 ? 0 : 1;
  if (x <= 0) return 1;
  return Math.max(0, 1 - jStat.chisquare.cdf(x, df));
}

export function qNorm(p: number): number {
  return jStat.normal.inv(p, 0, 1);
}

export function pFUpper(x: number, df1: number, df2: number): number {
  return Math.max(0, 1 - jStat.centralF.cdf(x, df1, df2));
}
