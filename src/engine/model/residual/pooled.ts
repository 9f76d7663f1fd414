// The pattern-pooled evaluator of the profiled objective and its gradient (the same objective as
// residual-gradient.ts's DenseBlocks, which explains the algebra). Independent blocks (subjects)
// that look the same to the covariance model — the same occasions (times or coordinates), the
// same values feeding the variance functions and prior weights, the same random-effect rows and
// the same sharing of levels — have the same marginal covariance V_P at every parameter value.
// Such a "pattern" P of m rows is then factored once per evaluation, and its blocks enter only
// through cross-products summed over them once (the first evaluation):
//   C_P[a, b] = sum_(blocks g of P) z_ga z_gb',  z = [X y] (the working fixed basis),
// so that X'V^-1X, X'V^-1y and y'V^-1y are sum_P sum_ab W_ab C_P[a, b] with W = V_P^-1, and
// log|V| = sum_P (number of blocks) log|V_P|. The gradient's M (DenseBlocks.gradient) pools too:
//   M_P = sum_g M_g = count W - W (A + c B) W,
//   A_ab = tr(G C^XX_P[a, b]) (REML), B_ab = u' C_P[a, b] u with u = [-beta; 1],
// contracted with dV_P as the dense path does with each block's. An evaluation then costs
// O(patterns (m^3 + m^2 (p+1)^2)), whatever the number of rows: a balanced panel of a million
// rows is one pattern of 20 occasions. Where blocks do not share patterns (jittered times,
// variance functions of continuous covariates, crossed random effects) build() says null and the
// per-block path or the whitening search is used instead. Only the optimizer's path uses this
// (residual-fit.ts, and the Hessians of the intervals and Satterthwaite); the fit then whitens
// the rows once at the optimum (prepared.ts), so every reported number comes from the usual path.
import type { PreparedModel } from "../prepared";
import type { ResidualModel } from "../residual";
import type { VarFunction } from "./types";
import { fillTemplate } from "../remat";
import { addSameLevelPairs, thetaGradient } from "./re-gradient";
import { fillCorrelation } from "./fill-correlation";
import { arena, kernelFor } from "../../linalg/simd";

/** Blocks of rows as DenseBlocks.build finds them (residual groups joined by random-effect levels). */
export interface RowBlocks {
  /** Block b holds the residual groups bgrp[bptr[b] .. bptr[b+1]), each rows grows[gptr[g] .. gptr[g+1]). */
  bptr: Int32Array;
  bgrp: Int32Array;
  gptr: Int32Array;
  grows: Int32Array;
  maxM: number;
  /** The per-block path's multiply-adds per evaluation (sum of m^2 (m + p)). */
  work: number;
}

/** Largest pattern (rows), and the most doubles the pooled cross-products may take (48 MB). */
const MAX_M = 400;
const MAX_CELLS = 6e6;
/** Pool only when an evaluation is at least this many times cheaper than the per-block path's. */
const GAIN = 4;
/** Blocks gathered per chunk of the cross-product pass. */
const CHUNK = 2048;
/** Relative step of the central differences of the structure's maps (as residual-gradient.ts). */
const FD = 1e-5;

export class PooledBlocks {
  readonly pooled = true;
  readonly nTheta: number;
  readonly nEta: number;
  lastRss = NaN;
  readonly nPatterns: number;
  /** Multiply-adds of one evaluation with its gradient, and of the one pass forming C. */
  readonly work: number;
  readonly setupWork: number;
  private readonly n: number;
  private readonly p: number;
  private readonly w: number;
  /** Pattern P: rows rep[rptr[P] .. rptr[P+1]) (its first block's, in block order), count blocks. */
  private readonly rptr: Int32Array;
  private readonly rep: Int32Array;
  private readonly count: Float64Array;
  /** Residual-group sizes within each pattern: gsz[gptrP[P] .. gptrP[P+1]). */
  private readonly gptrP: Int32Array;
  private readonly gsz: Int32Array;
  /** Offsets of each pattern's m^2 entries (W, R, M), and of its m(m+1)/2 pairs of w x w in C. */
  private readonly moff: Int32Array;
  private readonly coff: Float64Array;
  private C: Float64Array | null = null;
  private readonly vars: VarFunction[];
  private readonly wsd: Float64Array | null;
  private readonly sd: Float64Array;
  private readonly qv: Float64Array;
  private readonly Wbuf: Float64Array;
  private readonly Rbuf: Float64Array;
  private readonly Mbuf: Float64Array;
  private readonly V: Float64Array;
  private readonly T1: Float64Array;
  private readonly Cg: Float64Array;
  private readonly lagR: Float64Array;
  private readonly zu: Float64Array;
  private readonly lambdas: Float64Array[];
  private readonly Us: Float64Array[];
  private readonly lc = { r: 0, one: 1 };
  /** Block position and column of each flattened entry f = a w + i. */
  private readonly aOf: Int32Array;
  private readonly iOf: Int32Array;

