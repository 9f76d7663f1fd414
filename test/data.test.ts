// Reading data: Excel 2-D arrays (blanks, error cells, numbers as text, headers) and CSV files.
import { test } from "node:test";
import assert from "node:assert/strict";
import { parseCsv, tableFromRows } from "../src/engine";
import { columnLetter } from "../src/engine/data/table";
import type { Column } from "../src/engine/types";

const col = (cols: Column[], name: string) => cols.find((c) => c.name === name)!;

test("Excel values: numbers as text, blanks and error cells are missing, text makes a factor", () => {
  const t = tableFromRows([
    ["y", "x", "g"],
    [1, "4.51", "b"],
    ["", 2, "a"],
    [null, " 7 ", { code: "#N/A" }],
    ["#DIV/0!", "NA", 10],
    [5, 3, "a"],
  ]);
  assert.equal(t.nrow, 5);
  const y = col(t.columns, "y"), x = col(t.columns, "x"), g = col(t.columns, "g");
  assert.equal(y.kind, "numeric");
  assert.equal(x.kind, "numeric");
  if (y.kind !== "numeric" || x.kind !== "numeric" || g.kind !== "factor") throw new Error("kinds");
  assert.deepEqual(Array.from(y.values).map((v) => (Number.isNaN(v) ? null : v)), [1, null, null, null, 5]);
  assert.deepEqual(Array.from(x.values).map((v) => (Number.isNaN(v) ? null : v)), [4.51, 2, 7, null, 3]);
  assert.deepEqual(g.levels, ["10", "a", "b"]);
  assert.deepEqual(Array.from(g.codes), [2, 1, -1, 0, 1]);
});

test("factor levels sort numerically when all numeric, else alphabetically; booleans are levels", () => {
  const t = tableFromRows([["id", "b"], ["10", true], ["9", false], ["x", true]]);
  const id = col(t.columns, "id");
  assert.equal(id.kind, "factor");
  if (id.kind === "factor") assert.deepEqual(id.levels, ["10", "9", "x"]);
  const b = col(t.columns, "b");
  if (b.kind === "factor") assert.deepEqual(b.levels, ["FALSE", "TRUE"]);
  const n = tableFromRows([["id"], ["10"], ["9"], ["100"]]);
  assert.equal(n.columns[0].kind, "numeric");
});

test("whole-column references: trailing blank rows are dropped", () => {
  const t = tableFromRows([["y", "g"], [1, "a"], [2, "b"], [null, null], ["", ""], [0 / 0, null]]);
  assert.equal(t.nrow, 2);
});

test("header problems name the column and say what to fix", () => {
  assert.throws(() => tableFromRows([["y", ""], [1, 2]]), /header cell of column B is empty/);
  assert.throws(() => tableFromRows([["y", "y"], [1, 2]]), /'y' appears twice \(columns A and B\)/);
  assert.throws(() => tableFromRows([[4.51, 152], [1, 2]]), /is the header row missing/);
  assert.throws(() => tableFromRows([["y", "x"], [1]]), /row 2 of the data has 1 cells but the header has 2/);
  assert.throws(() => tableFromRows([]), /empty/);
  assert.throws(() => tableFromRows([["y", "x"]]), /no data rows/);
  assert.equal(columnLetter(0), "A");
  assert.equal(columnLetter(25), "Z");
  assert.equal(columnLetter(26), "AA");
  assert.equal(columnLetter(701), "ZZ");
});

test("CSV: quotes, doubled quotes, separators and newlines in quotes, CRLF, blank cells, BOM", () => {
  const t = parseCsv('\ufeff"name","v","note"\r\n"a, b",1,"say ""hi"""\r\n"c",,"two\nlines"\r\n"d","2.5",NA\r\n');
  assert.equal(t.nrow, 3);
  const name = col(t.columns, "name"), v = col(t.columns, "v"), note = col(t.columns, "note");
  if (name.kind !== "factor" || v.kind !== "numeric" || note.kind !== "factor") throw new Error("kinds");
  assert.deepEqual(name.levels, ["a, b", "c", "d"]);
  assert.deepEqual(Array.from(v.values).map((x) => (Number.isNaN(x) ? null : x)), [1, null, 2.5]);
  assert.deepEqual(note.levels, ["say \"hi\"", "two\nlines"]);
  assert.equal(note.codes[2], -1);
});

test("CSV: a column turns into a factor at its first text cell, keeping earlier numbers as labels", () => {
  const t = parseCsv("g,y\n1,1\n2,2\nx,3\n1.5,4\n");
  const g = col(t.columns, "g");
  if (g.kind !== "factor") throw new Error("kind");
  assert.deepEqual(g.levels, ["1", "1.5", "2", "x"]);
  assert.deepEqual(Array.from(g.codes), [0, 2, 3, 1]);
});

test("CSV errors say where", () => {
  assert.throws(() => parseCsv("a,b\n1,2\n3\n"), /line 3 of the CSV has 1 fields but the header has 2/);
  assert.throws(() => parseCsv('a,b\n"1,2\n'), /unclosed quote starting on line 2/);
  assert.throws(() => parseCsv(""), /empty/);
});
