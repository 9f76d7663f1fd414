// The random-effect part of the residual-structure gradient, shared by the per-block evaluator
// (residual-gradient.ts) and the pattern-pooled one (residual/pooled.ts): both reduce a block's
// (or pattern's) m x m weight matrix M to U_t = sum over same-level row pairs of z_a M_ab z_b',
// then df/dLambda_t = 2 U_t Lambda_t.
import type { ReMat } from "../remat";

/** U_t += sum over pairs (a, c) of rows[o..o+m) at the same level of term t of z_a M_ac z_c'. */
export function addSameLevelPairs(remats: ReMat[], Us: Float64Array[], rows: Int32Array, o: number, m: number, M: Float64Array): void {
  for (let t = 0; t < remats.length; t++) {
    const rt = remats[t], q = rt.q, z = rt.z, refs = rt.refs, Ut = Us[t];
    for (let a = 0; a < m; a++) {
      const ra = rows[o + a], la = refs[ra];
      for (let c = 0; c <= a; c++) {
        const rc = rows[o + c];
        if (refs[rc] !== la) continue;
        const mab = M[a * m + c];
        for (let i = 0; i < q; i++) {
          const zi = z[ra * q + i] * mab, zci = z[rc * q + i] * mab;
          for (let j = 0; j < q; j++) {
            Ut[i * q + j] += zi * z[rc * q + j];
            if (c !== a) Ut[i * q + j] += zci * z[ra * q + j];
          }
        }
      }
    }
  }
}

/** grad[theta] = 2 (U_t Lambda_t)_ij, in each template's (column-major lower) order. */
export function thetaGradient(remats: ReMat[], lambdas: Float64Array[], Us: Float64Array[], grad: Float64Array): void {
  remats.forEach((rt, t) => {
    const q = rt.q, L = lambdas[t], Ut = Us[t];
    let k = rt.thetaOffset;
    for (let j = 0; j < q; j++) {
      for (let i = j; i < q; i++) {
        let s = 0;
        for (let l = 0; l < q; l++) s += Ut[i * q + l] * L[l * q + j];
        grad[k++] = 2 * s;
      }
    }
  });
}