  private constructor(private readonly prep: PreparedModel, private readonly res: ResidualModel, private readonly blocks: RowBlocks, private readonly patOf: Int32Array, pat: { rptr: Int32Array; rep: Int32Array; count: Float64Array; gptrP: Int32Array; gsz: Int32Array }, work: number, setupWork: number) {
    const { model, basis, design } = prep;
    this.n = design.n;
    this.p = basis.map.p;
    this.w = this.p + 1;
    this.nTheta = model.remats.reduce((s, r) => s + (r.q * (r.q + 1)) / 2, 0);
    this.nEta = res.nPar;
    this.rptr = pat.rptr;
    this.rep = pat.rep;
    this.count = pat.count;
    this.gptrP = pat.gptrP;
    this.gsz = pat.gsz;
    this.nPatterns = pat.count.length;
    this.work = work;
    this.setupWork = setupWork;
    const np = this.nPatterns, w = this.w;
    this.moff = new Int32Array(np + 1);
    this.coff = new Float64Array(np + 1);
    let maxM = 0;
    for (let P = 0; P < np; P++) {
      const m = this.rptr[P + 1] - this.rptr[P];
      maxM = Math.max(maxM, m);
      this.moff[P + 1] = this.moff[P] + m * m;
      this.coff[P + 1] = this.coff[P] + m * w * m * w;
    }
    // The variance functions on the representative rows only (their inputs are what keyed them).
    this.vars = res.vars.map((v) => v.restrict(this.rep));
    const wt = design.weights;
    this.wsd = wt ? Float64Array.from(this.rep, (r) => 1 / Math.sqrt(wt[r])) : null;
    const nr = this.rep.length;
    this.sd = new Float64Array(nr);
    this.qv = new Float64Array(nr);
    const mm = this.moff[np];
    this.Wbuf = new Float64Array(mm);
    this.Rbuf = new Float64Array(mm);
    this.Mbuf = new Float64Array(mm);
    this.V = new Float64Array(maxM * maxM);
    this.T1 = new Float64Array(maxM * maxM);
    this.Cg = new Float64Array(maxM * maxM);
    this.lagR = new Float64Array(maxM);
    this.zu = new Float64Array(maxM * Math.max(1, ...model.remats.map((r) => r.q)));
    this.lambdas = model.remats.map((r) => new Float64Array(r.q * r.q));
    this.Us = model.remats.map((r) => new Float64Array(r.q * r.q));
    this.aOf = Int32Array.from({ length: maxM * w }, (_, f) => Math.floor(f / w));
    this.iOf = Int32Array.from({ length: maxM * w }, (_, f) => f % w);
  }

