// The profiled objective of a model with a residual structure and its analytic gradient, over
// the random-effect parameters theta and the residual parameters eta together, by dense
// per-block algebra. The rows split into independent blocks (the connected components of the
// residual groups and of every random-effect level: V = Z Lambda Lambda' Z' + R is block
// diagonal over them; in a longitudinal model a block is one subject), each small, so each
// block's V_b is formed, factored and differentiated densely:
//   f = log|V| + log|X'V^-1 X| (REML) + d log(r'V^-1 r),   d = n - p (REML) or n (ML),
//   df/dpar = <M, dV/dpar>,  M = sum_b [V_b^-1 - V_b^-1 X_b G X_b'V_b^-1 (REML) - (d/RSS) e_b e_b'],
// G = (X'V^-1 X)^-1 and e_b = V_b^-1 r_b (the envelope theorem removes beta's own derivative).
// dV/dtheta is Z (E Lambda' + Lambda E') Z' (closed form). The residual structure's part:
// R_ab = s_a s_b C_ab, so the variance functions enter through d log s_a (q_a = 2 sum_b M_ab R_ab)
// and the correlation through the structure's entries C_ab; both derivatives are central
// differences of the structure's own small maps (set/fill/lag per group, apply per row), which
// are exact to ~1e-10 and need nothing from a structure beyond the CorrStructure/VarFunction
// interfaces, so a new structure gets its gradient for free. The objective is the same as the
// blocked one (prepared.ts) up to a constant in the parameters (log|T|^2 of the fixed basis and
// the 2 pi terms): only the optimizer's path uses it; reported values come from the blocked path.
// theta enters unconstrained: V depends on Lambda Lambda' only, so a column's sign is free and
// the optimizer needs no bounds (canonical() flips columns to nonnegative diagonals at the end).
import type { PreparedModel } from "./prepared";
import type { ResidualModel } from "./residual";
import { fillTemplate, hasStructured } from "./remat";
import { PooledBlocks } from "./residual/pooled";
import { addSameLevelPairs, thetaGradient } from "./residual/re-gradient";
import { fillCorrelation } from "./residual/fill-correlation";

/**
 * What the gradient fit, the cost model and the Hessians need of an evaluator: DenseBlocks (one
 * dense factorization per block) or PooledBlocks (residual/pooled.ts: one per pattern of blocks).
 */
export interface BlockEvaluator {
  readonly nTheta: number;
  readonly nEta: number;
  /** r'V^-1 r at the last evaluation. */
  readonly lastRss: number;
  /** True for the pattern-pooled evaluator. */
  readonly pooled: boolean;
  /** Estimated ms of one evaluation with its gradient over k parameters (cost.ts's units). */
  evalMs(k: number): number;
  /** Estimated ms of the evaluator's one-off work (the pooled cross-products), 0 if none. */
  setupMs(): number;
  evaluate(x: Float64Array, reml: boolean, grad?: Float64Array, sigma?: number): number;
  reset(eta: Float64Array): void;
}

/** Largest block, and the total work per evaluation (sum of m^3), that the dense path takes. */
const MAX_BLOCK = 400;
const MAX_WORK = 3e8;
/** Relative step of the central differences of the structure's maps. */
const FD = 1e-5;

const CACHE = new WeakMap<PreparedModel, BlockEvaluator | null>();

