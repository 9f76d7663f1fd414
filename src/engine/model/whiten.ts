// Cross-products of the dense (crossed) random-effect terms under a residual structure, when a
// term varies within the residual groups (ARCHITECTURE.md §3.1). Whitening multiplies a group's
// rows by F_g; a term that is constant within the group keeps its whitened values in its one
// level, but for a term that varies, the whitened value of one row spreads over the levels of
// the other rows of the group. So its blocks are formed per group as Z_g' W_g M_g with the
// group's precision W_g = F_g' F_g = R_g^{-1} (relative to sigma^2), written as
//  - AR1, ARH1, CAR1: tridiagonal (F is bidiagonal; the process is Markov);
//  - CS: a diagonal plus a rank-one term;
//  - UN, TOEP, ARMA, spatial (dense structures): from the Cholesky factor of the group's
//    correlation matrix (groups are small).
// Cost per evaluation: one pass over the rows, O(n) for AR1 and CS (plus the squares of the
// levels a CS group touches), O(sum n_g^2) for UN; memory: scratch of the largest group and one
// vector over the dense block. Nothing per group is kept. The chain and fixed blocks come from
// the ordinary accumulation of the whitened columns (BlockedModel.accumulate).
import type { BlockedModel } from "./blocked";
import type { ResidualModel } from "./residual";
import { denseFactor } from "./residual/whiten-group";

export class CrossedWhitening {
  private readonly wd: Float64Array;
  private readonly wo: Float64Array;
  private readonly sinv: Float64Array;
  private readonly Wun: Float64Array;
  private readonly Lun: Float64Array;
  private readonly seen: Uint8Array;
  private readonly wm: Float64Array;
  private readonly vsum: Float64Array;
  private readonly touched: Int32Array;
  private readonly slot: Int32Array;
  private readonly lc = { r: 0, one: 1 };

  constructor(private readonly model: BlockedModel, private readonly res: ResidualModel, private readonly X: Float64Array, private readonly y: Float64Array) {
    const ms = res.layout.maxSize;
    this.wd = new Float64Array(ms);
    this.wo = new Float64Array(ms + 1);
    this.sinv = new Float64Array(ms);
    const dense = res.structure?.kind === "dense";
    this.Wun = new Float64Array(dense ? ms * ms : 0);
    this.Lun = new Float64Array(dense ? ms * ms : 0);
    this.seen = new Uint8Array(model.QD);
    let width = model.pp;
    for (const r of model.remats) width = Math.max(width, r.q);
    this.wm = new Float64Array(ms * width);
    this.vsum = new Float64Array(model.QD);
    this.touched = new Int32Array(model.QD);
    this.slot = new Int32Array(model.QD);
  }

  /** Add A_DD, A_FD and A_Dj for eta (after res.whiten(eta), whose SD ratios it reads). */
  accumulate(_eta: Float64Array): void {
    const lay = this.res.layout;
    const ng = lay.gptr.length - 1;
    for (let g = 0; g < ng; g++) {
      const o = lay.gptr[g], m = lay.gptr[g + 1] - o;
      if (!this.precision(o, m)) continue;
      this.fixedAndChain(o, m);
      this.denseDense(o, m);
    }
  }

  /** W for the group's rows grows[o .. o+m) (the structure as set by whiten()). False if not positive definite. */
  private precision(o: number, m: number): boolean {
    const lay = this.res.layout, rows = lay.grows, sd = this.res.sd;
    const { wd, wo, sinv } = this;
    for (let k = 0; k < m; k++) sinv[k] = 1 / sd[rows[o + k]];
    const st = this.res.structure;
    if (st?.kind === "markov") {
      // F_kk = a_k / s_k, F_k,k-1 = -r_k a_k / s_(k-1), a_k = 1/sqrt(1 - r_k^2), r_0 = 0.
      let prevSub = 0;
      for (let k = m - 1; k >= 0; k--) {
        let diag: number, sub = 0;
        if (k === 0) diag = sinv[0];
        else {
          st.lag(rows[o + k], rows[o + k - 1], this.lc);
          const r = this.lc.r, ak = 1 / Math.sqrt(this.lc.one);
          diag = ak * sinv[k];
          sub = -r * ak * sinv[k - 1];
        }
        wd[k] = diag * diag + prevSub * prevSub;
        wo[k] = diag * sub;
        prevSub = sub;
      }
      wo[m] = 0;
    } else if (st?.kind === "cs") {
      const rho = st.rho();
      // C^{-1} = I/(1-rho) - rho/((1-rho)(1+(m-1)rho)) 11'; W = S^{-1} C^{-1} S^{-1}.
      for (let k = 0; k < m; k++) wd[k] = (sinv[k] * sinv[k]) / (1 - rho);
      wo[0] = -rho / ((1 - rho) * (1 + (m - 1) * rho));
    } else if (st?.kind === "dense") {
      return this.densePrecision(o, m);
    } else {
      for (let k = 0; k < m; k++) {
        wd[k] = sinv[k] * sinv[k];
        wo[k] = 0;
      }
      wo[m] = 0;
    }
    return true;
  }