  /**
   * The pooled evaluator when the blocks share few enough patterns that an evaluation is GAIN
   * times cheaper than the per-block path's (or that path is out of reach), else null.
   */
  static build(prep: PreparedModel, res: ResidualModel, blocks: RowBlocks, force = false): PooledBlocks | null {
    const { bptr, bgrp, gptr, grows } = blocks;
    if (blocks.maxM > MAX_M) return null;
    const nb = bptr.length - 1;
    const remats = prep.model.remats;
    const lay = res.layout;
    // What each row shows the covariance model: its position (the structure reads occasion,
    // time or coordinates, all functions of these), the variance functions' inputs, its prior
    // weight, and its random-effect rows.
    const cols: { v: ArrayLike<number>; width: number }[] = [];
    if (res.structure) {
      if (lay.coords) cols.push({ v: lay.coords, width: lay.dims });
      else if (lay.time) cols.push({ v: lay.time, width: 1 });
    }
    for (const f of res.vars) for (const c of f.inputs) cols.push({ v: c, width: 1 });
    if (prep.design.weights) cols.push({ v: prep.design.weights, width: 1 });
    for (const r of remats) cols.push({ v: r.z, width: r.q });
    const perRow = cols.reduce((s, c) => s + c.width, 0) + remats.length;
    const sig = new Float64Array(1 + blocks.maxM * (perRow + 1));
    const rows = new Int32Array(blocks.maxM);
    const bits = new Float64Array(1), u32 = new Uint32Array(bits.buffer);
    // The signature of block b into sig (its length returned): sizes of its groups, then per row
    // the columns above and, per term, the block position of the first row at the same level.
    const signature = (b: number): number => {
      let L = 0, m = 0;
      sig[L++] = bptr[b + 1] - bptr[b];
      for (let e = bptr[b]; e < bptr[b + 1]; e++) {
        const g = bgrp[e];
        sig[L++] = gptr[g + 1] - gptr[g];
        for (let k = gptr[g]; k < gptr[g + 1]; k++) rows[m++] = grows[k];
      }
      for (let a = 0; a < m; a++) {
        const r = rows[a];
        for (const c of cols) for (let j = 0; j < c.width; j++) sig[L++] = c.v[r * c.width + j];
        for (const t of remats) {
          let first = a;
          for (let c = 0; c < a; c++) if (t.refs[rows[c]] === t.refs[r]) {
            first = c;
            break;
          }
          sig[L++] = first;
        }
      }
      return L;
    };
    const hashOf = (L: number): number => {
      let h = 2166136261;
      for (let i = 0; i < L; i++) {
        bits[0] = sig[i] === 0 ? 0 : sig[i];
        h = Math.imul(h ^ u32[0], 16777619);
        h = Math.imul(h ^ u32[1], 16777619);
      }
      return h >>> 0;
    };
    const byHash = new Map<number, number[]>();
    const sigs: Float64Array[] = [];
    const first: number[] = [];
    const patOf = new Int32Array(nb);
    let cells = 0;
    for (let b = 0; b < nb; b++) {
      const L = signature(b);
      const h = hashOf(L);
      let list = byHash.get(h);
      if (!list) byHash.set(h, (list = []));
      let P = -1;
      for (const c of list) {
        const s = sigs[c];
        if (s.length !== L) continue;
        let same = true;
        for (let i = 0; i < L && same; i++) same = s[i] === sig[i];
        if (same) {
          P = c;
          break;
        }
      }
      if (P < 0) {
        P = sigs.length;
        sigs.push(sig.slice(0, L));
        first.push(b);
        list.push(P);
        let m = 0;
        for (let e = bptr[b]; e < bptr[b + 1]; e++) m += gptr[bgrp[e] + 1] - gptr[bgrp[e]];
        cells += (m * (prep.basis.map.p + 1)) ** 2 + 3 * m * m;
        if (cells > MAX_CELLS) return null;
      }
      patOf[b] = P;
    }
    const np = sigs.length;
    const w = prep.basis.map.p + 1;
    const rptr = new Int32Array(np + 1), gptrP = new Int32Array(np + 1), count = new Float64Array(np);
    for (let b = 0; b < nb; b++) count[patOf[b]]++;
    const repList: number[] = [], gszList: number[] = [];
    let work = 0, setupWork = 0;
    for (let P = 0; P < np; P++) {
      const b = first[P];
      for (let e = bptr[b]; e < bptr[b + 1]; e++) {
        const g = bgrp[e];
        gszList.push(gptr[g + 1] - gptr[g]);
        for (let k = gptr[g]; k < gptr[g + 1]; k++) repList.push(grows[k]);
      }
      rptr[P + 1] = repList.length;
      gptrP[P + 1] = gszList.length;
      const m = rptr[P + 1] - rptr[P];
      work += m * m * (3 * m + w * w);
      setupWork += (count[P] * (m * w) ** 2) / 2;
    }
    // Against the per-block path: its factorization and gradient, about 3 m^2 (m + p) per block.
    if (!force && GAIN * work > 3 * blocks.work && blocks.work <= 3e8) return null;
    const pat = { rptr, rep: Int32Array.from(repList), count, gptrP, gsz: Int32Array.from(gszList) };
    return new PooledBlocks(prep, res, blocks, patOf, pat, work, setupWork);
  }