export class DenseBlocks implements BlockEvaluator {
  readonly pooled = false;
  /** Parameters: theta (the templates' entries, in theta's order), then eta. */
  readonly nTheta: number;
  readonly nEta: number;
  /** r'V^-1 r at the last evaluation (sigma^2 = rss / (n - p) under REML, rss / n under ML). */
  lastRss = NaN;
  /** Multiply-adds of one evaluation, about sum_b m_b^2 (m_b + p) (for the cost model). */
  readonly work: number;
  private readonly n: number;
  private readonly p: number;
  private readonly X: Float64Array;
  private readonly y: Float64Array;
  /** Blocks: residual groups bgrp[bptr[b] .. bptr[b+1]) (rows grows[gptr[g] ..) in order). */
  private readonly bptr: Int32Array;
  private readonly bgrp: Int32Array;
  private readonly gptr: Int32Array;
  private readonly grows: Int32Array;
  /** Offset of each group's m_g^2 entries of P (the correlation part of M) in pbuf. */
  private readonly poff: Int32Array;
  private readonly pbuf: Float64Array;
  private readonly sd: Float64Array;
  private readonly wsd: Float64Array | null;
  private readonly qv: Float64Array;
  private readonly tmp: Float64Array;
  private readonly maxM: number;
  // Per-block scratch.
  private readonly V: Float64Array;
  private readonly R: Float64Array;
  private readonly Li: Float64Array;
  private readonly Cg: Float64Array;
  private readonly lagR: Float64Array;
  private readonly Xw: Float64Array;
  private readonly yw: Float64Array;
  private readonly B: Float64Array;
  private readonly U: Float64Array;
  private readonly zu: Float64Array;
  private readonly lambdas: Float64Array[];
  private readonly Us: Float64Array[];
  private readonly lc = { r: 0, one: 1 };
  /**
   * When every correlation is a function of the two rows' occasions (all structures but CS and
   * the spatial ones on several coordinates), P is summed per pair of occasions (nOcc^2) and the
   * structure's entries are differenced once, on one representative row per occasion, instead of
   * per group: the correlation part then costs O(sum m_g^2 + nCorr nOcc^2), not O(nCorr sum m_g^2).
   */
  private readonly rep: Int32Array | null;
  private readonly occSum: Float64Array;

  private constructor(private readonly prep: PreparedModel, private readonly res: ResidualModel, blocks: { bptr: Int32Array; bgrp: Int32Array; gptr: Int32Array; grows: Int32Array; maxM: number; work: number }) {
    const { model, basis, design } = prep;
    this.n = design.n;
    this.p = basis.map.p;
    this.X = basis.X;
    this.y = basis.y;
    this.nTheta = model.remats.reduce((s, r) => s + (r.q * (r.q + 1)) / 2, 0);
    this.nEta = res.nPar;
    this.bptr = blocks.bptr;
    this.bgrp = blocks.bgrp;
    this.gptr = blocks.gptr;
    this.grows = blocks.grows;
    this.maxM = blocks.maxM;
    this.work = blocks.work;
    const ng = this.gptr.length - 1;
    this.poff = new Int32Array(ng + 1);
    for (let g = 0; g < ng; g++) {
      const m = this.gptr[g + 1] - this.gptr[g];
      this.poff[g + 1] = this.poff[g] + m * m;
    }
    const lay = res.layout, st = res.structure;
    const nOcc = lay.nOcc;
    const byOcc = !!st && st.kind !== "cs" && !!lay.occasion && lay.dims <= 1 && nOcc * nOcc <= this.poff[ng];
    if (byOcc) {
      this.rep = new Int32Array(nOcc).fill(-1);
      for (let i = 0; i < this.n; i++) if (this.rep[lay.occasion![i]] < 0) this.rep[lay.occasion![i]] = i;
    } else this.rep = null;
    this.occSum = new Float64Array(byOcc ? nOcc * nOcc : st?.kind === "cs" ? 1 : 0);
    this.pbuf = new Float64Array(st && !byOcc && st.kind !== "cs" ? this.poff[ng] : 0);
    this.sd = new Float64Array(this.n);
    this.tmp = new Float64Array(this.n);
    this.qv = new Float64Array(this.n);
    const w = design.weights;
    this.wsd = w ? Float64Array.from(w, (v) => 1 / Math.sqrt(v)) : null;
    const M = this.maxM, mm = M * M;
    this.V = new Float64Array(mm);
    this.R = new Float64Array(mm);
    this.Li = new Float64Array(mm);
    this.Cg = new Float64Array(Math.max(mm, this.rep ? res.layout.nOcc * res.layout.nOcc : 0));
    this.lagR = new Float64Array(M);
    this.Xw = new Float64Array(M * Math.max(this.p, 1));
    this.yw = new Float64Array(M);
    this.B = new Float64Array(M * Math.max(this.p, 1));
    this.U = new Float64Array(M);
    this.zu = new Float64Array(M * Math.max(1, ...model.remats.map((r) => r.q)));
    this.lambdas = model.remats.map((r) => new Float64Array(r.q * r.q));
    this.Us = model.remats.map((r) => new Float64Array(r.q * r.q));
  }

