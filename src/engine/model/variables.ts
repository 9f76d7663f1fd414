// Evaluating formula expressions over the table: a column, factor(x), log/sqrt/exp/abs, and
// arithmetic inside I(...). A variable is numeric (NaN = missing) or a factor (codes, -1 =
// missing) over ALL table rows; the rows the model uses are chosen later.
import type { Column, DataTable, Expr } from "../types";
import { DataError } from "../errors";
import { isRInteger, parseNumber, rDouble } from "../data/cells";
import { exprLabel } from "../formula/parse";

export type NumericVariable = { kind: "numeric"; label: string; values: Float64Array };
export type FactorVariable = { kind: "factor"; label: string; levels: string[]; codes: Int32Array };
export type Variable = NumericVariable | FactorVariable;

/** Row number as the user sees it: the header is row 1 (a sheet range from A1, a CSV file's line). */
export function rowNumber(i: number): number {
  return i + 2;
}

export class Variables {
  private readonly cache = new Map<string, Variable>();
  private readonly byName = new Map<string, Column>();
  private readonly factors = new Map<Variable, FactorVariable>();

  constructor(private readonly table: DataTable) {
    for (const c of table.columns) this.byName.set(c.name, c);
  }

  get nrow(): number {
    return this.table.nrow;
  }

  column(name: string): Column {
    const c = this.byName.get(name);
    if (c) return c;
    const names = this.table.columns.map((x) => x.name);
    const lower = name.toLowerCase();
    const near = names.find((x) => x.toLowerCase() === lower);
    const hint = near ? ` (did you mean '${near}'? names are case-sensitive)` : "";
    throw new DataError(`unknown column '${name}'${hint}; the data has: ${names.join(", ")}`);
  }

  get(e: Expr): Variable {
    const label = exprLabel(e);
    let v = this.cache.get(label);
    if (!v) {
      v = this.evaluate(e, label);
      this.cache.set(label, v);
    }
    return v;
  }

  /** A variable as a factor (grouping factors, factor(x)): a numeric one gets its values as levels. */
  asFactor(e: Expr): FactorVariable {
    const v = this.get(e);
    if (v.kind === "factor") return v;
    let f = this.factors.get(v);
    if (!f) {
      f = numericToFactor(v.label, v.values);
      this.factors.set(v, f);
    }
    return f;
  }

  /** A variable that must be numeric; `role` names it in the error ("the response"). */
  numeric(e: Expr, role: string): Float64Array {
    const v = this.get(e);
    if (v.kind === "numeric") return v.values;
    throw new DataError(textMessage(v, role));
  }

  private evaluate(e: Expr, label: string): Variable {
    const n = this.table.nrow;
    switch (e.kind) {
      case "var": {
        const c = this.column(e.name);
        return c.kind === "numeric" ? { kind: "numeric", label, values: c.values } : { kind: "factor", label, levels: c.levels, codes: c.codes };
      }
      case "paren": {
        const v = this.get(e.arg);
        return { ...v, label };
      }
      case "num":
        return { kind: "numeric", label, values: new Float64Array(n).fill(e.value) };
      case "neg": {
        const a = this.numeric(e.arg, "the column");
        const out = new Float64Array(n);
        for (let i = 0; i < n; i++) out[i] = -a[i];
        return { kind: "numeric", label, values: out };
      }
      case "binop": {
        const a = this.numeric(e.left, "the column");
        const b = this.numeric(e.right, "the column");
        const out = new Float64Array(n);
        switch (e.op) {
          case "+":
            for (let i = 0; i < n; i++) out[i] = a[i] + b[i];
            break;
          case "-":
            for (let i = 0; i < n; i++) out[i] = a[i] - b[i];
            break;
          case "*":
            for (let i = 0; i < n; i++) out[i] = a[i] * b[i];
            break;
          case "/":
            for (let i = 0; i < n; i++) out[i] = a[i] / b[i];
            break;
          case "^":
            for (let i = 0; i < n; i++) out[i] = Math.pow(a[i], b[i]);
            break;
        }
        checkFinite(out, [a, b], label, e.op === "/" ? "division by zero" : e.op === "^" ? "a power of a negative number, or too large" : "too large");
        return { kind: "numeric", label, values: out };
      }
      case "call": {
        const arg = e.args[0];
        if (e.fn === "factor") {
          const f = this.asFactor(arg);
          return { ...f, label };
        }
        const a = this.numeric(arg, `${e.fn}() of the column`);
        if (e.fn === "I") return { kind: "numeric", label, values: a };
        const f = FN[e.fn];
        if (!f) throw new DataError(`unknown function '${e.fn}'`);
        const out = new Float64Array(n);
        for (let i = 0; i < n; i++) out[i] = f(a[i]);
        checkFinite(out, [a], label, WHY[e.fn] ?? "not defined", exprLabel(arg));
        return { kind: "numeric", label, values: out };
      }
    }
  }
}

const FN: Record<string, (x: number) => number> = {
  log: Math.log,
  log10: Math.log10,
  log2: Math.log2,
  sqrt: Math.sqrt,
  exp: Math.exp,
  abs: Math.abs,
};
const WHY: Record<string, string> = {
  log: "zero or negative values",
  log10: "zero or negative values",
  log2: "zero or negative values",
  sqrt: "negative values",
  exp: "values too large for exp()",
};