  /** Estimated ms of one evaluation with its gradient over k parameters (cost.ts's units). */
  evalMs(k: number): number {
    return 0.02 + 6e-6 * this.work * (1 + 0.05 * k) + 6e-4 * this.rep.length;
  }

  /** Estimated ms of the one pass that forms the pooled cross-products. */
  setupMs(): number {
    return 2e-6 * this.setupWork + 2e-4 * this.n;
  }

  /** See DenseBlocks.reset: the structure keeps its parameters as state. */
  reset(eta: Float64Array): void {
    this.res.structure?.set(eta.subarray(0, this.res.layout.nCorr));
  }

  /**
   * The Gram matrix of each pattern: with its blocks' rows z (m rows of w = p + 1) flattened to
   * one vector of K = m w values, C_P = sum over the blocks of zflat zflat' (lower triangle,
   * K x K), so C_P[a, b]'s entry (i, j) is at (a w + i, b w + j). Blocks are gathered a chunk at
   * a time into columns (one per flattened entry) and the columns' dot products taken by the SIMD
   * tile kernel (linalg/simd.ts) where it runs; one pass over the rows.
   */
  private crossProducts(): Float64Array {
    const { bptr, bgrp, gptr, grows } = this.blocks;
    const { p, w, coff, rptr, patOf } = this;
    const np = this.nPatterns, nb = bptr.length - 1;
    const X = this.prep.basis.X, y = this.prep.basis.y;
    const C = new Float64Array(coff[np]);
    // Blocks of each pattern (counting sort).
    const bstart = new Int32Array(np + 1);
    for (let b = 0; b < nb; b++) bstart[patOf[b] + 1]++;
    for (let P = 0; P < np; P++) bstart[P + 1] += bstart[P];
    const at = bstart.slice(0, np), order = new Int32Array(nb);
    for (let b = 0; b < nb; b++) order[at[patOf[b]]++] = b;
    let maxK = 0, maxCount = 0;
    for (let P = 0; P < np; P++) {
      maxK = Math.max(maxK, (rptr[P + 1] - rptr[P]) * w);
      maxCount = Math.max(maxCount, bstart[P + 1] - bstart[P]);
    }
    const Kp = Math.ceil(maxK / 4) * 4;
    const CH = Math.min(CHUNK, Math.ceil(maxCount / 2) * 2);
    const [Z] = arena([Kp * CH]);
    const kern = kernelFor(Z);
    for (let P = 0; P < np; P++) {
      const m = rptr[P + 1] - rptr[P], K = m * w, o = coff[P];
      for (let s0 = bstart[P]; s0 < bstart[P + 1]; s0 += CH) {
        const cnt = Math.min(CH, bstart[P + 1] - s0);
        for (let i = 0; i < cnt; i++) {
          const b = order[s0 + i];
          let f = 0;
          for (let e = bptr[b]; e < bptr[b + 1]; e++) {
            const g = bgrp[e];
            for (let k = gptr[g]; k < gptr[g + 1]; k++) {
              const r = grows[k];
              for (let j = 0; j < p; j++) Z[(f + j) * CH + i] = X[r * p + j];
              Z[(f + p) * CH + i] = y[r];
              f += w;
            }
          }
        }
        const len = Math.ceil(cnt / 2) * 2;
        if (len > cnt) for (let f = 0; f < K; f++) Z[f * CH + cnt] = 0;
        if (kern) {
          // 4 x 2 tiles over the lower triangle; sums of the padding columns are dropped.
          const base = Z.byteOffset, stride = CH * 8, out = kern.out;
          for (let f0 = 0; f0 < K; f0 += 4) {
            const p0 = base + f0 * stride;
            for (let g0 = 0; g0 <= f0 + 3 && g0 < K; g0 += 2) {
              const q0 = base + g0 * stride;
              kern.tile(p0, p0 + stride, p0 + 2 * stride, p0 + 3 * stride, q0, q0 + stride, len * 8, kern.outByte);
              for (let r = 0; r < 4; r++) {
                const f = f0 + r;
                if (f >= K) break;
                for (let c = 0; c < 2; c++) {
                  const g = g0 + c;
                  if (g <= f) C[o + f * K + g] += out[r * 2 + c];
                }
              }
            }
          }
        } else {
          for (let f = 0; f < K; f++) for (let g = 0; g <= f; g++) {
            let s = 0;
            for (let i = 0; i < cnt; i++) s += Z[f * CH + i] * Z[g * CH + i];
            C[o + f * K + g] += s;
          }
        }
      }
    }
    return C;
  }

