// emmeans's reference grid: the predictors of the fixed part (the variables inside its terms,
// as R's all.vars) crossed, factors at their levels in the rows used, covariates at their means
// (a covariate with at most two distinct values at those values, as emmeans's cov.keep = "2"),
// unless `at` sets them. Each grid point gets its row of the model matrix, and for trends the
// derivative of that row with respect to one covariate (forward-mode differentiation of the
// term expressions, so time:treat, I(time^2) and log(time) all work).
//
// Estimability (emmeans's check against the null space of X): the aliased columns X_a of the
// full model matrix are X_k B (B = (X_k'X_k)^{-1} X_k'X_a, the kept columns X_k); a linear function
// l = [l_k, l_a] of the full coefficients is estimable iff l_a = l_k B, and then equals l_k beta_k.
import type { Design, Expr, ModelSpec } from "../types";
import type { LmmFit } from "../model/prepared";
import { DataError } from "../errors";
import { exprLabel } from "../formula/parse";
import { numericToFactor } from "../model/variables";
import { cholLower, invFromChol } from "../linalg/dense";
import { nearest } from "../options";

/** One predictor of the grid: a factor (levels) or a covariate (values). */
export interface GridVar {
  name: string;
  kind: "factor" | "numeric";
  /** Level labels (factor) or the values as text (covariate). */
  labels: string[];
  /** Covariate values (numeric), or the numeric value of each level when the factor came from factor(x) of a number. */
  values: number[];
  /** Whether the values are the data's (a kept covariate, the factor's levels) rather than a mean. */
  fromAt: boolean;
}

/** A column of the full (unaliased) model matrix: per term, how each variable enters. */
interface TermCoding {
  exprs: Expr[];
  /** Per variable: null for numeric, else level label -> piece index (-1: no column). */
  pieces: (Map<string, number> | null)[];
  /** Per variable: the grid variable a factor reads its level from. */
  gridOf: (string | null)[];
  strides: number[];
  count: number;
}

export interface RefGrid {
  vars: GridVar[];
  /** Number of full model-matrix columns (kept + aliased). */
  P: number;
  /** Full column -> kept column index, or -1 when aliased. */
  keptOf: Int32Array;
  /** B (aliased x kept) when columns are aliased, else null. */
  B: Float64Array | null;
  aliasedCols: number[];
  terms: TermCoding[];
  intercept: boolean;
}

/** The variable names inside an expression, and those used through factor(). */
function walk(e: Expr, out: Set<string>, asFactor: Set<string>, inFactor = false): void {
  switch (e.kind) {
    case "var":
      out.add(e.name);
      if (inFactor) asFactor.add(e.name);
      return;
    case "num":
      return;
    case "paren":
    case "neg":
      walk(e.arg, out, asFactor, inFactor);
      return;
    case "binop":
      walk(e.left, out, asFactor, inFactor);
      walk(e.right, out, asFactor, inFactor);
      return;
    case "call":
      for (const a of e.args) walk(a, out, asFactor, inFactor || e.fn === "factor");
  }
}

/** The model's grid predictors, in the order they first appear in the fixed terms. */
export function predictorNames(spec: ModelSpec): { names: string[]; asFactor: Set<string> } {
  const seen = new Set<string>();
  const asFactor = new Set<string>();
  for (const t of spec.formula.fixed) for (const e of t.factors) walk(e, seen, asFactor);
  return { names: Array.from(seen), asFactor };
}

/** `at` values as the user gave them: numbers or level labels. */
export type AtSpec = Record<string, (number | string)[]>;

function fmtNum(x: number): string {
  // As R prints a grid value (up to 15 significant digits, no trailing zeros).
  return String(Number(x.toPrecision(15)));
}

