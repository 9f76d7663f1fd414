// Evaluating formula expressions over the table: a column, factor(x), log/sqrt/exp/abs, and
// arithmetic inside I(...). A variable is numeric (NaN = missing) or a factor (codes, -1 =
// missing) over ALL table rows; rows are selected later.
import type { Column, DataTable, Expr } from "../types";
import { DataError } from "../errors";
import { numberLabel, sortLevels } from "../data/cells";
import { exprLabel } from "../formula/parse";

export type Variable =
  | { kind: "numeric"; label: string; values: Float64Array }
  | { kind: "factor"; label: string; levels: string[]; codes: Int32Array };

export class Variables {
  private readonly cache = new Map<string, Variable>();
  constructor(private readonly table: DataTable) {}

  column(name: string): Column {
    const c = this.table.columns.find((x) => x.name === name);
    if (c) return c;
    const names = this.table.columns.map((x) => x.name);
    const ci = names.find((x) => x.toLowerCase() === name.toLowerCase());
    throw new DataError(`unknown column '${name}'${ci ? ` (did you mean '${ci}'?)` : ""}; the data has: ${names.join(", ")}`);
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

  /** A variable as a factor (grouping factors, factor(x)). */
  asFactor(e: Expr): Variable & { kind: "factor" } {
    const v = this.get(e);
    if (v.kind === "factor") return v;
    return numericToFactor(v.label, v.values);
  }

  numeric(e: Expr, what: string): Float64Array {
    const v = this.get(e);
    if (v.kind === "factor") {
      throw new DataError(`${what} '${v.label}' has text (for example '${v.levels[0]}'); it must be numeric`);
    }
    return v.values;
  }

  private evaluate(e: Expr, label: string): Variable {
    const n = this.table.nrow;
    switch (e.kind) {
      case "var": {
        const c = this.column(e.name);
        return c.kind === "numeric" ? { kind: "numeric", label, values: c.values } : { kind: "factor", label, levels: c.levels, codes: c.codes };
      }
      case "num":
        return { kind: "numeric", label, values: new Float64Array(n).fill(e.value) };
      case "neg": {
        const a = this.numeric(e.arg, "the column");
        return { kind: "numeric", label, values: a.map((v) => -v) };
      }
      case "binop": {
        const a = this.numeric(e.left, "the column"), b = this.numeric(e.right, "the column");
        const out = new Float64Array(n);
        for (let i = 0; i < n; i++) {
          const x = a[i], y = b[i];
          out[i] = e.op === "+" ? x + y : e.op === "-" ? x - y : e.op === "*" ? x * y : e.op === "/" ? x / y : Math.pow(x, y);
        }
        return { kind: "numeric", label, values: out };
      }
      case "call": {
        const arg = e.args[0];
        if (e.fn === "factor") {
          const f = this.asFactor(arg);
          return { ...f, label };
        }
        if (e.fn === "I") return { kind: "numeric", label, values: this.numeric(arg, "the column") };
        const a = this.numeric(arg, `${e.fn}() of the column`);
        const f = e.fn === "log" ? Math.log : e.fn === "log10" ? Math.log10 : e.fn === "log2" ? Math.log2 : e.fn === "sqrt" ? Math.sqrt : e.fn === "exp" ? Math.exp : Math.abs;
        const out = a.map(f);
        let bad = 0;
        for (let i = 0; i < n; i++) if (!Number.isNaN(a[i]) && !Number.isFinite(out[i])) bad++;
        if (bad > 0) {
          throw new DataError(`${label} is not defined for ${bad} row${bad > 1 ? "s" : ""} (${e.fn === "sqrt" ? "negative" : "zero or negative"} values of ${exprLabel(arg)}); remove them or transform differently`);
        }
        return { kind: "numeric", label, values: out };
      }
    }
  }
}

export function numericToFactor(label: string, values: Float64Array): Variable & { kind: "factor" } {
  const labels = new Map<number, string>();
  for (const v of values) if (!Number.isNaN(v) && !labels.has(v)) labels.set(v, numberLabel(v));
  const levels = sortLevels(Array.from(labels.values()));
  const index = new Map(levels.map((l, i) => [l, i]));
  const codes = new Int32Array(values.length);
  for (let i = 0; i < values.length; i++) codes[i] = Number.isNaN(values[i]) ? -1 : index.get(labels.get(values[i])!)!;
  return { kind: "factor", label, levels, codes };
}
