// Reading data: Excel 2-D arrays (blanks, error cells, numbers as text, headers) and CSV files
// (RFC 4180), with one set of cell rules; level labels and order as R makes them.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import fc from "fast-check";
import { parseCsv, tableFromRows, columnLetter } from "../src/engine/data";
import { compareText, numberLabel, rDouble, scanNumber, sortLevels } from "../src/engine/data/cells";
import type { Column, DataTable } from "../src/engine/types";

const col = (t: DataTable, name: string): Column => {
  const c = t.columns.find((x) => x.name === name);
  if (!c) throw new Error(`no column ${name}`);
  return c;
};
const nums = (t: DataTable, name: string) => {
  const c = col(t, name);
  assert.equal(c.kind, "numeric", `${name} is numeric`);
  return Array.from((c as { values: Float64Array }).values, (v) => (Number.isNaN(v) ? null : v));
};
const fac = (t: DataTable, name: string) => {
  const c = col(t, name);
  assert.equal(c.kind, "factor", `${name} is a factor`);
  const f = c as { levels: string[]; codes: Int32Array };
  return { levels: f.levels, values: Array.from(f.codes, (k) => (k < 0 ? null : f.levels[k])) };
};

test("Excel cells: numbers, numeric text, blanks, NA and error cells", () => {
  const t = tableFromRows([
    ["y", "x", "g"],
    [1, "4.51", "b"],
    ["", "-1e3", "a"],
    [null, " 7 ", { type: "#N/A" }],
    ["#DIV/0!", "NA", 10],
    [undefined, "+2", "#VALUE!"],
    ["NaN", ".5", "#REF!"],
    ["#NAME?", "5.", "#NUM!"],
    ["#NULL!", NaN, "#SPILL!"],
    ["#CALC!", -0, "  a  "],
    [5, 3, "#N/A"],
  ]);
  assert.equal(t.nrow, 10);
  assert.deepEqual(nums(t, "y"), [1, null, null, null, null, null, null, null, null, 5]);
  assert.deepEqual(nums(t, "x"), [4.51, -1000, 7, null, 2, 0.5, 5, null, -0, 3]);
  // An infinite number is not dropped as missing: it is the text "Inf", which the model reports.
  const inf = tableFromRows([["x"], [1], [Infinity], [-Infinity]]).columns[0];
  assert.equal(inf.kind, "factor");
  assert.deepEqual(fac(tableFromRows([["x"], [1], [Infinity], [-Infinity]]), "x").values, ["1", "Inf", "-Inf"]);
  const g = fac(t, "g");
  assert.deepEqual(g.levels, ["10", "a", "b"]);
  assert.deepEqual(g.values, ["b", "a", null, "10", null, null, null, null, "a", null]);
});

test("a column with any text is a factor; its numbers become levels as R writes them", () => {
  const t = tableFromRows([
    ["id", "flag", "mixed"],
    [152, true, "4.50"],
    [4.5, false, 100000],
    [100000, true, 0.0001],
    ["x", null, "abc"],
    [0.1 + 0.2, false, 1e5 + 0.5],
  ]);
  assert.deepEqual(fac(t, "id").values, ["152", "4.5", "100000", "x", "0.3"]);
  assert.deepEqual(fac(t, "id").levels, ["0.3", "100000", "152", "4.5", "x"]);
  assert.deepEqual(fac(t, "flag").levels, ["FALSE", "TRUE"]);
  // Text keeps its spelling ("4.50"); number cells are labelled as R's as.character.
  assert.deepEqual(fac(t, "mixed").values, ["4.50", "100000", "1e-04", "abc", "100000.5"]);
  // Texts that only look like numbers to JavaScript stay text.
  for (const s of ["0x10", "Infinity", "1e", "1,5", "1 2", "--1", "."]) {
    assert.equal(tableFromRows([["v"], [s], [1]]).columns[0].kind, "factor", s);
  }
});