/** Build the grid variables of a fit (factor levels, covariate means or `at` values). */
export function gridVars(fit: LmmFit, spec: ModelSpec, table: import("../types").DataTable, at: AtSpec): GridVar[] {
  const { names, asFactor } = predictorNames(spec);
  const rows = fit.design.rows;
  for (const k of Object.keys(at)) {
    if (!names.includes(k)) {
      const near = nearest(k, names);
      throw new DataError(`at names '${k}', which is not a predictor of the model's fixed effects${near ? ` (did you mean '${near}'?)` : ""}; the predictors are: ${names.join(", ") || "(none)"}`);
    }
  }
  return names.map((name) => {
    const col = table.columns.find((c) => c.name === name);
    if (!col) throw new DataError(`unknown column '${name}'`);
    const given = at[name];
    if (col.kind === "factor" || asFactor.has(name)) {
      let labels: string[];
      let values: number[] = [];
      if (col.kind === "factor") {
        const seen = new Uint8Array(col.levels.length);
        for (let i = 0; i < rows.length; i++) seen[col.codes[rows[i]]] = 1;
        labels = col.levels.filter((_, k) => seen[k]);
      } else {
        const f = numericToFactor(name, col.values);
        const seen = new Uint8Array(f.levels.length);
        for (let i = 0; i < rows.length; i++) seen[f.codes[rows[i]]] = 1;
        labels = f.levels.filter((_, k) => seen[k]);
        values = labels.map(Number);
      }
      if (given) {
        const want = given.map(String);
        for (const w of want) {
          if (!labels.includes(w)) throw new DataError(`at: '${w}' is not a level of '${name}'; its levels are: ${labels.join(", ")}`);
        }
        const keep = labels.map((l, i) => ({ l, i })).filter(({ l }) => want.includes(l));
        return { name, kind: "factor", labels: keep.map((x) => x.l), values: values.length ? keep.map((x) => values[x.i]) : [], fromAt: true };
      }
      return { name, kind: "factor", labels, values, fromAt: false };
    }
    if (given) {
      const vals = given.map((v) => {
        const x = typeof v === "number" ? v : Number(String(v).trim());
        if (!Number.isFinite(x)) throw new DataError(`at: '${String(v)}' is not a number, and '${name}' is a numeric predictor`);
        return x;
      });
      return { name, kind: "numeric", labels: vals.map(fmtNum), values: vals, fromAt: true };
    }
    // Mean over the rows used; at most two distinct values are kept as they are (cov.keep = "2").
    const x = col.values;
    let s = 0;
    const distinct = new Set<number>();
    for (let i = 0; i < rows.length; i++) {
      const v = x[rows[i]];
      s += v;
      if (distinct.size <= 2) distinct.add(v);
    }
    if (distinct.size <= 2) {
      const vals = Array.from(distinct).sort((a, b) => a - b);
      return { name, kind: "numeric", labels: vals.map(fmtNum), values: vals, fromAt: false };
    }
    const mean = s / rows.length;
    return { name, kind: "numeric", labels: [fmtNum(mean)], values: [mean], fromAt: false };
  });
}

/**
 * The coding of each fixed term's factors, as R's model.matrix (contrasts when the term without
 * the factor is empty or in an earlier term, else indicators; without an intercept the first
 * factor gets all its levels), checked against the design's column names.
 */
function termCodings(design: Design, spec: ModelSpec, vars: GridVar[]): { terms: TermCoding[]; names: string[] } {
  const fixed = spec.formula.fixed;
  const keys = design.fixedTerms.map((t) => t.vars.map((v) => v.label));
  const isFactor = design.fixedTerms.map((t) => t.vars.map((v) => v.codes !== null));
  const coding = keys.map((ks, t) =>
    ks.map((_, j) => {
      if (!isFactor[t][j]) return 0;
      const margin = ks.filter((_, m) => m !== j);
      if (margin.length === 0) return 1;
      for (let u = 0; u < t; u++) if (margin.every((x) => keys[u].includes(x))) return 1;
      return 2;
    }),
  );
  if (!design.intercept) {
    outer: for (let t = 0; t < coding.length; t++) {
      for (let j = 0; j < coding[t].length; j++) {
        if (coding[t][j] > 0) {
          coding[t][j] = 2;
          break outer;
        }
      }
    }
  }
  const names: string[] = design.intercept ? ["(Intercept)"] : [];
  const terms = design.fixedTerms.map((ft, t) => {
    const exprs = fixed[t].factors;
    const pieceNames: string[][] = [];
    const pieces: (Map<string, number> | null)[] = [];
    const gridOf: (string | null)[] = [];
    ft.vars.forEach((v, j) => {
      if (!v.codes) {
        pieces.push(null);
        gridOf.push(null);
        pieceNames.push([v.label]);
        return;
      }
      const use = coding[t][j] === 1 ? v.levelNames.slice(1) : v.levelNames;
      const m = new Map<string, number>();
      v.levelNames.forEach((l) => m.set(l, use.indexOf(l)));
      pieces.push(m);
      pieceNames.push(use.map((l) => `${v.label}${l}`));
      // The grid variable of a factor: the column itself, or x of factor(x).
      const inner = new Set<string>();
      walk(exprs[j], inner, new Set());
      const g = Array.from(inner).find((nm) => vars.some((gv) => gv.name === nm && gv.kind === "factor"));
      if (!g) throw new DataError(`the factor '${v.label}' cannot be placed on the reference grid (use a plain column or factor(column))`);
      gridOf.push(g);
    });
    const strides: number[] = [];
    let count = 1;
    for (const pn of pieceNames) {
      strides.push(count);
      count *= pn.length;
    }
    for (let c = 0; c < count; c++) names.push(pieceNames.map((pn, j) => pn[Math.floor(c / strides[j]) % pn.length]).join(":"));
    return { exprs, pieces, gridOf, strides, count };
  });
  return { terms, names };
}

