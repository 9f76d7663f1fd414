// Random effects that the data cannot tell apart from something else in the model, found from the
// design before any fit. Such a model has no unique estimate: its REML criterion is flat along the
// confounded variance, so an optimizer stops anywhere and the variance, the fixed-effect standard
// errors that depend on it, their df and p-values are arbitrary (lme4 fits it silently). We refuse
// it with a DataError that says what to change (case 1), or note it (cases 2, 3: see ridgeNotes).
//
//  1. A random effect whose columns lie in the span of the fixed effects: for effect a of a term,
//     with z_{c,a} its column for level c (the effect's values in the rows of level c, 0 elsewhere),
//     sum_c ||(I - H_X) z_{c,a}||^2 = 0. Then every error contrast K'y (K'X = 0) has K'z_{c,a} = 0,
//     so the restricted likelihood does not depend on that effect's variance at all. This holds
//     for (1 | g) when g is a fixed factor or a function of fixed factors (any coarsening, any
//     number of levels), and for a slope (0 + x | g) when the fixed effects hold g:x.
//     It is computed from X'X and the per-level X'z_{c,a} in one pass over the rows.
//  2. A random intercept on the same grouping as a compound-symmetry (or unstructured) residual
//     structure: both give every pair of rows in a group the same covariance, so only their sum
//     is identified.
//  3. Two random terms with the same grouping and a common effect: only the sum of the two
//     variances of that effect is identified.
import type { Design, Expr, ModelSpec, ReTermDesign, VarcompRow } from "../types";
import type { ResidualModel } from "./residual";
import type { PreparedModel } from "./prepared";
import { DataError } from "../errors";
import { cholLower, solveLower } from "../linalg/dense";

/**
 * Below this fraction of ||z||^2 left after projecting on the fixed effects, the effect counts as
 * in their span. Exact confounding leaves rounding (~1e-16 times the condition of the scaled
 * X'X); a real design with one row off the pattern leaves about 1/n.
 */
const SPAN_TOL = 1e-9;

/**
 * Throws a DataError when a random effect lies in the span of the fixed effects (case 1). Called
 * where a fit is reported (fitModel, compareModels, exactRlrt), not in prepareFit: the criterion
 * itself is well defined for such a model (tests compare it with a dense computation), only its
 * optimum is not. Case 1 is refused because the fixed-effect standard errors, df and p-values
 * depend on the arbitrary variance too.
 */
export function checkIdentifiable(prep: PreparedModel): void {
  const { spec, design } = prep;
  const spanned = spannedEffects(design);
  if (spanned.length === 0) return;
  const { term, effect } = spanned[0];
  const rt = spec.formula.random[term];
  const t = design.reTerms[term];
  throw new DataError(spanMessage(spec, rt.text, rt.group, t.effects[effect], t.group, t.effects.length));
}

/**
 * Cases 2 and 3: the marginal covariance, hence the fixed effects, their tests and the
 * likelihood, are identified, but the split of one variance between two parameters is not (the
 * likelihood has a ridge). The fit stands; a note says so, and the intervals of the parameters on
 * the ridge are removed (a profile along a ridge is flat: its ends mean nothing).
 */