test("numbers as R's as.character writes them", () => {
  const cases: [number, string][] = [
    [1e5, "1e+05"], [150000, "150000"], [120000, "120000"], [1e-4, "1e-04"], [0.00012, "0.00012"],
    [123.456, "123.456"], [1e15, "1e+15"], [999999999999999, "999999999999999"], [1e21, "1e+21"],
    [1.5e-300, "1.5e-300"], [2 ** 60, "1152921504606846976"], [-1e5, "-1e+05"], [0.1, "0.1"],
    [(1 / 7) * 1e10, "1428571428.57143"], [1e100, "1e+100"], [5e-324, "4.94065645841247e-324"], [-1.5, "-1.5"], [0, "0"],
  ];
  for (const [x, s] of cases) assert.equal(rDouble(x), s, String(x));
  // Integers (what read.csv makes an integer column) as plain digits.
  assert.equal(numberLabel(100000), "100000");
  assert.equal(numberLabel(-0), "0");
  assert.equal(numberLabel(4.5), "4.5");
});

test("numbers are read exactly as JavaScript's Number reads the same text", () => {
  fc.assert(
    fc.property(
      fc.tuple(fc.constantFrom("", "-", "+"), fc.stringMatching(/^[0-9]{0,25}$/), fc.boolean(), fc.stringMatching(/^[0-9]{0,25}$/), fc.option(fc.integer({ min: -330, max: 330 }))),
      ([sign, int, dot, frac, e]) => {
        const s = `${sign}${int}${dot ? "." : ""}${dot ? frac : ""}${e === null ? "" : `e${e}`}`;
        const v = scanNumber(s, 0, s.length);
        const hasDigits = int.length > 0 || (dot && frac.length > 0);
        if (!hasDigits) return Number.isNaN(v);
        const want = Number(s);
        return Number.isFinite(want) ? Object.is(v, want) : Number.isNaN(v);
      },
    ),
    { numRuns: 3000 },
  );
});

test("levels sort as R: numerically when all are numbers, else in English collation", () => {
  assert.deepEqual(sortLevels(["10", "9", "100", "-1", "2.5"]), ["-1", "2.5", "9", "10", "100"]);
  assert.deepEqual(sortLevels(["10", "9", "x"]), ["10", "9", "x"]);
  // R 4.2 (ICU) sort(): a A ä a b a_b a-b ab b B e é f x.1 x1 Z, punctuation first.
  const r = ["_x", "-x", "10", "9", "a", "A", "ä", "a b", "a_b", "a-b", "ab", "b", "B", "e", "é", "f", "x.1", "x1", "Z"];
  assert.deepEqual(sortLevels(r.slice().reverse()), r);
  assert.deepEqual(sortLevels(["b2", "B1", "a10", "A2", "a2", "a1"]), ["a1", "a10", "a2", "A2", "B1", "b2"]);
  // The fast comparison of letters and digits agrees with the collator.
  const coll = new Intl.Collator("en");
  fc.assert(
    fc.property(fc.stringMatching(/^[0-9a-cA-C]{0,6}$/), fc.stringMatching(/^[0-9a-cA-C]{0,6}$/), (a, b) => {
      const want = coll.compare(a, b) || (a < b ? -1 : a > b ? 1 : 0);
      return Math.sign(compareText(a, b)) === Math.sign(want);
    }),
    { numRuns: 5000 },
  );
});

test("whole-column references: trailing blank rows and blank columns are dropped", () => {
  const t = tableFromRows([
    ["y", "g", null, ""],
    [1, "a", null, ""],
    [null, null, null, null],
    [2, "b", "", null],
    [null, null, null, null],
    ["", "", "", ""],
    [NaN, null, { type: "#N/A" }, null],
  ]);
  assert.equal(t.nrow, 3, "blank rows inside the data stay (as missing), trailing ones go");
  assert.deepEqual(t.columns.map((c) => c.name), ["y", "g"]);
  assert.deepEqual(nums(t, "y"), [1, null, 2]);
});

