// The blocked cross-product matrix A = [Z'Z, Z'X~; X~'Z, X~'X~] (X~ = [X y]) and its blocked
// Cholesky factor L of [Λ'Z'ZΛ + I, Λ'Z'X~; X~'ZΛ, X~'X~] (ARCHITECTURE.md §3, MixedModels.jl's
// A/L). A is formed in one pass over the rows; every objective evaluation then touches only the
// blocks, never the rows.
//
// Block layout. Random-effects terms (ReMats, sorted by decreasing levels) split into
//  - a nesting chain 0..m-1: each term's factor is nested in the next one's. Their diagonal
//    blocks stay block diagonal (one q x q block per level, no fill-in), and the block below a
//    chain term has one q_i x q_j block per column level (the level's parent).
//  - the dense rest D (terms m..k-1, e.g. the second of two crossed factors): one dense QD x QD
//    block. The block of D rows under chain term j is sparse: per level of j, the D rows that
//    co-occur with it (plus the fill from its children), each row holding q_j values.
//  - the fixed block F = [X y]: dense pp x pp, pp = p + 1; its last diagonal of L is sqrt(r^2).
import { cholLower, logDiagSum, rdivLowerT, subtractGram } from "../linalg/dense";
import { ReMat, fillTerm } from "./remat";
import { DataError } from "../errors";
import { arena } from "../linalg/simd";
import { BLOCK_ROWS, cholBlocked } from "../linalg/chol-blocked";
import { helper } from "../linalg/threads";
import { TailPieces, TailWork, minimizeTail, symmetricEigen } from "./tail-profile";
import type { ProfiledParameter } from "./optimize";
import { LevelClasses, downdateByClass, levelClasses } from "./level-classes";
import { accumulateOneTerm, factorLevelsQ2 } from "./one-term";
import { CrossedClasses, classWeights, crossedClasses, denseByClasses, fixedByClasses } from "./crossed-classes";
import { addGram } from "../linalg/gram";
import type { FixedMap } from "./fixed-basis";

/** Dense blocks from this size are shared with a second thread where there is one (threads.ts). */
const THREAD_MIN = 384;

/** Most levels of a last dense term that is profiled out of the search (tail-profile.ts). */
const TAIL_MAX = 64;

/** Largest dense block (crossed factors) we accept: QD^2 doubles must fit comfortably in memory. */
const MAX_DENSE = 8000;

interface Csr {
  ptr: Int32Array;
  idx: Int32Array;
}

/** Rows grouped by level (counting sort). */
function bucket(refs: Int32Array, ell: number): Csr {
  const ptr = new Int32Array(ell + 1);
  for (let r = 0; r < refs.length; r++) ptr[refs[r] + 1]++;
  for (let c = 0; c < ell; c++) ptr[c + 1] += ptr[c];
  const fill = ptr.slice(0, ell);
  const idx = new Int32Array(refs.length);
  for (let r = 0; r < refs.length; r++) idx[fill[refs[r]]++] = r;
  return { ptr, idx };
}

/** Parent level in `outer` of each level of `inner`, or null if `inner` is not nested in `outer`. */
function parentMap(inner: ReMat, outer: ReMat): Int32Array | null {
  const par = new Int32Array(inner.ell).fill(-1);
  for (let r = 0; r < inner.refs.length; r++) {
    const c = inner.refs[r], o = outer.refs[r];
    if (par[c] === -1) par[c] = o;
    else if (par[c] !== o) return null;
  }
  return par;
}

/** Inverse of a parent map: for each outer level, its inner levels. */
function childrenOf(par: Int32Array, ellOuter: number): Csr {
  return bucket(par, ellOuter);
}

/** Pattern entries grouped by D row (ascending e within a row), with each entry's level. */
function transposePattern(pat: Csr, rows: number): { ptr: Int32Array; idx: Int32Array; lev: Int32Array } {
  const nnz = pat.idx.length;
  const level = new Int32Array(nnz);
  for (let c = 0; c + 1 < pat.ptr.length; c++) for (let e = pat.ptr[c]; e < pat.ptr[c + 1]; e++) level[e] = c;
  const t = bucket(pat.idx, rows);
  const lev = new Int32Array(nnz);
  for (let x = 0; x < nnz; x++) lev[x] = level[t.idx[x]];
  return { ptr: t.ptr, idx: t.idx, lev };
}

export class BlockedModel {
  readonly n: number;
  readonly p: number;
  readonly pp: number;
  readonly k: number;
  /** Length of the nesting chain. */
  readonly m: number;
  readonly QD: number;
  /** Offset of dense term t (t >= m) in D; -1 for chain terms. */
  readonly dOff: Int32Array;
  /** For each scalar D row: its term and the first row of its block. */
  readonly dTerm: Int32Array;
  readonly dBlk: Int32Array;

  // Chain structure.
  /** parent[i][j] (i > j, both chain): level of term i containing each level of term j. */
  readonly parent: Int32Array[][] = [];
  /** children[j][h] (h < j): levels of h under each level of j. */
  readonly children: Csr[][] = [];
  /** D pattern of chain term j: per level, sorted scalar D rows. */
  readonly dPat: Csr[] = [];
  /** The same patterns by D row: for each row, its pattern entries e and their levels. */
  private readonly dByRow: { ptr: Int32Array; idx: Int32Array; lev: Int32Array }[] = [];
  private readonly rowsBy: Csr[] = [];

  // A blocks (cross-products), then L blocks of the same shapes.
  readonly Ajj: Float64Array[] = [];
  readonly Aij: Float64Array[][] = [];
  readonly ADj: Float64Array[] = [];
  readonly AFj: Float64Array[] = [];
  readonly ADD: Float64Array;
  readonly AFD: Float64Array;
  readonly AFF: Float64Array;
  readonly Ljj: Float64Array[] = [];
  readonly Lij: Float64Array[][] = [];
  readonly LDj: Float64Array[] = [];
  readonly LFj: Float64Array[] = [];
  readonly LDD: Float64Array;
  readonly LFD: Float64Array;
  readonly LFF: Float64Array;
  /** L_FD and zero rows after it (a whole number of 4-row tiles, for the solve in finish). */
  private readonly LFDx: Float64Array;
  /** L_FD transposed, scratch for its update in denseBlocks. */
  private readonly LFDt: Float64Array;