  /**
   * The block evaluator of a prepared model: pooled over patterns of blocks where they repeat
   * (residual/pooled.ts), else one dense block at a time; null when the blocks are too large (a
   * crossed design, one long series) or the model has no residual structure. `mode` "dense" or
   * "pooled" forces the one evaluator (the tests compare the two; "pooled" still needs patterns
   * within PooledBlocks' memory limit).
   */
  static build(prep: PreparedModel, mode: "auto" | "dense" | "pooled" = "auto"): BlockEvaluator | null {
    const res = prep.residual?.res;
    if (!res) return null;
    // dV/dtheta below assumes theta holds the lower-triangle template entries (unstructured
    // terms); a term with a covariance structure (re-cov/) maps theta otherwise: derivative-free.
    if (hasStructured(prep.model.remats)) return null;
    const n = prep.design.n;
    // Union-find over rows: a correlation structure joins its group's rows; a level joins its rows.
    const parent = new Int32Array(n);
    for (let i = 0; i < n; i++) parent[i] = i;
    const find = (i: number): number => {
      while (parent[i] !== i) {
        parent[i] = parent[parent[i]];
        i = parent[i];
      }
      return i;
    };
    const union = (a: number, b: number) => {
      const ra = find(a), rb = find(b);
      if (ra !== rb) parent[Math.max(ra, rb)] = Math.min(ra, rb);
    };
    const lay = res.layout;
    // Residual groups: the structure's (whose rows correlate), else one per row.
    let gptr: Int32Array, grows: Int32Array;
    if (res.structure) {
      gptr = lay.gptr;
      grows = lay.grows;
      for (let g = 0; g + 1 < gptr.length; g++) for (let k = gptr[g] + 1; k < gptr[g + 1]; k++) union(grows[k - 1], grows[k]);
    } else {
      gptr = Int32Array.from({ length: n + 1 }, (_, i) => i);
      grows = Int32Array.from({ length: n }, (_, i) => i);
    }
    for (const r of prep.model.remats) {
      const first = new Int32Array(r.ell).fill(-1);
      for (let i = 0; i < n; i++) {
        const l = r.refs[i];
        if (first[l] < 0) first[l] = i;
        else union(first[l], i);
      }
    }
    // Blocks in order of their first row; groups listed per block.
    const ng = gptr.length - 1;
    const blockOf = new Int32Array(n).fill(-1);
    let nb = 0;
    for (let i = 0; i < n; i++) {
      const r = find(i);
      if (blockOf[r] < 0) blockOf[r] = nb++;
    }
    const size = new Int32Array(nb), count = new Int32Array(nb + 1);
    for (let g = 0; g < ng; g++) {
      const b = blockOf[find(grows[gptr[g]])];
      size[b] += gptr[g + 1] - gptr[g];
      count[b + 1]++;
    }
    let maxM = 0, work = 0;
    for (let b = 0; b < nb; b++) {
      maxM = Math.max(maxM, size[b]);
      work += size[b] * size[b] * (size[b] + prep.basis.map.p);
    }
    if (maxM > MAX_BLOCK) return null;
    for (let b = 0; b < nb; b++) count[b + 1] += count[b];
    const fillAt = count.slice(0, nb), bgrp = new Int32Array(ng);
    for (let g = 0; g < ng; g++) bgrp[fillAt[blockOf[find(grows[gptr[g]])]]++] = g;
    const blocks = { bptr: count, bgrp, gptr, grows, maxM, work };
    const pooled = mode === "dense" ? null : PooledBlocks.build(prep, res, blocks, mode === "pooled");
    if (pooled) return pooled;
    if (work > MAX_WORK) return null;
    return new DenseBlocks(prep, res, blocks);
  }

  /**
   * Estimated ms of one evaluation with its gradient: the blocks' algebra, and about 0.6 us per
   * row of per-block work (measured: 0.3-0.45 ms on Sitka, 3.5 ms on UN over 12 occasions of 80
   * groups, 0.67 s for a million one-row blocks).
   */
  evalMs(k: number): number {
    return 0.02 + 6e-6 * this.work * (1 + 0.05 * k) + 6e-4 * this.n;
  }

  setupMs(): number {
    return 0;
  }

