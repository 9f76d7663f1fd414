// Multiplicity adjustments of a family of p-values, as emmeans applies them to pairwise
// contrasts (summary.emmGrid's adjust): Tukey's HSD (the studentized range of the family's means),
// Holm's step-down, Bonferroni, Sidak, or none. Missing p-values (non-estimable contrasts) stay
// missing but count in the family, as emmeans counts them (p.adjust's n is the family's size).
// Tukey's df are rounded to 7 significant digits first (emmeans's zapsmall of the family's df).
import { DataError } from "../errors";
import { ptukeyUpper } from "./ptukey";

export type Adjust = "tukey" | "holm" | "bonferroni" | "sidak" | "none";
export const ADJUSTS: Adjust[] = ["tukey", "holm", "bonferroni", "sidak", "none"];

/** An adjustment as users write it (case-insensitive). */
export function parseAdjust(x: unknown, dflt: Adjust = "tukey"): Adjust {
  if (x === null || x === undefined || (typeof x === "string" && x.trim() === "")) return dflt;
  const s = String(x).trim().toLowerCase();
  if (s === "bonf") return "bonferroni";
  if ((ADJUSTS as string[]).includes(s)) return s as Adjust;
  throw new DataError(`adjust must be one of ${ADJUSTS.join(", ")}, not '${String(x)}'`);
}

/**
 * Adjusted p-values of one family. `raw` are the unadjusted two-sided p-values, `t` and `df` the
 * statistics (Tukey needs them), `nmeans` the number of means compared (Tukey's k).
 */
export function adjustFamily(adjust: Adjust, raw: (number | null)[], t: (number | null)[], df: (number | null)[], nmeans: number): (number | null)[] {
  const ok = raw.map((p) => p !== null && Number.isFinite(p));
  const m = raw.length;
  switch (adjust) {
    case "none":
      return raw.slice();
    case "bonferroni":
      return raw.map((p, i) => (ok[i] ? Math.min(1, m * p!) : null));
    case "sidak":
      // 1 - (1 - p)^m without cancellation: -expm1(m log1p(-p)).
      return raw.map((p, i) => (ok[i] ? Math.min(1, -Math.expm1(m * Math.log1p(-p!))) : null));
    case "holm": {
      const idx = raw.map((_, i) => i).filter((i) => ok[i]).sort((a, b) => raw[a]! - raw[b]!);
      const out: (number | null)[] = raw.map(() => null);
      let run = 0;
      idx.forEach((i, r) => {
        run = Math.max(run, Math.min(1, (m - r) * raw[i]!));
        out[i] = run;
      });
      return out;
    }
    case "tukey": {
      const zdf = zapsmall(df);
      return raw.map((_, i) => {
        if (!ok[i] || nmeans < 2) return ok[i] ? raw[i] : null;
        const d = zdf[i];
        const tt = t[i];
        if (d === null || tt === null) return null;
        return ptukeyUpper(Math.SQRT2 * Math.abs(tt), nmeans, d);
      });
    }
  }
}

/** R's zapsmall(x, 7) over the finite values: rounded to 7 significant digits of the largest. */
function zapsmall(x: (number | null)[]): (number | null)[] {
  const fin = x.filter((v): v is number => v !== null && Number.isFinite(v));
  const mx = Math.max(0, ...fin.map(Math.abs));
  if (!(mx > 0)) return x.slice();
  const digits = Math.max(0, 7 - Math.ceil(Math.log10(mx)));
  const s = Math.pow(10, digits);
  return x.map((v) => (v === null || !Number.isFinite(v) ? v : Math.round(v * s) / s));
}

/** emmeans's note for the family: "P value adjustment: tukey method for comparing a family of 3 estimates". */
export function adjustNote(adjust: Adjust, nmeans: number, ntests: number): string {
  if (adjust === "none") return "P values are not adjusted for multiple comparisons";
  if (adjust === "tukey") return `P value adjustment: tukey method for comparing a family of ${nmeans} estimates`;
  return `P value adjustment: ${adjust} method for ${ntests} tests`;
}