  /** Templates T_t for the current theta (q x q each). */
  readonly T: Float64Array[];
  /** log|L_theta|^2 and the pieces of the last evaluation. */
  ldL2 = 0;
  ldRX2 = 0;
  pwrss = 0;
  /**
   * When X and y entered in the working basis of fixed-basis.ts: the map back to the original
   * coefficients. ldRX2 is then reported for the original X (R's REML term), so every consumer
   * of the objective sees R's definition.
   */
  fixedMap: FixedMap | null = null;

  private readonly scratchD: Float64Array;
  /** All dense terms are scalar (q = 1); then tD holds each D row's template value. */
  private readonly scalarD: boolean;
  private readonly tD: Float64Array;
  private readonly tmp: Float64Array;
  /** One-term models: levels grouped by equal Z_c'Z_c, when that saves work (level-classes.ts). */
  private classes: LevelClasses | null = null;
  /** Crossed scalar terms: the first factor's levels grouped by Z_c'Z_c (crossed-classes.ts). */
  private crossed: CrossedClasses | null = null;
  /** Buffers of the tail profile (tailPieces), made on first use. */
  private tailWork: TailWork | null = null;
  /** theta of the last successful factor() while A and L are unchanged since; else null. */
  private fullAt: Float64Array | null = null;
  private wClass = new Float64Array(0);
  /** How many classes evaluate() factors per call (0: it factors level by level). */
  get levelClassCount(): number {
    return this.classes ? this.classes.count : this.crossed ? this.crossed.count : 0;
  }

  /**
   * `chainLimit`: at most this many leading terms may join the nesting chain (a residual
   * structure puts the terms that vary within its groups last and keeps them in the dense block,
   * where whitening couples their levels; see whiten.ts).
   */
  constructor(readonly remats: ReMat[], X: Float64Array, y: Float64Array, p: number, chainLimit = Infinity) {
    const n = y.length;
    this.n = n;
    this.p = p;
    this.pp = p + 1;
    this.k = remats.length;
    // The nesting chain: term t joins while term t-1 is nested in it.
    const chainMax = Math.min(this.k, chainLimit);
    let m = chainMax > 0 ? 1 : 0;
    const pars: (Int32Array | null)[] = [];
    while (m < chainMax) {
      const par = parentMap(remats[m - 1], remats[m]);
      if (!par) break;
      pars.push(par);
      m++;
    }
    this.m = m;
    for (let i = 0; i < m; i++) {
      this.parent.push([]);
      for (let j = 0; j < i; j++) {
        // Compose parent maps along the chain: j -> j+1 -> ... -> i.
        let map = pars[j]!;
        for (let s = j + 1; s < i; s++) {
          const next = pars[s]!;
          map = map.map((c) => next[c]);
        }
        this.parent[i].push(map);
      }
    }
    for (let j = 0; j < m; j++) {
      this.children.push([]);
      for (let h = 0; h < j; h++) this.children[j].push(childrenOf(this.parent[j][h], remats[j].ell));
    }
    // Dense part.
    this.dOff = new Int32Array(this.k).fill(-1);
    let QD = 0;
    for (let t = m; t < this.k; t++) {
      this.dOff[t] = QD;
      QD += remats[t].ell * remats[t].q;
    }
    if (QD > MAX_DENSE) {
      throw new DataError(`the crossed random effects need a dense block of ${QD} levels (at most ${MAX_DENSE}); the factor with the most levels is already eliminated first, so reduce the number of levels of the other crossed factors`);
    }
    this.QD = QD;
    this.dTerm = new Int32Array(QD);
    this.dBlk = new Int32Array(QD);
    for (let t = m; t < this.k; t++) {
      const q = remats[t].q;
      for (let c = 0; c < remats[t].ell; c++) {
        for (let a = 0; a < q; a++) {
          const r = this.dOff[t] + c * q + a;
          this.dTerm[r] = t;
          this.dBlk[r] = this.dOff[t] + c * q;
        }
      }
    }
    if (QD > 0) {
      for (let j = 0; j < m; j++) this.rowsBy.push(bucket(remats[j].refs, remats[j].ell));
      this.buildDensePatterns();
    } else {
      for (let j = 0; j < m; j++) this.dPat.push({ ptr: new Int32Array(remats[j].ell + 1), idx: new Int32Array(0) });
    }
    for (const pat of this.dPat) this.dByRow.push(transposePattern(pat, QD));

    const pp = this.pp;
    for (let j = 0; j < m; j++) {
      const { ell, q } = remats[j];
      this.Ajj.push(new Float64Array(ell * q * q));
      this.Ljj.push(new Float64Array(ell * q * q));
      this.ADj.push(new Float64Array(this.dPat[j].idx.length * q));
      this.LDj.push(new Float64Array(this.dPat[j].idx.length * q));
      this.AFj.push(new Float64Array(ell * pp * q));
      this.LFj.push(new Float64Array(ell * pp * q));
    }
    for (let i = 0; i < m; i++) {
      this.Aij.push([]);
      this.Lij.push([]);
      for (let j = 0; j < i; j++) {
        const size = remats[j].ell * remats[i].q * remats[j].q;
        this.Aij[i].push(new Float64Array(size));
        this.Lij[i].push(new Float64Array(size));
      }
    }
    this.ADD = new Float64Array(QD * QD);
    // L_DD and L_FD where the SIMD kernel can read them (their solves are the O(QD^3) part).
    // In a shared memory where there is one, for the second thread of chol-blocked.ts.
    // L_FD gets zero rows up to a multiple of 4, so that its solve runs in the 4-row tiles too.
    const ppTiles = Math.ceil(pp / 4) * 4;
    [this.LDD, this.LFDx] = arena([QD * QD, ppTiles * QD], QD >= THREAD_MIN);
    this.LFD = this.LFDx.subarray(0, pp * QD);
    this.AFD = new Float64Array(pp * QD);
    this.LFDt = new Float64Array(pp * QD);
    this.AFF = new Float64Array(pp * pp);
    this.LFF = new Float64Array(pp * pp);
    this.T = remats.map((r) => new Float64Array(r.q * r.q));
    let qmax = 1;
    for (const r of remats) qmax = Math.max(qmax, r.q);
    this.scratchD = new Float64Array(Math.max(QD * qmax, 1));
    this.scalarD = remats.slice(m).every((r) => r.q === 1);
    this.tD = new Float64Array(QD);
    this.tmp = new Float64Array(Math.max(pp, qmax) * qmax * 2 + qmax * qmax);
    this.accumulate(X, y);
  }

