// Kenward–Roger (1997) as pbkrtest computes it (vcovAdj, KRmodcomp; SAS DDFM=KR for a linear
// covariance): Sigma = sum_r gamma_r G_r with one G_r = Z (I ⊗ E_ij) Z' per element of each
// random term's covariance and G = I for sigma^2; P_r = -X'S^-1 G_r S^-1 X,
// Q_rs = X'S^-1 G_r S^-1 G_s S^-1 X, expected information IE2_rs = tr(S^-1G_rS^-1G_s) - 2 tr(Phi Q_rs)
// + tr(Phi P_r Phi P_s), W = 2 IE2^-1, Phi_A = Phi + 2 Phi U Phi with U = sum W_rs (Q_rs - P_r Phi P_s);
// then the F scaling and df of KRmodcomp (research/lmm-algorithms.md §5.2).
//
// No n x n matrix: with S = sigma^2 (I + Z Λ Λ' Z') (Λ the relative factor), every quantity is a
// product of the cross-products Z'Z, Z'X, X'X (one pass over the rows) through Woodbury's
// identity, in dense matrices of the random-effects dimension Q (limited to MAX_Q).
import type { LmmFit } from "../model/prepared";
import { DataError } from "../errors";
import { fixedEffects } from "../model/solve";
import { restore } from "./fixef";
import { cholLower, invFromChol } from "../linalg/dense";
import { EigenvalueDecomposition, Matrix } from "ml-matrix";
import { pFUpper } from "./dist";
import type { FRow } from "./ddf";
import { KrPieces, clusterPieces, clusterSizes } from "./kr-clusters";
import { structuredPieces } from "./kr-structured";
import { zeroResidualNote } from "../model/re-cov/report";

/** Largest random-effects dimension for which the dense Q x Q algebra is done (about 18 MB a matrix). */
export const KR_MAX_Q = 1500;

export interface KrContext {
  p: number;
  beta: Float64Array;
  sigma: number;
  Phi: Float64Array;
  PhiA: Float64Array;
  P: Float64Array[];
  W: Float64Array;
  g: number;
}

type Mat = Float64Array;

function mul(A: Mat, B: Mat, m: number, k: number, n: number): Mat {
  const C = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let l = 0; l < k; l++) {
      const a = A[i * k + l];
      if (a === 0) continue;
      const bo = l * n, co = i * n;
      for (let j = 0; j < n; j++) C[co + j] += a * B[bo + j];
    }
  }
  return C;
}

function tmul(A: Mat, B: Mat, k: number, m: number, n: number): Mat {
  // A' B with A k x m, B k x n.
  const C = new Float64Array(m * n);
  for (let l = 0; l < k; l++) {
    for (let i = 0; i < m; i++) {
      const a = A[l * m + i];
      if (a === 0) continue;
      for (let j = 0; j < n; j++) C[i * n + j] += a * B[l * n + j];
    }
  }
  return C;
}

function symInv(A: Mat, n: number): Mat {
  const L = Float64Array.from(A);
  if (!cholLower(L, n)) throw new DataError("Kenward-Roger: a covariance matrix is not positive definite at the estimates");
  return invFromChol(L, n);
}

function ginvSym(A: Mat, n: number): { inv: Mat; minAbsEig: number } {
  const e = new EigenvalueDecomposition(new Matrix(Array.from({ length: n }, (_, i) => Array.from(A.subarray(i * n, i * n + n)))), { assumeSymmetric: true });
  const vals = e.realEigenvalues, V = e.eigenvectorMatrix;
  const minAbsEig = Math.min(...vals.map(Math.abs));
  const maxAbs = Math.max(...vals.map(Math.abs));
  const out = new Float64Array(n * n);
  for (let k = 0; k < n; k++) {
    // MASS::ginv's tolerance: sqrt(eps) relative to the largest singular value.
    if (!(Math.abs(vals[k]) > 1.4901161193847656e-8 * maxAbs)) continue;
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) out[i * n + j] += (V.get(i, k) * V.get(j, k)) / vals[k];
  }
  return { inv: out, minAbsEig };
}