  /** Dense: W = S^{-1} C_g^{-1} S^{-1} with C_g = L L' (Cholesky, then L^{-1}, then L^{-T} L^{-1}). */
  private densePrecision(o: number, m: number): boolean {
    const st = this.res.structure;
    if (st?.kind !== "dense") return false;
    const W = this.Wun, Lm = this.Lun, sinv = this.sinv;
    if (!denseFactor(st, this.res.layout.grows, o, m, Lm)) return false;
    // Inverse of L into W's lower triangle, column by column.
    for (let c = 0; c < m; c++) {
      for (let a = 0; a < m; a++) {
        if (a < c) {
          W[a * m + c] = 0;
          continue;
        }
        let s = a === c ? 1 : 0;
        for (let k = c; k < a; k++) s -= Lm[a * m + k] * W[k * m + c];
        W[a * m + c] = s / Lm[a * m + a];
      }
    }
    // C^{-1} = L^{-T} L^{-1}: entry (a, b) = sum_k Linv[k][a] Linv[k][b], k >= max(a, b).
    for (let a = 0; a < m; a++) {
      for (let b = 0; b <= a; b++) {
        let s = 0;
        for (let k = a; k < m; k++) s += W[k * m + a] * W[k * m + b];
        Lm[a * m + b] = s * sinv[a] * sinv[b];
        Lm[b * m + a] = Lm[a * m + b];
      }
    }
    W.set(Lm.subarray(0, m * m));
    return true;
  }

  /** out[k] = (W v)_k for a per-row vector (width values from src at row*width + j, column j). */
  private applyW(o: number, m: number, src: Float64Array, width: number, j: number, out: Float64Array, ooff: number, ostride: number): void {
    const kind = this.res.structure?.kind, rows = this.res.layout.grows;
    const { wd, wo } = this;
    if (kind === "cs") {
      let s = 0;
      for (let k = 0; k < m; k++) s += this.sinv[k] * src[rows[o + k] * width + j];
      const beta = wo[0];
      for (let k = 0; k < m; k++) out[ooff + k * ostride] = wd[k] * src[rows[o + k] * width + j] + beta * this.sinv[k] * s;
    } else if (kind === "dense") {
      const W = this.Wun;
      for (let k = 0; k < m; k++) {
        let s = 0;
        for (let l = 0; l < m; l++) s += W[k * m + l] * src[rows[o + l] * width + j];
        out[ooff + k * ostride] = s;
      }
    } else {
      for (let k = 0; k < m; k++) {
        let s = wd[k] * src[rows[o + k] * width + j];
        if (k > 0) s += wo[k] * src[rows[o + k - 1] * width + j];
        if (k + 1 < m) s += wo[k + 1] * src[rows[o + k + 1] * width + j];
        out[ooff + k * ostride] = s;
      }
    }
  }