  /** Sparsity of the D rows under each chain term: co-occurrence plus fill from its children. */
  private buildDensePatterns(): void {
    const { remats, m, QD } = this;
    const mark = new Int32Array(QD).fill(-1);
    for (let j = 0; j < m; j++) {
      const { ell } = remats[j];
      const rows = this.rowsBy[j];
      const ptr = new Int32Array(ell + 1);
      const lists: Int32Array[] = [];
      let total = 0;
      const buf: number[] = [];
      for (let c = 0; c < ell; c++) {
        buf.length = 0;
        const add = (r: number) => {
          if (mark[r] !== c) {
            mark[r] = c;
            buf.push(r);
          }
        };
        for (let e = rows.ptr[c]; e < rows.ptr[c + 1]; e++) {
          const row = rows.idx[e];
          for (let t = m; t < this.k; t++) {
            const q = remats[t].q;
            const base = this.dOff[t] + remats[t].refs[row] * q;
            for (let a = 0; a < q; a++) add(base + a);
          }
        }
        if (j > 0) {
          const ch = this.children[j][j - 1];
          const pat = this.dPat[j - 1];
          for (let e = ch.ptr[c]; e < ch.ptr[c + 1]; e++) {
            const cc = ch.idx[e];
            for (let f = pat.ptr[cc]; f < pat.ptr[cc + 1]; f++) add(pat.idx[f]);
          }
        }
        const list = Int32Array.from(buf).sort();
        lists.push(list);
        total += list.length;
        ptr[c + 1] = total;
      }
      const idx = new Int32Array(total);
      for (let c = 0; c < ell; c++) idx.set(lists[c], ptr[c]);
      this.dPat.push({ ptr, idx });
      // Reset marks for the next term (levels restart at 0).
      mark.fill(-1);
    }
  }

  /**
   * Term t's own per-level cross-products, as if it were the model's only random term: A_c = Z_c'Z_c
   * (ell x q x q) and A_Fc = [X y]'Z_c (ell x pp x q). Chain terms hand out their blocks; a dense
   * term's are copied out of A_DD's diagonal blocks and A_FD's columns. For starting values.
   */
  termBlocks(t: number): { A: Float64Array; AF: Float64Array } {
    if (t < this.m) return { A: this.Ajj[t], AF: this.AFj[t] };
    const { ell, q } = this.remats[t];
    const { pp, QD } = this, off = this.dOff[t];
    const A = new Float64Array(ell * q * q), AF = new Float64Array(ell * pp * q);
    for (let c = 0; c < ell; c++) {
      const base = off + c * q;
      for (let a = 0; a < q; a++) {
        for (let b = 0; b <= a; b++) A[c * q * q + a * q + b] = A[c * q * q + b * q + a] = this.ADD[(base + a) * QD + base + b];
        for (let f = 0; f < pp; f++) AF[c * pp * q + f * q + a] = this.AFD[f * QD + base + a];
      }
    }
    return { A, AF };
  }

  /**
   * A deterministic estimate of one evaluation's cost in milliseconds (multiply-adds at about
   * 1e9 per second), used to choose between exact and cheaper inference on large problems.
   * Measured times would make results depend on the machine's load; this depends on the problem.
   */
  estimatedMs(): number {
    const { remats, m, pp, QD } = this;
    const nfg = (pp * (pp + 1)) / 2;
    let fma = (pp * pp * pp) / 6;
    if (this.classes) {
      // factorObjective's cost; a full factor() (modes, BLUPs) is a fixed few per fit.
      const q = remats[0].q;
      return (fma + this.classes.count * (q * q * q + ((q * (q + 1)) / 2) * nfg)) / 1e6;
    }
    if (this.crossed) {
      fma += this.crossed.count * (QD * pp + nfg) + this.crossed.val.length;
    } else {
      for (let j = 0; j < m; j++) {
        const { ell, q } = remats[j];
        fma += ell * (q * q * q + pp * q * q + pp * pp * q);
        const pat = this.dPat[j];
        for (let c = 0; c < ell; c++) {
          const k = pat.ptr[c + 1] - pat.ptr[c];
          fma += k * (q * q + pp * q) + k * k * q;
        }
      }
    }
    // The dense block's Cholesky and L_FD's solve run in the 4 x 2 tile kernel (dense.ts, SIMD
    // where available): measured 1.3-5e9 multiply-adds per second at QD ~ 1000 under load, the
    // plain-JS tile about 0.6e9, against 1e9 / 4 for the scattered small-block work the rest of
    // this count (and cost.ts's factor of 4) describes. So those multiply-adds count a
    // twentieth (InstEval: 60 ms estimated per evaluation, 40-80 ms measured on 2 shared cores).
    const tiled = QD >= 64 ? 0.05 : 1;
    fma += tiled * ((QD * QD * QD) / 6 + (pp * QD * QD) / 2) + pp * pp * QD;
    return fma / 1e6;
  }

