// From a table and a spec to the model matrices: y, X (R's model.matrix with treatment
// contrasts, term names and column order), and per random term its Z columns and grouping
// factor. Rows with a missing value in any used column are dropped (na.omit); unused factor
// levels are dropped (as lme4's model frame); aliased X columns are dropped with a note.
import type { DataTable, Design, Expr, ModelSpec, ReTermDesign, Term } from "../types";
import { DataError } from "../errors";
import { exprLabel } from "../formula/parse";
import { Variable, Variables } from "./variables";

interface Columns {
  names: string[];
  cols: Float64Array[];
}

/** R's model-matrix columns of `terms` over the selected rows. */
function modelColumns(terms: Term[], intercept: boolean, vars: Variables, rows: Int32Array): Columns {
  const n = rows.length;
  const names: string[] = [];
  const cols: Float64Array[] = [];
  if (intercept) {
    names.push("(Intercept)");
    cols.push(new Float64Array(n).fill(1));
  }
  const keyOf = (vs: string[]) => vs.slice().sort().join("\u0001");
  const present = new Set(terms.map((t) => keyOf(t.factors.map(exprLabel))));
  let spanned = intercept;
  for (const term of terms) {
    const labels = term.factors.map(exprLabel);
    type Piece = { name: string; values: Float64Array };
    const pieceLists: Piece[][] = [];
    let fullCodedMain = false;
    term.factors.forEach((e, k) => {
      const v = vars.get(e);
      if (v.kind === "numeric") {
        const vals = new Float64Array(n);
        for (let i = 0; i < n; i++) vals[i] = v.values[rows[i]];
        pieceLists.push([{ name: v.label, values: vals }]);
        return;
      }
      const used = usedLevels(v, rows);
      const rest = labels.filter((_, j) => j !== k);
      // Contrasts when the margin without this factor is in the model (the intercept counts as
      // the empty margin); otherwise indicators for every level (R's rule).
      let contrasts = rest.length === 0 ? spanned : present.has(keyOf(rest));
      if (rest.length === 0 && !spanned) fullCodedMain = true;
      if (used.levels.length < 2 && contrasts) contrasts = true;
      const start = contrasts ? 1 : 0;
      const pieces: Piece[] = [];
      for (let l = start; l < used.levels.length; l++) {
        const vals = new Float64Array(n);
        for (let i = 0; i < n; i++) vals[i] = used.codes[i] === l ? 1 : 0;
        pieces.push({ name: `${v.label}${used.levels[l]}`, values: vals });
      }
      pieceLists.push(pieces);
    });
    if (fullCodedMain) spanned = true;
    // Cartesian product, first variable varying fastest.
    let acc: Piece[] = pieceLists[0];
    for (const pieces of pieceLists.slice(1)) {
      const next: Piece[] = [];
      for (const p of pieces) for (const a of acc) {
        const vals = new Float64Array(n);
        for (let i = 0; i < n; i++) vals[i] = a.values[i] * p.values[i];
        next.push({ name: a.name ? `${a.name}:${p.name}` : p.name, values: vals });
      }
      acc = next;
    }
    for (const a of acc) {
      names.push(a.name);
      cols.push(a.values);
    }
  }
  return { names, cols };
}

/** Levels of a factor present in the selected rows, recoded (order kept). */
function usedLevels(v: Variable & { kind: "factor" }, rows: Int32Array): { levels: string[]; codes: Int32Array } {
  const seen = new Uint8Array(v.levels.length);
  const vc = v.codes, n = rows.length;
  for (let i = 0; i < n; i++) seen[vc[rows[i]]] = 1;
  const map = new Int32Array(v.levels.length).fill(-1);
  const levels: string[] = [];
  v.levels.forEach((l, i) => {
    if (seen[i]) {
      map[i] = levels.length;
      levels.push(l);
    }
  });
  const codes = new Int32Array(n);
  for (let i = 0; i < n; i++) codes[i] = map[vc[rows[i]]];
  return { levels, codes };
}

/** Grouping factor of a random term: the interaction of its variables, levels present only. */
function groupingFactor(names: string[], vars: Variables, rows: Int32Array): { levels: string[]; refs: Int32Array } {
  const parts = names.map((nm) => usedLevels(vars.asFactor({ kind: "var", name: nm }), rows));
  if (parts.length === 1) return { levels: parts[0].levels, refs: parts[0].codes };
  // R's f1:f2 levels: first factor slowest; keep the combinations present.
  const n = rows.length;
  const key = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let k = 0;
    for (const p of parts) k = k * p.levels.length + p.codes[i];
    key[i] = k;
  }
  const distinct = Array.from(new Set(key)).sort((a, b) => a - b);
  const index = new Map(distinct.map((k, i) => [k, i]));
  const levels = distinct.map((k) => {
    const labs: string[] = [];
    for (let j = parts.length - 1; j >= 0; j--) {
      const L = parts[j].levels.length;
      labs.unshift(parts[j].levels[k % L]);
      k = Math.floor(k / L);
    }
    return labs.join(":");
  });
  return { levels, refs: Int32Array.from(key, (k) => index.get(k)!) };
}