/** A result that is not finite where its inputs are: a DataError with the count and first row. */
function checkFinite(out: Float64Array, inputs: Float64Array[], label: string, why: string, of?: string): void {
  let bad = 0;
  let first = -1;
  for (let i = 0; i < out.length; i++) {
    const v = out[i];
    if (v - v === 0) continue; // finite
    let inputsOk = true;
    for (const a of inputs) if (!(a[i] - a[i] === 0)) inputsOk = false;
    if (!inputsOk) continue; // missing stays missing
    if (bad === 0) first = i;
    bad++;
  }
  if (bad > 0) {
    const value = inputs.length === 1 ? `, where ${of ?? "the value"} is ${rDouble(inputs[0][first])}` : "";
    throw new DataError(`${label} is not defined for ${bad} row${bad > 1 ? "s" : ""} (${why}${of ? ` of ${of}` : ""}; first: row ${rowNumber(first)}${value}): remove those rows or transform differently`);
  }
}

/** "the response 'size' has text in 3 rows (first: row 17 'abc'); it must be numeric" */
export function textMessage(v: FactorVariable, role: string): string {
  const isText = v.levels.map((l) => Number.isNaN(parseNumber(l)));
  let count = 0;
  let first = -1;
  const codes = v.codes;
  for (let i = 0; i < codes.length; i++) {
    const c = codes[i];
    if (c >= 0 && isText[c]) {
      if (count === 0) first = i;
      count++;
    }
  }
  if (count === 0) return `${role} '${v.label}' is a factor; it must be numeric`;
  return `${role} '${v.label}' has text in ${count} row${count > 1 ? "s" : ""} (first: row ${rowNumber(first)} '${v.levels[codes[first]]}'); it must be numeric`;
}

/**
 * A numeric variable as a factor, as R's factor(): levels are the distinct values in numeric
 * order, labelled as R would: integers (what read.csv makes an integer column) as plain digits,
 * other numbers as as.character() of a double.
 */
export function numericToFactor(label: string, values: Float64Array): FactorVariable {
  const n = values.length;
  let min = Infinity;
  let max = -Infinity;
  let allInt = true;
  let any = false;
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (v !== v) continue;
    any = true;
    if (v < min) min = v;
    if (v > max) max = v;
    if (allInt && !isRInteger(v)) allInt = false;
  }
  const codes = new Int32Array(n);
  if (!any) {
    codes.fill(-1);
    return { kind: "factor", label, levels: [], codes };
  }
  const name = allInt ? (v: number) => String(v === 0 ? 0 : v) : rDouble;
  if (allInt && max - min <= 4 * n + 1024) {
    // Integer codes in a small range (IDs): a lookup table, no sorting.
    const span = max - min + 1;
    const slot = new Int32Array(span).fill(-1);
    for (let i = 0; i < n; i++) {
      const v = values[i];
      if (v === v) slot[v - min] = 0;
    }
    const levels: string[] = [];
    for (let k = 0; k < span; k++) {
      if (slot[k] === 0) {
        slot[k] = levels.length;
        levels.push(name(k + min));
      }
    }
    for (let i = 0; i < n; i++) {
      const v = values[i];
      codes[i] = v === v ? slot[v - min] : -1;
    }
    return { kind: "factor", label, levels, codes };
  }
  const first = new Map<number, number>();
  const distinct: number[] = [];
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (v !== v) {
      codes[i] = -1;
      continue;
    }
    const key = v === 0 ? 0 : v; // -0 and 0 are one level
    let k = first.get(key);
    if (k === undefined) {
      k = distinct.length;
      first.set(key, k);
      distinct.push(key);
    }
    codes[i] = k;
  }
  const order = Array.from(distinct.keys()).sort((a, b) => distinct[a] - distinct[b]);
  const rank = new Int32Array(distinct.length);
  order.forEach((k, r) => (rank[k] = r));
  for (let i = 0; i < n; i++) if (codes[i] >= 0) codes[i] = rank[codes[i]];
  // Labels that coincide (numbers equal to 15 digits) would make two levels of one name: merge them.
  const labels = order.map((k) => name(distinct[k]));
  const merged = mergeEqualLabels(labels, codes);
  return { kind: "factor", label, levels: merged, codes };
}

/** Merge levels with equal labels (keeping the first), renumbering codes in place. */
function mergeEqualLabels(labels: string[], codes: Int32Array): string[] {
  const seen = new Map<string, number>();
  const remap = new Int32Array(labels.length);
  const out: string[] = [];
  let changed = false;
  labels.forEach((l, k) => {
    const j = seen.get(l);
    if (j === undefined) {
      seen.set(l, out.length);
      remap[k] = out.length;
      out.push(l);
    } else {
      remap[k] = j;
      changed = true;
    }
  });
  if (changed) for (let i = 0; i < codes.length; i++) if (codes[i] >= 0) codes[i] = remap[codes[i]];
  return out;
}