  /**
   * One pass over the rows: all cross-product blocks. Rerun with whitened copies of the values
   * (`zs[t]` in place of term t's z) for a residual structure; the levels never change.
   * `dense = false` leaves the blocks of the dense terms (A_DD, A_FD, A_Dj) at zero, for the
   * caller to fill (whiten.ts, when whitening spreads a term's values over several levels).
   */
  accumulate(X: Float64Array, y: Float64Array, zs: Float64Array[] = this.remats.map((r) => r.z), dense = true): void {
    const { remats, m, n, p, pp, QD } = this;
    this.fullAt = null;
    for (const a of this.Ajj) a.fill(0);
    for (const row of this.Aij) for (const a of row) a.fill(0);
    for (const a of this.ADj) a.fill(0);
    for (const a of this.AFj) a.fill(0);
    this.ADD.fill(0);
    this.AFD.fill(0);
    this.AFF.fill(0);
    addGram(X, p, y, n, this.AFF);
    if (this.k === 1 && m === 1) {
      accumulateOneTerm(remats[0], zs[0], X, y, p, this.Ajj[0], this.AFj[0]);
      this.classes = levelClasses(this.Ajj[0], this.AFj[0], remats[0].ell, remats[0].q, pp);
      return;
    }
    this.classes = null;
    this.crossed = null;
    // No random-effect terms (a GLS fit, whitened anew at each evaluation): X'X was all of it.
    if (this.k === 0) return;
    const xt = new Float64Array(pp);
    for (let r = 0; r < n; r++) {
      for (let f = 0; f < p; f++) xt[f] = X[r * p + f];
      xt[p] = y[r];
      for (let j = 0; j < m; j++) {
        const Rj = remats[j];
        const qj = Rj.q, c = Rj.refs[r], zo = r * qj;
        const zj = zs[j];
        const ajj = this.Ajj[j], ab = c * qj * qj;
        for (let a = 0; a < qj; a++) for (let b = 0; b < qj; b++) ajj[ab + a * qj + b] += zj[zo + a] * zj[zo + b];
        const afj = this.AFj[j], fb = c * pp * qj;
        for (let f = 0; f < pp; f++) {
          const v = xt[f];
          for (let b = 0; b < qj; b++) afj[fb + f * qj + b] += v * zj[zo + b];
        }
        for (let i = j + 1; i < m; i++) {
          const Ri = remats[i];
          const qi = Ri.q, zio = r * qi;
          const aij = this.Aij[i][j], ib = c * qi * qj;
          for (let a = 0; a < qi; a++) for (let b = 0; b < qj; b++) aij[ib + a * qj + b] += zs[i][zio + a] * zj[zo + b];
        }
      }
      for (let t = dense ? m : this.k; t < this.k; t++) {
        const Rt = remats[t];
        const qt = Rt.q, zo = r * qt, base = this.dOff[t] + Rt.refs[r] * qt;
        for (let u = m; u <= t; u++) {
          const Ru = remats[u];
          const qu = Ru.q, zuo = r * qu, ubase = this.dOff[u] + Ru.refs[r] * qu;
          for (let a = 0; a < qt; a++) {
            for (let b = 0; b < qu; b++) {
              const row = base + a, col = ubase + b;
              const v = zs[t][zo + a] * zs[u][zuo + b];
              if (col <= row) this.ADD[row * QD + col] += v;
              else if (u !== t) this.ADD[col * QD + row] += v;
            }
          }
        }
        for (let f = 0; f < pp; f++) {
          const v = xt[f];
          for (let a = 0; a < qt; a++) this.AFD[f * QD + base + a] += v * zs[t][zo + a];
        }
      }
    }
    if (!dense || QD === 0) return;
    // D rows under chain terms, level by level: mark each pattern row's slot, then add.
    const slot = new Int32Array(QD);
    for (let j = 0; j < m; j++) {
      const Rj = remats[j], qj = Rj.q;
      const pat = this.dPat[j], rows = this.rowsBy[j], adj = this.ADj[j];
      for (let c = 0; c < Rj.ell; c++) {
        for (let e = pat.ptr[c]; e < pat.ptr[c + 1]; e++) slot[pat.idx[e]] = e;
        for (let s = rows.ptr[c]; s < rows.ptr[c + 1]; s++) {
          const row = rows.idx[s];
          for (let t = m; t < this.k; t++) {
            const Rt = remats[t], qt = Rt.q;
            const base = this.dOff[t] + Rt.refs[row] * qt;
            for (let a = 0; a < qt; a++) {
              const e = slot[base + a];
              const v = zs[t][row * qt + a];
              for (let b = 0; b < qj; b++) adj[e * qj + b] += v * zs[j][row * qj + b];
            }
          }
        }
      }
    }
    if (m === 1 && remats[0].q === 1 && this.scalarD) {
      this.crossed = crossedClasses(this.Ajj[0], this.AFj[0], this.ADj[0], this.ADD, remats[0].ell, pp, QD, this.dPat[0], this.dByRow[0]);
      if (this.crossed && this.wClass.length < this.crossed.count) this.wClass = new Float64Array(this.crossed.count);
    }
  }

  /**
   * The objective for theta: the profiled deviance (ML) or the REML criterion, i.e. -2
   * log-likelihood up to the whitening term. Infinity if a factor fails.
   */
  evaluate(theta: ArrayLike<number>, reml: boolean): number {
    if (!this.factorObjective(theta)) return Infinity;
    const { n, p } = this;
    const dof = reml ? n - p : n;
    const crit = this.ldL2 + (reml ? this.ldRX2 : 0) + dof * (1 + Math.log((2 * Math.PI * this.pwrss) / dof));
    return Number.isFinite(crit) ? crit : Infinity;
  }

  /**
   * What the objective and vcov(beta) need for theta (ldL2, ldRX2, pwrss and L_FF), level class by
   * class where classes apply (level-classes.ts, crossed-classes.ts): the other blocks of L are
   * then left stale, and factor() forms them when modes or conditional variances are wanted.
   */
  factorObjective(theta: ArrayLike<number>): boolean {
    if (this.classes || this.crossed) this.fullAt = null;
    if (this.classes) return this.factorByClass(theta, this.classes);
    if (this.crossed) return this.factorCrossedByClass(theta, this.crossed);
    if (this.k === 1 && this.m === 1 && this.remats[0].q === 2) return this.factorObjectiveQ2(theta);
    return this.factor(theta);
  }

  /** One intercept-and-slope term: only L_FF, leaving the per-level blocks of L stale (as classes do). */
  private factorObjectiveQ2(theta: ArrayLike<number>): boolean {
    this.fullAt = null;
    const T = this.T[0];
    fillTerm(this.remats[0], theta, T);
    this.LFF.set(this.AFF);
    const ld = factorLevelsQ2(T, this.Ajj[0], this.AFj[0], null, null, this.remats[0].ell, this.pp, this.LFF);
    return !Number.isNaN(ld) && this.finish(ld);
  }

  /**
   * The blocked Cholesky factorization for theta. False if a pivot is not positive. A repeat at
   * the theta of the last successful call, with nothing formed since, is free: fitModel puts the
   * model back at its optimum (restore) half a dozen times, ~0.1 s each on a crossed model.
   */
  factor(theta: ArrayLike<number>): boolean {
    const at = this.fullAt;
    if (at && at.length === theta.length && at.every((v, i) => v === theta[i])) return true;
    this.fullAt = null;
    const ok = this.factorNow(theta);
    if (ok) this.fullAt = Float64Array.from(theta);
    return ok;
  }