  /** SD ratios of the representative rows for eta; false if not finite and positive. */
  private setSd(eta: Float64Array): boolean {
    const sd = this.sd;
    sd.fill(1);
    let off = this.res.layout.nCorr;
    for (const v of this.vars) {
      v.apply(eta.subarray(off, off + v.nPar), sd);
      off += v.nPar;
    }
    if (this.wsd) for (let i = 0; i < sd.length; i++) sd[i] *= this.wsd[i];
    for (let i = 0; i < sd.length; i++) if (!(sd[i] > 0 && sd[i] < Infinity)) return false;
    return true;
  }

  /** Correlation (lower triangle, m x m) of rep[o .. o+m), one residual group, as the structure is set. */
  private fillRows(o: number, m: number, out: Float64Array): void {
    fillCorrelation(this.res.structure!, this.rep, o, m, out, this.lagR, this.lc);
  }

  /** R_P (full, into Rbuf) and V_P factored (lower, into V); log|V_P|, or NaN if not positive definite. */
  private factorPattern(P: number): number {
    const o0 = this.rptr[P], m = this.rptr[P + 1] - o0;
    const { sd, V, rep } = this;
    const st = this.res.structure;
    const R = this.Rbuf.subarray(this.moff[P], this.moff[P] + m * m);
    R.fill(0);
    let pos = 0;
    for (let e = this.gptrP[P]; e < this.gptrP[P + 1]; e++) {
      const mg = this.gsz[e];
      if (st && mg > 1) {
        const Cg = this.Cg;
        this.fillRows(o0 + pos, mg, Cg);
        for (let a = 0; a < mg; a++) {
          const sa = sd[o0 + pos + a];
          for (let c = 0; c <= a; c++) {
            const v = sa * sd[o0 + pos + c] * Cg[a * mg + c];
            R[(pos + a) * m + pos + c] = v;
            R[(pos + c) * m + pos + a] = v;
          }
        }
      } else for (let a = 0; a < mg; a++) R[(pos + a) * m + pos + a] = sd[o0 + pos + a] ** 2;
      pos += mg;
    }
    for (let i = 0; i < m * m; i++) V[i] = R[i];
    const remats = this.prep.model.remats;
    for (let t = 0; t < remats.length; t++) {
      const rt = remats[t], q = rt.q, L = this.lambdas[t], z = rt.z, refs = rt.refs, u = this.zu;
      for (let a = 0; a < m; a++) {
        const ra = rep[o0 + a];
        for (let j = 0; j < q; j++) {
          let s = 0;
          for (let i = j; i < q; i++) s += L[i * q + j] * z[ra * q + i];
          u[a * q + j] = s;
        }
      }
      for (let a = 0; a < m; a++) {
        const la = refs[rep[o0 + a]];
        for (let c = 0; c <= a; c++) {
          if (refs[rep[o0 + c]] !== la) continue;
          let s = 0;
          for (let j = 0; j < q; j++) s += u[a * q + j] * u[c * q + j];
          V[a * m + c] += s;
        }
      }
    }
    let ld = 0;
    for (let a = 0; a < m; a++) {
      for (let c = 0; c <= a; c++) {
        let s = V[a * m + c];
        for (let k = 0; k < c; k++) s -= V[a * m + k] * V[c * m + k];
        if (a === c) {
          if (!(s > 0)) return NaN;
          V[a * m + a] = Math.sqrt(s);
          ld += Math.log(s);
        } else V[a * m + c] = s / V[c * m + c];
      }
    }
    // W = V^-1 (full) into Wbuf: L^-1 into T1 (lower), then L^-T L^-1.
    const Li = this.T1, W = this.Wbuf.subarray(this.moff[P], this.moff[P] + m * m);
    for (let c = 0; c < m; c++) {
      for (let a = c; a < m; a++) {
        let s = a === c ? 1 : 0;
        for (let k = c; k < a; k++) s -= V[a * m + k] * Li[k * m + c];
        Li[a * m + c] = s / V[a * m + a];
      }
    }
    for (let a = 0; a < m; a++) {
      for (let c = 0; c <= a; c++) {
        let s = 0;
        for (let k = a; k < m; k++) s += Li[k * m + a] * Li[k * m + c];
        W[a * m + c] = s;
        W[c * m + a] = s;
      }
    }
    return ld;
  }