/** The variance parameters' G_r = Z S_r Z': the (a, b) index pairs of S_r (both orders off the diagonal). */
interface Param {
  pairs: Int32Array;
}

/** Estimated multiply-adds above which Kenward-Roger is refused (about a minute here). */
export const KR_MAX_WORK = 3e10;

/**
 * The Kenward–Roger pieces at a REML fit's optimum. The sums come from the independent clusters
 * of the rows (kr-clusters.ts: any residual structure, nested random effects, a million rows);
 * crossed random effects without a residual structure, where the whole data set is one cluster,
 * use the dense Q x Q algebra below instead when that is cheaper.
 */
export function krContext(fit: LmmFit, path?: "clusters" | "dense"): KrContext {
  // One fit's pieces serve its t tests, F tests and means (the pane's summary asks for all of
  // them): they depend on the optimum only, so they are kept with the fit object.
  if (!path) {
    const hit = krMemo.get(fit);
    if (hit) return hit;
    const ctx = krContextNow(fit);
    krMemo.set(fit, ctx);
    return ctx;
  }
  return krContextNow(fit, path);
}

const krMemo = new WeakMap<LmmFit, KrContext>();

function krContextNow(fit: LmmFit, path?: "clusters" | "dense"): KrContext {
  if (fit.method !== "REML") {
    throw new DataError("Kenward-Roger df need a REML fit (as pbkrtest and lmerTest): use method REML, or ddf satterthwaite, residual or containment for an ML fit");
  }
  const { design, model } = fit;
  const { n, p } = design;
  if (n - p <= 0) throw new DataError("Kenward-Roger df need more rows than fixed-effect columns");
  // A cs / ar1 / ... term: the pieces in its covariance's elements, carried to its own parameters.
  const structured = model.remats.some((r) => r.structure.type !== "us");
  if (structured && zeroResidualNote(model.remats, fit.theta, model.remats.map((r) => r.label))) {
    // sigma at its bound 0 (the structure explains all within-group variation): at a boundary the
    // adjustment depends on how the covariance is written, so there is no one answer to give.
    throw new DataError("Kenward-Roger is not defined here: the residual SD is estimated as (nearly) 0 beside the structured random term (a boundary of the parameter space, where its adjustment depends on how the model is written); fit the simpler model the note names, or use ddf satterthwaite");
  }
  restore(fit);
  const sizes = clusterSizes(fit);
  const Q = model.remats.reduce((s, r) => s + r.ell * r.q, 0);
  const denseWork = n * Q + Q * Q * Q * 8;
  let pieces: KrPieces;
  const dense = path ? path === "dense" : !fit.residual && sizes.work > denseWork && Q <= KR_MAX_Q;
  if (dense && fit.residual) throw new DataError("the dense Kenward-Roger path has no residual structure");
  if (dense) pieces = densePieces(fit);
  else {
    if (sizes.work > KR_MAX_WORK) {
      throw new DataError(`Kenward-Roger would take too long here: the rows form ${sizes.clusters === 1 ? "one linked block" : `${sizes.clusters} independent blocks, the largest`} of ${sizes.nMax} rows and ${sizes.qMax} random effects (crossed factors link them); use ddf satterthwaite`);
    }
    pieces = clusterPieces(fit, sizes);
  }
  if (structured) pieces = structuredPieces(fit, pieces);
  restore(fit);
  const sigma2 = model.pwrss / (n - p);
  const beta = fixedEffects(model);
  return finish(p, beta, Math.sqrt(sigma2), pieces, !!fit.residual);
}

