// The dense reference for the forecast of a new occasion (test only; n x n on purpose): with
// V = Z G Z' + sigma^2 R over all rows and c = Cov(y, y_new),
//   beta = (X'V^{-1}X)^{-1} X'V^{-1} y,   y-hat = x' beta + c' V^{-1} (y - X beta),
//   PEV  = v_new - c'V^{-1}c + d' (X'V^{-1}X)^{-1} d,   d = x - X'V^{-1}c,
// the conditional-normal (Goldberger) predictor and its error variance, written from the
// definitions and nothing of the engine's. For the lecture's model size ~ time*treat with an
// optional random intercept per tree and a residual structure by tree.

export interface DenseRow { size: number; time: number; tree: string; treat: string }
export interface DenseModel {
  /** tree intercept variance (0: none) */
  tau2: number;
  sigma2: number;
  /** correlation between two rows of one tree (times and occasion ranks given) */
  corr: (ta: number, tb: number, oa: number, ob: number) => number;
  /** SD ratio of a row by its occasion rank (1 without one) */
  sd: (occ: number) => number;
}

const xRow = (time: number, treat: string) => [1, time, treat === "ozone" ? 1 : 0, treat === "ozone" ? time : 0];

function chol(A: number[][]): number[][] {
  const n = A.length;
  const L = A.map(() => new Array<number>(n).fill(0));
  for (let j = 0; j < n; j++) {
    let d = A[j][j];
    for (let k = 0; k < j; k++) d -= L[j][k] * L[j][k];
    L[j][j] = Math.sqrt(d);
    for (let i = j + 1; i < n; i++) {
      let s = A[i][j];
      for (let k = 0; k < j; k++) s -= L[i][k] * L[j][k];
      L[i][j] = s / L[j][j];
    }
  }
  return L;
}

function solve(L: number[][], b: number[]): number[] {
  const n = L.length;
  const z = b.slice();
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < i; k++) z[i] -= L[i][k] * z[k];
    z[i] /= L[i][i];
  }
  for (let i = n - 1; i >= 0; i--) {
    for (let k = i + 1; k < n; k++) z[i] -= L[k][i] * z[k];
    z[i] /= L[i][i];
  }
  return z;
}

/** `occ(time)`: the occasion rank of a time (new times included). */
/**
 * `noise` false: the target is the new row's conditional mean x'beta + z'b (no residual of its
 * own), whose error variance is the group-level prediction's SE^2.
 */
export function denseForecast(rows: DenseRow[], m: DenseModel, occ: (t: number) => number, nw: { time: number; tree: string; treat: string }, noise = true): { fit: number; pev: number } {
  const n = rows.length;
  const cov = (a: { time: number; tree: string }, b: { time: number; tree: string }, same: boolean): number => {
    if (a.tree !== b.tree) return 0;
    const oa = occ(a.time), ob = occ(b.time);
    const r = same ? 1 : m.corr(a.time, b.time, oa, ob);
    return m.tau2 + m.sigma2 * m.sd(oa) * m.sd(ob) * r;
  };
  const V = rows.map((a, i) => rows.map((b, j) => cov(a, b, i === j)));
  const L = chol(V);
  const X = rows.map((r) => xRow(r.time, r.treat));
  const p = 4;
  const ViX = Array.from({ length: p }, (_, f) => solve(L, X.map((x) => x[f])));
  const XtViX = Array.from({ length: p }, (_, a) => Array.from({ length: p }, (_, b) => X.reduce((s, x, i) => s + x[a] * ViX[b][i], 0)));
  const y = rows.map((r) => r.size);
  const Viy = solve(L, y);
  const XtViy = Array.from({ length: p }, (_, a) => X.reduce((s, x, i) => s + x[a] * Viy[i], 0));
  const Lx = chol(XtViX);
  const beta = solve(Lx, XtViy);
  const c = rows.map((r) => (noise ? cov(r, nw, false) : r.tree === nw.tree ? m.tau2 : 0));
  const Vic = solve(L, c);
  const x = xRow(nw.time, nw.treat);
  let fit = 0;
  for (let f = 0; f < p; f++) fit += x[f] * beta[f];
  for (let i = 0; i < n; i++) {
    let e = y[i];
    for (let f = 0; f < p; f++) e -= X[i][f] * beta[f];
    fit += Vic[i] * e;
  }
  const d = x.map((v, f) => v - X.reduce((s, xr, i) => s + xr[f] * Vic[i], 0));
  const Xd = solve(Lx, d);
  const vNew = m.tau2 + (noise ? m.sigma2 * m.sd(occ(nw.time)) ** 2 : 0);
  const pev = vNew - c.reduce((s, ci, i) => s + ci * Vic[i], 0) + d.reduce((s, di, f) => s + di * Xd[f], 0);
  return { fit, pev };
}
