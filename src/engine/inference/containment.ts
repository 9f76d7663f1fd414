// nlme's "between/within" (containment) denominator df, as summary(lme) and anova(lme) report
// them (Pinheiro & Bates 2000, §2.4.2): the grouping factors, outermost first, and the rows make
// strata with df  n_1, n_2 - n_1, ..., N - n_Q  (n_k levels of the k-th factor). A column of X
// belongs to the stratum just inside the innermost factor within whose groups it varies (the
// outermost stratum if it varies within none); each stratum loses one df per column it holds,
// and the outermost one more for the intercept. A column's df is its stratum's; a term's is that
// of its innermost column's stratum, with the terms' columns counted per term. Without random
// effects (GLS) every df is N - p, as anova.gls. The grouping factors must be nested.
import type { Design } from "../types";
import { DataError } from "../errors";

export interface ContainmentDf {
  /** Per X column (summary(lme)'s DF). */
  columns: number[];
  /** Per fixed term, in term order (anova(lme)'s denDF). */
  terms: number[];
}

/** nlme's const(): all values equal to the first (relative tolerance sqrt(eps)). */
function isConstant(X: Float64Array, n: number, p: number, j: number): boolean {
  const x0 = X[j];
  const tol = Math.sqrt(2.220446049250313e-16);
  for (let i = 0; i < n; i++) {
    const x = X[i * p + j];
    if (!(Math.abs(x0 === 0 ? x : x / x0 - 1) < tol)) return false;
  }
  return true;
}

export function containmentDf(design: Design): ContainmentDf {
  const { n, p, X } = design;
  const nTerms = design.fixedTerms.length;
  // Distinct grouping factors, outermost (fewest levels) first.
  const seen = new Set<string>();
  const groups = design.reTerms.filter((t) => !seen.has(t.group) && seen.add(t.group)).sort((a, b) => a.levels.length - b.levels.length);
  if (groups.length === 0) return { columns: new Array<number>(p).fill(n - p), terms: new Array<number>(nTerms).fill(n - p) };
  for (let k = 1; k < groups.length; k++) {
    const outer = groups[k - 1], inner = groups[k];
    const parent = new Int32Array(inner.levels.length).fill(-1);
    for (let i = 0; i < n; i++) {
      const c = inner.refs[i], o = outer.refs[i];
      if (parent[c] === -1) parent[c] = o;
      else if (parent[c] !== o) {
        throw new DataError(`containment df need nested grouping factors (as nlme's lme), but '${inner.group}' is not nested in '${outer.group}'; use ddf "satterthwaite" or "residual"`);
      }
    }
  }
  const Q = groups.length;
  const sizes = groups.map((g) => g.levels.length);
  const base = [...sizes, n].map((s, k) => s - (k === 0 ? 0 : sizes[k - 1]));
  // Stratum of each column: 1 + the innermost factor within whose groups it varies (0-based: 0 = outermost).
  const constant = Array.from({ length: p }, (_, j) => isConstant(X, n, p, j));
  const stratum = new Int32Array(p);
  for (let j = 0; j < p; j++) {
    if (constant[j]) continue;
    let s = 0;
    for (let k = 0; k < Q; k++) if (variesWithin(X, n, p, j, groups[k].refs, sizes[k])) s = k + 1;
    stratum[j] = s;
  }
  const hasConst = constant.some((c) => c);
  const allVary = !hasConst;
  const adjust = (df: number[]) => {
    if (!allVary) df[0] -= 1;
    else for (let k = 1; k < df.length; k++) df[k] += 1;
  };
  const dfX = base.slice();
  for (let j = 0; j < p; j++) if (!constant[j]) dfX[stratum[j]] -= 1;
  adjust(dfX);
  const maxX = Math.max(...dfX);
  const columns = Array.from({ length: p }, (_, j) => (constant[j] ? maxX : dfX[stratum[j]]));
  // Terms (the intercept is a term here, as in nlme's assign list).
  const termCols: number[][] = Array.from({ length: nTerms + 1 }, () => []);
  design.assign.forEach((a, j) => termCols[a].push(j));
  const varying = termCols.map((cs) => cs.some((j) => !constant[j]));
  const termStratum = termCols.map((cs) => Math.max(0, ...cs.map((j) => stratum[j])));
  const dfT = base.slice();
  termCols.forEach((cs, t) => {
    if (varying[t]) dfT[termStratum[t]] -= cs.length;
  });
  if (!varying.every((v, t) => v || termCols[t].length === 0)) dfT[0] -= 1;
  else for (let k = 1; k < dfT.length; k++) dfT[k] += 1;
  const maxT = Math.max(...dfT);
  const terms = design.fixedTerms.map((_, t) => (varying[t + 1] ? dfT[termStratum[t + 1]] : maxT));
  return { columns, terms };
}

/** Whether column j of X takes more than one value within some group. */
function variesWithin(X: Float64Array, n: number, p: number, j: number, refs: Int32Array, ell: number): boolean {
  const first = new Float64Array(ell).fill(NaN);
  for (let i = 0; i < n; i++) {
    const g = refs[i], x = X[i * p + j];
    const f = first[g];
    if (f !== f) first[g] = x;
    else if (f !== x) return true;
  }
  return false;
}
