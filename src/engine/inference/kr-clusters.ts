// Kenward–Roger's sums (X'S^-1X, P_r, Q_rs and tr(S^-1 G_r S^-1 G_s), kr.ts) over independent
// clusters, never an n x n matrix. The rows split into clusters that share no random-effect level
// and no residual group (union-find), so S = Z D Z' + sigma^2 R is block diagonal by cluster and
// every sum is a sum of cluster terms. Within a cluster (n_c rows, q_c random effects touched) R
// is block diagonal by residual group (a few rows each), and S^-1 comes from Woodbury:
//   sigma^2 S^-1 = M = R^-1 - R^-1 Z H Z' R^-1,  H = Λ (I + Λ'Z'R^-1 Z Λ)^-1 Λ',
// with D = sigma^2 Λ Λ' (Λ from the fit's templates, so a singular fit needs no inverse of D).
// The covariance parameters and their G_r = dS/d gamma_r:
//   - each element (i <= j) of each term's covariance: G = Z (I ⊗ E_ij) Z' (pbkrtest's);
//   - sigma^2: G = R;
//   - each natural residual parameter psi_k (model/residual-blocks.ts): G = sigma^2 dR/d psi_k.
// With U = M X, A_r = G_r U, B_r = M A_r, S_r = G_r R^-1 Z, C_r = Z'R^-1 S_r:
//   X'S^-1X = U'X / s2,  P_r = -U'A_r / s4,  Q_rs = A_r'B_s / s6,
//   tr(S^-1G_rS^-1G_s) = [tr(R^-1G_rR^-1G_s) - 2 tr(H S_r'R^-1 S_s) + tr(H C_r H C_s)] / s4,
// each in matrices of n_c x (p or q_c) and q_c x q_c. Cost per cluster about
// g^2 n_c (p^2 + q_c^2) + sum_groups m^3 (g parameters); the work arrays are sized once for the
// largest cluster, so the loop over clusters allocates nothing.
import type { LmmFit } from "../model/prepared";
import { DataError } from "../errors";
import { residualBlocks } from "../model/residual-blocks";
import { cholLower } from "../linalg/dense";

/** Largest residual group (rows) whose dense block is formed. */
export const KR_MAX_GROUP = 1000;

export interface KrPieces {
  g: number;
  /** X' S^-1 X (p x p). */
  XtSX: Float64Array;
  P: Float64Array[];
  /** Q[r][s] for r <= s. */
  Q: Float64Array[][];
  /** tr(S^-1 G_r S^-1 G_s), g x g. */
  Kt: Float64Array;
}

interface Layout {
  /** Units (residual groups, or single rows): rows urows[uptr[u] .. uptr[u+1]). */
  uptr: Int32Array;
  urows: Int32Array;
  /** Clusters: units cunits[cptr[c] .. cptr[c+1]). */
  cptr: Int32Array;
  cunits: Int32Array;
}

function find(par: Int32Array, x: number): number {
  while (par[x] !== x) {
    par[x] = par[par[x]];
    x = par[x];
  }
  return x;
}