export function ridgeNotes(prep: PreparedModel, rows: VarcompRow[], messages: string[]): void {
  const { spec, design } = prep;
  const residual: ResidualModel | null = prep.residual ? prep.residual.res : null;
  const labelsOf = (t: ReTermDesign, effect: string) => prep.model.remats.filter((r) => r.group === t.group && r.effects.includes(effect)).map((r) => r.label);
  const clear = (labels: string[], effect: string, residualToo: boolean) => {
    for (const row of rows) {
      const onRidge = (labels.includes(row.group) && (row.effect === effect || row.effect2 === effect)) || (residualToo && row.group === "Residual");
      if (onRidge) row.sd_lower = row.sd_upper = null;
    }
  };
  if (residual && (residual.type === "CS" || residual.type === "UN")) {
    design.reTerms.forEach((t, i) => {
      if (t.effects[0] !== "(Intercept)" || !samePartition(t.refs, t.levels.length, residual.groupOf, residual.ngroups)) return;
      const rt = spec.formula.random[i];
      const what = residual.type === "CS" ? "compound symmetry gives every pair of rows in a group the same covariance" : "the unstructured correlation already allows any covariance within a group";
      // With variance weights the two differ only through the weights (the intercept's covariance
      // is not scaled by them): identified in principle, but only through that difference.
      const how = spec.varIdent
        ? `only their combined within-group covariance is well determined (they differ only through the varIdent(${spec.varIdent}) weights), so the split between the '${t.group}' variance, the residual variance and the correlation shown is unreliable`
        : `only their combined within-group covariance is estimable, so the split between the '${t.group}' variance, the residual variance and the correlation shown is arbitrary`;
      messages.push(
        `${spec.varIdent ? "barely identifiable" : "not identifiable"}: the random intercept of (${rt.text}) and the ${residual.type} residual structure act on the same groups ('${t.group}'), and ${what}, as a random intercept does; ${how} (the fixed effects, their tests and the log-likelihood are not affected). Remove the random intercept or the ${residual.type}(...) structure`,
      );
      clear(labelsOf(t, "(Intercept)"), "(Intercept)", true);
    });
  }
  for (let i = 0; i < design.reTerms.length; i++) {
    for (let j = i + 1; j < design.reTerms.length; j++) {
      const a = design.reTerms[i], b = design.reTerms[j];
      const common = a.effects.filter((e) => b.effects.includes(e));
      if (common.length === 0 || !samePartition(a.refs, a.levels.length, b.refs, b.levels.length)) continue;
      const ta = spec.formula.random[i].text, tb = spec.formula.random[j].text;
      messages.push(
        `not identifiable: the random terms (${ta}) and (${tb}) group the rows the same way and both have the effect '${common[0]}': only the sum of their two '${common[0]}' variances is estimable, so the split shown is arbitrary (the fixed effects, their tests and the log-likelihood are not affected). Keep '${common[0]}' in one of the two terms`,
      );
      for (const e of common) clear([...labelsOf(a, e), ...labelsOf(b, e)], e, false);
    }
  }
}

function spanMessage(spec: ModelSpec, text: string, groupVars: string[], effect: string, group: string, q: number): string {
  // Fixed terms that involve the grouping variables: the usual cause, named in the advice. The
  // one to remove is the term made of exactly the grouping variables (and the slope's variable).
  const varsOf = (f: { factors: Expr[] }) => f.factors.flatMap(varNames);
  const inFixed = spec.formula.fixed.filter((f) => varsOf(f).some((v) => groupVars.includes(v)));
  const key = new Set(effect === "(Intercept)" ? groupVars : [...groupVars, effect]);
  const exact = inFixed.filter((f) => { const vs = new Set(varsOf(f)); return vs.size === key.size && [...vs].every((v) => key.has(v)); });
  const what = effect === "(Intercept)" ? `the random intercepts of (${text})` : `the random slopes '${effect}' of (${text})`;
  const why = inFixed.length > 0
    ? `'${group}' is also in the fixed effects (${inFixed.map((f) => f.label).join(", ")}), so ${what} are linear combinations of fixed-effect columns`
    : `${what} are linear combinations of fixed-effect columns (each level of '${group}' lies within one combination of the fixed factors)`;
  const drop = q === 1 ? `drop the random term (${text})` : `remove '${effect}' from the random term (${text})`;
  const remove = exact.length > 0 ? `remove '${exact[0].label}' from the fixed effects` : inFixed.length > 0 ? `remove the fixed terms with '${group}' (${inFixed.map((f) => f.label).join(", ")})` : `remove the fixed factors that '${group}' is nested in or equal to`;
  return `${why}: their variance cannot be told apart from the fixed effects and is not estimable (a fit would report an arbitrary value). To fix, ${remove}, or ${drop}`;
}