/** Phi, W and the adjusted Phi_A from the sums (pbkrtest's vcovAdj). */
function finish(p: number, beta: Float64Array, sigma: number, pieces: KrPieces, residual: boolean): KrContext {
  const { g, XtSX, P: Pm, Q: QQ, Kt } = pieces;
  const Phi = symInv(XtSX, p);
  const PhiP = Pm.map((P) => mul(Phi, P, p, p, p));
  const PPhi = Pm.map((P) => mul(P, Phi, p, p, p));
  const IE2 = new Float64Array(g * g);
  for (let r = 0; r < g; r++) {
    for (let s = r; s < g; s++) {
      let a = 0, b = 0;
      const Qrs = QQ[r][s];
      for (let i = 0; i < p * p; i++) {
        a += Phi[i] * Qrs[i];
        b += PhiP[r][i] * PPhi[s][i];
      }
      IE2[r * g + s] = IE2[s * g + r] = Kt[r * g + s] - 2 * a + b;
    }
  }
  // With a residual structure a singular information means parameters the data cannot tell apart
  // (CS and a random intercept on the same groups): the adjustment would depend on how they are
  // written, so it is refused. Without one, pbkrtest's generalized inverse is kept.
  const W = infoInverse(IE2, g, residual ? "Kenward-Roger is not defined here: the covariance parameters are not identifiable from each other (their information matrix is singular; e.g. CS and a random intercept on the same groups describe the same covariance); remove one of them, or use ddf satterthwaite" : null).map((x) => 2 * x);
  const U = new Float64Array(p * p);
  for (let r = 0; r < g; r++) {
    for (let s = r; s < g; s++) {
      const PrPhiPs = mul(PPhi[r], Pm[s], p, p, p);
      const w = W[r * g + s];
      const Qrs = QQ[r][s];
      if (r === s) {
        for (let i = 0; i < p * p; i++) U[i] += w * (Qrs[i] - PrPhiPs[i]);
      } else {
        for (let a = 0; a < p; a++) for (let b = 0; b < p; b++) {
          const v = w * (Qrs[a * p + b] - PrPhiPs[a * p + b]);
          U[a * p + b] += v;
          U[b * p + a] += v;
        }
      }
    }
  }
  const PUP = mul(mul(Phi, U, p, p, p), Phi, p, p, p);
  const PhiA = Phi.map((x, i) => x + 2 * PUP[i]);
  return { p, beta, sigma, Phi, PhiA, P: Pm, W, g };
}