test("header problems name the column and say what to fix", () => {
  assert.throws(() => tableFromRows([["y", ""], [1, 2]]), /header cell of column B is empty \(the column after 'y'\)/);
  assert.throws(() => tableFromRows([["y", "", "x"], [1, null, 2]]), /header cell of column B is empty/);
  assert.throws(() => tableFromRows([["y", { type: "#REF!" }], [1, 2]]), /header cell of column B is empty/);
  assert.throws(() => tableFromRows([["y", "#REF!"], [1, 2]]), /header cell of column B is the error value #REF!/);
  assert.throws(() => tableFromRows([["y", " y "], [1, 2]]), /column name 'y' appears twice \(columns A and B\): rename one of them/);
  assert.throws(() => tableFromRows([[4.51, 152], [1, 2]]), /header of column A is the number 4\.51.*is the header row missing\?/);
  assert.throws(() => tableFromRows([["size", "152"], [1, 2]]), /header of column B is the number 152/);
  assert.throws(() => tableFromRows([["y", "x"], [1]]), /row 2 of the data has 1 cell but the header has 2/);
  assert.throws(() => tableFromRows([["y", "x"], [1, 2], [1, 2, 3]]), /row 3 of the data has 3 cells/);
  assert.throws(() => tableFromRows([]), /the data range is empty/);
  assert.throws(() => tableFromRows([["y", "x"]]), /no data rows/);
  assert.throws(() => tableFromRows([["y", "x"], [null, ""]]), /no data rows/);
  const t = tableFromRows([["  size ", "time"], [1, 2]]);
  assert.deepEqual(t.columns.map((c) => c.name), ["size", "time"]);
});

test("columnLetter", () => {
  assert.deepEqual([0, 1, 25, 26, 27, 51, 52, 701, 702, 16383].map(columnLetter), ["A", "B", "Z", "AA", "AB", "AZ", "BA", "ZZ", "AAA", "XFD"]);
});

test("CSV: quotes, doubled quotes, separators and line breaks in quotes, CRLF, BOM, blank cells", () => {
  const t = parseCsv('\ufeff"name","v","note"\r\n"a, b",1,"say ""hi"""\r\n"c",,"two\nlines"\r\n"d","2.5",NA\r\n');
  assert.equal(t.nrow, 3);
  assert.deepEqual(fac(t, "name").levels, ["a, b", "c", "d"]);
  assert.deepEqual(nums(t, "v"), [1, null, 2.5]);
  const note = fac(t, "note");
  assert.deepEqual(note.levels, ['say "hi"', "two\nlines"]);
  assert.deepEqual(note.values, ['say "hi"', "two\nlines", null]);
});

test("CSV: LF, CR, no final line break, blank lines, spaces, trailing empty rows and columns", () => {
  assert.deepEqual(nums(parseCsv("a,b\n1,2\n3,4"), "b"), [2, 4]);
  assert.deepEqual(nums(parseCsv("a,b\r1,2\r3,4\r"), "a"), [1, 3]);
  const t = parseCsv("a , b,\n\n 1 , x ,\n  \t \n\n2,  \"y\" ,\n,,\n , ,\n");
  assert.deepEqual(t.columns.map((c) => c.name), ["a", "b"]);
  assert.equal(t.nrow, 2);
  assert.deepEqual(nums(t, "a"), [1, 2]);
  assert.deepEqual(fac(t, "b").values, ["x", "y"]);
  // Missing texts, quoted or not; quoted numbers are numbers (as R's read.csv).
  const m = parseCsv('y,z\n"NA",#N/A\n"3",NaN\n#DIV/0!,"4"\n');
  assert.deepEqual(nums(m, "y"), [null, 3, null]);
  assert.deepEqual(nums(m, "z"), [null, null, 4]);
});

test("CSV: a column turns into a factor at its first text cell, keeping earlier cells as written", () => {
  const t = parseCsv("g,y,h\n1,1,a\n2.50,2,1\n007,2,2\nx,3,3\n1.5,4,b\n,5,\n");
  const g = fac(t, "g");
  assert.deepEqual(g.levels, ["007", "1", "1.5", "2.50", "x"]);
  assert.deepEqual(g.values, ["1", "2.50", "007", "x", "1.5", null]);
  assert.deepEqual(fac(t, "h").values, ["a", "1", "2", "3", "b", null]);
  // Quoted fields and line breaks inside quotes before the switch are read again correctly.
  const q = parseCsv('k,v\n"1",1\n"2\n",2\n3,3\nz,4\n');
  assert.deepEqual(fac(q, "k").values, ["1", "2", "3", "z"]);
});

test("CSV and Excel arrays type cells the same way", () => {
  const cell = fc.oneof(
    fc.constantFrom("", "NA", "#N/A", "#VALUE!", "NaN", " 7 ", "-1e3", "4.51", ".5", "TRUE", "abc", "a,b", 'q"q', "x y", "0x10", "007"),
    fc.integer({ min: -1000, max: 1000 }).map(String),
    fc.double({ min: -1e6, max: 1e6, noNaN: true }).map((v) => String(v)),
  );
  fc.assert(
    fc.property(fc.array(fc.tuple(cell, cell, cell), { minLength: 1, maxLength: 12 }), (body) => {
      const rows: unknown[][] = [["a", "b", "c"], ...body];
      const csv = rows.map((r) => r.map((c) => (/[",\n]/.test(String(c)) ? `"${String(c).replace(/"/g, '""')}"` : String(c))).join(",")).join("\n");
      let a: DataTable | null = null;
      let b: DataTable | null = null;
      let ea = "";
      let eb = "";
      try {
        a = tableFromRows(rows);
      } catch (e) {
        ea = (e as Error).name;
      }
      try {
        b = parseCsv(csv);
      } catch (e) {
        eb = (e as Error).name;
      }
      if (!a || !b) return ea === eb;
      return JSON.stringify(snapshot(a)) === JSON.stringify(snapshot(b));
    }),
    { numRuns: 500 },
  );
});

function snapshot(t: DataTable): unknown {
  return {
    nrow: t.nrow,
    columns: t.columns.map((c) => (c.kind === "numeric" ? { n: c.name, v: Array.from(c.values, (x) => (Number.isNaN(x) ? null : x)) } : { n: c.name, l: c.levels, c: Array.from(c.codes) })),
  };
}

test("CSV errors say where and what to fix", () => {
  assert.throws(() => parseCsv("a,b\n1,2\n3\n"), /line 3 of the CSV has 1 field but the header line has 2/);
  assert.throws(() => parseCsv('a,b\n"x\ny",2\n3,4,5\n'), /line 4 of the CSV has 3 fields/);
  assert.throws(() => parseCsv('a,b\n"1,2\n'), /quote that is never closed: the field that starts on line 2/);
  assert.throws(() => parseCsv('a,b\n"1"x,2\n'), /line 2 of the CSV has text after the closing quote/);
  assert.throws(() => parseCsv(""), /the CSV file is empty/);
  assert.throws(() => parseCsv("\n\n"), /the CSV file is empty/);
  assert.throws(() => parseCsv("a,b\n"), /no data rows/);
  assert.throws(() => parseCsv("a,,c\n1,2,3\n"), /header cell of column B is empty/);
  assert.throws(() => parseCsv("a,b,\n1,2,3\n"), /header cell of column C is empty/);
  assert.throws(() => parseCsv("a,a\n1,2\n"), /'a' appears twice/);
  assert.throws(() => parseCsv("4.51,152\n1,2\n"), /is the header row missing/);
});

test("CSV of the lecture's data", () => {
  const t = parseCsv(fs.readFileSync(path.join(__dirname, "..", "..", "assets", "examples", "sitka.csv"), "utf8"));
  assert.equal(t.nrow, 395);
  assert.deepEqual(t.columns.map((c) => `${c.name}:${c.kind}`), ["size:numeric", "time:numeric", "tree:numeric", "treat:factor"]);
  assert.deepEqual(fac(t, "treat").levels, ["control", "ozone"]);
  assert.deepEqual(nums(t, "size").slice(0, 3), [4.51, 4.98, 5.41]);
});
