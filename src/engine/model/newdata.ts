// Model rows for new data, coded exactly as the training data were: the same columns of X and Z,
// the same factor coding (reference levels, contrasts, interactions), the same transformations
// (log(x), I(x^2), factor(x)), and the training data's group levels. It reuses design.ts: the
// training and new rows are put in one table (training rows first, the new ones after), the
// columns are made from the training rows alone (so levels, coding and dropped levels are the
// training data's), and then filled for the new rows. Nothing is estimated from the new rows.
import type { Column, DataTable, Design, Expr, ModelSpec, Term } from "../types";
import { DataError } from "../errors";
import { numberLabel } from "../data/cells";
import { Columns, fillColumns, modelColumns } from "./design";
import { Variables } from "./variables";

/** The columns an expression reads. */
export function exprColumns(e: Expr, out: Set<string>): Set<string> {
  switch (e.kind) {
    case "var":
      out.add(e.name);
      break;
    case "num":
      break;
    case "call":
      for (const a of e.args) exprColumns(a, out);
      break;
    case "binop":
      exprColumns(e.left, out);
      exprColumns(e.right, out);
      break;
    case "neg":
    case "paren":
      exprColumns(e.arg, out);
      break;
  }
  return out;
}

function termColumns(terms: Term[], out: Set<string>): Set<string> {
  for (const t of terms) for (const e of t.factors) exprColumns(e, out);
  return out;
}

/** The training column with the new rows appended, coded as the training column is. */
function appendColumn(train: Column, extra: Column | undefined, nNew: number, newRow: (i: number) => number): Column {
  const nT = train.kind === "numeric" ? train.values.length : train.codes.length;
  if (train.kind === "numeric") {
    const values = new Float64Array(nT + nNew);
    values.set(train.values);
    if (!extra) values.fill(NaN, nT);
    else if (extra.kind === "numeric") values.set(extra.values, nT);
    else {
      const i = extra.codes.findIndex((c) => c >= 0);
      throw new DataError(`the column '${train.name}' is numeric in the data but the new data have text in it (row ${newRow(i)}: '${extra.levels[extra.codes[i]]}'): enter numbers`);
    }
    return { kind: "numeric", name: train.name, values };
  }
  // A factor: the training levels in their order (so the reference level and the coding stay),
  // then any new labels, which the caller reports (or, for a group, treats as a new group).
  const levels = train.levels.slice();
  const index = new Map(levels.map((l, k) => [l, k]));
  const codes = new Int32Array(nT + nNew);
  codes.set(train.codes);
  const code = (label: string): number => {
    let k = index.get(label);
    if (k === undefined) {
      k = levels.length;
      levels.push(label);
      index.set(label, k);
    }
    return k;
  };
  for (let i = 0; i < nNew; i++) {
    if (!extra) codes[nT + i] = -1;
    else if (extra.kind === "numeric") {
      const v = extra.values[i];
      codes[nT + i] = v === v ? code(numberLabel(v)) : -1;
    } else {
      const c = extra.codes[i];
      codes[nT + i] = c >= 0 ? code(extra.levels[c]) : -1;
    }
  }
  return { kind: "factor", name: train.name, levels, codes };
}

/** What predictions need of the new rows. */
export interface NewRows {
  n: number;
  /** Rows with every value the requested level needs (index into the new data). */
  ok: Uint8Array;
  /** Per new row, why it has no prediction (null when it has one). */
  missing: (string | null)[];
  /** n x p fixed-effects rows (original coding; rows not ok are zero). */
  X: Float64Array;
  /** Per design random term: n x q values and the training level of each row (-1 = a new level, or not asked). */
  Z: { z: Float64Array; level: Int32Array; labels: string[] }[] | null;
  /** The combined table's variables (training rows first), for the residual structure's columns. */
  vars: Variables;
  /** The combined table (training rows 0..nTrain-1, new rows after). */
  table: DataTable;
  nTrain: number;
}

/**
 * Build the new rows' model rows. `group`: also the random-effect rows (group-level
 * predictions). `extraColumns`: further columns needed (residual structure, variance function).
 * A column the model needs that the new data lack is an error; so is a level of a fixed-effect
 * factor that the training rows do not have. A missing value leaves that row without a
 * prediction (`missing` says why).
 */
