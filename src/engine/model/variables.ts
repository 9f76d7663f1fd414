// Evaluating formula expressions over the table: a column, factor(x), log/sqrt/exp/abs, and
// arithmetic inside I(...). A variable is numeric (NaN = missing) or a factor (codes, -1 =
// missing) over ALL table rows; the rows the model uses are chosen later.
//
// The table is typed before the spec is known (a column with any text is a factor), so the
// checks that depend on how a column is used are made here, when the model first asks for it:
// a column that is numbers but for a few text cells (a typo, "Inf", a date typed as text) is an
// error when used as a term (it would silently become a factor of hundreds of levels), and fine
// through factor(x) or as a grouping factor; an empty column, values too large to square, and
// a continuous column used as a grouping factor are errors that name the column and the cells.
import type { Column, ContrastName, DataTable, Expr, NumericColumn } from "../types";
import { DataError } from "../errors";
import { isRInteger, rDouble } from "../data/cells";
import { exprLabel } from "../formula/parse";
import { nearest } from "../options";
import { CellKind, cellKind, describeCells, kindNote } from "../data/typos";

export type NumericVariable = { kind: "numeric"; label: string; values: Float64Array };
export type FactorVariable = { kind: "factor"; label: string; levels: string[]; codes: Int32Array; contrast?: ContrastName };
export type Variable = NumericVariable | FactorVariable;

/** Row number as the user sees it: the header is row 1 (a sheet range from A1, a CSV file's line). */
export function rowNumber(i: number): number {
  return i + 2;
}

/**
 * A numeric column is mostly numbers when at least this share of its filled cells are numbers:
 * its few text cells are then far more likely typos than levels of a factor.
 */
export const NUMERIC_SHARE = 0.8;
/**
 * Values beyond this cannot be squared and summed over a million rows in double precision
 * (1e150 squared is 1e300; the largest double is 1.8e308); below its inverse they underflow.
 */
export const MAX_MAGNITUDE = 1e150;
/** A factor of more levels than this, half of whose cells are numbers, is a measurement with text in it. */
export const MANY_LEVELS = 20;

export class Variables {
  private readonly cache = new Map<string, Variable>();
  private readonly byName = new Map<string, Column>();
  private readonly factors = new Map<Variable, FactorVariable>();
  /** Columns already checked for use as a model term. */
  private readonly termChecked = new Set<string>();

  constructor(private readonly table: DataTable) {
    for (const c of table.columns) this.byName.set(c.name, c);
  }

  get nrow(): number {
    return this.table.nrow;
  }

  column(name: string): Column {
    const c = this.byName.get(name);
    if (c) {
      checkFilled(c);
      return c;
    }
    throw new DataError(unknownColumnMessage(name, this.table.columns.map((x) => x.name)));
  }

  /** The response: a term whose text cells cannot be a factor's levels. */
  response(e: Expr): Variable {
    const v = this.get(e, true);
    this.responseLabel = v.label;
    return v;
  }
  /** Label of the response, once asked for: no predictor may be the response itself. */
  private responseLabel: string | null = null;

  /** A variable used as a model term (a fixed or random effect; the response). */
  get(e: Expr, response = false): Variable {
    const v = this.value(e);
    if (!response && v.label === this.responseLabel) {
      throw new DataError(`the response '${v.label}' is also used as a predictor (or inside one): a model cannot predict a column from itself; remove it from the right of '~'`);
    }
    const key = e.kind === "var" ? e.name : v.label;
    if (!this.termChecked.has(key)) {
      if (e.kind === "var") checkTermColumn(this.column(e.name), response, this.table.decimalComma === true);
      if (v.kind === "numeric") checkMagnitude(v.values, v.label, e.kind === "var" ? "column" : "variable");
      this.termChecked.add(key);
    }
    return v;
  }

  private value(e: Expr): Variable {
    const label = exprLabel(e);
    // C(treat, contr.sum) has treat's label but its own coding: its own cache entry.
    const key = e.kind === "call" && e.fn === "C" && e.args[1].kind === "var" ? `${label}\u0001${e.args[1].name}` : label;
    let v = this.cache.get(key);
    if (!v) {
      v = this.evaluate(e, label);
      this.cache.set(key, v);
    }
    return v;
  }

  /**
   * A grouping factor (random term, residual group, varIdent): any column, as R's factor() of it,
   * except a continuous numeric one (or the response itself), which cannot define groups.
   */
  group(name: string, response?: Expr): FactorVariable {
    const c = this.column(name);
    if (response && response.kind === "var" && response.name === name) {
      throw new DataError(`the grouping factor '${name}' is the response: a column cannot be both what is modelled and the groups (group by a column such as tree or subject)`);
    }
    if (c.kind === "numeric") checkNotContinuous(c);
    return this.asFactor({ kind: "var", name });
  }

