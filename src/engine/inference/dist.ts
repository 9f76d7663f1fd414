// Distribution functions, from jStat (the design card's choice), behind typed wrappers.
// eslint-disable-next-line @typescript-eslint/no-var-requires
const { jStat } = require("jstat") as { jStat: JStat };

interface JStat {
  studentt: { cdf(x: number, df: number): number; inv(p: number, df: number): number };
  chisquare: { cdf(x: number, df: number): number };
  normal: { inv(p: number, mean: number, sd: number): number; cdf(x: number, mean: number, sd: number): number };
  centralF: { cdf(x: number, df1: number, df2: number): number };
  ibeta(x: number, a: number, b: number): number;
}

/** Two-sided p-value of a t statistic. */
export function pT2(t: number, df: number): number {
  if (!Number.isFinite(df) || df <= 0) return NaN;
  return 2 * jStat.studentt.cdf(-Math.abs(t), df);
}

export function qT(p: number, df: number): number {
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

/**
 * P(F_{df1,df2} > x), as an upper tail directly (never 1 - cdf, which is 0 below 1e-16):
 * the regularized incomplete beta I_{df2/(df2 + df1 x)}(df2/2, df1/2).
 */
export function pFUpper(x: number, df1: number, df2: number): number {
  if (!(df1 > 0) || !(df2 > 0) || Number.isNaN(x)) return NaN;
  if (x <= 0) return 1;
  if (x === Infinity) return 0;
  return Math.min(1, Math.max(0, jStat.ibeta(df2 / (df2 + df1 * x), df2 / 2, df1 / 2)));
}