  /**
   * Put the residual structure back at eta: evaluate() leaves it where it last evaluated (the
   * structures keep their parameters as state, which the whitening and the crossed-term
   * precisions read), and Whitening.apply skips an eta it has already seen.
   */
  reset(eta: Float64Array): void {
    this.res.structure?.set(eta.subarray(0, this.res.layout.nCorr));
  }

  /** build(), once per prepared model (the cost model and the fit both ask). */
  static of(prep: PreparedModel): BlockEvaluator | null {
    if (!CACHE.has(prep)) CACHE.set(prep, DenseBlocks.build(prep));
    return CACHE.get(prep) ?? null;
  }

  /** Per-row SD ratios for eta (variance functions and prior weights); false if not finite. */
  private setSd(eta: Float64Array): boolean {
    const sd = this.sd;
    sd.fill(1);
    let off = this.res.layout.nCorr;
    for (const v of this.res.vars) {
      v.apply(eta.subarray(off, off + v.nPar), sd);
      off += v.nPar;
    }
    if (this.wsd) for (let i = 0; i < this.n; i++) sd[i] *= this.wsd[i];
    for (let i = 0; i < this.n; i++) if (!(sd[i] > 0 && sd[i] < Infinity)) return false;
    return true;
  }

  /** The correlation of group g's rows (lower triangle, m x m) into out, for the structure as set. */
  private fillCorr(g: number, out: Float64Array): void {
    this.fillRows(this.grows, this.gptr[g], this.gptr[g + 1] - this.gptr[g], out);
  }

  /** The correlation of rows[o .. o+m) (lower triangle, m x m; in time order) into out. */
  private fillRows(rows: Int32Array, o: number, m: number, out: Float64Array): void {
    fillCorrelation(this.res.structure!, rows, o, m, out, this.lagR, this.lc);
  }


  /**
   * Block b's V (lower triangle, m x m, into this.V; R alone into this.R), factored in place;
   * returns m and adds log|V_b| to acc[0], or -1 if V_b is not positive definite.
   */
  private factorBlock(b: number, rows: Int32Array, acc: Float64Array): number {
    const { gptr, grows, sd, V, R } = this;
    const st = this.res.structure;
    let m = 0;
    for (let e = this.bptr[b]; e < this.bptr[b + 1]; e++) {
      const g = this.bgrp[e];
      for (let k = gptr[g]; k < gptr[g + 1]; k++) rows[m++] = grows[k];
    }
    R.fill(0, 0, m * m);
    let pos = 0;
    for (let e = this.bptr[b]; e < this.bptr[b + 1]; e++) {
      const g = this.bgrp[e], mg = gptr[g + 1] - gptr[g];
      if (st && mg > 1) {
        const C = this.Cg;
        this.fillCorr(g, C);
        for (let a = 0; a < mg; a++) {
          const sa = sd[rows[pos + a]];
          for (let c = 0; c <= a; c++) R[(pos + a) * m + pos + c] = sa * sd[rows[pos + c]] * C[a * mg + c];
        }
      } else {
        for (let a = 0; a < mg; a++) R[(pos + a) * m + pos + a] = sd[rows[pos + a]] * sd[rows[pos + a]];
      }
      pos += mg;
    }
    for (let i = 0; i < m * m; i++) V[i] = R[i];
    // Random effects: V_ab += (Lambda' z_a) . (Lambda' z_b) for rows at the same level.
    const remats = this.prep.model.remats;
    for (let t = 0; t < remats.length; t++) {
      const rt = remats[t], q = rt.q, L = this.lambdas[t], z = rt.z, refs = rt.refs;
      const u = this.zu;
      for (let a = 0; a < m; a++) {
        const ra = rows[a];
        for (let j = 0; j < q; j++) {
          let s = 0;
          for (let i = j; i < q; i++) s += L[i * q + j] * z[ra * q + i];
          u[a * q + j] = s;
        }
      }
      for (let a = 0; a < m; a++) {
        const la = refs[rows[a]];
        for (let c = 0; c <= a; c++) {
          if (refs[rows[c]] !== la) continue;
          let s = 0;
          for (let j = 0; j < q; j++) s += u[a * q + j] * u[c * q + j];
          V[a * m + c] += s;
        }
      }
    }
    // Cholesky in place (lower).
    let ld = 0;
    for (let a = 0; a < m; a++) {
      for (let c = 0; c <= a; c++) {
        let s = V[a * m + c];
        for (let k = 0; k < c; k++) s -= V[a * m + k] * V[c * m + k];
        if (a === c) {
          if (!(s > 0)) return -1;
          V[a * m + a] = Math.sqrt(s);
          ld += Math.log(s);
        } else V[a * m + c] = s / V[c * m + c];
      }
    }
    acc[0] += ld;
    // Whitened X and y: L^-1 X_b, L^-1 y_b.
    const p = this.p, X = this.X, y = this.y, Xw = this.Xw, yw = this.yw;
    for (let a = 0; a < m; a++) {
      const ra = rows[a], iv = 1 / V[a * m + a];
      for (let j = 0; j < p; j++) {
        let s = X[ra * p + j];
        for (let k = 0; k < a; k++) s -= V[a * m + k] * Xw[k * p + j];
        Xw[a * p + j] = s * iv;
      }
      let s = y[ra];
      for (let k = 0; k < a; k++) s -= V[a * m + k] * yw[k];
      yw[a] = s * iv;
    }
    return m;
  }