  /** A variable as a factor (grouping factors, factor(x)): a numeric one gets its values as levels. */
  asFactor(e: Expr): FactorVariable {
    const v = this.value(e);
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
    throw new DataError(textMessage(v, role, this.table.decimalComma === true));
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
        if (e.fn === "C") {
          // R's C() needs a factor: a numeric column must be made one first.
          const v = this.value(arg);
          if (v.kind !== "factor") {
            throw new DataError(`C() needs a factor, but '${label}' is numeric: write C(factor(${label}), ${(e.args[1] as { name: string }).name}) to treat its values as levels`);
          }
          return { ...v, label, contrast: (e.args[1] as { name: string }).name as ContrastName };
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

/** "the response 'size' has text in 3 rows (row 17 'abc', ...); it must be numeric" */
export function textMessage(v: FactorVariable, role: string, decimalComma = false): string {
  const kinds = v.levels.map((l) => cellKind(l, decimalComma));
  const cells: { row: number; text: string; kind: CellKind }[] = [];
  let count = 0;
  const codes = v.codes;
  for (let i = 0; i < codes.length; i++) {
    const c = codes[i];
    if (c >= 0 && kinds[c] !== "number") {
      if (cells.length < 1) cells.push({ row: rowNumber(i), text: v.levels[c], kind: kinds[c] });
      count++;
    }
  }
  if (count === 0) return `${role} '${v.label}' is a factor; it must be numeric`;
  // A column of text (a factor such as treat): the first cell says enough.
  const c = cells[0];
  return `${role} '${v.label}' has text in ${count} row${count > 1 ? "s" : ""} (first: row ${c.row} '${c.text}'${kindNote(c.kind)}); it must be numeric`;
}

const nameInSpec = (name: string): string => exprLabel({ kind: "var", name });

/** The unknown-column error, with the hint most likely to help. */
export function unknownColumnMessage(name: string, names: string[]): string {
  const listed = names.map(nameInSpec).join(", ");
  const lower = name.toLowerCase();
  let hint = "";
  const caseOnly = names.find((x) => x.toLowerCase() === lower);
  const spaced = names.filter((x) => /\s/.test(x) && x.toLowerCase().split(/\s+/).includes(lower));
  if (caseOnly) hint = ` (did you mean '${caseOnly}'? names are case-sensitive)`;
  else if (spaced.length > 0) hint = ` (did you mean ${nameInSpec(spaced[0])}? write a column name with spaces or symbols in backticks, as R does)`;
  else if (names.length === 1 && /[;\t,|]/.test(names[0])) {
    const sep = /;/.test(names[0]) ? "semicolons" : /\t/.test(names[0]) ? "tabs" : /,/.test(names[0]) ? "commas" : "'|'";
    hint = ` (the data has one column whose name holds ${sep}: the columns were not split; in Excel use Data > Text to Columns, or save the file as CSV with commas)`;
  } else {
    const near = nearest(name, names);
    if (near) hint = ` (did you mean ${nameInSpec(near)}?)`;
  }
  return `unknown column '${name}'${hint}; the data has: ${listed}`;
}

/** A column with no value at all: the model would drop every row. */
function checkFilled(c: Column): void {
  if (c.kind === "numeric") {
    const x = c.values;
    for (let i = 0; i < x.length; i++) if (x[i] === x[i]) return;
  } else {
    const k = c.codes;
    for (let i = 0; i < k.length; i++) if (k[i] >= 0) return;
  }
  throw new DataError(`the column '${c.name}' has no values: all ${c.kind === "numeric" ? c.values.length : c.codes.length} of its cells are blank, NA or error values (is it the right column, and does the data range include it?)`);
}

/**
 * A text column used as a term. When it is mostly numbers (NUMERIC_SHARE), its text cells are
 * typos, infinities or dates typed as text: an error that names them, unless the user asked for
 * factor(x). A column of dates typed as text would be a factor of one level per date: an error too.
 */
function checkTermColumn(c: Column, response: boolean, decimalComma: boolean): void {
  if (c.kind !== "factor") return;
  const kinds = c.levels.map((l) => cellKind(l, decimalComma));
  const byKind = { number: 0, infinite: 0, date: 0, point: 0, text: 0 };
  let filled = 0;
  const codes = c.codes;
  for (let i = 0; i < codes.length; i++) {
    const k = codes[i];
    if (k < 0) continue;
    filled++;
    byKind[kinds[k]]++;
  }
  const odd = filled - byKind.number;
  const mostlyNumbers = byKind.number + byKind.infinite >= NUMERIC_SHARE * filled;
  const datesOnly = byKind.date > 0 && byKind.date === odd;
  if (odd > 0 && !mostlyNumbers && !datesOnly && byKind.number >= 0.5 * filled && c.levels.length > MANY_LEVELS) {
    // Half numbers or more, and a factor of many levels: a measurement with text in it.
    const first = codes.findIndex((k) => k >= 0 && kinds[k] !== "number");
    const pct = Math.round((100 * byKind.number) / filled);
    throw new DataError(`the column '${c.name}' mixes numbers (${pct} % of its cells) and text (${odd} cells; first: row ${rowNumber(first)} '${c.levels[codes[first]]}'), so as a model term it would be a factor with ${c.levels.length} levels. If it is numeric, fix the text cells${response ? "" : `; if it is a factor, write factor(${nameInSpec(c.name)})`}`);
  }
  if (odd === 0 || (!mostlyNumbers && !datesOnly)) return;
  const cells: { row: number; text: string; kind: CellKind }[] = [];
  for (let i = 0; i < codes.length && cells.length < 3; i++) {
    const k = codes[i];
    if (k >= 0 && kinds[k] !== "number") cells.push({ row: rowNumber(i), text: c.levels[k], kind: kinds[k] });
  }
  const name = nameInSpec(c.name);
  const list = describeCells(cells, odd);
  const orFactor = response ? "" : `, or write factor(${name}) if ${mostlyNumbers ? "the column is a factor" : "each date is a category"}`;
  if (!mostlyNumbers) {
    throw new DataError(`the column '${c.name}' holds dates or times typed as text (${list}); as a model term it would be a factor with ${c.levels.length} levels. Enter them as Excel dates or as numbers (such as days since the start)${orFactor}`);
  }
  const one = odd === 1;
  const them = one ? "it" : "them";
  const fix = byKind.infinite === odd
    ? `replace ${them} by ${one ? "a finite number" : "finite numbers"}, or blank ${them} to leave ${one ? "the row" : "those rows"} out`
    : byKind.date === odd
      ? `enter ${one ? "the date as an Excel date or a number" : "the dates as Excel dates or numbers"}, like the other cells`
      : `fix ${one ? "the cell" : "the cells"} (or blank ${them} to leave ${one ? "the row" : "those rows"} out)`;
  throw new DataError(`the ${response ? "response" : "column"} '${c.name}' is numeric except ${one ? "1 cell" : `${odd} cells`}: ${list}. ${fix[0].toUpperCase()}${fix.slice(1)}${orFactor}`);
}

/**
 * Values too large to be squared and summed (or a column so close to zero that its squares
 * underflow): name the column and the rows. A few tiny values among ordinary ones are harmless.
 */
function checkMagnitude(x: Float64Array, label: string, what: string): void {
  let count = 0;
  let first = -1;
  let max = 0;
  let at = -1;
  for (let i = 0; i < x.length; i++) {
    const a = Math.abs(x[i]);
    if (a > max) {
      max = a;
      at = i;
    }
    if (a > MAX_MAGNITUDE) {
      if (count === 0) first = i;
      count++;
    }
  }
  if (count > 0) {
    const typo = count < x.length / 10 ? `, or check ${count === 1 ? "that cell for a typo" : "those cells for typos"}` : "";
    throw new DataError(`the ${what} '${label}' has ${count === 1 ? "a value" : `${count} values`} too large to compute with (first: row ${rowNumber(first)}, ${rDouble(x[first])}; the engine squares and sums values, which overflows beyond about ${rDouble(MAX_MAGNITUDE)}): rescale the column (change its unit)${typo}`);
  }
  if (max > 0 && max < 1 / MAX_MAGNITUDE) {
    throw new DataError(`the ${what} '${label}' has only values too close to zero to compute with (the largest: row ${rowNumber(at)}, ${rDouble(x[at])}; their squares underflow to 0): rescale the column (change its unit)`);
  }
}

/**
 * A numeric grouping column with mostly distinct values that are not whole numbers is a
 * measurement (size, weight), not a group label: lme4 would fit one level per value.
 */
function checkNotContinuous(c: NumericColumn): void {
  const x = c.values;
  let filled = 0;
  let whole = true;
  for (let i = 0; i < x.length; i++) {
    const v = x[i];
    if (v !== v) continue;
    filled++;
    if (whole && !Number.isInteger(v)) whole = false;
  }
  if (whole || filled < 4) return;
  const distinct = new Set<number>();
  for (let i = 0; i < x.length; i++) if (x[i] === x[i]) distinct.add(x[i]);
  if (distinct.size * 2 <= filled) return;
  throw new DataError(`the grouping factor '${c.name}' is a continuous measurement (${distinct.size} distinct values, not whole numbers, in ${filled} rows): a grouping factor says which group each row belongs to (tree, subject), with several rows per group. Use it as a fixed effect, or group by an ID column`);
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
