// Test-only reference: Kenward–Roger (1997) by pbkrtest's formulas (vcovAdj, KRmodcomp) on the
// dense n x n covariance V of a fitted model, for small data (~100-400 rows). Written from the
// formulas, independently of the engine's blocked code (inference/kr-clusters.ts): V is built
// entry by entry from the fit's reported estimates (the random-effect covariances, sigma, and the
// residual structure's phi / rho / corr / SD ratios as the result reports them), and the residual
// parameters are the reported ones themselves (phi, rho, correlations, and the SD ratios rather
// than their logs, CAR1's phi per unit time), a different parameterization from the engine's:
// the first-order adjustment does not depend on it, so agreement also checks that.
//   Phi = (X'V^-1X)^-1, P_r = -X'V^-1 G_r V^-1 X, Q_rs = X'V^-1 G_r V^-1 G_s V^-1 X,
//   IE2_rs = tr(V^-1G_rV^-1G_s) - 2 tr(Phi Q_rs) + tr(Phi P_r Phi P_s), W = 2 IE2^-1,
//   U = sum_rs W_rs (Q_rs - P_r Phi P_s), Phi_A = Phi + 2 Phi U Phi;
//   for L (q rows): Theta = L'(L Phi L')^-1 L, A1 = sum W_rs tr(Theta Phi P_r Phi) tr(Theta Phi P_s Phi),
//   A2 = sum W_rs tr(Theta Phi P_r Phi Theta Phi P_s Phi), then KR's df m and scaling lambda.
import type { DataTable } from "../../src/engine/types";
import { fitPrepared, prepareFit } from "../../src/engine/model/prepared";
import { restore } from "../../src/engine/inference/fixef";
import { relativeCovariance } from "../../src/engine/model/components";
import { fixedEffects } from "../../src/engine/model/solve";
import { parseSpec } from "../../src/engine/formula/parse";

type M = number[][];

/** Structures whose R the reference builds from closed forms, differentiated numerically. */
const GENERIC = new Set(["TOEP", "CSH", "EXP", "ARMA"]);

const zeros = (r: number, c: number): M => Array.from({ length: r }, () => new Array<number>(c).fill(0));
function mul(A: M, B: M): M {
  const r = A.length, k = B.length, c = B[0]?.length ?? 0;
  const C = zeros(r, c);
  for (let i = 0; i < r; i++) for (let l = 0; l < k; l++) {
    const a = A[i][l];
    if (a === 0) continue;
    for (let j = 0; j < c; j++) C[i][j] += a * B[l][j];
  }
  return C;
}
const tr = (A: M): number => A.reduce((s, r, i) => s + r[i], 0);
const t = (A: M): M => A[0].map((_, j) => A.map((r) => r[j]));
const trProd = (A: M, B: M): number => {
  let s = 0;
  for (let i = 0; i < A.length; i++) for (let j = 0; j < B.length; j++) s += A[i][j] * B[j][i];
  return s;
};

/** Inverse of a symmetric positive definite matrix (Gauss-Jordan with partial pivoting). */
export function inv(A: M): M {
  const n = A.length;
  const a = A.map((r, i) => [...r, ...Array.from({ length: n }, (_, j) => (i === j ? 1 : 0))]);
  for (let c = 0; c < n; c++) {
    let piv = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(a[r][c]) > Math.abs(a[piv][c])) piv = r;
    [a[c], a[piv]] = [a[piv], a[c]];
    const d = a[c][c];
    for (let j = 0; j < 2 * n; j++) a[c][j] /= d;
    for (let r = 0; r < n; r++) {
      if (r === c || a[r][c] === 0) continue;
      const f = a[r][c];
      for (let j = 0; j < 2 * n; j++) a[r][j] -= f * a[c][j];
    }
  }
  return a.map((r) => r.slice(n));
}

export interface DenseKr {
  beta: number[];
  Phi: M;
  PhiA: M;
  P: M[];
  W: M;
  /** KR t test of one coefficient: adjusted SE and df. */
  t(i: number): { se: number; df: number };
  /** KR F test of L beta = 0 (L of full row rank). */
  F(L: M): { F: number; df: number; q: number; scale: number };
}