/** Aliased columns by an incremental Cholesky of X'X: a column nearly in the span of the earlier ones is dropped. */
function aliasedColumns(cols: Float64Array[]): boolean[] {
  const p = cols.length, n = p ? cols[0].length : 0;
  const XtX = new Float64Array(p * p);
  for (let a = 0; a < p; a++) for (let b = 0; b <= a; b++) {
    let s = 0;
    const ca = cols[a], cb = cols[b];
    for (let i = 0; i < n; i++) s += ca[i] * cb[i];
    XtX[a * p + b] = s;
  }
  const L = new Float64Array(p * p);
  const keep: number[] = [];
  const alias: boolean[] = new Array(p).fill(false);
  for (let j = 0; j < p; j++) {
    // Solve for row j against the kept columns.
    const row = new Float64Array(p);
    for (const k of keep) {
      let s = XtX[j * p + k];
      for (const m of keep) {
        if (m >= k) break;
        s -= row[m] * L[k * p + m];
      }
      row[k] = s / L[k * p + k];
    }
    let d = XtX[j * p + j];
    for (const k of keep) d -= row[k] * row[k];
    if (!(XtX[j * p + j] > 0) || d <= 1e-14 * XtX[j * p + j]) {
      alias[j] = true;
      continue;
    }
    for (const k of keep) L[j * p + k] = row[k];
    L[j * p + j] = Math.sqrt(d);
    keep.push(j);
  }
  return alias;
}

function rowMajor(cols: Float64Array[], n: number): Float64Array {
  const p = cols.length;
  const X = new Float64Array(n * p);
  for (let j = 0; j < p; j++) {
    const c = cols[j];
    for (let i = 0; i < n; i++) X[i * p + j] = c[i];
  }
  return X;
}

export function buildDesign(table: DataTable, spec: ModelSpec): Design {
  const vars = new Variables(table);
  const f = spec.formula;
  const nAll = table.nrow;
  // Every variable the model uses, for the missing-value mask.
  const used: Variable[] = [];
  const response = vars.get(f.response);
  if (response.kind === "factor") {
    throw new DataError(`the response '${response.label}' has text (for example '${response.levels[0]}'); it must be numeric`);
  }
  used.push(response);
  for (const t of f.fixed) for (const e of t.factors) used.push(vars.get(e));
  for (const rt of f.random) {
    for (const t of rt.terms) for (const e of t.factors) used.push(vars.get(e));
    for (const g of rt.group) used.push(vars.get({ kind: "var", name: g }));
  }
  const extra: string[] = [];
  if (spec.residual?.time && spec.residual.time !== "1") extra.push(spec.residual.time);
  if (spec.residual?.group) extra.push(...spec.residual.group.split(":"));
  if (spec.varIdent) extra.push(spec.varIdent);
  for (const name of extra) used.push(vars.get({ kind: "var", name } as Expr));
  const ok = new Uint8Array(nAll).fill(1);
  for (const v of used) {
    if (v.kind === "numeric") {
      for (let i = 0; i < nAll; i++) if (Number.isNaN(v.values[i])) ok[i] = 0;
    } else for (let i = 0; i < nAll; i++) if (v.codes[i] < 0) ok[i] = 0;
  }
  let n = 0;
  for (let i = 0; i < nAll; i++) n += ok[i];
  const rows = new Int32Array(n);
  for (let i = 0, k = 0; i < nAll; i++) if (ok[i]) rows[k++] = i;
  const nDropped = nAll - n;
  const messages: string[] = [];
  if (n === 0) throw new DataError("no rows are left after dropping rows with missing values in the columns the model uses");
  if (nDropped > 0) messages.push(`dropped ${nDropped} row${nDropped > 1 ? "s" : ""} with missing values (of ${nAll})`);

  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) y[i] = response.values[rows[i]];
  let constant = true;
  for (let i = 1; i < n && constant; i++) if (y[i] !== y[0]) constant = false;
  if (constant) throw new DataError(`the response '${response.label}' is constant (${y[0]}) in the rows used; there is nothing to model`);

  const fixedCols = modelColumns(f.fixed, f.intercept, vars, rows);
  if (fixedCols.cols.length === 0) throw new DataError("the model has no fixed effects: keep the intercept or add a term");
  const alias = aliasedColumns(fixedCols.cols);
  const aliased = fixedCols.names.filter((_, j) => alias[j]);
  const keptCols = fixedCols.cols.filter((_, j) => !alias[j]);
  const xnames = fixedCols.names.filter((_, j) => !alias[j]);
  if (aliased.length > 0) {
    messages.push(`fixed-effect model matrix is rank deficient so dropping ${aliased.length} column${aliased.length > 1 ? "s" : ""} / coefficient${aliased.length > 1 ? "s" : ""} (${aliased.join(", ")})`);
  }
  const p = keptCols.length;
  if (n <= p) throw new DataError(`the model has ${p} fixed effects but only ${n} rows are used; it needs more rows than fixed effects`);

  const reTerms: ReTermDesign[] = f.random.map((rt) => {
    const { levels, refs } = groupingFactor(rt.group, vars, rows);
    const group = rt.group.join(":");
    if (levels.length < 2) {
      throw new DataError(`the grouping factor '${group}' has only ${levels.length} level in the rows used; a random effect needs at least 2 groups`);
    }
    if (levels.length >= n) {
      throw new DataError(`the grouping factor '${group}' has ${levels.length} levels for ${n} rows: each group needs more than one row on average (number of levels must be < number of observations)`);
    }
    const zc = modelColumns(rt.terms, rt.intercept, vars, rows);
    const q = zc.cols.length;
    if (levels.length * q >= n) {
      throw new DataError(`the random-effects term (${rt.text}) has ${levels.length * q} random effects for ${n} observations; the variance parameters cannot be identified (use fewer effects per group)`);
    }
    return { group, levels, refs, effects: zc.names, z: rowMajor(zc.cols, n), correlated: rt.correlated };
  });

  return { n, y, X: rowMajor(keptCols, n), p, xnames, aliased, reTerms, rows, nDropped, messages };
}
