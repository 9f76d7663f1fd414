// The interpolation set of the BOBYQA-class method and the inverse of its KKT matrix.
//
// With npt points y_k (relative to a base point), the least-Frobenius-norm quadratic that
// interpolates given values solves W [lambda; c; g] = [values; 0; 0] with
//     W = [ A  e  Y' ]    A_kj = (y_k . y_j)^2 / 2,  e = ones,  Y = [y_1 ... y_npt]
//         [ e' 0  0  ]
//         [ Y  0  0  ]
// (Powell 2004, 2009). We hold H = inverse(W) in the factored form of Powell's papers:
//   Omega = Z Z'   (the npt x npt block; rank npt-n-1, positive semidefinite in exact arithmetic)
//   bmat           ((npt+n) x n): rows 0..npt-1 are Xi' (the gradient rows of H against the
//                  values), rows npt.. are Upsilon (the gradient-gradient block).
// The row and column of H that belong to the constant term are never needed: every vector we
// multiply by H has a zero there.
//
// Two ways to obtain H: `rebuild` forms it from the points (QR of [e Y'], a Cholesky factor of
// A projected onto the null space of [e Y']'), `update` applies the rank-two change for one
// replaced point. The update is what the method uses each iteration; the rebuild resets
// rounding errors and is used whenever the base point moves, so that no formulas for shifting
// the base are needed.

export class Interpolation {
  readonly n: number;
  readonly npt: number;
  readonly m2: number;
  /** Absolute coordinates of the base point. */
  readonly xbase: Float64Array;
  /** Points relative to xbase, row-major npt x n. */
  readonly xpt: Float64Array;
  /** The exact vectors that were evaluated, row-major npt x n. */
  readonly xabs: Float64Array;
  readonly fval: Float64Array;
  /** Bounds relative to xbase (may be infinite). */
  readonly sl: Float64Array;
  readonly su: Float64Array;
  readonly zmat: Float64Array;
  readonly bmat: Float64Array;
  /** Values of the Lagrange functions at the trial point (first npt) and the gradient part of H w. */
  readonly vlag: Float64Array;
  beta = 0;

  private readonly lower: Float64Array;
  private readonly upper: Float64Array;
  private readonly wA: Float64Array;
  private readonly zt: Float64Array;
  private readonly bd: Float64Array;
  private readonly hom: Float64Array;
  private readonly hxi: Float64Array;
  private readonly lam: Float64Array;
  // Workspace of `rebuild`; results are committed only when the factorization succeeds.
  private readonly rbU: Float64Array;
  private readonly rbQR: Float64Array;
  private readonly rbQ: Float64Array;
  private readonly rbV: Float64Array;
  private readonly rbA: Float64Array;
  private readonly rbAQ: Float64Array;
  private readonly rbM: Float64Array;
  private readonly rbZ: Float64Array;
  private readonly rbT: Float64Array;
  private readonly rbC: Float64Array;
  private readonly rbE: Float64Array;
  private readonly rbF: Float64Array;

  constructor(n: number, lower: Float64Array, upper: Float64Array) {
    this.n = n;
    this.npt = 2 * n + 1;
    this.m2 = this.npt - n - 1;
    const npt = this.npt, m2 = this.m2, n1 = n + 1;
    this.lower = lower;
    this.upper = upper;
    this.xbase = new Float64Array(n);
    this.xpt = new Float64Array(npt * n);
    this.xabs = new Float64Array(npt * n);
    this.fval = new Float64Array(npt);
    this.sl = new Float64Array(n);
    this.su = new Float64Array(n);
    this.zmat = new Float64Array(npt * m2);
    this.bmat = new Float64Array((npt + n) * n);
    this.vlag = new Float64Array(npt + n);
    this.wA = new Float64Array(npt);
    this.zt = new Float64Array(m2);
    this.bd = new Float64Array(npt);
    this.hom = new Float64Array(npt);
    this.hxi = new Float64Array(n);
    this.lam = new Float64Array(npt);
    this.rbU = new Float64Array(npt * n);
    this.rbQR = new Float64Array(npt * n1);
    this.rbQ = new Float64Array(npt * npt);
    this.rbV = new Float64Array(npt);
    this.rbA = new Float64Array(npt * npt);
    this.rbAQ = new Float64Array(npt * m2);
    this.rbM = new Float64Array(m2 * m2);
    this.rbZ = new Float64Array(npt * m2);
    this.rbT = new Float64Array(npt * npt);
    this.rbC = new Float64Array(n1 * npt);
    this.rbE = new Float64Array(npt * n1);
    this.rbF = new Float64Array(n1 * n1);
  }

