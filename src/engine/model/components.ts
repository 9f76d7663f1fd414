// From a fitted theta to what users read: covariance matrices of the random effects on the
// data's scale, lme4's theta, the variance-components table, and BLUPs with conditional SDs.
import type { BlupTable, VarcompRow } from "../types";
import { cholCopy } from "../linalg/dense";
import type { ReMat } from "./remat";

/** Relative covariance C T T' C' of one term on the data's scale (q x q, divide-by-sigma^2 units). */
export function relativeCovariance(r: ReMat, T: Float64Array): Float64Array {
  const q = r.q;
  const CT = new Float64Array(q * q);
  for (let a = 0; a < q; a++) {
    for (let b = 0; b < q; b++) {
      let s = 0;
      for (let g = 0; g < q; g++) s += r.C[a * q + g] * T[g * q + b];
      CT[a * q + b] = s;
    }
  }
  const out = new Float64Array(q * q);
  for (let a = 0; a < q; a++) {
    for (let b = 0; b < q; b++) {
      let s = 0;
      for (let g = 0; g < q; g++) s += CT[a * q + g] * CT[b * q + g];
      out[a * q + b] = s;
    }
  }
  return out;
}

/** lme4's theta (lower Cholesky factor of the relative covariance, column-major) for all terms. */
export function lme4Theta(remats: ReMat[], T: Float64Array[]): number[] {
  const out: number[] = [];
  remats.forEach((r, t) => {
    const L = cholCopy(relativeCovariance(r, T[t]), r.q) ?? new Float64Array(r.q * r.q);
    for (let j = 0; j < r.q; j++) for (let i = j; i < r.q; i++) out.push(L[i * r.q + j]);
  });
  return out;
}

/** Singular as lme4 defines it: a diagonal of lme4's theta below 1e-4. */
export function isSingular(remats: ReMat[], theta: number[]): boolean {
  let k = 0;
  for (const r of remats) {
    for (let j = 0; j < r.q; j++) {
      for (let i = j; i < r.q; i++) {
        if (i === j && theta[k] < 1e-4) return true;
        k++;
      }
    }
  }
  return false;
}

/** Variance-components rows: per term its variances, then its correlations; Residual last. */
export function varcompRows(remats: ReMat[], T: Float64Array[], sigma2: number): VarcompRow[] {
  const rows: VarcompRow[] = [];
  const blank = { sd_lower: null, sd_upper: null, var_prop: null };
  remats.forEach((r, t) => {
    const cov = relativeCovariance(r, T[t]);
    const q = r.q;
    for (let a = 0; a < q; a++) {
      const v = sigma2 * cov[a * q + a];
      rows.push({ group: r.label, effect: r.effects[a], effect2: null, variance: v, sd: Math.sqrt(v), corr: null, ...blank });
    }
    for (let a = 0; a < q; a++) {
      for (let b = a + 1; b < q; b++) {
        const den = Math.sqrt(cov[a * q + a] * cov[b * q + b]);
        const corr = den > 0 ? cov[a * q + b] / den : NaN;
        rows.push({ group: r.label, effect: r.effects[a], effect2: r.effects[b], variance: null, sd: null, corr: Number.isFinite(corr) ? corr : null, ...blank });
      }
    }
  });
  rows.push({ group: "Residual", effect: null, effect2: null, variance: sigma2, sd: Math.sqrt(sigma2), corr: null, ...blank });
  let total = 0;
  for (const row of rows) if (row.variance !== null) total += row.variance;
  for (const row of rows) if (row.variance !== null) row.var_prop = total > 0 ? row.variance / total : null;
  return rows;
}

/**
 * BLUPs per grouping factor: b = C b_work with conditional SDs sqrt(diag(sigma^2 C T Ω^{-1}_cc T' C')).
 * Terms on the same factor (lme4's `(Days || Subject)`) share one table, their effects side by side.
 */
export function blupTables(
  remats: ReMat[], T: Float64Array[], bWork: Float64Array[], omegaInv: Float64Array[] | null, sigma2: number,
): Record<string, BlupTable> {
  const out: Record<string, BlupTable> = {};
  remats.forEach((r, t) => {
    const { ell, q, C } = r;
    const Tt = T[t];
    let table = out[r.group];
    if (!table) {
      table = { levels: r.levels.slice(), effects: [], values: r.levels.map(() => []), se: r.levels.map(() => []) };
      out[r.group] = table;
    }
    table.effects.push(...r.effects);
    const CT = new Float64Array(q * q);
    for (let a = 0; a < q; a++) for (let b = 0; b < q; b++) {
      let s = 0;
      for (let g = 0; g < q; g++) s += C[a * q + g] * Tt[g * q + b];
      CT[a * q + b] = s;
    }
    for (let c = 0; c < ell; c++) {
      for (let a = 0; a < q; a++) {
        let s = 0;
        for (let g = 0; g < q; g++) s += C[a * q + g] * bWork[t][c * q + g];
        table.values[c].push(s);
        if (omegaInv) {
          // (CT) Ω^{-1}_cc (CT)' diagonal entry a.
          const o = c * q * q;
          let v = 0;
          for (let g = 0; g < q; g++) {
            let inner = 0;
            for (let h = 0; h < q; h++) inner += omegaInv[t][o + g * q + h] * CT[a * q + h];
            v += CT[a * q + g] * inner;
          }
          table.se[c].push(Math.sqrt(Math.max(sigma2 * v, 0)));
        } else {
          table.se[c].push(NaN);
        }
      }
    }
  });
  return out;
}
