// What follows from a factored BlockedModel: fixed effects, their unscaled covariance, the
// conditional modes of the random effects and their conditional covariance blocks. All of it
// uses the blocks of L only (ARCHITECTURE.md §3.5); nothing touches the rows.
import { invFromChol, solveLower, solveLowerT } from "../linalg/dense";
import { invFromCholTiled } from "../linalg/inverse";
import type { BlockedModel } from "./blocked";
import { originalBeta, originalVcov } from "./fixed-basis";

/** beta-hat in the model's own (working) basis: solve R_X beta = the X part of L_FF's last row. */
function workingBeta(model: BlockedModel): Float64Array {
  const { p, pp, LFF } = model;
  const beta = new Float64Array(p);
  for (let f = 0; f < p; f++) beta[f] = LFF[p * pp + f];
  solveLowerT(LFF, p, 0, pp, beta);
  return beta;
}

/** beta-hat for the original columns of X (fixed-basis.ts maps the working ones back). */
export function fixedEffects(model: BlockedModel): Float64Array {
  return originalBeta(model.fixedMap, workingBeta(model));
}

/** (X'V^{-1}X)^{-1} / sigma^2 for the original X, row-major p x p. */
export function unscaledVcov(model: BlockedModel): Float64Array {
  return originalVcov(model.fixedMap, invFromChol(model.LFF, model.p, 0, model.pp));
}

/** Conditional modes on the working scale per term: u[t] is ell x q row-major (spherical u). */
export function sphericalModes(model: BlockedModel): Float64Array[] {
  const { remats, m, p, pp, QD } = model;
  // The modes follow from the working coefficients (the rows of L are in that basis).
  const beta = workingBeta(model);
  // v = L_Z^{-1} Λ'Z'(y - X beta), read off the F rows of L.
  const at = (lf: Float64Array, o: number, q: number, b: number): number => {
    let s = lf[o + p * q + b];
    for (let f = 0; f < p; f++) s -= beta[f] * lf[o + f * q + b];
    return s;
  };
  const u: Float64Array[] = remats.map((r) => new Float64Array(r.ell * r.q));
  const uD = new Float64Array(QD);
  for (let d = 0; d < QD; d++) {
    let s = model.LFD[p * QD + d];
    for (let f = 0; f < p; f++) s -= beta[f] * model.LFD[f * QD + d];
    uD[d] = s;
  }
  if (QD > 0) solveLowerT(model.LDD, QD, 0, QD, uD);
  for (let t = m; t < model.k; t++) u[t].set(uD.subarray(model.dOff[t], model.dOff[t] + remats[t].ell * remats[t].q));
  for (let j = m - 1; j >= 0; j--) {
    const { ell, q } = remats[j];
    const uj = u[j], LF = model.LFj[j];
    const pat = model.dPat[j], LD = model.LDj[j];
    for (let c = 0; c < ell; c++) {
      for (let b = 0; b < q; b++) uj[c * q + b] = at(LF, c * pp * q, q, b);
      for (let e = pat.ptr[c]; e < pat.ptr[c + 1]; e++) {
        const r = pat.idx[e];
        for (let b = 0; b < q; b++) uj[c * q + b] -= LD[e * q + b] * uD[r];
      }
      for (let i = j + 1; i < m; i++) {
        const qi = remats[i].q, par = model.parent[i][j][c], Lij = model.Lij[i][j];
        for (let b = 0; b < q; b++) {
          let s = 0;
          for (let a = 0; a < qi; a++) s += Lij[c * qi * q + a * q + b] * u[i][par * qi + a];
          uj[c * q + b] -= s;
        }
      }
      solveLowerT(model.Ljj[j], q, c * q * q, q, uj, c * q);
    }
  }
  return u;
}

/** b = Λ u on the working scale (per term, ell x q). */
export function workingModes(model: BlockedModel, u: Float64Array[]): Float64Array[] {
  return model.remats.map((r, t) => {
    const { ell, q } = r;
    const T = model.T[t];
    const b = new Float64Array(ell * q);
    for (let c = 0; c < ell; c++) {
      for (let a = 0; a < q; a++) {
        let s = 0;
        for (let g = 0; g <= a; g++) s += T[a * q + g] * u[t][c * q + g];
        b[c * q + a] = s;
      }
    }
    return b;
  });
}