  private factorNow(theta: ArrayLike<number>): boolean {
    const { remats, m, pp, QD } = this;
    for (let t = 0; t < this.k; t++) fillTerm(remats[t], theta, this.T[t]);
    // (A lone term in the dense block, coupled by a residual structure, takes the general path.)
    if (this.k === 1 && this.m === 1) return this.factorOneTerm();
    let ld = 0;
    for (let j = 0; j < m; j++) {
      if (!this.chainColumn(j)) return false;
      const { ell, q } = remats[j];
      const L = this.Ljj[j];
      for (let c = 0; c < ell; c++) ld += logDiagSum(L, q, c * q * q, q);
    }
    if (QD > 0) this.denseBlocks();
    // Fixed block: A_FF minus the chain's part (the dense block's follows in finish).
    const LFF = this.LFF;
    LFF.set(this.AFF);
    for (let j = 0; j < m; j++) {
      const { ell, q } = remats[j];
      const lf = this.LFj[j];
      for (let c = 0; c < ell; c++) {
        const o = c * pp * q;
        for (let f = 0; f < pp; f++) {
          for (let g = 0; g <= f; g++) {
            let s = 0;
            for (let b = 0; b < q; b++) s += lf[o + f * q + b] * lf[o + g * q + b];
            LFF[f * pp + g] -= s;
          }
        }
      }
    }
    return this.finish(ld);
  }

  /**
   * The rest of the factor once L_DD, L_FD (before their solve) and L_FF (less the chain's part)
   * are formed: the dense block's Cholesky, L_FD's solve and downdate of L_FF (when there is a
   * dense block), then L_FF's own factor. `ld` is the chain's sum of log diagonals.
   */
  private finish(ld: number): boolean {
    const { pp, QD, LFF } = this;
    if (QD > 0) {
      if (!this.denseCholesky()) return false;
      ld += logDiagSum(this.LDD, QD);
      rdivLowerT(this.LFDx, this.LFDx.length / QD, QD, 0, QD, this.LDD, 0, QD);
      const LFD = this.LFD;
      for (let f = 0; f < pp; f++) {
        for (let g = 0; g <= f; g++) {
          let s = 0;
          for (let d = 0; d < QD; d++) s += LFD[f * QD + d] * LFD[g * QD + d];
          LFF[f * pp + g] -= s;
        }
      }
    }
    // A zero last pivot means an exact fit (r^2 = 0); anything else is a numerical failure.
    if (!cholLower(LFF, pp)) return false;
    this.ldL2 = 2 * ld;
    this.ldRX2 = 2 * logDiagSum(LFF, this.p, 0, pp) - (this.fixedMap ? 2 * this.fixedMap.logDetT : 0);
    const last = LFF[pp * pp - 1];
    this.pwrss = last * last;
    return true;
  }

  /**
   * L_DD's factor in place: by blocks of rows from 2 blocks on (the same numbers with or without
   * the second thread, which large blocks get where the runtime has one, threads.ts).
   */
  private denseCholesky(): boolean {
    const QD = this.QD;
    if (QD < 2 * BLOCK_ROWS) return cholLower(this.LDD, QD);
    return cholBlocked(this.LDD, QD, 0, QD, QD >= THREAD_MIN ? helper() : null);
  }

  /**
   * Where the last term is a small scalar part of the dense block of crossed scalar terms (behind
   * at least one other dense term), its theta index: the optimizer may then profile it out
   * (tail-profile.ts, tailMinimum). Else -1.
   */
  get tailIndex(): number {
    const { k, m, remats } = this;
    if (!this.crossed || k < m + 2) return -1;
    const r = remats[k - 1];
    if (r.q !== 1 || r.structure.type !== "us" || r.ell > TAIL_MAX || this.dOff[k - 1] < 1) return -1;
    return r.thetaOffset;
  }

  /**
   * The minimum of the objective over the tail term's theta (tailIndex) with the others as in
   * theta, and where it is: one factorization of everything before the tail, then the explicit
   * function of tail-profile.ts. The blocks of L are left holding intermediate values (the next
   * evaluate or factor forms them anew). Null where there is no tail or a factor fails.
   */
  tailMinimum(theta: ArrayLike<number>, reml: boolean): { t: number; f: number } | null {
    const pieces = this.tailPieces(theta, reml);
    return pieces ? minimizeTail(pieces, this.tailWork!.S) : null;
  }

  /** The tail as a parameter the optimizer can profile out (optimize.ts), or null. */
  tailProfile(reml: boolean): ProfiledParameter | null {
    const index = this.tailIndex;
    if (index < 0) return null;
    return { index, minimum: (theta) => this.tailMinimum(theta, reml) };
  }

  /** The t-free blocks of tail-profile.ts for theta (its tail entry unused). */
  tailPieces(theta: ArrayLike<number>, reml: boolean): TailPieces | null {
    const cc = this.crossed, idx = this.tailIndex;
    if (!cc || idx < 0) return null;
    this.fullAt = null;
    const { remats, QD, pp, LDD, LFD, LFF } = this;
    for (let t = 0; t < this.k; t++) fillTerm(remats[t], theta, this.T[t]);
    // The tail's rows unscaled (t = 1) and without the identity on their diagonal.
    this.T[this.k - 1][0] = 1;
    const r0 = this.dOff[this.k - 1], nt = QD - r0;
    const ldFirst = classWeights(cc, this.T[0][0], this.wClass);
    this.templateValues();
    denseByClasses(cc, this.wClass, this.tD, LDD, r0);
    LFF.set(this.AFF);
    fixedByClasses(cc, this.wClass, this.tD, this.AFD, LFD, LFF, this.LFDt);
    // Eliminate the prefix: its factor, the tail's rows and the fixed rows against it.
    const ok = r0 < 2 * BLOCK_ROWS ? cholLower(LDD, r0, 0, QD) : cholBlocked(LDD, r0, 0, QD, r0 >= THREAD_MIN ? helper() : null);
    if (!ok) return null;
    rdivLowerT(LDD, nt, r0, r0 * QD, QD, LDD, 0, QD);
    subtractGram(LDD, 0, QD, r0, QD, r0, r0);
    rdivLowerT(this.LFDx, this.LFDx.length / QD, r0, 0, QD, LDD, 0, QD);
    const work = (this.tailWork ??= new TailWork(nt, pp, this.p, this.n));
    const { Btt, BFt, V, pieces } = work, { lam, C, BFF } = pieces;
    for (let i = 0; i < nt; i++) for (let j = 0; j <= i; j++) Btt[i * nt + j] = Btt[j * nt + i] = LDD[(r0 + i) * QD + r0 + j];
    for (let f = 0; f < pp; f++) {
      const rf = f * QD;
      for (let i = 0; i < nt; i++) {
        const ri = (r0 + i) * QD;
        let s = LFD[rf + r0 + i];
        for (let k = 0; k < r0; k++) s -= LFD[rf + k] * LDD[ri + k];
        BFt[f * nt + i] = s;
      }
      for (let g = 0; g <= f; g++) {
        const rg = g * QD;
        let s = LFF[f * pp + g];
        for (let k = 0; k < r0; k++) s -= LFD[rf + k] * LFD[rg + k];
        BFF[f * pp + g] = s;
      }
    }
    symmetricEigen(Btt, nt, lam, V);
    for (let f = 0; f < pp; f++) for (let i = 0; i < nt; i++) {
      let s = 0;
      for (let j = 0; j < nt; j++) s += BFt[f * nt + j] * V[j * nt + i];
      C[f * nt + i] = s;
    }
    pieces.ldRest = 2 * (ldFirst + logDiagSum(LDD, r0, 0, QD));
    pieces.reml = reml;
    pieces.logDetT2 = this.fixedMap ? 2 * this.fixedMap.logDetT : 0;
    return pieces;
  }