  /** Relative coordinates of every point and bound from xabs and xbase (exact at bounds). */
  private relocate(): void {
    const { n, npt, xbase, xpt, xabs } = this;
    for (let k = 0; k < npt; k++) for (let i = 0; i < n; i++) xpt[k * n + i] = xabs[k * n + i] - xbase[i];
    for (let i = 0; i < n; i++) {
      this.sl[i] = this.lower[i] - xbase[i];
      this.su[i] = this.upper[i] - xbase[i];
    }
  }

  /** Sets the base point (absolute) and recomputes relative coordinates; H must be rebuilt after. */
  setBase(x: Float64Array): void {
    this.xbase.set(x);
    this.relocate();
  }

  /**
   * Forms H afresh from the points, with the base moved to point `kbase`. Returns false (and
   * changes nothing) when the points cannot determine a quadratic of this kind, i.e. when the
   * set has lost its poisedness.
   */
  rebuild(kbase: number): boolean {
    const { n, npt, m2 } = this;
    const n1 = n + 1;
    const U = this.rbU, QR = this.rbQR, Q = this.rbQ, v = this.rbV, A = this.rbA;
    // Scaled coordinates relative to the new base: every entry of the scaled W is O(1).
    let scale = 0;
    for (let k = 0; k < npt; k++) {
      let s = 0;
      for (let i = 0; i < n; i++) {
        const y = this.xabs[k * n + i] - this.xabs[kbase * n + i];
        U[k * n + i] = y;
        s += y * y;
      }
      scale = Math.max(scale, s);
    }
    scale = Math.sqrt(scale);
    if (!(scale > 0) || !Number.isFinite(scale)) return false;
    for (let j = 0; j < npt * n; j++) U[j] /= scale;

    // Householder QR of P' = [e U] (npt x (n+1)); Q accumulated explicitly.
    for (let k = 0; k < npt; k++) {
      QR[k * n1] = 1;
      for (let i = 0; i < n; i++) QR[k * n1 + 1 + i] = U[k * n + i];
    }
    Q.fill(0);
    for (let k = 0; k < npt; k++) Q[k * npt + k] = 1;
    let rmax = 0;
    for (let j = 0; j < n1; j++) {
      let norm = 0;
      for (let k = j; k < npt; k++) norm += QR[k * n1 + j] ** 2;
      norm = Math.sqrt(norm);
      if (norm === 0) return false;
      const alpha = QR[j * n1 + j] > 0 ? -norm : norm;
      let vv = 0;
      for (let k = j; k < npt; k++) {
        v[k] = QR[k * n1 + j] - (k === j ? alpha : 0);
        vv += v[k] * v[k];
      }
      if (vv > 0) {
        for (let c = j; c < n1; c++) {
          let dot = 0;
          for (let k = j; k < npt; k++) dot += v[k] * QR[k * n1 + c];
          const t = (2 * dot) / vv;
          for (let k = j; k < npt; k++) QR[k * n1 + c] -= t * v[k];
        }
        for (let r = 0; r < npt; r++) {
          let dot = 0;
          for (let k = j; k < npt; k++) dot += Q[r * npt + k] * v[k];
          const t = (2 * dot) / vv;
          for (let k = j; k < npt; k++) Q[r * npt + k] -= t * v[k];
        }
      }
      rmax = Math.max(rmax, Math.abs(QR[j * n1 + j]));
    }
    for (let j = 0; j < n1; j++) if (!(Math.abs(QR[j * n1 + j]) > 1e-10 * rmax)) return false;

    for (let k = 0; k < npt; k++) {
      for (let j = 0; j <= k; j++) {
        let d = 0;
        for (let i = 0; i < n; i++) d += U[k * n + i] * U[j * n + i];
        A[k * npt + j] = A[j * npt + k] = 0.5 * d * d;
      }
    }
    // M = Q2' A Q2 with Q2 = columns n+1.. of Q (a basis of the null space of P).
    const AQ = this.rbAQ, M = this.rbM;
    for (let k = 0; k < npt; k++) {
      for (let c = 0; c < m2; c++) {
        let s = 0;
        for (let j = 0; j < npt; j++) s += A[k * npt + j] * Q[j * npt + n1 + c];
        AQ[k * m2 + c] = s;
      }
    }
    let mmax = 0;
    for (let a = 0; a < m2; a++) {
      for (let b = 0; b <= a; b++) {
        let s = 0;
        for (let k = 0; k < npt; k++) s += Q[k * npt + n1 + a] * AQ[k * m2 + b] + Q[k * npt + n1 + b] * AQ[k * m2 + a];
        M[a * m2 + b] = M[b * m2 + a] = 0.5 * s;
      }
      mmax = Math.max(mmax, M[a * m2 + a]);
    }
    // Cholesky M = L L' in place (lower triangle).
    for (let j = 0; j < m2; j++) {
      let d = M[j * m2 + j];
      for (let k = 0; k < j; k++) d -= M[j * m2 + k] ** 2;
      if (!(d > 1e-13 * mmax)) return false;
      d = Math.sqrt(d);
      M[j * m2 + j] = d;
      for (let i = j + 1; i < m2; i++) {
        let s = M[i * m2 + j];
        for (let k = 0; k < j; k++) s -= M[i * m2 + k] * M[j * m2 + k];
        M[i * m2 + j] = s / d;
      }
    }
    // Z = Q2 L^{-T}: row r solves L z = (row r of Q2)'.
    const Z = this.rbZ;
    for (let r = 0; r < npt; r++) {
      for (let j = 0; j < m2; j++) {
        let s = Q[r * npt + n1 + j];
        for (let k = 0; k < j; k++) s -= M[j * m2 + k] * Z[r * m2 + k];
        Z[r * m2 + j] = s / M[j * m2 + j];
      }
    }
    // T = I - A Omega = I - (A Z) Z'.
    const T = this.rbT;
    for (let k = 0; k < npt; k++) {
      for (let c = 0; c < m2; c++) {
        let s = 0;
        for (let j = 0; j < npt; j++) s += A[k * npt + j] * Z[j * m2 + c];
        AQ[k * m2 + c] = s;
      }
    }
    for (let k = 0; k < npt; k++) {
      for (let j = 0; j < npt; j++) {
        let s = k === j ? 1 : 0;
        for (let c = 0; c < m2; c++) s -= AQ[k * m2 + c] * Z[j * m2 + c];
        T[k * npt + j] = s;
      }
    }
    // Xi = R^{-1} Q1' T, (n+1) x npt.
    const C = this.rbC;
    for (let a = 0; a < n1; a++) {
      for (let j = 0; j < npt; j++) {
        let s = 0;
        for (let k = 0; k < npt; k++) s += Q[k * npt + a] * T[k * npt + j];
        C[a * npt + j] = s;
      }
    }
    this.backSolveR(QR, C, npt);
    // Upsilon = -R^{-1} Q1' A Xi'.
    const E = this.rbE, F = this.rbF;
    for (let k = 0; k < npt; k++) {
      for (let a = 0; a < n1; a++) {
        let s = 0;
        for (let j = 0; j < npt; j++) s += A[k * npt + j] * C[a * npt + j];
        E[k * n1 + a] = s;
      }
    }
    for (let a = 0; a < n1; a++) {
      for (let b = 0; b < n1; b++) {
        let s = 0;
        for (let k = 0; k < npt; k++) s += Q[k * npt + a] * E[k * n1 + b];
        F[a * n1 + b] = -s;
      }
    }
    this.backSolveR(QR, F, n1);
    for (const x of Z) if (!Number.isFinite(x)) return false;
    for (const x of C) if (!Number.isFinite(x)) return false;

    // Commit, undoing the scaling: Omega ~ s^-4, Xi (gradient rows) ~ s^-1, Upsilon ~ s^2.
    for (let i = 0; i < n; i++) this.xbase[i] = this.xabs[kbase * n + i];
    this.relocate();
    const s2 = scale * scale;
    for (let j = 0; j < npt * m2; j++) this.zmat[j] = Z[j] / s2;
    for (let k = 0; k < npt; k++) for (let i = 0; i < n; i++) this.bmat[k * n + i] = C[(1 + i) * npt + k] / scale;
    for (let i = 0; i < n; i++) {
      for (let j = 0; j <= i; j++) {
        const u = 0.5 * (F[(1 + i) * n1 + 1 + j] + F[(1 + j) * n1 + 1 + i]) * s2;
        this.bmat[(npt + i) * n + j] = u;
        this.bmat[(npt + j) * n + i] = u;
      }
    }
    return true;
  }