/**
 * Diagonal blocks of Ω^{-1} = (L_Z L_Z')^{-1} per term and level (ell x q x q, row-major), the
 * conditional covariance of the spherical random effects divided by sigma^2. For a chain level,
 * the column of L^{-1} is nonzero only on the level's ancestors and the D rows; the D part is a
 * quadratic form in S^{-1} = (L_DD L_DD')^{-1}, formed once.
 */
export function conditionalBlocks(model: BlockedModel): Float64Array[] {
  const { remats, m, QD } = model;
  const Sinv = QD > 0 ? invFromCholTiled(model.LDD, QD) : new Float64Array(0);
  const out: Float64Array[] = remats.map((r) => new Float64Array(r.ell * r.q * r.q));
  for (let t = m; t < model.k; t++) {
    const { ell, q } = remats[t];
    const off = model.dOff[t];
    for (let c = 0; c < ell; c++) {
      for (let a = 0; a < q; a++) for (let b = 0; b < q; b++) out[t][c * q * q + a * q + b] = Sinv[(off + c * q + a) * QD + off + c * q + b];
    }
  }
  for (let j = 0; j < m; j++) {
    const { ell, q } = remats[j];
    for (let c = 0; c < ell; c++) {
      // W for each of the q unit columns: chain blocks along the ancestry, then the D part.
      const cols: { w: Float64Array[] }[] = [];
      for (let col = 0; col < q; col++) {
        const w: Float64Array[] = [];
        const wj = new Float64Array(q);
        wj[col] = 1;
        solveLower(model.Ljj[j], q, c * q * q, q, wj);
        w.push(wj);
        for (let i = j + 1; i < m; i++) {
          const qi = remats[i].q, pi = model.parent[i][j][c];
          const wi = new Float64Array(qi);
          for (let h = j; h < i; h++) {
            const qh = remats[h].q;
            const ch = h === j ? c : model.parent[h][j][c];
            const Lih = model.Lij[i][h];
            for (let a = 0; a < qi; a++) {
              let s = 0;
              for (let b = 0; b < qh; b++) s += Lih[ch * qi * qh + a * qh + b] * w[h - j][b];
              wi[a] -= s;
            }
          }
          solveLower(model.Ljj[i], qi, pi * qi * qi, qi, wi);
          w.push(wi);
        }
        cols.push({ w });
      }
      const blk = out[j];
      const o = c * q * q;
      for (let a = 0; a < q; a++) {
        for (let b = 0; b <= a; b++) {
          let s = 0;
          for (let s2 = 0; s2 < cols[a].w.length; s2++) {
            const wa = cols[a].w[s2], wb = cols[b].w[s2];
            for (let e = 0; e < wa.length; e++) s += wa[e] * wb[e];
          }
          blk[o + a * q + b] = s;
          blk[o + b * q + a] = s;
        }
      }
      if (QD > 0) {
        // g_col = -Σ_h L_Dh[anc_h(c)] w_h, sparse over the D rows of the ancestors' patterns;
        // add g_a' S^{-1} g_b.
        const rowsSeen: number[] = [];
        const gs: Float64Array[] = [];
        for (let col = 0; col < q; col++) {
          const gcol = new Float64Array(QD);
          for (let h = j; h < m; h++) {
            const qh = remats[h].q;
            const ch = h === j ? c : model.parent[h][j][c];
            const pat = model.dPat[h], LD = model.LDj[h];
            const wh = cols[col].w[h - j];
            for (let e = pat.ptr[ch]; e < pat.ptr[ch + 1]; e++) {
              let s = 0;
              for (let b = 0; b < qh; b++) s += LD[e * qh + b] * wh[b];
              gcol[pat.idx[e]] -= s;
              if (col === 0) rowsSeen.push(pat.idx[e]);
            }
          }
          gs.push(gcol);
        }
        const rows = Array.from(new Set(rowsSeen));
        for (let a = 0; a < q; a++) {
          for (let b = 0; b <= a; b++) {
            let s = 0;
            for (const r1 of rows) {
              let inner = 0;
              for (const r2 of rows) inner += Sinv[r1 * QD + r2] * gs[b][r2];
              s += gs[a][r1] * inner;
            }
            blk[o + a * q + b] += s;
            if (a !== b) blk[o + b * q + a] += s;
          }
        }
      }
    }
  }
  return out;
}