/** A value with its derivative (forward-mode differentiation). */
interface Dual {
  v: number;
  d: number;
}

/** A grid point: each predictor's label and numeric value. */
export interface Point {
  label: Map<string, string>;
  value: Map<string, number>;
}

function evalExpr(e: Expr, pt: Point, wrt: string | null): Dual {
  switch (e.kind) {
    case "var": {
      const v = pt.value.get(e.name);
      if (v === undefined) throw new DataError(`'${e.name}' is a factor here and cannot be used as a number`);
      return { v, d: e.name === wrt ? 1 : 0 };
    }
    case "num":
      return { v: e.value, d: 0 };
    case "paren":
      return evalExpr(e.arg, pt, wrt);
    case "neg": {
      const a = evalExpr(e.arg, pt, wrt);
      return { v: -a.v, d: -a.d };
    }
    case "binop": {
      const a = evalExpr(e.left, pt, wrt), b = evalExpr(e.right, pt, wrt);
      switch (e.op) {
        case "+":
          return { v: a.v + b.v, d: a.d + b.d };
        case "-":
          return { v: a.v - b.v, d: a.d - b.d };
        case "*":
          return { v: a.v * b.v, d: a.d * b.v + a.v * b.d };
        case "/":
          return { v: a.v / b.v, d: (a.d * b.v - a.v * b.d) / (b.v * b.v) };
        case "^": {
          const v = Math.pow(a.v, b.v);
          let d = b.v === 0 ? 0 : a.d * b.v * Math.pow(a.v, b.v - 1);
          if (b.d !== 0) d += v * Math.log(a.v) * b.d;
          return { v, d };
        }
      }
      break;
    }
    case "call": {
      const a = e.args[0];
      if (e.fn === "I") return evalExpr(a, pt, wrt);
      if (e.fn === "factor") throw new DataError(`factor(${exprLabel(a)}) cannot be used as a number`);
      const x = evalExpr(a, pt, wrt);
      switch (e.fn) {
        case "log":
          return { v: Math.log(x.v), d: x.d / x.v };
        case "log10":
          return { v: Math.log10(x.v), d: x.d / (x.v * Math.LN10) };
        case "log2":
          return { v: Math.log2(x.v), d: x.d / (x.v * Math.LN2) };
        case "sqrt": {
          const v = Math.sqrt(x.v);
          return { v, d: x.d / (2 * v) };
        }
        case "exp": {
          const v = Math.exp(x.v);
          return { v, d: v * x.d };
        }
        case "abs":
          return { v: Math.abs(x.v), d: x.v < 0 ? -x.d : x.d };
      }
      throw new DataError(`unknown function '${e.fn}'`);
    }
  }
  throw new Error("internal: unknown expression");
}

/** The full model-matrix row at a point (or its derivative with respect to `wrt`). */
export function fullRow(grid: RefGrid, pt: Point, wrt: string | null): Float64Array {
  const out = new Float64Array(grid.P);
  let start = 0;
  if (grid.intercept) {
    out[0] = wrt ? 0 : 1;
    start = 1;
  }
  for (const tc of grid.terms) {
    let off = 0;
    let ok = true;
    const vals: Dual[] = [];
    tc.exprs.forEach((e, j) => {
      const pc = tc.pieces[j];
      if (pc) {
        const k = pc.get(pt.label.get(tc.gridOf[j]!)!);
        if (k === undefined || k < 0) ok = false;
        else off += k * tc.strides[j];
      } else vals.push(evalExpr(e, pt, wrt));
    });
    if (ok) {
      let v = 1;
      for (const x of vals) v *= x.v;
      let d = 0;
      if (wrt) {
        for (let i = 0; i < vals.length; i++) {
          let prod = vals[i].d;
          for (let j = 0; j < vals.length; j++) if (j !== i) prod *= vals[j].v;
          d += prod;
        }
      }
      out[start + off] = wrt ? d : v;
    }
    start += tc.count;
  }
  return out;
}