  /** Solves R X = B in place (B is (n+1) x cols), R the upper triangle held in QR's first rows. */
  private backSolveR(QR: Float64Array, B: Float64Array, cols: number): void {
    const n1 = this.n + 1;
    for (let c = 0; c < cols; c++) {
      for (let a = n1 - 1; a >= 0; a--) {
        let s = B[a * cols + c];
        for (let b = a + 1; b < n1; b++) s -= QR[a * n1 + b] * B[b * cols + c];
        B[a * cols + c] = s / QR[a * n1 + a];
      }
    }
  }

  /**
   * For the trial point xpt[kopt] + d: fills vlag (the Lagrange functions at it, then the
   * gradient part of H w) and beta. w is taken relative to w(xopt), whose image under H is
   * e_kopt exactly, which keeps the differences of nearly equal fourth powers out of it.
   */
  lagrangeAt(kopt: number, d: Float64Array): void {
    const { n, npt, m2, xpt, zmat, bmat, vlag, wA, zt, bd } = this;
    const o = kopt * n;
    let xod = 0, xoxo = 0, dd = 0;
    for (let i = 0; i < n; i++) {
      xod += xpt[o + i] * d[i];
      xoxo += xpt[o + i] ** 2;
      dd += d[i] * d[i];
    }
    for (let k = 0; k < npt; k++) {
      let yd = 0, yx = 0, b = 0;
      for (let i = 0; i < n; i++) {
        yd += xpt[k * n + i] * d[i];
        yx += xpt[k * n + i] * xpt[o + i];
        b += bmat[k * n + i] * d[i];
      }
      wA[k] = yd * (yx + 0.5 * yd);
      bd[k] = b;
    }
    zt.fill(0);
    for (let k = 0; k < npt; k++) {
      const w = wA[k];
      if (w === 0) continue;
      for (let j = 0; j < m2; j++) zt[j] += zmat[k * m2 + j] * w;
    }
    let wHw = 0;
    for (let j = 0; j < m2; j++) wHw += zt[j] * zt[j];
    for (let k = 0; k < npt; k++) {
      let s = bd[k];
      for (let j = 0; j < m2; j++) s += zmat[k * m2 + j] * zt[j];
      vlag[k] = s;
      wHw += 2 * wA[k] * bd[k];
    }
    vlag[kopt] += 1;
    for (let i = 0; i < n; i++) {
      let s = 0, u = 0;
      for (let k = 0; k < npt; k++) s += bmat[k * n + i] * wA[k];
      for (let j = 0; j < n; j++) u += bmat[(npt + j) * n + i] * d[j];
      vlag[npt + i] = s + u;
      wHw += d[i] * u;
    }
    const xpxp = xoxo + 2 * xod + dd;
    this.beta = 0.5 * (2 * xod + dd) * (xpxp + xoxo) - 2 * wA[kopt] - wHw;
  }