  private setLambdas(x: Float64Array): void {
    this.prep.model.remats.forEach((r, t) => fillTemplate(x, r.thetaOffset, r.q, this.lambdas[t]));
  }

  /**
   * The objective (up to a constant) at x = [theta, eta]; with `grad`, its gradient into grad.
   * With `sigma`, the deviance with sigma not profiled (lmerTest's devfun_vp, without its 2 pi
   * terms): log|V| + 2 n log sigma + [REML] (log|X'V^-1X| - 2 p log sigma) + RSS / sigma^2, whose
   * gradient has c = 1/sigma^2 in place of d/RSS, and d/dsigma in grad[x.length].
   */
  evaluate(x: Float64Array, reml: boolean, grad?: Float64Array, sigma?: number): number {
    const eta = x.subarray(this.nTheta);
    const res = this.res, st = res.structure;
    if (!this.setSd(eta)) return Infinity;
    if (st && !st.set(eta.subarray(0, res.layout.nCorr))) return Infinity;
    this.setLambdas(x);
    const p = this.p, n = this.n, nb = this.bptr.length - 1;
    const rows = new Int32Array(this.maxM);
    const acc = new Float64Array(1);
    const XtX = new Float64Array(p * p), Xty = new Float64Array(p);
    let yty = 0;
    const { Xw, yw } = this;
    for (let b = 0; b < nb; b++) {
      const m = this.factorBlock(b, rows, acc);
      if (m < 0) return Infinity;
      for (let a = 0; a < m; a++) {
        for (let i = 0; i < p; i++) {
          const v = Xw[a * p + i];
          Xty[i] += v * yw[a];
          for (let j = 0; j <= i; j++) XtX[i * p + j] += v * Xw[a * p + j];
        }
        yty += yw[a] * yw[a];
      }
    }
    // G = (X'V^-1X)^-1 through its Cholesky factor; beta; RSS.
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
    const w = Float64Array.from(Xty);
    for (let i = 0; i < p; i++) {
      let s = w[i];
      for (let k = 0; k < i; k++) s -= XtX[i * p + k] * w[k];
      w[i] = s / XtX[i * p + i];
    }
    let rss = yty;
    for (let i = 0; i < p; i++) rss -= w[i] * w[i];
    if (!(rss > 0)) return Infinity;
    this.lastRss = rss;
    const d = reml ? n - p : n;
    const s2 = sigma === undefined ? 0 : sigma * sigma;
    const f = sigma === undefined ? acc[0] + (reml ? ldX : 0) + d * Math.log(rss) : acc[0] + (reml ? ldX : 0) + d * Math.log(s2) + rss / s2;
    if (!grad) return f;
    // beta = L'^-1 w; G = L'^-1 L^-1.
    const beta = Float64Array.from(w);
    for (let i = p - 1; i >= 0; i--) {
      let s = beta[i];
      for (let k = i + 1; k < p; k++) s -= XtX[k * p + i] * beta[k];
      beta[i] = s / XtX[i * p + i];
    }
    const Linv = new Float64Array(p * p);
    for (let c = 0; c < p; c++) {
      for (let a = c; a < p; a++) {
        let s = a === c ? 1 : 0;
        for (let k = c; k < a; k++) s -= XtX[a * p + k] * Linv[k * p + c];
        Linv[a * p + c] = s / XtX[a * p + a];
      }
    }
    this.gradient(x, reml, beta, Linv, sigma === undefined ? d / rss : 1 / s2, rows, grad);
    if (sigma !== undefined) grad[x.length] = (2 * d) / sigma - (2 * rss) / (s2 * sigma);
    return f;
  }