/** The reference grid's pieces for a fit: variables, term codings, and the aliasing map. */
export function buildRefGrid(fit: LmmFit, table: import("../types").DataTable, at: AtSpec): RefGrid {
  const { design } = fit;
  const spec = fit.spec;
  const vars = gridVars(fit, spec, table, at);
  const { terms, names } = termCodings(design, spec, vars);
  const P = names.length;
  const kept = new Map<string, number>();
  design.xnames.forEach((nm, j) => kept.set(nm, j));
  const keptOf = new Int32Array(P).fill(-1);
  const aliasedCols: number[] = [];
  names.forEach((nm, c) => {
    const j = kept.get(nm);
    if (j !== undefined) keptOf[c] = j;
    else aliasedCols.push(c);
  });
  if (P - aliasedCols.length !== design.p || aliasedCols.some((c) => !design.aliased.includes(names[c]))) {
    throw new Error(`internal: the reference grid's columns (${names.join(", ")}) do not match the model's (${design.xnames.join(", ")})`);
  }
  const grid: RefGrid = { vars, P, keptOf, B: null, aliasedCols, terms, intercept: design.intercept };
  if (aliasedCols.length > 0) grid.B = aliasMap(grid, fit, table);
  return grid;
}

/** B = (X_k'X_k)^{-1} X_k'X_a from one pass over the rows used (full rows from the data). */
function aliasMap(grid: RefGrid, fit: LmmFit, table: import("../types").DataTable): Float64Array {
  const { design } = fit;
  const p = design.p, a = grid.aliasedCols.length;
  const G = new Float64Array(p * p), C = new Float64Array(p * a);
  const cols = grid.vars.map((gv) => ({ gv, col: table.columns.find((c) => c.name === gv.name)! }));
  const factorsOf = new Map<string, ReturnType<typeof numericToFactor>>();
  const pt: Point = { label: new Map(), value: new Map() };
  for (let i = 0; i < design.n; i++) {
    const r = design.rows[i];
    for (const { gv, col } of cols) {
      if (col.kind === "factor") pt.label.set(gv.name, col.levels[col.codes[r]]);
      else if (gv.kind === "factor") {
        let f = factorsOf.get(gv.name);
        if (!f) factorsOf.set(gv.name, (f = numericToFactor(gv.name, col.values)));
        pt.label.set(gv.name, f.levels[f.codes[r]]);
        pt.value.set(gv.name, col.values[r]);
      } else pt.value.set(gv.name, col.values[r]);
    }
    const x = fullRow(grid, pt, null);
    const xo = i * p;
    for (let u = 0; u < p; u++) {
      const xu = design.X[xo + u];
      if (xu === 0) continue;
      for (let v = 0; v < p; v++) G[u * p + v] += xu * design.X[xo + v];
      for (let k = 0; k < a; k++) C[u * a + k] += xu * x[grid.aliasedCols[k]];
    }
  }
  if (!cholLower(G, p)) throw new DataError("the fixed-effect columns are linearly dependent, so the means cannot be checked for estimability");
  const Gi = invFromChol(G, p);
  const B = new Float64Array(p * a);
  for (let u = 0; u < p; u++) for (let k = 0; k < a; k++) {
    let s = 0;
    for (let v = 0; v < p; v++) s += Gi[u * p + v] * C[v * a + k];
    B[u * a + k] = s;
  }
  return B;
}

/**
 * A full linear function as one of the kept coefficients, or null when it is not estimable
 * (its aliased part is not l_k B, relative tolerance 1e-8 as emmeans's estimability check).
 */
export function toKept(grid: RefGrid, lFull: Float64Array, p: number): Float64Array | null {
  const l = new Float64Array(p);
  for (let c = 0; c < grid.P; c++) if (grid.keptOf[c] >= 0) l[grid.keptOf[c]] = lFull[c];
  if (!grid.B) return l;
  const a = grid.aliasedCols.length;
  let res = 0, norm = 0;
  for (let c = 0; c < grid.P; c++) norm += lFull[c] * lFull[c];
  for (let k = 0; k < a; k++) {
    let s = 0;
    for (let u = 0; u < p; u++) s += l[u] * grid.B[u * a + k];
    const d = lFull[grid.aliasedCols[k]] - s;
    res += d * d;
  }
  return res <= 1e-16 * Math.max(norm, 1e-300) ? l : null;
}
