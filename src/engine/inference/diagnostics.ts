// The statistics behind the diagnostic charts, computed here so formatters only lay them out:
//  - normal QQ data as R's qqnorm (ppoints: (i - a) / (n + 1 - 2a), a = 3/8 for n <= 10, else
//    1/2) with qqline's reference line (through the quartiles: type 7 quantiles of the data
//    against qnorm(0.25), qnorm(0.75));
//  - a caterpillar plot's rows: one random effect's BLUPs sorted, with +- z conditional SDs;
//  - residuals against fitted values (the conditional ones).
import type { BlupTable, FitResultWithRows } from "../types";
import { DataError } from "../errors";
import { qNorm } from "./dist";

export interface QQData {
  /** Theoretical normal quantiles, ascending. */
  theoretical: number[];
  /** The values, sorted ascending. */
  sample: number[];
  /** qqline: sample = intercept + slope * theoretical. */
  intercept: number;
  slope: number;
}

/** R's ppoints(n). */
export function ppoints(n: number): number[] {
  const a = n <= 10 ? 3 / 8 : 1 / 2;
  return Array.from({ length: n }, (_, i) => (i + 1 - a) / (n + 1 - 2 * a));
}

/** R's quantile(x, p, type = 7) of sorted values. */
function quantile7(sorted: number[], p: number): number {
  const h = (sorted.length - 1) * p;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
}

/** Normal QQ data of the finite values (missing ones are left out). */
export function qqNormal(values: ArrayLike<number>): QQData {
  const sample = Array.from(values).filter(Number.isFinite).sort((a, b) => a - b);
  if (sample.length < 2) throw new DataError("a normal QQ plot needs at least two values");
  const theoretical = ppoints(sample.length).map(qNorm);
  const x1 = qNorm(0.25), x2 = qNorm(0.75);
  const y1 = quantile7(sample, 0.25), y2 = quantile7(sample, 0.75);
  const slope = (y2 - y1) / (x2 - x1);
  return { theoretical, sample, intercept: y1 - slope * x1, slope };
}

export interface CaterpillarRow {
  level: string;
  value: number;
  lower: number;
  upper: number;
}

/** One effect's BLUPs sorted ascending, with value -+ z conditional SD (z = 1.96 for 95 %). */
export function caterpillar(table: BlupTable, effect: number, z = 1.959963984540054): CaterpillarRow[] {
  return table.levels
    .map((level, i) => ({ level, value: table.values[i][effect], se: table.se[i][effect] }))
    .sort((a, b) => a.value - b.value)
    .map((r) => ({ level: r.level, value: r.value, lower: r.value - z * r.se, upper: r.value + z * r.se }));
}

export interface EffectDiagnostics {
  group: string;
  effect: string;
  qq: QQData;
  caterpillar: CaterpillarRow[];
}

export interface Diagnostics {
  /** Conditional fitted values and residuals, by data row used. */
  fitted: number[];
  residual: number[];
  residualQQ: QQData;
  effects: EffectDiagnostics[];
}

/** Everything the Diagnostics sheet draws, from a fit with its fitted values (fitted: true). */
export function diagnostics(fit: FitResultWithRows): Diagnostics {
  if (!fit.fitted) throw new DataError("the diagnostics need the fitted values: fit with fitted: true");
  const fitted = Array.from(fit.fitted.conditional), residual = Array.from(fit.fitted.residual);
  const effects: EffectDiagnostics[] = [];
  for (const [group, t] of Object.entries(fit.blups)) {
    t.effects.forEach((effect, e) => {
      if (t.levels.length < 2) return;
      effects.push({ group, effect, qq: qqNormal(t.values.map((v) => v[e])), caterpillar: caterpillar(t, e) });
    });
  }
  return { fitted, residual, residualQQ: qqNormal(residual), effects };
}