  /** Second pass: M per block, contracted with dV/dtheta, the variance and correlation maps. */
  private gradient(x: Float64Array, reml: boolean, beta: Float64Array, GL: Float64Array, cres: number, rows: Int32Array, grad: Float64Array): void {
    grad.fill(0, 0, x.length);
    const p = this.p, nb = this.bptr.length - 1;
    const { V, R, Li, Xw, yw, B, U, qv, gptr, pbuf, poff, sd } = this;
    const remats = this.prep.model.remats;
    const st = this.res.structure;
    for (const u of this.Us) u.fill(0);
    this.occSum.fill(0);
    const acc = new Float64Array(1);
    const bw = new Float64Array(p);
    for (let b = 0; b < nb; b++) {
      const m = this.factorBlock(b, rows, acc);
      // Li = L^-1 (lower); e~ = y~ - X~ beta, then V^-1 X = L^-T X~ (into B), V^-1 r = L^-T e~ (into U).
      for (let c = 0; c < m; c++) {
        for (let a = c; a < m; a++) {
          let s = a === c ? 1 : 0;
          for (let k = c; k < a; k++) s -= V[a * m + k] * Li[k * m + c];
          Li[a * m + c] = s / V[a * m + a];
        }
      }
      for (let a = 0; a < m; a++) {
        let s = yw[a];
        for (let j = 0; j < p; j++) s -= Xw[a * p + j] * beta[j];
        yw[a] = s;
      }
      for (let a = 0; a < m; a++) {
        let s = 0;
        for (let k = a; k < m; k++) s += Li[k * m + a] * yw[k];
        U[a] = s;
        for (let j = 0; j < p; j++) {
          let t = 0;
          for (let k = a; k < m; k++) t += Li[k * m + a] * Xw[k * p + j];
          B[a * p + j] = t;
        }
      }
      // With G = GL' GL: B G B' = (B GL')(B GL')'. Overwrite B by B GL' (row by row).
      if (reml) {
        for (let a = 0; a < m; a++) {
          for (let i = 0; i < p; i++) {
            let s = 0;
            for (let j = 0; j <= i; j++) s += B[a * p + j] * GL[i * p + j];
            bw[i] = s;
          }
          for (let i = 0; i < p; i++) B[a * p + i] = bw[i];
        }
      }
      // M (lower triangle) into V: V^-1 - B G B' - c e e'.
      for (let a = 0; a < m; a++) {
        for (let c = 0; c <= a; c++) {
          let s = 0;
          for (let k = a; k < m; k++) s += Li[k * m + a] * Li[k * m + c];
          if (reml) for (let j = 0; j < p; j++) s -= B[a * p + j] * B[c * p + j];
          s -= cres * U[a] * U[c];
          V[a * m + c] = s;
        }
      }
      // Variance functions: q_a = 2 sum_b M_ab R_ab (R is block diagonal by groups).
      for (let a = 0; a < m; a++) {
        let s = 0;
        for (let c = 0; c <= a; c++) s += V[a * m + c] * R[a * m + c];
        for (let c = a + 1; c < m; c++) s += V[c * m + a] * R[c * m + a];
        qv[rows[a]] = 2 * s;
      }
      // Correlation: P_ab = M_ab s_a s_b per group, kept for the differences below.
      if (st) {
        const occ = this.res.layout.occasion, nOcc = this.res.layout.nOcc, os = this.occSum;
        let pos = 0;
        for (let e = this.bptr[b]; e < this.bptr[b + 1]; e++) {
          const g = this.bgrp[e], mg = gptr[g + 1] - gptr[g], o = poff[g];
          for (let a = 0; a < mg; a++) {
            const ra = rows[pos + a];
            for (let c = 0; c < a; c++) {
              const rc = rows[pos + c], v = V[(pos + a) * m + pos + c] * sd[ra] * sd[rc];
              if (this.rep) os[occ![ra] * nOcc + occ![rc]] += v;
              else if (st.kind === "cs") os[0] += v;
              else pbuf[o + a * mg + c] = v;
            }
          }
          pos += mg;
        }
      }
      // theta: U_t = sum over same-level pairs of z_a M_ab z_b'.
      addSameLevelPairs(remats, this.Us, rows, 0, m, V);
    }
    // theta: df/dLambda_ij = 2 (U Lambda)_ij, in the template's (column-major lower) order.
    thetaGradient(remats, this.lambdas, this.Us, grad);
    const eta = x.subarray(this.nTheta);
    const lay = this.res.layout;
    // Variance functions: d log s / d eta by central differences of each function's own ratios.
    let off = lay.nCorr;
    const tmp = this.tmp;
    for (const v of this.res.vars) {
      const e = Float64Array.from(eta.subarray(off, off + v.nPar));
      if (v.gradLog) {
        // Prior weights scale the SDs by constants: they leave d log s unchanged.
        v.gradLog(e, qv, grad.subarray(this.nTheta + off, this.nTheta + off + v.nPar));
        off += v.nPar;
        continue;
      }
      for (let j = 0; j < v.nPar; j++) {
        const h = FD * Math.max(1, Math.abs(e[j])), e0 = e[j];
        e[j] = e0 + h;
        tmp.fill(1);
        v.apply(e, tmp);
        let s = 0;
        for (let i = 0; i < this.n; i++) s += qv[i] * Math.log(tmp[i]);
        e[j] = e0 - h;
        tmp.fill(1);
        v.apply(e, tmp);
        for (let i = 0; i < this.n; i++) s -= qv[i] * Math.log(tmp[i]);
        e[j] = e0;
        grad[this.nTheta + off + j] = s / (2 * h);
      }
      off += v.nPar;
    }
    // Correlation: 2 sum_(a > b) P_ab dC_ab by central differences of the structure's entries.
    if (st) {
      const nc = lay.nCorr, ec = Float64Array.from(eta.subarray(0, nc)), C = this.Cg;
      const ng = gptr.length - 1;
      const contract = (): number => {
        let s = 0;
        if (st.kind === "cs") return 2 * this.occSum[0] * st.rho();
        if (this.rep) {
          const no = lay.nOcc, os = this.occSum;
          this.fillRows(this.rep, 0, no, C);
          for (let a = 1; a < no; a++) for (let c = 0; c < a; c++) s += os[a * no + c] * C[a * no + c];
          return 2 * s;
        }
        for (let g = 0; g < ng; g++) {
          const mg = gptr[g + 1] - gptr[g];
          if (mg < 2) continue;
          this.fillCorr(g, C);
          const o = poff[g];
          for (let a = 1; a < mg; a++) for (let c = 0; c < a; c++) s += pbuf[o + a * mg + c] * C[a * mg + c];
        }
        return 2 * s;
      };
      for (let j = 0; j < nc; j++) {
        const h = FD * Math.max(1, Math.abs(ec[j])), e0 = ec[j];
        ec[j] = e0 + h;
        const okp = st.set(ec);
        const fp = okp ? contract() : NaN;
        ec[j] = e0 - h;
        const okm = st.set(ec);
        const fm = okm ? contract() : NaN;
        ec[j] = e0;
        grad[this.nTheta + j] = (fp - fm) / (2 * h);
      }
      st.set(ec);
    }
  }
}

/** theta with each template column's sign chosen so that its diagonal is nonnegative (V is unchanged). */
export function canonicalTheta(prep: PreparedModel, theta: Float64Array): Float64Array {
  const out = Float64Array.from(theta);
  for (const r of prep.model.remats) {
    let k = r.thetaOffset;
    for (let j = 0; j < r.q; j++) {
      const len = r.q - j;
      if (out[k] < 0) for (let i = 0; i < len; i++) out[k + i] = -out[k + i];
      k += len;
    }
  }
  return out;
}
