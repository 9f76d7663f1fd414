// The compact columns the pane (and the functions) send to the worker: the table made from them
// is exactly tableFromRows's (same columns, levels, codes and errors, on random ranges of every
// kind of cell); rows fed in blocks of any size give the same columns and the same key as one
// range; the key tells apart what the engine reads differently and joins what it reads alike;
// the copies for the worker are exactly as long as the data and leave the page's copy intact.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { tableFromRows } from "../../src/engine/data";
import { CellColumns, CellColumnsBuilder, cellColumnsFromRows, cellValue, tableFromCellColumns } from "../../src/engine/data/cell-columns";
import { DataCollector, dataFromRows, wireData } from "../../src/worker/data";
import { requestMessage, responseTransfer } from "../../src/worker/protocol";
import { answer } from "../../src/worker/run";
import { csvRows } from "../helpers/fixtures";

/** The table, or the error's name and message. */
function outcome(make: () => unknown): unknown {
  try {
    return make();
  } catch (e) {
    return { error: (e as Error).name, message: (e as Error).message };
  }
}

const same = (rows: unknown[][]) => assert.deepEqual(outcome(() => tableFromCellColumns(cellColumnsFromRows(rows))), outcome(() => tableFromRows(rows)));

const cell = fc.oneof(
  fc.integer({ min: -5, max: 30 }),
  fc.double({ noNaN: false }),
  fc.constantFrom(0, -0, 1.5, 1e21, 2 ** 60, NaN, Infinity, -Infinity, 100000, 0.1 + 0.2),
  fc.constantFrom("", " ", "a", " a ", "b", "12", " 12 ", "1.50", "1e3", "NA", "NaN", "#N/A", "#div/0!", "TRUE", "x y", "\u00a0c", ".5", "0x10"),
  fc.string({ maxLength: 3 }),
  fc.boolean(),
  fc.constantFrom(null, undefined, { type: "Error", code: "#N/A" }),
);

test("cell columns: the same table as tableFromRows, on random ranges", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 4 }).chain((w) =>
        fc.tuple(
          fc.array(fc.oneof(fc.constantFrom("y", "g", "x", "t", "", " ", "NA", "#REF!", "y"), fc.constantFrom(null, 3)), { minLength: w, maxLength: w }),
          fc.array(fc.array(cell, { minLength: w, maxLength: w }), { maxLength: 12 }),
        ),
      ),
      ([header, body]) => {
        same([header, ...body]);
        // Distinct names, so that most cases reach the columns.
        same([header.map((_, j) => `c${j}`), ...body]);
      },
    ),
    { numRuns: 1500 },
  );
});

test("cell columns: shape and header errors word as tableFromRows words them", () => {
  const cases: unknown[][][] = [
    [],
    [[]],
    [["y", "g"], [1, "a"], [2]],
    [["y", "g"], [1, "a"], "not a row" as unknown as unknown[]],
    [["y", "y"], [1, 2]],
    [["y", ""], [1, 2]],
    [["y", 2], [1, 2]],
    [["y"]],
    [["y", "g", ""], [1, "a", ""], [2, "b", null], ["", "", ""], [null, null, null]],
    [["y", "g"], [1, "a"], [" 12 ", 12], ["1.50", 1.5]],
  ];
  for (const rows of cases) same(rows);
  const sitka = csvRows("assets/examples/sitka.csv");
  same(sitka);
});

test("cell columns: numbers and numeric texts in a factor are one level when R writes them alike", () => {
  const t = tableFromCellColumns(cellColumnsFromRows([["g"], [12], ["12"], [" 12"], ["1.50"], [1.5], ["a"], [true]]));
  const c = t.columns[0];
  assert.equal(c.kind, "factor");
  assert.deepEqual(c.kind === "factor" && c.levels, ["1.5", "1.50", "12", "a", "TRUE"]);
  assert.deepEqual(c.kind === "factor" && Array.from(c.codes), [2, 2, 2, 1, 0, 3, 4]);
});

/** Rows fed in blocks of the given sizes. */
function collected(rows: unknown[][], sizes: number[]) {
  const c = new DataCollector(rows[0], rows.length - 1);
  let at = 1, k = 0;
  while (at < rows.length) {
    const n = Math.max(1, sizes[k++ % sizes.length]);
    c.add(rows.slice(at, at + n));
    at += n;
  }
  return c.finish();
}

test("cell columns: blocks of any size give the columns and the key of one range", () => {
  fc.assert(
    fc.property(
      fc.array(fc.array(cell, { minLength: 3, maxLength: 3 }), { minLength: 1, maxLength: 40 }),
      fc.array(fc.integer({ min: 1, max: 9 }), { minLength: 1, maxLength: 5 }),
      (body, sizes) => {
        const rows = [["y", "g", "x"], ...body];
        const got = collected(rows, sizes);
        // The collector keeps rows up to the last non-blank one, as the pane's data are.
        const blank = (v: unknown) => v === null || v === undefined || (typeof v === "string" && v.trim() === "");
        let n = rows.length;
        while (n > 1 && rows[n - 1].every(blank)) n--;
        const want = dataFromRows(rows.slice(0, n));
        assert.equal(got.key, want.key);
        assert.deepEqual(plain(got.cells), plain(want.cells));
      },
    ),
    { numRuns: 500 },
  );
});