  /** As DenseBlocks.evaluate (same objective, same gradient, same sigma variant). */
  evaluate(x: Float64Array, reml: boolean, grad?: Float64Array, sigma?: number): number {
    if (!this.C) this.C = this.crossProducts();
    const eta = x.subarray(this.nTheta);
    const res = this.res, st = res.structure;
    if (!this.setSd(eta)) return Infinity;
    if (st && !st.set(eta.subarray(0, res.layout.nCorr))) return Infinity;
    this.prep.model.remats.forEach((r, t) => fillTemplate(x, r.thetaOffset, r.q, this.lambdas[t]));
    const { p, w, n, C, coff, moff } = this;
    const np = this.nPatterns, ww = w * w;
    // S = sum_P sum_ab W_ab C_P[a, b] = [X y]' V^-1 [X y] (full w x w).
    const S = new Float64Array(ww);
    let logdet = 0;
    for (let P = 0; P < np; P++) {
      const ld = this.factorPattern(P);
      if (!Number.isFinite(ld)) return Infinity;
      logdet += this.count[P] * ld;
      const m = this.rptr[P + 1] - this.rptr[P], W = this.Wbuf, wo = moff[P], K = m * w, o = coff[P];
      // Entry (f, g) of C_P is block pair (a, c) = (f / w, g / w), columns (i, j) = (f % w, g % w);
      // with its mirror (g, f) it adds W_ac C to S_ij and S_ji.
      for (let f = 0; f < K; f++) {
        const a = this.aOf[f], i = this.iOf[f], row = o + f * K, wrow = wo + a * m;
        for (let g = 0; g < f; g++) {
          const v = W[wrow + this.aOf[g]] * C![row + g], j = this.iOf[g];
          S[i * w + j] += v;
          S[j * w + i] += v;
        }
        S[i * w + i] += W[wrow + a] * C![row + f];
      }
    }
    // G = (X'V^-1X)^-1 through its Cholesky factor (lower, in XtX); beta; RSS.
    const XtX = new Float64Array(p * p), Xty = new Float64Array(p);
    for (let i = 0; i < p; i++) {
      Xty[i] = S[i * w + p];
      for (let j = 0; j <= i; j++) XtX[i * p + j] = S[i * w + j];
    }
    let ldX = 0;
    for (let i = 0; i < p; i++) {
      for (let j = 0; j <= i; j++) {
        let s = XtX[i * p + j];
        for (let k = 0; k < j; k++) s -= XtX[i * p + k] * XtX[j * p + k];
        if (i === j) {
          if (!(s > 0)) return Infinity;
          XtX[i * p + i] = Math.sqrt(s);
          ldX += Math.log(s);
        } else XtX[i * p + j] = s / XtX[j * p + j];
      }
    }
    const wv = Float64Array.from(Xty);
    for (let i = 0; i < p; i++) {
      let s = wv[i];
      for (let k = 0; k < i; k++) s -= XtX[i * p + k] * wv[k];
      wv[i] = s / XtX[i * p + i];
    }
    let rss = S[p * w + p];
    for (let i = 0; i < p; i++) rss -= wv[i] * wv[i];
    if (!(rss > 0)) return Infinity;
    this.lastRss = rss;
    const d = reml ? n - p : n;
    const s2 = sigma === undefined ? 0 : sigma * sigma;
    const f = sigma === undefined ? logdet + (reml ? ldX : 0) + d * Math.log(rss) : logdet + (reml ? ldX : 0) + d * Math.log(s2) + rss / s2;
    if (!grad) return f;
    const beta = Float64Array.from(wv);
    for (let i = p - 1; i >= 0; i--) {
      let s = beta[i];
      for (let k = i + 1; k < p; k++) s -= XtX[k * p + i] * beta[k];
      beta[i] = s / XtX[i * p + i];
    }
    // G = L^-T L^-1 (full p x p).
    const Linv = new Float64Array(p * p);
    for (let c = 0; c < p; c++) {
      for (let a = c; a < p; a++) {
        let s = a === c ? 1 : 0;
        for (let k = c; k < a; k++) s -= XtX[a * p + k] * Linv[k * p + c];
        Linv[a * p + c] = s / XtX[a * p + a];
      }
    }
    const G = new Float64Array(p * p);
    for (let i = 0; i < p; i++) for (let j = 0; j <= i; j++) {
      let s = 0;
      for (let k = i; k < p; k++) s += Linv[k * p + i] * Linv[k * p + j];
      G[i * p + j] = G[j * p + i] = s;
    }
    this.gradient(x, reml, beta, G, sigma === undefined ? d / rss : 1 / s2, grad);
    if (sigma !== undefined) grad[x.length] = (2 * d) / sigma - (2 * rss) / (s2 * sigma);
    return f;
  }