/** The sums in dense Q x Q matrices through Woodbury (models without a residual structure, Q <= KR_MAX_Q). */
function densePieces(fit: LmmFit): KrPieces {
  const { design, model } = fit;
  const { n, p, X } = design;
  const remats = model.remats;
  const offs: number[] = [];
  let Q = 0;
  for (const r of remats) {
    offs.push(Q);
    Q += r.ell * r.q;
  }
  const dof = n - p;
  const sigma2 = model.pwrss / dof;
  // Cross-products A = Z'Z, F = Z'X, Xx = X'X (working-scale Z; the KR result does not depend on
  // a linear reparameterization of the covariance elements).
  const A = new Float64Array(Q * Q), F = new Float64Array(Q * p), Xx = new Float64Array(p * p);
  const idx: number[] = [], val: number[] = [];
  // Prior weights: the model in rows scaled by sqrt(w_i) has iid errors, so the products are
  // weighted (Z'WZ, Z'WX, X'WX) and everything after is unchanged.
  const wts = design.weights ?? null;
  for (let i = 0; i < n; i++) {
    idx.length = 0;
    val.length = 0;
    const sw = wts ? Math.sqrt(wts[i]) : 1;
    remats.forEach((r, t) => {
      const base = offs[t] + r.refs[i] * r.q;
      for (let a = 0; a < r.q; a++) {
        idx.push(base + a);
        val.push(r.z[i * r.q + a] * sw);
      }
    });
    const xo = i * p;
    for (let u = 0; u < idx.length; u++) {
      const ru = idx[u] * Q, vu = val[u];
      for (let w = 0; w < idx.length; w++) A[ru + idx[w]] += vu * val[w];
      for (let j = 0; j < p; j++) F[idx[u] * p + j] += vu * X[xo + j] * sw;
    }
    const w2 = sw * sw;
    for (let a = 0; a < p; a++) for (let b = 0; b < p; b++) Xx[a * p + b] += X[xo + a] * X[xo + b] * w2;
  }
  // Λ (Q x Q, block diagonal of each term's T per level).
  const Lam = new Float64Array(Q * Q);
  remats.forEach((r, t) => {
    const T = model.T[t], q = r.q;
    for (let l = 0; l < r.ell; l++) {
      const o = offs[t] + l * q;
      for (let a = 0; a < q; a++) for (let b = 0; b <= a; b++) Lam[(o + a) * Q + o + b] = T[a * q + b];
    }
  });
  const LtA = tmul(Lam, A, Q, Q, Q);
  const K = mul(LtA, Lam, Q, Q, Q);
  for (let i = 0; i < Q; i++) K[i * Q + i] += 1;
  const Kinv = symInv(K, Q);
  const H = mul(mul(Lam, Kinv, Q, Q, Q), transpose(Lam, Q, Q), Q, Q, Q); // Λ K^-1 Λ'
  const HA = mul(H, A, Q, Q, Q);
  const T1 = new Float64Array(Q * Q);
  for (let i = 0; i < Q * Q; i++) T1[i] = -HA[i];
  for (let i = 0; i < Q; i++) T1[i * Q + i] += 1;
  const T2 = mul(H, F, Q, Q, p);
  const M1 = mul(A, T1, Q, Q, Q); // Z'WZ
  const AT2 = mul(A, T2, Q, Q, p);
  const B1 = F.map((v, i) => v - AT2[i]); // Z'WX
  const M2 = tmul(T1, M1, Q, Q, Q); // Z'W^2Z
  const B2 = tmul(T1, B1, Q, Q, p); // Z'W^2X
  const FtT2 = tmul(F, T2, Q, p, p);
  const X1 = Xx.map((v, i) => v - FtT2[i]);
  const T2tAT2 = tmul(T2, AT2, Q, p, p);
  const X2 = new Float64Array(p * p);
  for (let a = 0; a < p; a++) for (let b = 0; b < p; b++) X2[a * p + b] = Xx[a * p + b] - FtT2[a * p + b] - FtT2[b * p + a] + T2tAT2[a * p + b];
  const T3 = mul(H, B1, Q, Q, p);
  const T23 = T2.map((v, i) => v + T3[i]);
  const FtT23 = tmul(F, T23, Q, p, p);
  const T2tAT23 = tmul(T2, mul(A, T23, Q, Q, p), Q, p, p);
  const X3 = new Float64Array(p * p);
  for (let a = 0; a < p; a++) for (let b = 0; b < p; b++) X3[a * p + b] = Xx[a * p + b] - FtT23[a * p + b] - FtT2[b * p + a] + T2tAT23[a * p + b];
  let trHA = 0, trHAHA = 0;
  for (let i = 0; i < Q; i++) trHA += HA[i * Q + i];
  for (let i = 0; i < Q; i++) for (let j = 0; j < Q; j++) trHAHA += HA[i * Q + j] * HA[j * Q + i];
  const trW2 = n - 2 * trHA + trHAHA;

  // Parameters: each term's covariance elements (i <= j), then sigma^2.
  const params: Param[] = [];
  remats.forEach((r, t) => {
    for (let i = 0; i < r.q; i++) for (let j = i; j < r.q; j++) {
      const pr: number[] = [];
      for (let l = 0; l < r.ell; l++) {
        const a = offs[t] + l * r.q + i, b = offs[t] + l * r.q + j;
        pr.push(a, b);
        if (a !== b) pr.push(b, a);
      }
      params.push({ pairs: Int32Array.from(pr) });
    }
  });
  const g = params.length + 1;
  const res = params.length;
  const s4 = sigma2 * sigma2, s6 = s4 * sigma2;
  // S_r Y for Y (Q x c): row a of the result gets row b of Y for each pair (a, b).
  const applyS = (pr: Param, Y: Mat, c: number): Mat => {
    const out = new Float64Array(Q * c);
    const pp = pr.pairs;
    for (let e = 0; e < pp.length; e += 2) {
      const a = pp[e], b = pp[e + 1];
      for (let j = 0; j < c; j++) out[a * c + j] += Y[b * c + j];
    }
    return out;
  };
  const V = params.map((pr) => applyS(pr, B1, p)); // S_r Z'WX
  const MV = V.map((v) => mul(M1, v, Q, Q, p));
  const Pm: Mat[] = [];
  for (let r = 0; r < g; r++) {
    const P = r === res ? X2.slice() : tmul(B1, V[r], Q, p, p);
    Pm.push(P.map((x) => -x / s4));
  }
  const Qm = (r: number, s: number): Mat => {
    let M: Mat;
    if (r < res && s < res) M = tmul(V[r], MV[s], Q, p, p);
    else if (r < res) M = tmul(V[r], B2, Q, p, p);
    else if (s < res) M = tmul(B2, V[s], Q, p, p);
    else M = X3.slice();
    return M.map((x) => x / s6);
  };
  const Kt = new Float64Array(g * g);
  for (let r = 0; r < g; r++) {
    for (let s = r; s < g; s++) {
      let tr = 0;
      if (r < res && s < res) {
        const pr = params[r].pairs, ps = params[s].pairs;
        for (let e = 0; e < pr.length; e += 2) {
          const a = pr[e], b = pr[e + 1];
          for (let f = 0; f < ps.length; f += 2) tr += M1[b * Q + ps[f]] * M1[ps[f + 1] * Q + a];
        }
      } else if (r < res || s < res) {
        const pr = params[r < res ? r : s].pairs;
        for (let e = 0; e < pr.length; e += 2) tr += M2[pr[e + 1] * Q + pr[e]];
      } else tr = trW2;
      Kt[r * g + s] = Kt[s * g + r] = tr / s4;
    }
  }
  const QQ: Mat[][] = Array.from({ length: g }, () => new Array<Mat>(g));
  for (let r = 0; r < g; r++) for (let s = r; s < g; s++) QQ[r][s] = Qm(r, s);
  return { g, XtSX: X1.map((x) => x / sigma2), P: Pm, Q: QQ, Kt };
}