/** The dense reference for `spec` fitted (REML) to `table` by the engine. */
export function denseKr(table: DataTable, specText: string): DenseKr {
  const prep = prepareFit(table, specText);
  const fit = fitPrepared(prep, "REML");
  restore(fit);
  const { design, model } = fit;
  const { n, p } = design;
  const s2 = model.pwrss / (n - p);
  const X: M = Array.from({ length: n }, (_, i) => Array.from(design.X.subarray(i * p, i * p + p)));
  const beta = Array.from(fixedEffects(model));
  const G: M[] = [];
  const V = zeros(n, n);
  // Random effects on the raw scale: D_t = sigma^2 * the relative covariance, per level.
  model.remats.forEach((r, ti) => {
    const term = design.reTerms.find((x) => x.group === r.group && x.effects.join() === r.effects.join())!;
    const q = r.q;
    const D = relativeCovariance(r, model.T[ti]).map((v) => v * s2);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
      if (term.refs[i] !== term.refs[j]) continue;
      let v = 0;
      for (let a = 0; a < q; a++) for (let b = 0; b < q; b++) v += term.z[i * q + a] * D[a * q + b] * term.z[j * q + b];
      V[i][j] += v;
    }
    if (r.structure.type === "ar1") {
      // D_ab = sd^2 rho^|a-b| in the reported sd and rho (closed-form derivatives).
      const sd = Math.sqrt(D[0]), rho = D[1] / D[0];
      const dSd = (a: number, b: number) => 2 * sd * Math.pow(rho, Math.abs(a - b));
      const dRho = (a: number, b: number) => (a === b ? 0 : sd * sd * Math.abs(a - b) * Math.pow(rho, Math.abs(a - b) - 1));
      for (const dD of [dSd, dRho]) {
        const Gr = zeros(n, n);
        for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
          if (term.refs[i] !== term.refs[j]) continue;
          let v = 0;
          for (let a = 0; a < q; a++) for (let b = 0; b < q; b++) v += term.z[i * q + a] * dD(a, b) * term.z[j * q + b];
          Gr[i][j] = v;
        }
        G.push(Gr);
      }
      return;
    }
    if (r.structure.type !== "us") throw new Error(`dense-kr: the ${r.structure.type} structure is not in the reference`);
    for (let a = 0; a < q; a++) for (let b = a; b < q; b++) {
      const Gr = zeros(n, n);
      for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
        if (term.refs[i] !== term.refs[j]) continue;
        Gr[i][j] = term.z[i * q + a] * term.z[j * q + b] + (a !== b ? term.z[i * q + b] * term.z[j * q + a] : 0);
      }
      G.push(Gr);
    }
  });
  // The residual covariance R (relative to sigma^2) from the reported parameters.
  const spec = parseSpec(specText);
  const res = fit.residual?.res ?? null;
  const par = (res ? res.params(fit.eta) : {}) as { phi?: number; rho?: number; corr?: number[][]; sd_ratio?: number[]; varIdent?: number[]; varIdent_levels?: string[] };
  const col = (name: string) => table.columns.find((c) => c.name === name)!;
  const cell = (name: string, i: number): string => {
    const c = col(name), r = design.rows[i];
    return c.kind === "numeric" ? String(c.values[r]) : c.levels[c.codes[r]];
  };
  const type = spec.residual?.type ?? null;
  const groupName = res?.group ?? null;
  const grp = Array.from({ length: n }, (_, i) => (groupName ? groupName.split(":").map((g) => cell(g, i)).join(":") : ""));
  const tcol = spec.residual?.time && type !== "CS" ? col(spec.residual.time) : null;
  const time = Array.from({ length: n }, (_, i) => (tcol && tcol.kind === "numeric" ? tcol.values[design.rows[i]] : 0));
  const distinct = Array.from(new Set(time)).sort((a, b) => a - b);
  const occ = time.map((v) => distinct.indexOf(v));
  const ratios = par.sd_ratio ?? null;
  const vi = par.varIdent ?? null;
  const viLev = par.varIdent_levels ?? [];
  const stratum = Array.from({ length: n }, (_, i) => (vi && spec.varIdent ? viLev.indexOf(cell(spec.varIdent, i)) : 0));
  const sd = (i: number) => (ratios ? ratios[occ[i]] : 1) * (vi ? vi[stratum[i]] : 1);
  const corr = (i: number, j: number): number => {
    if (i === j) return 1;
    if (!type || grp[i] !== grp[j]) return 0;
    if (type === "AR1" || type === "ARH1") return Math.pow(par.phi!, Math.abs(occ[i] - occ[j]));
    if (type === "CAR1") return Math.pow(par.phi!, Math.abs(time[i] - time[j]));
    if (type === "CS") return par.rho!;
    return par.corr![occ[i]][occ[j]];
  };
  // The other structures and variance functions: R from closed forms in the reported
  // parameters (TOEP's lag correlations, CSH's rho, EXP's range and nugget, ARMA(1,1)'s phi and
  // theta, varPower's power), differentiated by central differences in those parameters.
  const vp = spec.varFuncs ?? [];
  if ((type && GENERIC.has(type)) || vp.length > 0) {
    const named = par as Record<string, number | number[] | undefined>;
    const keys = Object.keys(named).filter((k) => typeof named[k] === "number" || (Array.isArray(named[k]) && (named[k] as unknown[]).every((x) => typeof x === "number")));
    const flat: { key: string; idx: number }[] = [];
    for (const k of keys) {
      const v = named[k];
      if (typeof v === "number") flat.push({ key: k, idx: -1 });
      else (v as number[]).forEach((_, i) => { if (!(k === "sd_ratio" && i === 0)) flat.push({ key: k, idx: i }); });
    }
    const get = (q: Record<string, number | number[]>, f: { key: string; idx: number }) => (f.idx < 0 ? (q[f.key] as number) : (q[f.key] as number[])[f.idx]);
    const covar = vp.map((v) => Array.from({ length: n }, (_, i) => Number(cell(v.covariate, i))));
    const Rof = (q: Record<string, number | number[]>): M => {
      const ratio = q.sd_ratio as number[] | undefined;
      const sdq = (i: number) => {
        let v = ratio ? ratio[occ[i]] : 1;
        vp.forEach((f, k) => {
          if (f.kind !== "varPower" || f.strata) throw new Error(`dense-kr: ${f.kind} not in the reference`);
          v *= Math.pow(Math.abs(covar[k][i]), q.varPower_power as number);
        });
        return v;
      };
      const c = (i: number, j: number): number => {
        if (i === j) return 1;
        if (!type || grp[i] !== grp[j]) return 0;
        const lag = Math.abs(occ[i] - occ[j]);
        if (type === "AR1" || type === "ARH1") return Math.pow(q.phi as number, lag);
        if (type === "CAR1") return Math.pow(q.phi as number, Math.abs(time[i] - time[j]));
        if (type === "CS") return q.rho as number;
        if (type === "TOEP") return lag <= (q.rho as number[]).length ? (q.rho as number[])[lag - 1] : 0;
        if (type === "CSH") return q.rho as number;
        if (type === "EXP") return (1 - ((q.nugget as number | undefined) ?? 0)) * Math.exp(-Math.abs(time[i] - time[j]) / (q.range as number));
        if (type === "ARMA") {
          const ph = q.Phi1 as number, th = q.Theta1 as number;
          const r1 = ((1 + ph * th) * (ph + th)) / (1 + 2 * ph * th + th * th);
          return r1 * Math.pow(ph, lag - 1);
        }
        return corr(i, j);
      };
      const out = zeros(n, n);
      for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) out[i][j] = sdq(i) * sdq(j) * c(i, j);
      return out;
    };
    const base = named as Record<string, number | number[]>;
    const R = Rof(base);
    G.push(R);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) V[i][j] += s2 * R[i][j];
    for (const f of flat) {
      const x0 = get(base, f), h = 1e-5 * Math.max(1, Math.abs(x0));
      const at = (x: number) => {
        const q: Record<string, number | number[]> = { ...base };
        if (f.idx < 0) q[f.key] = x;
        else q[f.key] = (base[f.key] as number[]).map((v, i) => (i === f.idx ? x : v));
        return Rof(q);
      };
      const Rp = at(x0 + h), Rm = at(x0 - h);
      G.push(Rp.map((r, i) => r.map((v, j) => (s2 * (v - Rm[i][j])) / (2 * h))));
    }
  } else {
    const R = zeros(n, n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) R[i][j] = sd(i) * sd(j) * corr(i, j);
    G.push(R);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) V[i][j] += s2 * R[i][j];
    // dV / d (natural residual parameter) = sigma^2 dR.
    const same = (i: number, j: number) => grp[i] === grp[j];
    const dR = (f: (i: number, j: number) => number): M => {
      const D = zeros(n, n);
      for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) D[i][j] = s2 * f(i, j);
      return D;
    };
    if (type === "AR1" || type === "ARH1") {
      const ph = par.phi!;
      G.push(dR((i, j) => {
        const l = Math.abs(occ[i] - occ[j]);
        return i !== j && same(i, j) ? sd(i) * sd(j) * l * Math.pow(ph, l - 1) : 0;
      }));
    } else if (type === "CAR1") {
      const ph = par.phi!;
      G.push(dR((i, j) => {
        const l = Math.abs(time[i] - time[j]);
        return i !== j && same(i, j) ? sd(i) * sd(j) * l * Math.pow(ph, l - 1) : 0;
      }));
    } else if (type === "CS") {
      G.push(dR((i, j) => (i !== j && same(i, j) ? sd(i) * sd(j) : 0)));
    } else if (type === "UN") {
      const k = distinct.length;
      for (let u = 0; u < k; u++) for (let v = u + 1; v < k; v++) {
        G.push(dR((i, j) => (i !== j && same(i, j) && ((occ[i] === u && occ[j] === v) || (occ[i] === v && occ[j] === u)) ? sd(i) * sd(j) : 0)));
      }
    }
    // SD ratios (the ratios themselves): d R_ij / d r = R_ij ([i uses r] + [j uses r]) / r.
    if (ratios) for (let k = 1; k < ratios.length; k++) G.push(dR((i, j) => (R[i][j] * ((occ[i] === k ? 1 : 0) + (occ[j] === k ? 1 : 0))) / ratios[k]));
    if (vi) for (let k = 1; k < vi.length; k++) G.push(dR((i, j) => (R[i][j] * ((stratum[i] === k ? 1 : 0) + (stratum[j] === k ? 1 : 0))) / vi[k]));

  }

  const Vi = inv(V);
  const ViX = mul(Vi, X);
  const Phi = inv(mul(t(X), ViX));
  const ViG = G.map((Gr) => mul(Vi, Gr));
  const g = G.length;
  // P_r = -(V^-1 X)' G_r (V^-1 X); Q_rs = (G_r V^-1 X)' V^-1 (G_s V^-1 X).
  const GViX = G.map((Gr) => mul(Gr, ViX));
  const P = GViX.map((A) => mul(t(ViX), A).map((r) => r.map((v) => -v)));
  const Qm = (r: number, s: number): M => mul(t(GViX[r]), mul(Vi, GViX[s]));
  const QQ: M[][] = Array.from({ length: g }, (_, r) => Array.from({ length: g }, (_, s) => Qm(r, s)));
  const IE2 = zeros(g, g);
  for (let r = 0; r < g; r++) for (let s = 0; s < g; s++) {
    IE2[r][s] = trProd(ViG[r], ViG[s]) - 2 * trProd(Phi, QQ[r][s]) + trProd(mul(Phi, P[r]), mul(Phi, P[s]));
  }
  const W = inv(IE2).map((r) => r.map((v) => 2 * v));
  const U = zeros(p, p);
  for (let r = 0; r < g; r++) for (let s = 0; s < g; s++) {
    const PP = mul(mul(P[r], Phi), P[s]);
    for (let a = 0; a < p; a++) for (let b = 0; b < p; b++) U[a][b] += W[r][s] * (QQ[r][s][a][b] - PP[a][b]);
  }
  const PUP = mul(mul(Phi, U), Phi);
  const PhiA = Phi.map((r, a) => r.map((v, b) => v + 2 * PUP[a][b]));

  const F = (L: M): { F: number; df: number; q: number; scale: number } => {
    const q = L.length;
    const Theta = mul(mul(t(L), inv(mul(mul(L, Phi), t(L)))), L);
    const u = P.map((Pr) => mul(mul(mul(Theta, Phi), Pr), Phi));
    let A1 = 0, A2 = 0;
    for (let r = 0; r < g; r++) for (let s = 0; s < g; s++) {
      A1 += W[r][s] * tr(u[r]) * tr(u[s]);
      A2 += W[r][s] * trProd(u[r], u[s]);
    }
    const B = (A1 + 6 * A2) / (2 * q);
    const gg = ((q + 1) * A1 - (q + 4) * A2) / ((q + 2) * A2);
    const den = 3 * q + 2 * (1 - gg);
    const c1 = gg / den, c2 = (q - gg) / den, c3 = (q + 2 - gg) / den;
    const V0 = 1 + c1 * B, V1 = 1 - c2 * B, V2 = 1 - c3 * B;
    const rho = (1 / q) * ((1 - A2 / q) / V1) ** 2 * (V0 / V2);
    const df = 4 + (q + 2) / (q * rho - 1);
    const scale = (df * (1 - A2 / q)) / (df - 2);
    const Lb = mul(L, beta.map((b) => [b]));
    const wald = mul(mul(t(Lb), inv(mul(mul(L, PhiA), t(L)))), Lb)[0][0];
    return { F: (scale * wald) / q, df, q, scale };
  };
  const tt = (i: number) => {
    const L = [Array.from({ length: p }, (_, j) => (j === i ? 1 : 0))];
    return { se: Math.sqrt(PhiA[i][i]), df: F(L).df };
  };
  restore(fit);
  return { beta, Phi, PhiA, P, W, t: tt, F };
}