  /** Omega_kk: the diagonal of the factored block. */
  omegaDiag(k: number): number {
    const { m2, zmat } = this;
    let s = 0;
    for (let j = 0; j < m2; j++) s += zmat[k * m2 + j] ** 2;
    return s;
  }

  /**
   * Replaces point t (in H only; the caller then stores the point) using vlag and beta from
   * `lagrangeAt`. Returns false, leaving H unchanged, if the denominator is not positive.
   */
  update(t: number): boolean {
    const { n, npt, m2, zmat, bmat, vlag, beta, hom, hxi } = this;
    // Rotate the columns of Z so that row t has a single nonzero, in column 0: Z Z' is
    // unchanged, and Omega e_t becomes a multiple of that column.
    for (let j = 1; j < m2; j++) {
      const b = zmat[t * m2 + j];
      if (b === 0) continue;
      const a = zmat[t * m2];
      const r = Math.hypot(a, b);
      const c = a / r, s = b / r;
      for (let k = 0; k < npt; k++) {
        const p = zmat[k * m2], q = zmat[k * m2 + j];
        zmat[k * m2] = c * p + s * q;
        zmat[k * m2 + j] = c * q - s * p;
      }
      zmat[t * m2 + j] = 0;
    }
    const zeta = zmat[t * m2];
    const alpha = zeta * zeta;
    const tau = vlag[t];
    const sigma = alpha * beta + tau * tau;
    if (!(sigma > 0) || !Number.isFinite(sigma)) return false;
    for (let k = 0; k < npt; k++) hom[k] = zeta * zmat[k * m2];
    for (let i = 0; i < n; i++) hxi[i] = bmat[t * n + i];
    // Omega's rank-one part through column t collapses to one new column (see header).
    const rs = 1 / Math.sqrt(sigma);
    for (let k = 0; k < npt; k++) zmat[k * m2] = (tau * zmat[k * m2] + zeta * ((k === t ? 1 : 0) - vlag[k])) * rs;
    for (let j = 0; j < n; j++) {
      const vj = vlag[npt + j], hj = hxi[j];
      const a = (tau * hj - alpha * vj) / sigma;
      const b = (-beta * hj - tau * vj) / sigma;
      for (let k = 0; k < npt; k++) bmat[k * n + j] += a * ((k === t ? 1 : 0) - vlag[k]) + b * hom[k];
      for (let i = 0; i < n; i++) bmat[(npt + i) * n + j] += -a * vlag[npt + i] + b * hxi[i];
    }
    return true;
  }

  /**
   * Coefficients of the Lagrange function of point t: lam (its second-derivative weights,
   * Omega e_t) into `lam`, and returns the array so the caller can form the function.
   */
  lagrangeWeights(t: number): Float64Array {
    const { npt, m2, zmat, lam } = this;
    for (let k = 0; k < npt; k++) {
      let s = 0;
      for (let j = 0; j < m2; j++) s += zmat[k * m2 + j] * zmat[t * m2 + j];
      lam[k] = s;
    }
    return lam;
  }
}