function transpose(A: Mat, m: number, n: number): Mat {
  const T = new Float64Array(m * n);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) T[j * m + i] = A[i * n + j];
  return T;
}

/**
 * The inverse of the expected information (symmetric, g x g) as pbkrtest: the inverse when it is
 * well conditioned, else the Moore-Penrose inverse. The check is made on the matrix scaled to unit
 * diagonal, so that it does not depend on the units of y or of the covariates (pbkrtest checks the
 * smallest absolute eigenvalue of the unscaled matrix against 1e-10).
 */
function infoInverse(A: Mat, n: number, singularMessage: string | null): Mat {
  const d = new Float64Array(n);
  for (let i = 0; i < n; i++) d[i] = A[i * n + i] > 0 ? 1 / Math.sqrt(A[i * n + i]) : 1;
  const S = A.map((v, k) => v * d[Math.floor(k / n)] * d[k % n]);
  const e = new EigenvalueDecomposition(new Matrix(Array.from({ length: n }, (_, i) => Array.from(S.subarray(i * n, i * n + n)))), { assumeSymmetric: true });
  const vals = e.realEigenvalues, V = e.eigenvectorMatrix;
  const maxAbs = Math.max(...vals.map(Math.abs));
  const full = Math.min(...vals.map(Math.abs)) > 1e-10 * maxAbs;
  if (!full && singularMessage) throw new DataError(singularMessage);
  const out = new Float64Array(n * n);
  for (let k = 0; k < n; k++) {
    if (!full && !(Math.abs(vals[k]) > 1.4901161193847656e-8 * maxAbs)) continue;
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) out[i * n + j] += (V.get(i, k) * V.get(j, k) * d[i] * d[j]) / vals[k];
  }
  return out;
}

/** pbkrtest's A1, A2 for L (rows x p). */
function a1a2(ctx: KrContext, L: Mat, rows: number): { A1: number; A2: number } {
  const { p, Phi, P, W, g } = ctx;
  const LPhi = mul(L, Phi, rows, p, p);
  const M = mul(LPhi, transpose(L, rows, p), rows, p, rows);
  const Minv = ginvSym(M, rows).inv;
  const Theta = mul(mul(transpose(L, rows, p), Minv, p, rows, rows), L, p, rows, p);
  const ThetaPhi = mul(Theta, Phi, p, p, p);
  const u = P.map((Pi) => mul(mul(ThetaPhi, Pi, p, p, p), Phi, p, p, p));
  const tr = u.map((ui) => {
    let s = 0;
    for (let i = 0; i < p; i++) s += ui[i * p + i];
    return s;
  });
  let A1 = 0, A2 = 0;
  for (let i = 0; i < g; i++) {
    for (let j = i; j < g; j++) {
      const e = i === j ? 1 : 2;
      const w = W[i * g + j];
      A1 += e * w * tr[i] * tr[j];
      let s = 0;
      for (let a = 0; a < p; a++) for (let b = 0; b < p; b++) s += u[i][a * p + b] * u[j][b * p + a];
      A2 += e * w * s;
    }
  }
  return { A1, A2 };
}

