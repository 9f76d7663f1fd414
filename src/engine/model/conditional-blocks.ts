// The conditional covariance blocks of the random effects, Ω^{-1}_cc per term and level, with the
// per-level work done in scratch that is allocated once per call. solve.ts's conditionalBlocks
// computes the same numbers allocating a QD-long vector for every column of every level of the
// chain terms (at InstEval's size, 2,972 levels x 1,142 rows: 27 MB zeroed and collected, and a
// third of the function's time); here each level touches only the D rows of its pattern.
//
// Ω = L_Z L_Z'. For a chain level (term j, level c) the q unit columns e solve L_Z w = e along the
// level's ancestry (the chain blocks below it), then its D part g = -Σ_h L_Dh w_h, which is sparse
// over the D rows of the ancestors' patterns; Ω^{-1}_cc = Σ_h w_h w_h' + g' S^{-1} g with
// S^{-1} = (L_DD L_DD')^{-1} formed once (linalg/inverse.ts). A dense term's blocks are read off S^{-1}.
import { solveLower } from "../linalg/dense";
import { invFromCholTiled } from "../linalg/inverse";
import type { BlockedModel } from "./blocked";

/** Diagonal blocks of Ω^{-1} (ell x q x q per term, row-major): the model must be fully factored. */
export function conditionalCovariances(model: BlockedModel): Float64Array[] {
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
  if (m === 0) return out;
  let qmax = 1, qsum = 0;
  for (let j = 0; j < m; j++) {
    qmax = Math.max(qmax, remats[j].q);
    qsum += remats[j].q;
  }
  // w[col][offset of term h's block in the ancestry]: the chain part of column col.
  const hOff = new Int32Array(m + 1);
  const w = Array.from({ length: qmax }, () => new Float64Array(qsum));
  // g[col] over D rows (dense scratch, zeroed again after each level), the rows touched in `rows`.
  const g = Array.from({ length: qmax }, () => new Float64Array(QD));
  const seen = new Uint8Array(QD);
  const rows = new Int32Array(QD);
  const gv = Array.from({ length: qmax }, () => new Float64Array(QD));
  const acc = new Float64Array(qmax);
  for (let j = 0; j < m; j++) {
    const { ell, q } = remats[j];
    hOff[j] = 0;
    for (let h = j; h < m; h++) hOff[h + 1] = hOff[h] + remats[h].q;
    const blk = out[j];
    for (let c = 0; c < ell; c++) {
      for (let col = 0; col < q; col++) {
        const wc = w[col];
        wc.fill(0, 0, hOff[m]);
        wc[col] = 1;
        solveLower(model.Ljj[j], q, c * q * q, q, wc, 0);
        for (let i = j + 1; i < m; i++) {
          const qi = remats[i].q, pi = model.parent[i][j][c], oi = hOff[i];
          for (let h = j; h < i; h++) {
            const qh = remats[h].q, oh = hOff[h];
            const ch = h === j ? c : model.parent[h][j][c];
            const Lih = model.Lij[i][h];
            for (let a = 0; a < qi; a++) {
              let s = 0;
              for (let b = 0; b < qh; b++) s += Lih[ch * qi * qh + a * qh + b] * wc[oh + b];
              wc[oi + a] -= s;
            }
          }
          solveLower(model.Ljj[i], qi, pi * qi * qi, qi, wc, oi);
        }
      }
      const o = c * q * q;
      for (let a = 0; a < q; a++) {
        for (let b = 0; b <= a; b++) {
          let s = 0;
          for (let e = 0; e < hOff[m]; e++) s += w[a][e] * w[b][e];
          blk[o + a * q + b] = s;
          blk[o + b * q + a] = s;
        }
      }
      if (QD === 0) continue;
      // g_col = -Σ_h L_Dh[anc_h(c)] w_h over the ancestors' D rows.
      let nr = 0;
      for (let h = j; h < m; h++) {
        const qh = remats[h].q, oh = hOff[h];
        const ch = h === j ? c : model.parent[h][j][c];
        const pat = model.dPat[h], LD = model.LDj[h];
        for (let e = pat.ptr[ch]; e < pat.ptr[ch + 1]; e++) {
          const r = pat.idx[e];
          if (!seen[r]) {
            seen[r] = 1;
            rows[nr++] = r;
          }
          for (let col = 0; col < q; col++) {
            let s = 0;
            for (let b = 0; b < qh; b++) s += LD[e * qh + b] * w[col][oh + b];
            g[col][r] -= s;
          }
        }
      }
      // Gather, clear the scratch, then add g_a' S^{-1} g_b.
      for (let x = 0; x < nr; x++) {
        const r = rows[x];
        seen[r] = 0;
        for (let col = 0; col < q; col++) {
          gv[col][x] = g[col][r];
          g[col][r] = 0;
        }
      }
      for (let x = 0; x < nr; x++) {
        const so = rows[x] * QD;
        acc.fill(0);
        for (let y = 0; y < nr; y++) {
          const v = Sinv[so + rows[y]];
          for (let b = 0; b < q; b++) acc[b] += v * gv[b][y];
        }
        for (let a = 0; a < q; a++) {
          const ga = gv[a][x];
          for (let b = 0; b <= a; b++) blk[o + a * q + b] += ga * acc[b];
        }
      }
      for (let a = 0; a < q; a++) for (let b = 0; b < a; b++) blk[o + b * q + a] = blk[o + a * q + b];
    }
  }
  return out;
}
