// What users read of a structured term: its own parameters (SDs on the data's scale and rho),
// and where their intervals go in the variance-components table, whose rows show the implied
// covariance (every SD and every correlation, as lme4's and glmmTMB's VarCorr).
import type { ReStructureResult, VarcompRow } from "../../types";
import type { ReMat } from "../remat";

/** The term as written, with its structure: "ar1(0 + time | tree)". */
export function structuredText(r: ReMat, text: string): string {
  return `${r.structure.type}(${text})`;
}

/** Each structured term's parameters at theta, SDs multiplied by sigma. */
export function structureResults(remats: ReMat[], theta: ArrayLike<number>, sigma: number, texts: string[]): ReStructureResult[] {
  const out: ReStructureResult[] = [];
  remats.forEach((r, t) => {
    const s = r.structure;
    if (s.type === "us" || !s.names) return;
    const nat = s.natural(theta, r.thetaOffset);
    const params: Record<string, number> = {};
    s.names.forEach((name, i) => (params[name] = s.kinds[i] === "sd" ? nat[i] * sigma : nat[i]));
    out.push({ group: r.label, term: structuredText(r, texts[t]), type: s.type, params });
  });
  return out;
}

/**
 * The rows of the variance-components table that natural parameter i of term r determines, and
 * how: an SD row (the SD itself), or a correlation row equal to rho^power (ar1's lag-k rows have
 * power k, cs's rows power 1).
 */
export function rowsOfParameter(r: ReMat, i: number): { effect: string; effect2: string | null; power: number }[] {
  const s = r.structure;
  const q = r.q;
  const out: { effect: string; effect2: string | null; power: number }[] = [];
  if (s.kinds[i] === "sd") {
    const homogeneous = s.kinds.filter((k) => k === "sd").length === 1;
    for (let a = 0; a < q; a++) if (homogeneous || a === i) out.push({ effect: r.effects[a], effect2: null, power: 1 });
    return out;
  }
  // toep's correlation i is that of lag k = i - (number of SDs) + 1, its rows those pairs only.
  const lag = s.type === "toep" ? i - s.kinds.filter((k) => k === "sd").length + 1 : 0;
  for (let a = 0; a < q; a++) for (let b = a + 1; b < q; b++) {
    if (lag > 0 && b - a !== lag) continue;
    out.push({ effect: r.effects[a], effect2: r.effects[b], power: s.type === "ar1" ? b - a : 1 });
  }
  return out;
}

/** The image of an interval [lo, hi] of rho under rho^k (monotone for odd k; through 0 for even k). */
export function powerInterval(lo: number | null, hi: number | null, k: number): [number | null, number | null] {
  if (lo === null || hi === null) return k === 1 ? [lo, hi] : [null, null];
  if (k === 1) return [lo, hi];
  const a = Math.pow(lo, k), b = Math.pow(hi, k);
  if (k % 2 === 1 || lo >= 0) return [a, b];
  if (hi <= 0) return [b, a];
  return [0, Math.max(a, b)];
}

/** Copy each structured parameter's interval (its pseudo row) into the table rows it determines. */
export function spreadIntervals(remats: ReMat[], pseudo: (t: number, i: number) => VarcompRow, rows: VarcompRow[], results: ReStructureResult[]): void {
  remats.forEach((r, t) => {
    const s = r.structure;
    if (s.type === "us" || !s.names) return;
    const res = results.find((x) => x.group === r.label);
    s.names.forEach((name, i) => {
      const src = pseudo(t, i);
      if (res) {
        res.lower ??= {};
        res.upper ??= {};
        res.lower[name] = src.sd_lower;
        res.upper[name] = src.sd_upper;
      }
      for (const target of rowsOfParameter(r, i)) {
        const row = rows.find((x) => x.group === r.label && x.effect === target.effect && x.effect2 === target.effect2);
        if (!row) continue;
        [row.sd_lower, row.sd_upper] = powerInterval(src.sd_lower, src.sd_upper, target.power);
      }
    });
  });
}

/** Above this relative SD (the term's SD over sigma) the residual counts as estimated at 0. */
const ZERO_RESIDUAL = 1e3;

/**
 * The note for a fit whose residual SD is (nearly) 0 beside a structured term: the structure then
 * explains all within-group variation (ar1 over every occasion of a group is the residual AR(1)
 * model), so the optimum is the limit sigma -> 0, and sigma's interval means nothing.
 */
export function zeroResidualNote(remats: ReMat[], theta: ArrayLike<number>, texts: string[]): string | null {
  for (let t = 0; t < remats.length; t++) {
    const r = remats[t], s = r.structure;
    if (s.type === "us") continue;
    const nat = s.natural(theta, r.thetaOffset);
    if (!s.kinds.some((k, i) => k === "sd" && nat[i] > ZERO_RESIDUAL)) continue;
    const alt = s.type === "ar1" ? " (for ar1 over every occasion of a group, that is the residual structure AR1(time | group) without this term)" : "";
    return `the residual SD is estimated as (nearly) 0, under 1/${ZERO_RESIDUAL} of the SD of ${structuredText(r, texts[t])}: the structure explains all of the variation within '${r.group}' groups, so the model is simpler than specified${alt}; the residual SD's interval is not meaningful`;
  }
  return null;
}

/**
 * homcs beside a random intercept of the same grouping factor is not identifiable: homcs's
 * covariance s^2 (1 - rho) I + s^2 rho 11' and the intercept's tau^2 11' give the same marginal
 * covariance along s^2 rho + tau^2 = const (a ridge; the likelihood, the fixed effects and their
 * tests are not affected). Said, and the intervals on the ridge removed, as confounding.ts does
 * for a random intercept beside a CS residual structure.
 */
export function structureRidgeNotes(remats: ReMat[], texts: string[], rows: VarcompRow[], results: ReStructureResult[], messages: string[]): void {
  remats.forEach((r, t) => {
    if (r.structure.type !== "homcs") return;
    const partner = remats.find((o) => o !== r && o.structure.type === "us" && o.group === r.group && o.effects.includes("(Intercept)"));
    if (!partner) return;
    messages.push(`not identifiable: the random intercept of '${partner.group}' and the common correlation of ${structuredText(r, texts[t])} both add one covariance to every pair of effects in a '${r.group}' group, so only their sum is estimable and the split between the intercept's variance, the SD and rho shown is arbitrary (the fixed effects, their tests and the log-likelihood are not affected). Drop the random intercept (homcs already has it), or use homdiag(...) beside it (which is (1 | ${r.group}) + (1 | ${r.group}:...))`);
    for (const row of rows) {
      if (row.group === r.label || (row.group === partner.label && (row.effect === "(Intercept)" || row.effect2 === "(Intercept)"))) row.sd_lower = row.sd_upper = null;
    }
    const res = results.find((x) => x.group === r.label);
    if (res) {
      res.lower = Object.fromEntries(Object.keys(res.params).map((k) => [k, null]));
      res.upper = Object.fromEntries(Object.keys(res.params).map((k) => [k, null]));
    }
  });
}