  /** M_P per pattern, then its contractions with dV_P (as DenseBlocks.gradient, over patterns). */
  private gradient(x: Float64Array, reml: boolean, beta: Float64Array, G: Float64Array, cres: number, grad: Float64Array): void {
    grad.fill(0, 0, x.length);
    const { p, w, C, coff, moff, rep, qv, sd } = this;
    const np = this.nPatterns;
    const remats = this.prep.model.remats;
    const u = new Float64Array(w);
    for (let i = 0; i < p; i++) u[i] = -beta[i];
    u[p] = 1;
    const Q = new Float64Array(w * w);
    for (let i = 0; i < w; i++) for (let j = 0; j < w; j++) Q[i * w + j] = (reml && i < p && j < p ? G[i * p + j] : 0) + cres * u[i] * u[j];
    for (const U of this.Us) U.fill(0);
    const H = this.V, T1 = this.T1;
    for (let P = 0; P < np; P++) {
      const o0 = this.rptr[P], m = this.rptr[P + 1] - o0, mo = moff[P];
      const W = this.Wbuf.subarray(mo, mo + m * m), R = this.Rbuf.subarray(mo, mo + m * m), M = this.Mbuf.subarray(mo, mo + m * m);
      // H = [REML] A + c B = sum_ij Q_ij C_P[a, c]_ij with Q = [REML] G + c u u' (symmetric).
      const K = m * w, o = coff[P];
      H.fill(0, 0, m * m);
      for (let f = 0; f < K; f++) {
        const a = this.aOf[f], i = this.iOf[f], row = o + f * K;
        for (let g = 0; g <= f; g++) {
          const c = this.aOf[g], v = Q[i * w + this.iOf[g]] * C![row + g];
          H[a * m + c] += v;
          if (g !== f) H[c * m + a] += v;
        }
      }
      // M = count W - W H W.
      for (let a = 0; a < m; a++) for (let c = 0; c < m; c++) {
        let s = 0;
        for (let k = 0; k < m; k++) s += H[a * m + k] * W[k * m + c];
        T1[a * m + c] = s;
      }
      const cnt = this.count[P];
      for (let a = 0; a < m; a++) for (let c = 0; c <= a; c++) {
        let s = 0;
        for (let k = 0; k < m; k++) s += W[a * m + k] * T1[k * m + c];
        M[a * m + c] = M[c * m + a] = cnt * W[a * m + c] - s;
      }
      // Variance functions: q_a = 2 sum_b M_ab R_ab.
      for (let a = 0; a < m; a++) {
        let s = 0;
        for (let c = 0; c < m; c++) s += M[a * m + c] * R[a * m + c];
        qv[o0 + a] = 2 * s;
      }
      // theta: U_t = sum over same-level pairs of z_a M_ab z_b'.
      addSameLevelPairs(remats, this.Us, rep, o0, m, M);
    }
    thetaGradient(remats, this.lambdas, this.Us, grad);
    const eta = x.subarray(this.nTheta);
    const lay = this.res.layout;
    let off = lay.nCorr;
    const tmp = new Float64Array(qv.length);
    for (const v of this.vars) {
      const e = Float64Array.from(eta.subarray(off, off + v.nPar));
      const out = grad.subarray(this.nTheta + off, this.nTheta + off + v.nPar);
      if (v.gradLog) v.gradLog(e, qv, out);
      else {
        for (let j = 0; j < v.nPar; j++) {
          const h = FD * Math.max(1, Math.abs(e[j])), e0 = e[j];
          let s = 0;
          for (const sgn of [1, -1]) {
            e[j] = e0 + sgn * h;
            tmp.fill(1);
            v.apply(e, tmp);
            for (let i = 0; i < qv.length; i++) s += sgn * qv[i] * Math.log(tmp[i]);
          }
          e[j] = e0;
          out[j] = s / (2 * h);
        }
      }
      off += v.nPar;
    }
    // Correlation: 2 sum_(a > b, same group) M_ab s_a s_b dC_ab: summed per pair of occasions
    // for a structure with an analytic contraction, else by central differences of its entries.
    const st = this.res.structure;
    if (st && st.kind === "dense" && st.contractByOccasion && lay.occasion) {
      const no = lay.nOcc, occ = lay.occasion, Pocc = new Float64Array(no * no);
      this.forPairs((a, b, v) => (Pocc[occ[rep[a]] * no + occ[rep[b]]] += v));
      st.contractByOccasion(Pocc, grad.subarray(this.nTheta, this.nTheta + lay.nCorr));
      for (let j = 0; j < lay.nCorr; j++) grad[this.nTheta + j] *= 2;
    } else if (st) {
      const nc = lay.nCorr, ec = Float64Array.from(eta.subarray(0, nc)), Cg = this.Cg;
      const contract = (): number => {
        let s = 0;
        for (let P = 0; P < np; P++) {
          const o0 = this.rptr[P], m = this.rptr[P + 1] - o0, M = this.Mbuf, mo = moff[P];
          let pos = 0;
          for (let e = this.gptrP[P]; e < this.gptrP[P + 1]; e++) {
            const mg = this.gsz[e];
            if (mg > 1) {
              this.fillRows(o0 + pos, mg, Cg);
              for (let a = 1; a < mg; a++) {
                const sa = sd[o0 + pos + a];
                for (let c = 0; c < a; c++) s += M[mo + (pos + a) * m + pos + c] * sa * sd[o0 + pos + c] * Cg[a * mg + c];
              }
            }
            pos += mg;
          }
        }
        return 2 * s;
      };
      for (let j = 0; j < nc; j++) {
        const h = FD * Math.max(1, Math.abs(ec[j])), e0 = ec[j];
        ec[j] = e0 + h;
        const fp = st.set(ec) ? contract() : NaN;
        ec[j] = e0 - h;
        const fm = st.set(ec) ? contract() : NaN;
        ec[j] = e0;
        grad[this.nTheta + j] = (fp - fm) / (2 * h);
      }
      st.set(ec);
    }
  }

  /** Calls f(a, b, M_ab s_a s_b) for each pair of representative rows a > b of one residual group. */
  private forPairs(f: (a: number, b: number, v: number) => void): void {
    const { moff, sd } = this;
    for (let P = 0; P < this.nPatterns; P++) {
      const o0 = this.rptr[P], m = this.rptr[P + 1] - o0, M = this.Mbuf, mo = moff[P];
      let pos = 0;
      for (let e = this.gptrP[P]; e < this.gptrP[P + 1]; e++) {
        const mg = this.gsz[e];
        for (let a = 1; a < mg; a++) {
          const ra = o0 + pos + a;
          for (let c = 0; c < a; c++) f(ra, o0 + pos + c, M[mo + (pos + a) * m + pos + c] * sd[ra] * sd[o0 + pos + c]);
        }
        pos += mg;
      }
    }
  }
}