/** Columns as plain arrays (a grown builder and a sized one differ only in buffer length). */
function plain(d: CellColumns) {
  return { ...d, columns: d.columns.map((c) => ({ ...c, num: c.num && Array.from(c.num), text: c.text && Array.from(c.text) })) };
}

test("cell columns: the builder grows past its capacity", () => {
  const b = new CellColumnsBuilder(["y", "g"], 2);
  const rows = Array.from({ length: 1000 }, (_, i) => [i, i % 2 ? `g${i % 7}` : i]);
  b.add(rows.slice(0, 3));
  b.add(rows.slice(3));
  const d = b.build();
  assert.equal(d.nrow, 1000);
  assert.deepEqual([cellValue(d.columns[0], 999), cellValue(d.columns[1], 999), cellValue(d.columns[1], 998)], [999, "g5", 998]);
  assert.deepEqual(tableFromCellColumns(d), tableFromRows([["y", "g"], ...rows]));
});

test("keys: what the engine reads alike shares a fit, what it reads differently does not", () => {
  const key = (rows: unknown[][]) => dataFromRows(rows).key;
  const base = [["y", "g"], [1, "a"], [2, "b"]];
  assert.equal(key(base), key([["y", "g"], [1, " a"], [2, "b "]]), "texts are trimmed");
  assert.equal(key([["y"], [null], [1]]), key([["y"], [""], [1]]));
  assert.equal(key([["y"], [{ type: "Error" }], [1]]), key([["y"], ["#N/A"], [1]]), "an error cell as an object or as its text");
  assert.notEqual(key(base), key([["y", "g"], [1, "a"], [2, "c"]]));
  assert.notEqual(key(base), key([["y", "g"], [2, "a"], [1, "b"]]), "rows swapped");
  assert.notEqual(key(base), key([["g", "y"], [1, "a"], [2, "b"]]), "header");
  assert.notEqual(key([["y"], [1]]), key([["y"], ["1"]]), "a number and a numeric text (a factor keeps the spelling)");
  assert.notEqual(key([["y"], ["1.5"]]), key([["y"], ["1.50"]]));
  assert.notEqual(key([["y", "g"], [1, 2]]), key([["y", "g"], [2, 1]]), "values swapped between columns");
  assert.notEqual(key([["y", "g"], ["ab", "c"]]), key([["y", "g"], ["a", "bc"]]));
  assert.notEqual(key([["y"], [1], [2]]), key([["y"], [1], [2], [3]]));
  const big = Array.from({ length: 5000 }, (_, i) => [i * 0.5, `s${i % 50}`]);
  const changed = big.map((r) => r.slice());
  changed[4999][0] = 4999 * 0.5 + 1e-12;
  assert.notEqual(key([["y", "g"], ...big]), key([["y", "g"], ...changed]), "a change in the last digit of the last row");
});

test("the worker gets copies exactly as long as the data, transferred; the page keeps its own", () => {
  const rows = [["y", "g"], ...Array.from({ length: 10 }, (_, i) => [i, `g${i % 3}`])];
  const c = new DataCollector(rows[0], 100);
  c.add(rows, 1);
  c.add([["", ""], [null, ""]]); // trailing blank rows: not data
  const data = c.finish();
  assert.equal(data.cells.nrow, 10);
  const req = requestMessage({ id: 1, kind: "fit", data, spec: "y ~ 1 + (1|g)", options: {} });
  assert.equal(req.transfer.length, 2);
  const moved = structuredClone(req.message, { transfer: req.transfer });
  assert.equal(moved.data!.cells.columns[0].num!.length, 10);
  assert.equal(data.cells.columns[0].num!.length, 10, "the page's arrays are not detached");
  assert.equal(cellValue(data.cells.columns[1], 9), "g0");
  assert.deepEqual(tableFromCellColumns(moved.data!.cells), tableFromRows(rows));
  assert.deepEqual(wireData(data).data.key, data.key);
});

test("the worker's answer carries the fitted values as typed arrays to transfer, and its timings", () => {
  const rows = csvRows("assets/examples/sitka.csv");
  const res = answer({ id: 7, kind: "fit", data: dataFromRows(rows), spec: "size ~ time + (1|tree)", options: { fitted: true, ci: "none" } });
  assert.ok(!res.error);
  const f = (res.result as { fitted: { rows: Int32Array; conditional: Float64Array } }).fitted;
  assert.ok(f.rows instanceof Int32Array && f.conditional instanceof Float64Array);
  assert.equal(f.conditional.length, 395);
  // rows, conditional, marginal, residual, and the pearson, normalized and marginal-level residuals
  assert.equal(responseTransfer(res).length, 9);
  assert.ok(res.timing && res.timing.engine > 0 && res.timing.table >= 0);
  const viaRows = answer({ id: 8, kind: "fit", rows, spec: "size ~ time + (1|tree)", options: { fitted: true, ci: "none" } });
  assert.deepEqual((viaRows as { result: unknown }).result, (res as { result: unknown }).result, "rows or columns: the same fit");
});