  /** The objective's pieces for crossed scalar terms, the first factor class by class. */
  private factorCrossedByClass(theta: ArrayLike<number>, cc: CrossedClasses): boolean {
    const { remats } = this;
    for (let t = 0; t < this.k; t++) fillTerm(remats[t], theta, this.T[t]);
    const ld = classWeights(cc, this.T[0][0], this.wClass);
    this.templateValues();
    denseByClasses(cc, this.wClass, this.tD, this.LDD);
    this.LFF.set(this.AFF);
    fixedByClasses(cc, this.wClass, this.tD, this.AFD, this.LFD, this.LFF, this.LFDt);
    return this.finish(ld);
  }

  /** The objective's pieces (ldL2, ldRX2, pwrss, L_FF) for one term, class by class. */
  private factorByClass(theta: ArrayLike<number>, cls: LevelClasses): boolean {
    const T = this.T[0];
    fillTerm(this.remats[0], theta, T);
    const ld = downdateByClass(cls, T, this.AFF, this.LFF, this.tmp);
    return !Number.isNaN(ld) && this.finish(ld);
  }

  /**
   * The common case, one random-effects term (a repeated-measures model): per level, the q x q
   * block, its fixed-effect rows and their downdate of L_FF in one fused loop, with no fill and
   * no scratch beyond two small buffers. Same arithmetic as the general path.
   */
  private factorOneTerm(): boolean {
    const { ell, q } = this.remats[0];
    const pp = this.pp;
    const T = this.T[0], A = this.Ajj[0], L = this.Ljj[0], AF = this.AFj[0], LF = this.LFj[0];
    const LFF = this.LFF;
    LFF.set(this.AFF);
    const qq = q * q, fq = pp * q;
    const tmp = this.tmp;
    let ld = 0;
    if (q === 1) {
      const t0 = T[0], t2 = t0 * t0;
      for (let c = 0; c < ell; c++) {
        const d = Math.sqrt(t2 * A[c] + 1);
        L[c] = d;
        ld += Math.log(d);
        const s = t0 / d, o = c * pp;
        for (let f = 0; f < pp; f++) {
          const v = AF[o + f] * s;
          LF[o + f] = v;
          const row = f * pp;
          for (let g = 0; g <= f; g++) LFF[row + g] -= v * LF[o + g];
        }
      }
    } else if (q === 2) {
      // Random intercept and slope: the 2 x 2 algebra written out (factorLevelsQ2, one-term.ts).
      ld = factorLevelsQ2(T, A, AF, L, LF, ell, pp, LFF);
      if (Number.isNaN(ld)) return false;
    } else {
      for (let c = 0; c < ell; c++) {
        const o = c * qq;
        // M = T' A_c T + I, lower triangle, then its Cholesky factor in place.
        for (let a = 0; a < q; a++) for (let b = 0; b < q; b++) {
          let s = 0;
          for (let e = b; e < q; e++) s += A[o + a * q + e] * T[e * q + b];
          tmp[a * q + b] = s;
        }
        for (let a = 0; a < q; a++) for (let b = 0; b <= a; b++) {
          let s = a === b ? 1 : 0;
          for (let e = a; e < q; e++) s += T[e * q + a] * tmp[e * q + b];
          L[o + a * q + b] = s;
        }
        if (!cholLower(L, q, o, q)) return false;
        for (let a = 0; a < q; a++) ld += Math.log(L[o + a * q + a]);
        // L_F rows: (A_F T) L^{-T}, then the downdate of L_FF.
        const of = c * fq;
        for (let f = 0; f < pp; f++) {
          const r = of + f * q;
          for (let b = 0; b < q; b++) {
            let s = 0;
            for (let e = b; e < q; e++) s += AF[r + e] * T[e * q + b];
            for (let k = 0; k < b; k++) s -= LF[r + k] * L[o + b * q + k];
            LF[r + b] = s / L[o + b * q + b];
          }
          const row = f * pp;
          for (let g = 0; g <= f; g++) {
            const rg = of + g * q;
            let s = 0;
            for (let b = 0; b < q; b++) s += LF[r + b] * LF[rg + b];
            LFF[row + g] -= s;
          }
        }
      }
    }
    return this.finish(ld);
  }