/** The units and the clusters of a fit (rows linked by a shared level or residual group). */
function layoutOf(fit: LmmFit): Layout {
  const n = fit.design.n;
  const res = fit.residual?.res ?? null;
  let uptr: Int32Array, urows: Int32Array;
  if (res && res.layout.type !== null) {
    uptr = res.layout.gptr;
    urows = res.layout.grows;
  } else {
    // No correlation: every row is its own unit (varIdent alone is diagonal).
    uptr = Int32Array.from({ length: n + 1 }, (_, i) => i);
    urows = Int32Array.from({ length: n }, (_, i) => i);
  }
  const nu = uptr.length - 1;
  const unitOf = new Int32Array(n);
  for (let u = 0; u < nu; u++) for (let e = uptr[u]; e < uptr[u + 1]; e++) unitOf[urows[e]] = u;
  const par = Int32Array.from({ length: nu }, (_, i) => i);
  for (const r of fit.model.remats) {
    const first = new Int32Array(r.ell).fill(-1);
    for (let i = 0; i < n; i++) {
      const l = r.refs[i];
      if (first[l] === -1) first[l] = unitOf[i];
      else {
        const a = find(par, first[l]), b = find(par, unitOf[i]);
        if (a !== b) par[b] = a;
      }
    }
  }
  const root = new Int32Array(nu);
  const id = new Int32Array(nu).fill(-1);
  let nc = 0;
  for (let u = 0; u < nu; u++) {
    const rt = find(par, u);
    if (id[rt] === -1) id[rt] = nc++;
    root[u] = id[rt];
  }
  const cptr = new Int32Array(nc + 1);
  for (let u = 0; u < nu; u++) cptr[root[u] + 1]++;
  for (let c = 0; c < nc; c++) cptr[c + 1] += cptr[c];
  const fillp = cptr.slice(0, nc);
  const cunits = new Int32Array(nu);
  for (let u = 0; u < nu; u++) cunits[fillp[root[u]]++] = u;
  return { uptr, urows, cptr, cunits };
}

/** Per cluster: rows and random effects touched, for sizing and the cost check. */
export interface ClusterSizes {
  nMax: number;
  qMax: number;
  mMax: number;
  /** Estimated multiply-adds of the whole computation. */
  work: number;
  clusters: number;
}

/** C = A B (m x k times k x n), or C += alpha A B with acc. */
function mm(A: Float64Array, B: Float64Array, C: Float64Array, m: number, k: number, n: number, alpha = 1, acc = false): void {
  if (!acc) C.fill(0, 0, m * n);
  for (let i = 0; i < m; i++) {
    const co = i * n;
    for (let l = 0; l < k; l++) {
      const a = alpha * A[i * k + l];
      if (a === 0) continue;
      const bo = l * n;
      for (let j = 0; j < n; j++) C[co + j] += a * B[bo + j];
    }
  }
}

/** C = A' B (A k x m, B k x n), or C += alpha A'B with acc. */
function mtm(A: Float64Array, B: Float64Array, C: Float64Array, k: number, m: number, n: number, alpha = 1, acc = false): void {
  if (!acc) C.fill(0, 0, m * n);
  for (let l = 0; l < k; l++) {
    const ao = l * m, bo = l * n;
    for (let i = 0; i < m; i++) {
      const a = alpha * A[ao + i];
      if (a === 0) continue;
      const co = i * n;
      for (let j = 0; j < n; j++) C[co + j] += a * B[bo + j];
    }
  }
}

/** tr(A B) for square n x n A, B. */
function trAB(A: Float64Array, B: Float64Array, n: number): number {
  let s = 0;
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) s += A[i * n + j] * B[j * n + i];
  return s;
}

/** The clusters of a fit and their sizes (for the cost check, before any arithmetic). */
export function clusterSizes(fit: LmmFit): ClusterSizes & { layout: Layout } {
  const layout = layoutOf(fit);
  const { uptr, cptr, cunits, urows } = layout;
  const remats = fit.model.remats;
  const p = fit.design.p;
  const nres = fit.residual?.res.nPar ?? 0;
  const g = remats.reduce((s, r) => s + (r.q * (r.q + 1)) / 2, 0) + 1 + nres;
  const seen = remats.map((r) => new Int32Array(r.ell).fill(-1));
  let nMax = 0, qMax = 0, mMax = 0, work = 0;
  const nc = cptr.length - 1;
  for (let c = 0; c < nc; c++) {
    let rows = 0, q = 0, cube = 0;
    for (let e = cptr[c]; e < cptr[c + 1]; e++) {
      const u = cunits[e], m = uptr[u + 1] - uptr[u];
      rows += m;
      cube += m * m * m * (1 + nres) + m * m * nres * nres;
      mMax = Math.max(mMax, m);
      for (let x = uptr[u]; x < uptr[u + 1]; x++) {
        const row = urows[x];
        remats.forEach((r, t) => {
          const l = r.refs[row];
          if (seen[t][l] !== c) {
            seen[t][l] = c;
            q += r.q;
          }
        });
      }
    }
    nMax = Math.max(nMax, rows);
    qMax = Math.max(qMax, q);
    work += cube + g * g * rows * (p * p + q * q) + g * rows * (p + q) * (q + 1) + q * q * q;
  }
  return { nMax, qMax, mMax, work, clusters: nc, layout };
}