export function newRows(train: DataTable, design: Design, spec: ModelSpec, newdata: DataTable, group: boolean, extraColumns: string[], reValues = group): NewRows {
  const f = spec.formula;
  const nNew = newdata.nrow;
  const newRow = (i: number) => i + 2;
  const fixedCols = termColumns(f.fixed, new Set<string>());
  const groupCols = new Set<string>();
  if (group || reValues) for (const rt of f.random) {
    termColumns(rt.terms, groupCols);
    if (group) for (const g of rt.group) groupCols.add(g);
  }
  const needed = new Set<string>([...fixedCols, ...groupCols, ...extraColumns]);
  const newByName = new Map(newdata.columns.map((c) => [c.name, c]));
  const lacking = Array.from(needed).filter((n) => !newByName.has(n));
  if (lacking.length > 0) {
    const have = newdata.columns.map((c) => c.name).join(", ") || "none";
    throw new DataError(`the new data lack the column${lacking.length > 1 ? "s" : ""} ${lacking.map((n) => `'${n}'`).join(", ")} that the model uses (its header row must name the model's columns; it has: ${have})`);
  }
  const nTrain = train.nrow;
  const columns: Column[] = train.columns.filter((c) => needed.has(c.name)).map((c) => appendColumn(c, newByName.get(c.name), nNew, newRow));
  const table: DataTable = { nrow: nTrain + nNew, columns, decimalComma: train.decimalComma };
  const vars = new Variables(table);
  const trainRows = design.rows;
  const rowsNew = Int32Array.from({ length: nNew }, (_, i) => nTrain + i);

  // Which rows have every value needed.
  const missing: (string | null)[] = new Array<string | null>(nNew).fill(null);
  const markMissing = (names: Set<string>) => {
    for (const name of names) {
      const c = columns.find((x) => x.name === name)!;
      for (let i = 0; i < nNew; i++) {
        const r = nTrain + i;
        const miss = c.kind === "numeric" ? c.values[r] !== c.values[r] : c.codes[r] < 0;
        if (miss && missing[i] === null) missing[i] = `no value of '${name}' (blank, NA or an error cell)`;
      }
    }
  };
  markMissing(needed);

  // Fixed effects: the training columns (names as design.xnames), filled for the new rows.
  const fcols = modelColumns(f.fixed, f.intercept, vars, trainRows, "the fixed effects");
  checkLevels(f.fixed, fcols, vars, rowsNew, nTrain, missing, "fixed-effect");
  const okRows = Int32Array.from(rowsNew.filter((_, i) => missing[i] === null));
  const X = new Float64Array(nNew * design.p);
  const pAll = fcols.names.length;
  const full = new Float64Array(okRows.length * pAll);
  fillColumns(fcols, okRows, full, pAll);
  const keep = design.xnames.map((nm) => fcols.names.indexOf(nm));
  okRows.forEach((r, k) => {
    const i = r - nTrain;
    for (let j = 0; j < design.p; j++) X[i * design.p + j] = full[k * pAll + keep[j]];
  });

  let Z: NewRows["Z"] = null;
  if (group || reValues) {
    Z = f.random.map((rt, t) => {
      const term = design.reTerms[t];
      const zc = modelColumns(rt.terms, rt.intercept, vars, trainRows, `the random term (${rt.text})`);
      checkLevels(rt.terms, zc, vars, rowsNew, nTrain, missing, "random-effect");
      const q = term.effects.length;
      const okNow = Int32Array.from(rowsNew.filter((_, i) => missing[i] === null));
      const zAll = new Float64Array(okNow.length * q);
      fillColumns(zc, okNow, zAll, q);
      const z = new Float64Array(nNew * q);
      okNow.forEach((r, k) => z.set(zAll.subarray(k * q, k * q + q), (r - nTrain) * q));
      // The group label of each new row, as design.ts labels levels ("a:b" for an interaction).
      const facs = group ? rt.group.map((g) => vars.group(g)) : [];
      const index = new Map(term.levels.map((l, k) => [l, k]));
      const level = new Int32Array(nNew).fill(-1);
      const labels: string[] = new Array<string>(nNew).fill("");
      for (let i = 0; i < nNew && group; i++) {
        const r = nTrain + i;
        if (facs.some((fv) => fv.codes[r] < 0)) continue;
        const label = facs.map((fv) => fv.levels[fv.codes[r]]).join(":");
        labels[i] = label;
        level[i] = index.get(label) ?? -1;
      }
      return { z, level, labels };
    });
  }
  const ok = Uint8Array.from(missing, (m) => (m === null ? 1 : 0));
  return { n: nNew, ok, missing, X, Z, vars, table, nTrain };
}

/** A factor level in the new rows that the training rows lack: an error that names it. */
function checkLevels(terms: Term[], cols: Columns, vars: Variables, rows: Int32Array, nTrain: number, missing: (string | null)[], what: string): void {
  cols.terms.forEach((tc, t) => {
    tc.vars.forEach((v, j) => {
      if (!v.codes) return;
      const fv = vars.get(terms[t].factors[j]);
      const levels = fv.kind === "factor" ? fv.levels : [];
      const present = new Set(v.present);
      for (let i = 0; i < rows.length; i++) {
        if (missing[i] !== null) continue;
        const c = v.codes[rows[i]];
        if (c >= 0 && !present.has(c)) {
          const known = v.levelNames.map((l) => `'${l}'`).join(", ");
          throw new DataError(`row ${rows[i] - nTrain + 2} of the new data has the level '${levels[c]}' of the ${what} factor '${v.label}', which the rows used in the fit do not have (its levels: ${known}); a model cannot predict for a level it has not seen`);
        }
      }
    });
  });
}