  /** A_FD += [X y]' W Z_D and A_Dj += Z_D' W Z_j (chain term j, constant in the group). */
  private fixedAndChain(o: number, m: number): void {
    const model = this.model, rows = this.res.layout.grows;
    const { p, pp, QD, remats } = model;
    const wm = this.wm;
    // W [X y], row k at wm[k*pp ..].
    for (let f = 0; f < p; f++) this.applyW(o, m, this.X, p, f, wm, f, pp);
    this.applyW(o, m, this.y, 1, 0, wm, p, pp);
    const AFD = model.AFD;
    for (let k = 0; k < m; k++) {
      const row = rows[o + k];
      for (let t = model.m; t < model.k; t++) {
        const Rt = remats[t], qt = Rt.q, base = model.dOff[t] + Rt.refs[row] * qt;
        for (let a = 0; a < qt; a++) {
          const z = Rt.z[row * qt + a];
          if (z === 0) continue;
          for (let f = 0; f < pp; f++) AFD[f * QD + base + a] += wm[k * pp + f] * z;
        }
      }
    }
    for (let j = 0; j < model.m; j++) {
      const Rj = remats[j], qj = Rj.q;
      const c = Rj.refs[rows[o]];
      const pat = model.dPat[j], adj = model.ADj[j], slot = this.slot;
      for (let e = pat.ptr[c]; e < pat.ptr[c + 1]; e++) slot[pat.idx[e]] = e;
      for (let b = 0; b < qj; b++) this.applyW(o, m, Rj.z, qj, b, wm, b, qj);
      for (let k = 0; k < m; k++) {
        const row = rows[o + k];
        for (let t = model.m; t < model.k; t++) {
          const Rt = remats[t], qt = Rt.q, base = model.dOff[t] + Rt.refs[row] * qt;
          for (let a = 0; a < qt; a++) {
            const z = Rt.z[row * qt + a], e = slot[base + a];
            for (let b = 0; b < qj; b++) adj[e * qj + b] += z * wm[k * qj + b];
          }
        }
      }
    }
  }

  /** Lower triangle of A_DD += Z_D' W Z_D. */
  private denseDense(o: number, m: number): void {
    const kind = this.res.structure?.kind;
    const { wd, wo } = this;
    if (kind === "dense") {
      const W = this.Wun;
      for (let k = 0; k < m; k++) for (let l = 0; l < m; l++) if (W[k * m + l] !== 0) this.addOuter(W[k * m + l], o + k, o + l);
      return;
    }
    for (let k = 0; k < m; k++) {
      this.addOuter(wd[k], o + k, o + k);
      if (kind !== "cs" && k > 0 && wo[k] !== 0) {
        this.addOuter(wo[k], o + k, o + k - 1);
        this.addOuter(wo[k], o + k - 1, o + k);
      }
    }
    if (kind === "cs") this.addRankOne(wo[0], o, m);
  }

  /** A_DD += w zeta_k zeta_l' (lower triangle), zeta_k the dense-block row of position k. */
  private addOuter(w: number, pk: number, pl: number): void {
    const model = this.model, rows = this.res.layout.grows, { remats, QD } = model;
    const ADD = model.ADD;
    const rk = rows[pk], rl = rows[pl];
    for (let t = model.m; t < model.k; t++) {
      const Rt = remats[t], qt = Rt.q, bt = model.dOff[t] + Rt.refs[rk] * qt;
      for (let a = 0; a < qt; a++) {
        const va = w * Rt.z[rk * qt + a];
        if (va === 0) continue;
        const r = bt + a;
        for (let u = model.m; u < model.k; u++) {
          const Ru = remats[u], qu = Ru.q, bu = model.dOff[u] + Ru.refs[rl] * qu;
          for (let b = 0; b < qu; b++) {
            const c = bu + b;
            if (c <= r) ADD[r * QD + c] += va * Ru.z[rl * qu + b];
          }
        }
      }
    }
  }

  /** CS: A_DD += beta v v' with v = sum_k zeta_k / s_k, gathered over the levels it touches. */
  private addRankOne(beta: number, o: number, m: number): void {
    const model = this.model, rows = this.res.layout.grows, { remats, QD } = model;
    const { vsum, touched, sinv, seen } = this;
    let nt = 0;
    for (let k = 0; k < m; k++) {
      const row = rows[o + k];
      for (let t = model.m; t < model.k; t++) {
        const Rt = remats[t], qt = Rt.q, bt = model.dOff[t] + Rt.refs[row] * qt;
        for (let a = 0; a < qt; a++) {
          const i = bt + a;
          if (!seen[i]) {
            seen[i] = 1;
            touched[nt++] = i;
          }
          vsum[i] += sinv[k] * Rt.z[row * qt + a];
        }
      }
    }
    const ADD = model.ADD;
    for (let x = 0; x < nt; x++) {
      const r = touched[x], vr = beta * vsum[r];
      for (let y = 0; y < nt; y++) {
        const c = touched[y];
        if (c <= r) ADD[r * QD + c] += vr * vsum[c];
      }
    }
    for (let x = 0; x < nt; x++) {
      vsum[touched[x]] = 0;
      seen[touched[x]] = 0;
    }
  }
}