  /** Column block j of the chain: its diagonal blocks and every block below them. */
  private chainColumn(j: number): boolean {
    const { remats, m, pp } = this;
    const Rj = remats[j];
    const { ell, q } = Rj;
    const Tj = this.T[j];
    const A = this.Ajj[j], L = this.Ljj[j];
    const tmp = this.tmp;
    const qq = q * q;
    for (let c = 0; c < ell; c++) {
      const o = c * qq;
      // M = T' A T + I
      for (let a = 0; a < q; a++) {
        for (let b = 0; b < q; b++) {
          let s = 0;
          for (let e = b; e < q; e++) s += A[o + a * q + e] * Tj[e * q + b];
          tmp[a * q + b] = s;
        }
      }
      for (let a = 0; a < q; a++) {
        for (let b = 0; b <= a; b++) {
          let s = 0;
          for (let e = a; e < q; e++) s += Tj[e * q + a] * tmp[e * q + b];
          L[o + a * q + b] = s + (a === b ? 1 : 0);
        }
      }
      for (let h = 0; h < j; h++) {
        const qh = remats[h].q, ch = this.children[j][h], Ljh = this.Lij[j][h];
        for (let e = ch.ptr[c]; e < ch.ptr[c + 1]; e++) {
          const co = ch.idx[e] * q * qh;
          for (let a = 0; a < q; a++) {
            for (let b = 0; b <= a; b++) {
              let s = 0;
              for (let g = 0; g < qh; g++) s += Ljh[co + a * qh + g] * Ljh[co + b * qh + g];
              L[o + a * q + b] -= s;
            }
          }
        }
      }
      if (!cholLower(L, q, o, q)) return false;
    }
    // Chain blocks below: L_ij for i > j.
    for (let i = j + 1; i < m; i++) {
      const qi = remats[i].q, Ti = this.T[i];
      const Aij = this.Aij[i][j], Lij = this.Lij[i][j];
      for (let c = 0; c < ell; c++) {
        const o = c * qi * q;
        this.leftRightTemplate(Aij, o, qi, q, Ti, Tj, Lij);
        for (let h = 0; h < j; h++) {
          const qh = remats[h].q, ch = this.children[j][h];
          const Lih = this.Lij[i][h], Ljh = this.Lij[j][h];
          for (let e = ch.ptr[c]; e < ch.ptr[c + 1]; e++) {
            const cc = ch.idx[e];
            const oi = cc * qi * qh, oj = cc * q * qh;
            for (let a = 0; a < qi; a++) {
              for (let b = 0; b < q; b++) {
                let s = 0;
                for (let g = 0; g < qh; g++) s += Lih[oi + a * qh + g] * Ljh[oj + b * qh + g];
                Lij[o + a * q + b] -= s;
              }
            }
          }
        }
        rdivLowerT(Lij, qi, q, o, q, L, c * qq, q);
      }
    }
    // D rows below (sparse).
    if (this.QD > 0) this.denseRowsUnder(j);
    // F rows below: L_Fj = (A_Fj T_j - fill) L_jj^{-T}.
    const AF = this.AFj[j], LF = this.LFj[j];
    for (let c = 0; c < ell; c++) {
      const o = c * pp * q;
      for (let f = 0; f < pp; f++) {
        for (let b = 0; b < q; b++) {
          let s = 0;
          for (let e = b; e < q; e++) s += AF[o + f * q + e] * Tj[e * q + b];
          LF[o + f * q + b] = s;
        }
      }
      for (let h = 0; h < j; h++) {
        const qh = remats[h].q, ch = this.children[j][h];
        const LFh = this.LFj[h], Ljh = this.Lij[j][h];
        for (let e = ch.ptr[c]; e < ch.ptr[c + 1]; e++) {
          const cc = ch.idx[e];
          const of = cc * pp * qh, oj = cc * q * qh;
          for (let f = 0; f < pp; f++) {
            for (let b = 0; b < q; b++) {
              let s = 0;
              for (let g = 0; g < qh; g++) s += LFh[of + f * qh + g] * Ljh[oj + b * qh + g];
              LF[o + f * q + b] -= s;
            }
          }
        }
      }
      rdivLowerT(LF, pp, q, o, q, L, c * qq, q);
    }
    return true;
  }

  /** out[o..] = Ti' A[o..] Tj for an qi x qj block. */
  private leftRightTemplate(A: Float64Array, o: number, qi: number, qj: number, Ti: Float64Array, Tj: Float64Array, out: Float64Array): void {
    const tmp = this.tmp;
    for (let a = 0; a < qi; a++) {
      for (let b = 0; b < qj; b++) {
        let s = 0;
        for (let e = b; e < qj; e++) s += A[o + a * qj + e] * Tj[e * qj + b];
        tmp[a * qj + b] = s;
      }
    }
    for (let a = 0; a < qi; a++) {
      for (let b = 0; b < qj; b++) {
        let s = 0;
        for (let e = a; e < qi; e++) s += Ti[e * qi + a] * tmp[e * qj + b];
        out[o + a * qj + b] = s;
      }
    }
  }

  /** L_Dj for chain term j: (Λ_D' A_Dj T_j - fill from children) L_jj^{-T}, level by level. */
  private denseRowsUnder(j: number): void {
    const { remats } = this;
    const Rj = remats[j];
    const q = Rj.q, Tj = this.T[j];
    const pat = this.dPat[j], A = this.ADj[j], Lv = this.LDj[j], Ljj = this.Ljj[j];
    const scr = this.scratchD;
    for (let c = 0; c < Rj.ell; c++) {
      const e0 = pat.ptr[c], e1 = pat.ptr[c + 1];
      // Right: rows times T_j.
      for (let e = e0; e < e1; e++) {
        for (let b = 0; b < q; b++) {
          let s = 0;
          for (let g = b; g < q; g++) s += A[e * q + g] * Tj[g * q + b];
          Lv[e * q + b] = s;
        }
      }
      // Left: T_t' on each q_t-row block of the pattern (blocks are whole and contiguous).
      for (let e = e0; e < e1; ) {
        const t = this.dTerm[pat.idx[e]];
        const qt = remats[t].q;
        if (qt > 1) {
          const Tt = this.T[t];
          for (let b = 0; b < q; b++) {
            for (let a = 0; a < qt; a++) {
              let s = 0;
              for (let g = a; g < qt; g++) s += Tt[g * qt + a] * Lv[(e + g) * q + b];
              scr[a] = s;
            }
            for (let a = 0; a < qt; a++) Lv[(e + a) * q + b] = scr[a];
          }
        } else {
          const s = this.T[t][0];
          for (let b = 0; b < q; b++) Lv[e * q + b] *= s;
        }
        e += qt;
      }
      if (j > 0) {
        // Fill from children: scatter into a dense scratch over D rows, subtract, gather.
        for (let e = e0; e < e1; e++) {
          const r = pat.idx[e];
          for (let b = 0; b < q; b++) scr[r * q + b] = Lv[e * q + b];
        }
        for (let h = 0; h < j; h++) {
          const qh = remats[h].q, ch = this.children[j][h];
          const ph = this.dPat[h], LDh = this.LDj[h], Ljh = this.Lij[j][h];
          for (let s = ch.ptr[c]; s < ch.ptr[c + 1]; s++) {
            const cc = ch.idx[s];
            const oj = cc * q * qh;
            for (let f = ph.ptr[cc]; f < ph.ptr[cc + 1]; f++) {
              const r = ph.idx[f];
              for (let b = 0; b < q; b++) {
                let v = 0;
                for (let g = 0; g < qh; g++) v += LDh[f * qh + g] * Ljh[oj + b * qh + g];
                scr[r * q + b] -= v;
              }
            }
          }
        }
        for (let e = e0; e < e1; e++) {
          const r = pat.idx[e];
          for (let b = 0; b < q; b++) Lv[e * q + b] = scr[r * q + b];
        }
      }
      rdivLowerT(Lv, e1 - e0, q, e0 * q, q, Ljj, c * q * q, q);
    }
  }

