// R's printing rules for a column of numbers, so that the terminal tables agree with R's to the
// last printed digit (the lecture's tables are R output). Formatting only.
//
// R's format() of a numeric vector (formatReal) gives every element the same number of decimals:
// enough for the element that needs the most significant digits (at most `digits`, trailing zeros
// dropped), and switches the whole column to scientific notation when that is narrower.
// nlme's print.anova.lme first passes AIC, BIC, logLik and L.Ratio through zapsmall(), which
// rounds the column to about `digits` significant digits of its largest element; that double
// rounding is why R prints BIC 160.809746796 as 160.8098.

/** Significant digits needed (1..digits) and the decimal exponent, as R's scientific(). */
function sigAndPower(x: number, digits: number): { nsig: number; kpower: number } {
  const [mant, exp] = Math.abs(x).toExponential(digits - 1).split("e");
  const figures = mant.replace(".", "").replace(/0+$/, "");
  return { nsig: Math.max(1, figures.length), kpower: Number(exp) };
}

/** R's format() of a numeric vector; null and NaN give "" (as nlme prints them). */
export function formatColumn(values: (number | null)[], digits = 7): string[] {
  const finite = values.filter((v): v is number => v !== null && Number.isFinite(v));
  if (finite.length === 0) return values.map(() => "");
  let rgt = 0, left = 1, nsigMax = 1, expWidth = 2;
  let neg = 0;
  for (const v of finite) {
    if (v < 0) neg = 1;
    if (v === 0) continue;
    const { nsig, kpower } = sigAndPower(v, digits);
    rgt = Math.max(rgt, nsig - kpower - 1);
    left = Math.max(left, kpower + 1);
    nsigMax = Math.max(nsigMax, nsig);
    if (Math.abs(kpower) >= 100) expWidth = 3;
  }
  const fixedWidth = neg + left + (rgt > 0 ? rgt + 1 : 0);
  const sciWidth = neg + (nsigMax > 1 ? nsigMax + 1 : 1) + 2 + expWidth;
  const fixed = fixedWidth <= sciWidth;
  return values.map((v) => {
    if (v === null || Number.isNaN(v)) return "";
    if (!Number.isFinite(v)) return v > 0 ? "Inf" : "-Inf";
    if (fixed) return v.toFixed(Math.min(rgt, 15));
    const [m, e] = v.toExponential(nsigMax - 1).split("e");
    const sign = e[0] === "-" ? "-" : "+";
    return `${m}e${sign}${e.replace(/^[-+]/, "").padStart(expWidth, "0")}`;
  });
}

/** R's round(x, d) for d decimals (0 <= d <= 15). */
function roundTo(x: number, d: number): number {
  return Number(x.toFixed(Math.max(0, Math.min(15, d))));
}

/** R's zapsmall(x, digits): round to `digits` significant digits of the largest element. */
export function zapsmall(values: (number | null)[], digits = 7): (number | null)[] {
  const mx = Math.max(0, ...values.map((v) => (v !== null && Number.isFinite(v) ? Math.abs(v) : 0)));
  const d = mx > 0 ? Math.max(0, Math.round(digits - Math.log10(mx))) : digits;
  return values.map((v) => (v === null || !Number.isFinite(v) ? v : roundTo(v, d)));
}

/** A column as nlme's print.anova.lme prints AIC, BIC, logLik and L.Ratio. */
export function anovaColumn(values: (number | null)[]): string[] {
  // nlme sets the missing entries to 0 before formatting (so they take part) and blanks them after.
  const filled = zapsmall(values.map((v) => (v === null ? 0 : v)));
  return formatColumn(filled).map((s, i) => (values[i] === null ? "" : s));
}

/** nlme's p-value column: rounded to 4 decimals, "<.0001" below. */
export function anovaPvalues(values: (number | null)[]): string[] {
  const rounded = values.map((v) => (v === null ? null : roundTo(v, 4)));
  return formatColumn(rounded).map((s, i) => (rounded[i] === null ? "" : rounded[i] === 0 ? "<.0001" : s));
}

/** A column rounded to `decimals` places, then printed as R prints the rounded data frame. */
export function roundedColumn(values: (number | null)[], decimals: number): string[] {
  return formatColumn(values.map((v) => (v === null ? null : roundTo(v, decimals))));
}