/** pbkrtest's KR df (and F scaling) for a q-df hypothesis. */
function krDf(A1: number, A2: number, q: number): { df: number; scale: number } {
  const B = (A1 + 6 * A2) / (2 * q);
  const gg = ((q + 1) * A1 - (q + 4) * A2) / ((q + 2) * A2);
  const den = 3 * q + 2 * (1 - gg);
  const c1 = gg / den, c2 = (q - gg) / den, c3 = (q + 2 - gg) / den;
  let V0 = 1 + c1 * B;
  const V1 = 1 - c2 * B, V2 = 1 - c3 * B;
  if (Math.abs(V0) < 1e-10) V0 = 0;
  const ratio = Math.abs(V1) < 1e-10 ? 0 : (1 - A2 / q) / V1;
  const rho = (1 / q) * ratio * ratio * (V0 / V2);
  const df = 4 + (q + 2) / (q * rho - 1);
  const scale = Math.abs(df - 2) < 0.01 ? 1 : (df * (1 - A2 / q)) / (df - 2);
  return { df, scale };
}

function rankOf(L: Mat, rows: number, p: number): number {
  const M = mul(L, transpose(L, rows, p), rows, p, rows);
  const e = new EigenvalueDecomposition(new Matrix(Array.from({ length: rows }, (_, i) => Array.from(M.subarray(i * rows, i * rows + rows)))), { assumeSymmetric: true });
  const vals = e.realEigenvalues;
  const mx = Math.max(...vals);
  return vals.filter((v) => v > mx * 1e-10 * rows).length;
}

/**
 * The KR F test of L beta = 0 as lmerTest's contestMD(ddf = "Kenward-Roger") reports it: F
 * scaled by pbkrtest's F.scaling, Sum Sq and Mean Sq from the unscaled F.
 */
export function krTest(ctx: KrContext, L: Mat, rows: number): FRow | null {
  if (rows === 0) return null;
  const { p, beta, PhiA } = ctx;
  const q = rankOf(L, rows, p);
  if (q === 0) return null;
  const { A1, A2 } = a1a2(ctx, L, rows);
  const { df, scale } = krDf(A1, A2, q);
  const Lb = mul(L, beta, rows, p, 1);
  const M = mul(mul(L, PhiA, rows, p, p), transpose(L, rows, p), rows, p, rows);
  const Mi = ginvSym(M, rows).inv;
  let wald = 0;
  for (let a = 0; a < rows; a++) for (let b = 0; b < rows; b++) wald += Lb[a] * Mi[a * rows + b] * Lb[b];
  const FU = wald / q;
  const F = FU * scale;
  const ms = FU * ctx.sigma * ctx.sigma;
  const ok = Number.isFinite(df) && df > 0;
  return { "Sum Sq": ms * q, "Mean Sq": ms, NumDF: q, DenDF: ok ? df : null, "F value": F, "Pr(>F)": ok ? pFUpper(F, q, df) : null };
}

/** The KR t test of one coefficient combination (lmerTest's contest1D): adjusted SE and df, no scaling. */
export function krT(ctx: KrContext, l: Mat): { se: number; df: number } {
  const { p, PhiA } = ctx;
  let v = 0;
  for (let a = 0; a < p; a++) for (let b = 0; b < p; b++) v += l[a] * PhiA[a * p + b] * l[b];
  const { A1, A2 } = a1a2(ctx, l, 1);
  return { se: Math.sqrt(v), df: krDf(A1, A2, 1).df };
}