  /** LDD = Λ_D' A_DD Λ_D + I - Σ L_Dj L_Dj'; LFD = A_FD Λ_D - Σ L_Fj L_Dj' (before the solve). */
  private denseBlocks(): void {
    const { remats, m, pp, QD } = this;
    const LDD = this.LDD, LFD = this.LFD;
    if (this.scalarD) {
      this.scaleScalarDense();
    } else {
      // Symmetrize A_DD into LDD (A_DD holds the lower triangle), then scale by templates.
      for (let r = 0; r < QD; r++) {
        for (let c = 0; c <= r; c++) {
          const v = this.ADD[r * QD + c];
          LDD[r * QD + c] = v;
          LDD[c * QD + r] = v;
        }
      }
      this.rightTemplate(LDD, QD, QD);
      this.leftTemplateRows(LDD, QD);
      for (let d = 0; d < QD; d++) LDD[d * QD + d] += 1;
    }
    LFD.set(this.AFD);
    this.rightTemplate(LFD, pp, QD);
    if (m === 0) return;
    // L_FD is updated transposed (QD x pp), so that each update writes one contiguous row
    // instead of pp values a whole row of L_FD apart.
    const LFDt = this.LFDt;
    for (let g = 0; g < pp; g++) for (let r = 0; r < QD; r++) LFDt[r * pp + g] = LFD[g * QD + r];
    for (let j = 0; j < m; j++) {
      const q = remats[j].q;
      const pat = this.dPat[j], Lv = this.LDj[j], LF = this.LFj[j];
      // Row by row of D (the transposed pattern): the writes stay in one row of L_DD instead of
      // scattering over the whole QD x QD block, which cost a cache miss per update.
      const byRow = this.dByRow[j];
      for (let r = 0; r < QD; r++) {
        const rowOff = r * QD, tOff = r * pp;
        for (let x = byRow.ptr[r]; x < byRow.ptr[r + 1]; x++) {
          const e = byRow.idx[x], c = byRow.lev[x], e0 = pat.ptr[c];
          const of = c * pp * q;
          if (q === 1) {
            const v = Lv[e];
            for (let f = e0; f <= e; f++) LDD[rowOff + pat.idx[f]] -= v * Lv[f];
            for (let g = 0; g < pp; g++) LFDt[tOff + g] -= LF[of + g] * v;
          } else {
            for (let f = e0; f <= e; f++) {
              let s = 0;
              for (let b = 0; b < q; b++) s += Lv[e * q + b] * Lv[f * q + b];
              LDD[rowOff + pat.idx[f]] -= s;
            }
            for (let g = 0; g < pp; g++) {
              let s = 0;
              for (let b = 0; b < q; b++) s += LF[of + g * q + b] * Lv[e * q + b];
              LFDt[tOff + g] -= s;
            }
          }
        }
      }
    }
    for (let g = 0; g < pp; g++) for (let r = 0; r < QD; r++) LFD[g * QD + r] = LFDt[r * pp + g];
  }

  /**
   * Scalar dense terms only (crossed random intercepts): Λ_D is diagonal, so L_DD's lower
   * triangle is t_r t_c A_rc + I, one contiguous pass (cholLower never reads the upper
   * triangle). Leaves each row's template value in tD.
   */
  private scaleScalarDense(): void {
    const { QD, ADD, LDD } = this, tv = this.tD;
    this.templateValues();
    for (let r = 0; r < QD; r++) {
      const ro = r * QD, tr = tv[r];
      for (let c = 0; c < r; c++) LDD[ro + c] = tr * tv[c] * ADD[ro + c];
      LDD[ro + r] = tr * tr * ADD[ro + r] + 1;
    }
  }

  /** Each scalar dense row's template value, into tD. */
  private templateValues(): void {
    const tv = this.tD;
    for (let r = 0; r < this.QD; r++) tv[r] = this.T[this.dTerm[r]][0];
  }

  /** M (rows x QD) <- M Λ_D: each q_t-column block times its template. */
  private rightTemplate(M: Float64Array, rows: number, QD: number): void {
    const { remats, m } = this;
    for (let t = m; t < this.k; t++) {
      const q = remats[t].q, Tt = this.T[t], off = this.dOff[t];
      for (let c = 0; c < remats[t].ell; c++) {
        const base = off + c * q;
        for (let r = 0; r < rows; r++) {
          const ro = r * QD + base;
          if (q === 1) {
            M[ro] *= Tt[0];
            continue;
          }
          for (let b = 0; b < q; b++) {
            let s = 0;
            for (let g = b; g < q; g++) s += M[ro + g] * Tt[g * q + b];
            this.tmp[b] = s;
          }
          for (let b = 0; b < q; b++) M[ro + b] = this.tmp[b];
        }
      }
    }
  }

  /** M (QD x QD) <- Λ_D' M: each q_t-row block times its template transposed. */
  private leftTemplateRows(M: Float64Array, QD: number): void {
    const { remats, m } = this;
    for (let t = m; t < this.k; t++) {
      const q = remats[t].q, Tt = this.T[t], off = this.dOff[t];
      for (let c = 0; c < remats[t].ell; c++) {
        const base = off + c * q;
        if (q === 1) {
          const s = Tt[0], ro = base * QD;
          for (let col = 0; col < QD; col++) M[ro + col] *= s;
          continue;
        }
        for (let col = 0; col < QD; col++) {
          for (let a = 0; a < q; a++) {
            let s = 0;
            for (let g = a; g < q; g++) s += Tt[g * q + a] * M[(base + g) * QD + col];
            this.tmp[a] = s;
          }
          for (let a = 0; a < q; a++) M[(base + a) * QD + col] = this.tmp[a];
        }
      }
    }
  }
}
