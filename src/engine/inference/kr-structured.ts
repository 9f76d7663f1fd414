// Kenward-Roger for random terms with a covariance structure (re-cov/: cs, homcs, ar1, toep,
// diag, homdiag). The pieces (kr-clusters.ts, kr.ts densePieces) are sums over the derivative
// matrices G_r of every element of each term's covariance D, sigma^2 and the residual parameters.
// A structured term's D = sigma^2 C(psi) has fewer parameters psi than elements, so its G's are
// combinations of the element ones: G_psi = sum_ij sigma^2 dC_ij/dpsi G_ij, and sigma^2's own
// G gains sum_ij C_ij G_ij. P is linear and Q, tr(S^-1 G_r S^-1 G_s) bilinear in the G's, so the
// pieces carry over with the Jacobian J (old parameters x new): P' = J'P, Q' = J'QJ, Kt' = J'Kt J.
// The first-order adjustment is invariant under smooth reparameterization, so psi may be the
// optimizer's own parameters; dC/dpsi by central differences of the structure's fill.
import type { LmmFit } from "../model/prepared";
import type { KrPieces } from "./kr-clusters";
import { fillTerm } from "../model/remat";
import { relativeCovariance } from "../model/components";

export function structuredPieces(fit: LmmFit, pieces: KrPieces): KrPieces {
  const { model, design } = fit;
  const remats = model.remats;
  const s2 = model.pwrss / (design.n - design.p);
  const gOld = pieces.g;
  // Old parameters per term (elements i <= j), then sigma^2, then the residual parameters.
  let nOldD = 0, nNewD = 0;
  for (const r of remats) {
    nOldD += (r.q * (r.q + 1)) / 2;
    nNewD += r.structure.type === "us" ? (r.q * (r.q + 1)) / 2 : r.structure.nPar;
  }
  const nTail = gOld - nOldD;
  const g = nNewD + nTail;
  const J = new Float64Array(gOld * g);
  const theta = Float64Array.from(fit.theta);
  let o = 0, nw = 0;
  for (const r of remats) {
    const q = r.q, ne = (q * (q + 1)) / 2;
    if (r.structure.type === "us") {
      for (let e = 0; e < ne; e++) J[(o + e) * g + nw + e] = 1;
      nw += ne;
    } else {
      const T = new Float64Array(q * q);
      const at = (): Float64Array => {
        fillTerm(r, theta, T);
        return relativeCovariance(r, T);
      };
      const C = at();
      for (let k = 0; k < r.structure.nPar; k++) {
        const ix = r.thetaOffset + k, x0 = theta[ix], h = 1e-6 * Math.max(1, Math.abs(x0));
        theta[ix] = x0 + h;
        const Cp = at();
        theta[ix] = x0 - h;
        const Cm = at();
        theta[ix] = x0;
        let e = 0;
        for (let i = 0; i < q; i++) for (let j = i; j < q; j++) J[(o + e++) * g + nw + k] = (s2 * (Cp[i * q + j] - Cm[i * q + j])) / (2 * h);
      }
      // sigma^2 (the first tail parameter) scales this term's D too.
      let e = 0;
      for (let i = 0; i < q; i++) for (let j = i; j < q; j++) J[(o + e++) * g + nNewD] = C[i * q + j];
      nw += r.structure.nPar;
    }
    o += ne;
  }
  for (let t = 0; t < nTail; t++) J[(nOldD + t) * g + nNewD + t] = 1;
  return transform(pieces, J, gOld, g);
}

function transform(pc: KrPieces, J: Float64Array, gOld: number, g: number): KrPieces {
  const pp = pc.XtSX.length;
  const P = Array.from({ length: g }, (_, k) => {
    const out = new Float64Array(pp);
    for (let r = 0; r < gOld; r++) {
      const w = J[r * g + k];
      if (w !== 0) for (let i = 0; i < pp; i++) out[i] += w * pc.P[r][i];
    }
    return out;
  });
  const p = Math.round(Math.sqrt(pp));
  // Q_rs for r > s is the transpose of the stored Q_sr.
  const qAt = (r: number, s: number, i: number): number => (r <= s ? pc.Q[r][s][i] : pc.Q[s][r][(i % p) * p + Math.floor(i / p)]);
  const Q = Array.from({ length: g }, (_, k) => Array.from({ length: g }, (_, l) => {
    if (l < k) return new Float64Array(0);
    const out = new Float64Array(pp);
    for (let r = 0; r < gOld; r++) {
      const a = J[r * g + k];
      if (a === 0) continue;
      for (let s = 0; s < gOld; s++) {
        const b = J[s * g + l];
        if (b !== 0) for (let i = 0; i < pp; i++) out[i] += a * b * qAt(r, s, i);
      }
    }
    return out;
  }));
  const Kt = new Float64Array(g * g);
  for (let k = 0; k < g; k++) for (let l = 0; l < g; l++) {
    let v = 0;
    for (let r = 0; r < gOld; r++) {
      const a = J[r * g + k];
      if (a === 0) continue;
      for (let s = 0; s < gOld; s++) v += a * J[s * g + l] * pc.Kt[r * gOld + s];
    }
    Kt[k * g + l] = v;
  }
  return { g, XtSX: pc.XtSX, P, Q, Kt };
}
