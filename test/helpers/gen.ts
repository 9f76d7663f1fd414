// Generators for the fuzz test (test/fuzz.test.ts): small random tables as Excel passes them
// (a header row, then numbers, text and blanks) and random model specs over their columns, from
// one seeded generator so that every case is reproducible from its number alone.
import { Rng } from "../../src/engine/inference/rng";

export class Gen {
  readonly rng: Rng;
  constructor(seed: number) {
    this.rng = new Rng(seed);
  }
  /** Uniform on [0, 1). */
  u(): number {
    return this.rng.uniform();
  }
  /** Integer in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.u() * (hi - lo + 1));
  }
  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.u() * xs.length)];
  }
  chance(p: number): boolean {
    return this.u() < p;
  }
  normal(): number {
    return this.rng.normal();
  }
}

/** What the spec generator knows of a table: its column names by role. */
export interface TableInfo {
  rows: unknown[][];
  nrow: number;
}

const cell = (g: Gen, v: number, missing: number): unknown => {
  if (g.chance(missing)) return g.pick([null, "", "NA", " "]);
  return v;
};

/**
 * A table of `nrow` rows (default: 120, sometimes tiny or a few hundred) with columns
 *   y  response (group effects + slope + noise; sometimes constant, huge or with text)
 *   x, z  continuous; w positive (for log); i small integers; t integer time within g
 *   f  2-4 level text factor; g grouping (2-60 levels); h crossed grouping; b nested in g
 *   k  one-level factor; e  mostly empty
 */
export function genTable(g: Gen, nrowHint?: number): TableInfo {
  const nrow = nrowHint ?? (g.chance(0.85) ? 120 : g.pick([1, 2, 3, 5, 8, 20, 40, 300]));
  const nG = g.pick([1, 2, 3, 5, 8, 10, 12, 20, 30, 50, 60]);
  const nH = g.pick([2, 3, 4, 6, 15]);
  const nF = g.pick([2, 3, 4]);
  const missing = g.pick([0, 0, 0, 0, 0.02, 0.1, 0.3]);
  const scale = g.pick([1, 1, 1, 1e-6, 1e6, 1e12]);
  const shift = g.pick([0, 0, 0, 1e6, -50]);
  const yKind = g.chance(0.85) ? g.pick(["normal", "normal", "integer"]) : g.pick(["constant", "text", "perfect"]);
  const timeKind = g.pick(["seq", "seq", "seq", "dup", "irregular", "negative"]);
  const gEff = Array.from({ length: nG }, () => g.normal() * g.pick([0, 1, 3]));
  const slopeEff = Array.from({ length: nG }, () => g.normal() * g.pick([0, 0.5]));
  const hEff = Array.from({ length: nH }, () => g.normal());
  const header = ["y", "x", "z", "w", "i", "t", "f", "g", "h", "b", "k", "e"];
  const rows: unknown[][] = [header];
  const perGroup = new Map<number, number>();
  for (let r = 0; r < nrow; r++) {
    const gi = g.chance(0.9) ? r % nG : g.int(0, nG - 1);
    const occ = perGroup.get(gi) ?? 0;
    perGroup.set(gi, occ + 1);
    const hi = g.int(0, nH - 1);
    const fi = g.int(0, nF - 1);
    const x = g.normal() * scale + shift;
    const z = g.pick([g.normal(), g.u() * 10, Math.round(g.normal() * 2)]);
    const w = Math.exp(g.normal());
    const t = timeKind === "seq" ? occ + 1 : timeKind === "dup" ? Math.floor(occ / 2) : timeKind === "irregular" ? occ * 1.5 + (g.u() < 0.3 ? 0.25 : 0) : occ - 3;
    let y: unknown;
    const mu = 2 + gEff[gi] + slopeEff[gi] * x / (scale || 1) + 0.5 * hEff[hi] + 0.3 * fi;
    switch (yKind) {
      case "constant": y = 5; break;
      case "text": y = g.chance(0.05) ? "n/a" : mu + g.normal(); break;
      case "integer": y = Math.round(mu + g.normal()); break;
      case "perfect": y = 1 + 2 * x + fi; break;
      default: y = (mu + g.normal()) * scale + shift;
    }
    rows.push([
      typeof y === "number" ? cell(g, y, missing) : y,
      cell(g, x, missing),
      cell(g, z, missing / 2),
      cell(g, w, missing / 2),
      g.int(0, 4),
      cell(g, t, missing / 4),
      cell(g, 0, missing / 2) === 0 ? ["lo", "mid", "hi", "top"][fi] : null,
      `G${gi + 1}`,
      `H${hi + 1}`,
      `B${g.int(1, 3)}`,
      "one",
      g.chance(0.05) ? 1 : null,
    ]);
  }
  return { rows, nrow };
}

const FIXED_ATOMS = ["x", "x", "z", "f", "f", "t", "i", "log(w)", "factor(i)", "I(x^2)", "sqrt(w)", "exp(z)", "x:f", "x*f", "f/x", "(x + z + f)^2", "x*z*f", "I(x - 1)", "factor(t)", "abs(z)", "log10(w)", "I(x*z)", "0", "1", "x^2", "t:f", "h"];
/** Rarer terms: errors (unknown or empty columns, one-level factors) and edge cases. */
const FIXED_ODD = ["k", "e", "log(x)", "g", "poly", "unknown", "exp(x)", "I(1/z)", "b:g", "x:x"];
const RE_LHS = ["1", "1", "1", "x", "0 + x", "1 + x", "t", "f", "x + z", "1 + x + z + t", "0 + f", "factor(i)", "log(w)", "w", "I(x^2)"];
const GROUPS = ["g", "g", "g", "g", "h", "h", "g/b", "g:h", "b", "g:b", "f", "i", "t", "g/h/b"];
const GROUPS_ODD = ["k", "x", "nope", "e", "y"];
const RESID = ["CS(1 | g)", "AR1(t | g)", "CAR1(t | g)", "ARH1(t | g)", "UN(t | g)", "AR1(t)", "CS(1)", "UN(t)", "AR1(x | g)", "AR1(t | f)", "CS(1 | h)", "ARH1(t | g:h)", "AR1(~ t | g)", "CAR1(t | b)", "UN(i | g)", "AR1(f | g)"];
const VARIDENT = ["f", "f", "b", "g", "x", "i", "k", "h", "g:f", "t"];

/** A random spec over genTable's columns: mostly well formed, sometimes mangled. */
export function genSpec(g: Gen): string {
  const response = g.chance(0.9) ? g.pick(["y", "y", "y", "y", "y", "y", "log(w)", "I(y * 2)"]) : g.pick(["log(y)", "sqrt(y)", "f", "nope", "y + x", "", "exp(y)", "I(y^2)", "x", "z"]);
  const nFixed = g.int(0, 4);
  const fixed: string[] = [];
  for (let k = 0; k < nFixed; k++) fixed.push(g.chance(0.95) ? g.pick(FIXED_ATOMS) : g.pick(FIXED_ODD));
  const nRandom = g.pick([0, 1, 1, 1, 1, 2, 2, 3, 5]);
  const random: string[] = [];
  for (let k = 0; k < nRandom; k++) {
    const bar = g.chance(0.8) ? "|" : "||";
    random.push(`(${g.pick(RE_LHS)} ${bar} ${g.chance(0.95) ? g.pick(GROUPS) : g.pick(GROUPS_ODD)})`);
  }
  const rhs = [...fixed, ...random];
  let spec = `${response} ~ ${rhs.length ? rhs.join(" + ") : "1"}`;
  if (g.chance(0.08)) spec += g.pick([" - 1", " - x", " + 0", " - f"]);
  if (g.chance(0.3)) spec += ` ; ${g.pick(RESID)}`;
  if (g.chance(0.12)) spec += ` ; varIdent(${g.pick(VARIDENT)})`;
  if (g.chance(0.08)) spec = mangle(g, spec);
  return spec;
}

/** Deletes, duplicates or inserts a character or token, for parse errors. */
function mangle(g: Gen, s: string): string {
  const at = g.int(0, Math.max(0, s.length - 1));
  switch (g.int(0, 3)) {
    case 0: return s.slice(0, at) + s.slice(at + 1);
    case 1: return s.slice(0, at) + s[at] + s.slice(at);
    case 2: return s.slice(0, at) + g.pick(["(", ")", "|", "~", ";", "^", "*", "/", ":", ",", "1e400", "-", "0", "`", "\"", "#"]) + s.slice(at);
    default: return s.slice(0, at);
  }
}