/** The sums of kr.ts for a REML fit at its estimates (the caller has restored the model there). */
export function clusterPieces(fit: LmmFit, sizes: ReturnType<typeof clusterSizes>): KrPieces {
  const { design, model } = fit;
  const { n, p, X } = design;
  const remats = model.remats;
  const { uptr, urows, cptr, cunits } = sizes.layout;
  const { nMax, qMax, mMax } = sizes;
  const s2 = model.pwrss / (n - p), s4 = s2 * s2, s6 = s4 * s2;
  const res = fit.residual?.res ?? null;
  const blocks = res && (res.layout.type !== null || res.nPar > 0) ? residualBlocks(res, fit.eta) : null;
  const nres = blocks?.nPar ?? 0;
  if (mMax > KR_MAX_GROUP) throw new DataError(`Kenward-Roger is computed here for residual groups of up to ${KR_MAX_GROUP} rows; the largest group has ${mMax}: use ddf satterthwaite`);
  // Parameters: term covariance elements, sigma^2, residual parameters.
  const dTerm: number[] = [], dI: number[] = [], dJ: number[] = [];
  remats.forEach((r, t) => {
    for (let i = 0; i < r.q; i++) for (let j = i; j < r.q; j++) {
      dTerm.push(t);
      dI.push(i);
      dJ.push(j);
    }
  });
  const nd = dTerm.length;
  const iSig = nd;
  const g = nd + 1 + nres;
  const XtSX = new Float64Array(p * p);
  const P = Array.from({ length: g }, () => new Float64Array(p * p));
  const Q = Array.from({ length: g }, (_, r) => Array.from({ length: g }, (_, s) => (s >= r ? new Float64Array(p * p) : new Float64Array(0))));
  const Kt = new Float64Array(g * g);

  // Work arrays for the largest cluster.
  const np = nMax * p, nq = nMax * Math.max(qMax, 1), qq = Math.max(qMax * qMax, 1), qp = Math.max(qMax, 1) * p;
  const Xc = new Float64Array(np), Zc = new Float64Array(nq), Rx = new Float64Array(np), Rz = new Float64Array(nq), U = new Float64Array(np);
  const A = new Float64Array(qq), Lam = new Float64Array(qq), K = new Float64Array(qq), LA = new Float64Array(qq), Y = new Float64Array(qq), H = new Float64Array(qq);
  const Bzx = new Float64Array(qp), HB = new Float64Array(qp), Zu = new Float64Array(qp), tqp = new Float64Array(qp), tqp2 = new Float64Array(qp);
  const tnp = new Float64Array(np), tqq = new Float64Array(qq), tqq2 = new Float64Array(qq), tpp = new Float64Array(p * p);
  const Ar = Array.from({ length: g }, () => new Float64Array(np));
  const Br = Array.from({ length: g }, () => new Float64Array(np));
  const Sr = Array.from({ length: g }, () => new Float64Array(nq));
  const Tr = Array.from({ length: g }, () => new Float64Array(nq));
  const Cr = Array.from({ length: g }, () => new Float64Array(qq));
  const EA = Array.from({ length: nd }, () => new Float64Array(qq));
  // Residual blocks of the cluster: R^-1 and dR_k per unit, at running offsets.
  const Ri = new Float64Array(nMax * Math.max(mMax, 1));
  const dR = Array.from({ length: nres }, () => new Float64Array(nMax * Math.max(mMax, 1)));
  const Rscr = new Float64Array(Math.max(mMax * mMax, 1));
  const Mk = Array.from({ length: nres }, () => new Float64Array(Math.max(mMax * mMax, 1)));
  const trRiG = new Float64Array(nres), trEta = new Float64Array(nres * nres);
  // Per cluster unit table: local row offset, size, block offset.
  const uRow = new Int32Array(nMax + 1), uSize = new Int32Array(nMax + 1), uBlk = new Int32Array(nMax + 1);
  // Local random-effect columns: slot of each level of each term, and the levels per term.
  const slot = remats.map((r) => new Int32Array(r.ell).fill(-1));
  const levOff = remats.map(() => new Int32Array(Math.max(qMax, 1)));
  const levCount = new Int32Array(remats.length);
  const touched: number[][] = remats.map(() => []);

  /** dst = B src over the cluster's units (B: per unit m x m at uBlk), src/dst nc x w. */
  const applyBlocks = (Bk: Float64Array, nu: number, src: Float64Array, w: number, dst: Float64Array, alpha = 1): void => {
    for (let u = 0; u < nu; u++) {
      const o = uRow[u], m = uSize[u], bo = uBlk[u];
      for (let a = 0; a < m; a++) {
        const da = (o + a) * w;
        for (let j = 0; j < w; j++) dst[da + j] = 0;
        for (let b = 0; b < m; b++) {
          const v = alpha * Bk[bo + a * m + b];
          if (v === 0) continue;
          const sb = (o + b) * w;
          for (let j = 0; j < w; j++) dst[da + j] += v * src[sb + j];
        }
      }
    }
  };
  /** out = E_d Y for a covariance-element parameter d (Y: qc x w). */
  const applyE = (d: number, Yin: Float64Array, w: number, out: Float64Array, qc: number): void => {
    out.fill(0, 0, qc * w);
    const t = dTerm[d], i = dI[d], j = dJ[d];
    const offs = levOff[t];
    for (let l = 0; l < levCount[t]; l++) {
      const o = offs[l];
      for (let c = 0; c < w; c++) out[(o + i) * w + c] += Yin[(o + j) * w + c];
      if (i !== j) for (let c = 0; c < w; c++) out[(o + j) * w + c] += Yin[(o + i) * w + c];
    }
  };

  const nClusters = cptr.length - 1;
  for (let c = 0; c < nClusters; c++) {
    // Rows, local columns, residual blocks.
    let nc = 0, qc = 0, nu = 0, bOff = 0;
    for (let e = cptr[c]; e < cptr[c + 1]; e++) {
      const u = cunits[e], m = uptr[u + 1] - uptr[u];
      uRow[nu] = nc;
      uSize[nu] = m;
      uBlk[nu] = bOff;
      for (let x = 0; x < m; x++) {
        const row = urows[uptr[u] + x];
        remats.forEach((r, t) => {
          const l = r.refs[row];
          if (slot[t][l] === -1) {
            slot[t][l] = qc;
            levOff[t][levCount[t]++] = qc;
            touched[t].push(l);
            qc += r.q;
          }
        });
      }
      if (blocks) {
        blocks.fill(urows, uptr[u], m, Rscr, dR, bOff);
      } else Rscr[0] = 1;
      // R^-1 of the unit.
      if (!cholLower(Rscr, m)) throw new DataError("Kenward-Roger: a residual covariance block is not positive definite at the estimates");
      invertFromChol(Rscr, m, Ri, bOff);
      nc += m;
      bOff += m * m;
      nu++;
    }
    // X_c, Z_c (rows in unit order).
    Zc.fill(0, 0, nc * qc);
    let lr = 0;
    for (let x = 0; x < nu; x++) {
      const u = cunits[cptr[c] + x];
      for (let e = uptr[u]; e < uptr[u + 1]; e++, lr++) {
        const row = urows[e];
        for (let j = 0; j < p; j++) Xc[lr * p + j] = X[row * p + j];
        remats.forEach((r, t) => {
          const o = slot[t][r.refs[row]];
          for (let a = 0; a < r.q; a++) Zc[lr * qc + o + a] = r.z[row * r.q + a];
        });
      }
    }
    // Λ_c.
    Lam.fill(0, 0, qc * qc);
    remats.forEach((r, t) => {
      const T = model.T[t], q = r.q;
      for (let l = 0; l < levCount[t]; l++) {
        const o = levOff[t][l];
        for (let a = 0; a < q; a++) for (let b = 0; b <= a; b++) Lam[(o + a) * qc + o + b] = T[a * q + b];
      }
    });
    applyBlocks(Ri, nu, Xc, p, Rx);
    if (qc > 0) applyBlocks(Ri, nu, Zc, qc, Rz);
    // A = Z'R^-1 Z, Bzx = Z'R^-1 X; K = I + Λ'AΛ; H = Λ K^-1 Λ'.
    if (qc > 0) {
      mtm(Zc, Rz, A, nc, qc, qc);
      mtm(Rz, Xc, Bzx, nc, qc, p);
      mtm(Lam, A, LA, qc, qc, qc);
      mm(LA, Lam, K, qc, qc, qc);
      for (let i = 0; i < qc; i++) K[i * qc + i] += 1;
      if (!cholLower(K, qc)) throw new DataError("Kenward-Roger: a covariance matrix is not positive definite at the estimates");
      // Row a of Y = Λ K^-1: solve K y = (row a of Λ).
      for (let a = 0; a < qc; a++) {
        for (let b = 0; b < qc; b++) Y[a * qc + b] = Lam[a * qc + b];
        cholSolveRow(K, qc, Y, a * qc);
      }
      // H = Y Λ'.
      for (let a = 0; a < qc; a++) for (let b = 0; b < qc; b++) {
        let s = 0;
        for (let e = 0; e < qc; e++) s += Y[a * qc + e] * Lam[b * qc + e];
        H[a * qc + b] = s;
      }
      mm(H, Bzx, HB, qc, qc, p);
      // U = R^-1 X - R^-1 Z H Bzx; Zu = Z'U = Bzx - A HB.
      mm(Rz, HB, U, nc, qc, p);
      for (let i = 0; i < nc * p; i++) U[i] = Rx[i] - U[i];
      mm(A, HB, Zu, qc, qc, p);
      for (let i = 0; i < qc * p; i++) Zu[i] = Bzx[i] - Zu[i];
    } else {
      U.set(Rx.subarray(0, nc * p));
    }
    mtm(U, Xc, XtSX, nc, p, p, 1 / s2, true);
    // A_r, S_r, then B_r = M A_r, T_r = R^-1 S_r, C_r = Z'R^-1 S_r.
    for (let r = 0; r < g; r++) {
      const Arr = Ar[r], Srr = Sr[r];
      if (r < nd) {
        applyE(r, Zu, p, tqp, qc);
        mm(Zc, tqp, Arr, nc, qc, p);
        applyE(r, A, qc, EA[r], qc);
        mm(Zc, EA[r], Srr, nc, qc, qc);
      } else if (r === iSig) {
        // G = R: A = R U = X - Z H Bzx, S = R R^-1 Z = Z.
        if (qc > 0) {
          mm(Zc, HB, Arr, nc, qc, p);
          for (let i = 0; i < nc * p; i++) Arr[i] = Xc[i] - Arr[i];
        } else Arr.set(Xc.subarray(0, nc * p));
        Srr.set(Zc.subarray(0, nc * qc));
      } else {
        const k = r - nd - 1;
        applyBlocks(dR[k], nu, U, p, Arr, s2);
        if (qc > 0) applyBlocks(dR[k], nu, Rz, qc, Srr, s2);
      }
      // B = R^-1 A - R^-1 Z H (Z'R^-1 A).
      applyBlocks(Ri, nu, Arr, p, Br[r]);
      if (qc > 0) {
        mtm(Rz, Arr, tqp, nc, qc, p);
        mm(H, tqp, tqp2, qc, qc, p);
        mm(Rz, tqp2, tnp, nc, qc, p);
        for (let i = 0; i < nc * p; i++) Br[r][i] -= tnp[i];
        if (r === iSig) Tr[r].set(Rz.subarray(0, nc * qc));
        else applyBlocks(Ri, nu, Srr, qc, Tr[r]);
        mtm(Rz, Srr, Cr[r], nc, qc, qc);
      }
      mtm(U, Arr, P[r], nc, p, p, -1 / s4, true);
    }
    // Traces of the residual blocks: tr(R^-1 dR_k) and tr(R^-1 dR_k R^-1 dR_l).
    trRiG.fill(0);
    trEta.fill(0);
    for (let u = 0; u < nu; u++) {
      const m = uSize[u], bo = uBlk[u];
      for (let k = 0; k < nres; k++) {
        const Mkk = Mk[k];
        for (let a = 0; a < m; a++) for (let b = 0; b < m; b++) {
          let s = 0;
          for (let e = 0; e < m; e++) s += Ri[bo + a * m + e] * dR[k][bo + e * m + b];
          Mkk[a * m + b] = s;
        }
        for (let a = 0; a < m; a++) trRiG[k] += Mkk[a * m + a];
      }
      for (let k = 0; k < nres; k++) for (let l = k; l < nres; l++) trEta[k * nres + l] += trAB(Mk[k], Mk[l], m);
    }
    for (let r = 0; r < g; r++) {
      for (let s = r; s < g; s++) {
        mtm(Ar[r], Br[s], tpp, nc, p, p);
        const Qrs = Q[r][s];
        for (let i = 0; i < p * p; i++) Qrs[i] += tpp[i] / s6;
        // tr(R^-1 G_r R^-1 G_s).
        let t0: number;
        if (r < nd && s < nd) t0 = trAB(EA[r], EA[s], qc);
        else if (r < nd) t0 = trEa(r, Cr[s], qc);
        else if (r === iSig && s === iSig) t0 = nc;
        else if (r === iSig) t0 = s2 * trRiG[s - nd - 1];
        else t0 = s4 * trEta[(r - nd - 1) * nres + (s - nd - 1)];
        let t = t0;
        if (qc > 0) {
          mtm(Sr[r], Tr[s], tqq, nc, qc, qc);
          t -= 2 * trAB(H, tqq, qc);
          mm(H, Cr[r], tqq, qc, qc, qc);
          mm(H, Cr[s], tqq2, qc, qc, qc);
          t += trAB(tqq, tqq2, qc);
        }
        Kt[r * g + s] += t / s4;
      }
    }
    for (let t = 0; t < remats.length; t++) {
      for (const l of touched[t]) slot[t][l] = -1;
      touched[t].length = 0;
      levCount[t] = 0;
    }
  }
  for (let r = 0; r < g; r++) for (let s = 0; s < r; s++) Kt[r * g + s] = Kt[s * g + r];
  return { g, XtSX, P, Q, Kt };

  /** tr(E_d C) for a covariance-element parameter d. */
  function trEa(d: number, C: Float64Array, qc: number): number {
    const t = dTerm[d], i = dI[d], j = dJ[d];
    let s = 0;
    for (let l = 0; l < levCount[t]; l++) {
      const o = levOff[t][l];
      s += C[(o + j) * qc + o + i];
      if (i !== j) s += C[(o + i) * qc + o + j];
    }
    return s;
  }
}

/** Solve (L L') x = b in place for the row b at off (L: the lower factor in `L`). */
function cholSolveRow(L: Float64Array, n: number, x: Float64Array, off: number): void {
  for (let i = 0; i < n; i++) {
    let s = x[off + i];
    for (let k = 0; k < i; k++) s -= L[i * n + k] * x[off + k];
    x[off + i] = s / L[i * n + i];
  }
  for (let i = n - 1; i >= 0; i--) {
    let s = x[off + i];
    for (let k = i + 1; k < n; k++) s -= L[k * n + i] * x[off + k];
    x[off + i] = s / L[i * n + i];
  }
}

/** (L L')^-1 into out at off (m x m, row-major), column by column. */
function invertFromChol(L: Float64Array, m: number, out: Float64Array, off: number): void {
  for (let j = 0; j < m; j++) {
    for (let i = 0; i < m; i++) out[off + j * m + i] = i === j ? 1 : 0;
    cholSolveRow(L, m, out, off + j * m);
  }
}