/** The column names an expression reads: factor(tree) reads tree. */
function varNames(e: Expr): string[] {
  switch (e.kind) {
    case "var": return [e.name];
    case "num": return [];
    case "call": return e.args.flatMap(varNames);
    case "binop": return [...varNames(e.left), ...varNames(e.right)];
    case "neg": case "paren": return varNames(e.arg);
  }
}

/** Whether two level codings split the rows into the same groups (a bijection between levels). */
function samePartition(a: Int32Array, na: number, b: Int32Array, nb: number): boolean {
  if (na !== nb) return false;
  const ab = new Int32Array(na).fill(-1), ba = new Int32Array(nb).fill(-1);
  for (let r = 0; r < a.length; r++) {
    const x = a[r], y = b[r];
    if (ab[x] === -1 && ba[y] === -1) {
      ab[x] = y;
      ba[y] = x;
    } else if (ab[x] !== y || ba[y] !== x) return false;
  }
  return true;
}

/** Random effects (term, effect) whose per-level columns all lie in the span of X. */
export function spannedEffects(design: Design): { term: number; effect: number }[] {
  const { n, p, X } = design;
  const out: { term: number; effect: number }[] = [];
  if (p === 0 || design.reTerms.length === 0) return out;
  // Scaled X'X (unit diagonal) and its Cholesky factor: the projection does not depend on the
  // columns' units, and the scaling keeps the rounding small.
  const G = new Float64Array(p * p);
  for (let r = 0; r < n; r++) {
    const o = r * p;
    for (let i = 0; i < p; i++) {
      const xi = X[o + i];
      if (xi === 0) continue;
      for (let j = 0; j <= i; j++) G[i * p + j] += xi * X[o + j];
    }
  }
  const scale = new Float64Array(p);
  for (let i = 0; i < p; i++) scale[i] = G[i * p + i] > 0 ? 1 / Math.sqrt(G[i * p + i]) : 0;
  for (let i = 0; i < p; i++) for (let j = 0; j <= i; j++) G[i * p + j] *= scale[i] * scale[j];
  if (!cholLower(G, p)) return out; // aliased columns are removed before; nothing to say here
  const v = new Float64Array(p);
  design.reTerms.forEach((t, term) => {
    const res = effectResiduals(t, X, n, p, scale, G, v);
    res.forEach((frac, effect) => {
      if (frac < SPAN_TOL) out.push({ term, effect });
    });
  });
  return out;
}

/** For each effect of a term: sum_c ||(I - H) z_{c,a}||^2 / sum_c ||z_{c,a}||^2. */
function effectResiduals(t: ReTermDesign, X: Float64Array, n: number, p: number, scale: Float64Array, L: Float64Array, v: Float64Array): number[] {
  const q = t.effects.length, ell = t.levels.length;
  const XtZ = new Float64Array(ell * q * p); // per level c and effect a: X' z_{c,a}
  const zz = new Float64Array(q);
  for (let r = 0; r < n; r++) {
    const c = t.refs[r], xo = r * p;
    for (let a = 0; a < q; a++) {
      const z = t.z[r * q + a];
      if (z === 0) continue;
      zz[a] += z * z;
      const o = (c * q + a) * p;
      for (let f = 0; f < p; f++) XtZ[o + f] += X[xo + f] * z;
    }
  }
  const out: number[] = [];
  for (let a = 0; a < q; a++) {
    if (!(zz[a] > 0)) {
      out.push(1); // an all-zero column is not a confounding (and the design rejects it elsewhere)
      continue;
    }
    let proj = 0;
    for (let c = 0; c < ell; c++) {
      const o = (c * q + a) * p;
      for (let f = 0; f < p; f++) v[f] = XtZ[o + f] * scale[f];
      solveLower(L, p, 0, p, v);
      for (let f = 0; f < p; f++) proj += v[f] * v[f];
    }
    out.push(Math.max(0, zz[a] - proj) / zz[a]);
  }
  return out;
}
