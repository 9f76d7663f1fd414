// Issue 14, bad data: how a column is checked where the model uses it. A few text cells in a
// numeric column (typos, infinities, dates typed as text) are errors that name the cells unless
// the user asked for factor(x); empty columns, values too large to square, a continuous or the
// response as grouping factor are errors that name the column. Each is tested as a family over
// both readers (CSV text and Excel values), so no path types a column differently.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { DataError, fitModel, parseCsv, tableFromRows } from "../src/engine";
import type { DataTable } from "../src/engine/types";
import { csvRows } from "./helpers/fixtures";

const SITKA = "assets/examples/sitka.csv";
const rows = csvRows(SITKA); // header + 395 rows, numbers as numbers
const SPEC = "size ~ time + (1|tree)";

/** The Sitka rows with some cells replaced (row index r counts data rows from 0). */
function withCells(cells: [number, number, unknown][]): unknown[][] {
  const out = rows.map((r) => r.slice());
  for (const [r, c, v] of cells) out[r + 1][c] = v;
  return out;
}

/** The same rows as CSV text, quoting text cells. */
function csvOf(rs: unknown[][]): string {
  return rs.map((r) => r.map((v) => (typeof v === "string" ? `"${v}"` : v === null ? "" : String(v))).join(",")).join("\n");
}

/** Both readers: the Excel path and the CSV path. */
function bothTables(rs: unknown[][]): [string, DataTable][] {
  return [["excel", tableFromRows(rs)], ["csv", parseCsv(csvOf(rs))]];
}

const dataError = (f: () => unknown): DataError => {
  try {
    f();
  } catch (e) {
    assert.ok(e instanceof DataError, `expected a DataError, got ${(e as Error).name}: ${(e as Error).message}`);
    return e;
  }
  assert.fail("expected a DataError, but the call succeeded");
};

// Texts a user types by mistake into a numeric column.
const typo = fc.oneof(
  fc.constantFrom("abc", "n/a", "?", "-", "x", "4,51", "1.2.3", "12a", "TRUE", "missing", "."),
  fc.stringMatching(/^[a-z]{1,6}$/).filter((s) => !["na", "nan", "inf", "infinity", "e"].includes(s.toLowerCase())),
);
const infinite = fc.constantFrom("Inf", "-Inf", "Infinity", "-Infinity", "inf", "+Inf", "1e309", "-1e400", "1" + "0".repeat(400));
const dateText = fc.constantFrom("2024-01-05", "05.01.2024", "1/5/2024", "2024/1/5", "5-Jan-2024", "Jan 5, 2024", "10:30", "2024-01-05 10:30");

test("any single text cell in a numeric predictor, at any row, is an error naming the row and the text", () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 394 }), fc.oneof(typo, infinite, dateText), (r, text) => {
      for (const [reader, t] of bothTables(withCells([[r, 1, text]]))) {
        const e = dataError(() => fitModel(t, SPEC, { ci: "none" }));
        assert.match(e.message, new RegExp(`^the column 'time' is numeric except 1 cell: row ${r + 2} '`), `${reader}: ${e.message}`);
        assert.ok(e.message.includes(`'${text}'`), `${reader}: ${e.message}`);
        assert.match(e.message, /write factor\(time\) if the column is a factor/);
      }
    }),
    { numRuns: 60 },
  );
});

test("the kind of the cell is said: infinite, or a date typed as text", () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 394 }), infinite, (r, text) => {
      const e = dataError(() => fitModel(parseCsv(csvOf(withCells([[r, 1, text]]))), SPEC));
      assert.match(e.message, /\(infinite, or too large for a number\)\. Replace it by a finite number/);
    }),
    { numRuns: 20 },
  );
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 394 }), dateText, (r, text) => {
      const e = dataError(() => fitModel(tableFromRows(withCells([[r, 1, text]])), SPEC));
      assert.match(e.message, /\(a date or time typed as text\)\. Enter the date as an Excel date or a number/);
    }),
    { numRuns: 20 },
  );
  // Infinite numbers from JavaScript are not dropped as missing either.
  const e = dataError(() => fitModel(tableFromRows(withCells([[40, 1, Infinity]])), SPEC));
  assert.match(e.message, /row 42 'Inf' \(infinite/);
});

test("several text cells (up to 20 % of the column): the count and the first three", () => {
  fc.assert(
    fc.property(fc.uniqueArray(fc.integer({ min: 0, max: 394 }), { minLength: 2, maxLength: 79 }), (rs) => {
      const e = dataError(() => fitModel(tableFromRows(withCells(rs.map((r) => [r, 1, `bad${r}`]))), SPEC));
      const sorted = rs.slice().sort((a, b) => a - b);
      const first = sorted.slice(0, 3).map((r) => `row ${r + 2} 'bad${r}'`);
      const list = rs.length === 2 ? `${first[0]} and ${first[1]}` : rs.length === 3 ? `${first[0]}, ${first[1]} and ${first[2]}` : `${first.join(", ")} and ${rs.length - 3} more`;
      assert.ok(e.message.startsWith(`the column 'time' is numeric except ${rs.length} cells: ${list}. Fix the cells`), e.message);
    }),
    { numRuns: 30 },
  );
});

test("in the response the same cells are named, without the factor() advice", () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 394 }), typo, (r, text) => {
      const e = dataError(() => fitModel(tableFromRows(withCells([[r, 0, text]])), SPEC));
      assert.ok(e.message.startsWith(`the response 'size' is numeric except 1 cell: row ${r + 2} '${text}'`), e.message);
      assert.ok(!e.message.includes("factor("), e.message);
    }),
    { numRuns: 30 },
  );
});

test("factor(x) and grouping factors take the text cells as levels, as R does", () => {
  const t = tableFromRows(withCells([[16, 1, "abc"], [3, 2, "T1b"]]));
  const f = fitModel(t, "size ~ factor(time) + (1|tree)", { ci: "none" });
  assert.ok(f.fixef.some((r) => r.term === "factor(time)abc"));
  assert.equal(f.n, 395);
  // A text cell among the numeric tree IDs is a level of the grouping factor: 80 trees.
  const g = fitModel(t, "size ~ factor(time) + (1|tree)", { ci: "none" });
  assert.equal(g.groups.tree, 80);
  // A column that is mostly text is an ordinary factor (treat), however it is used.
  assert.ok(fitModel(t, "size ~ treat + (1|tree)", { ci: "none" }).fixef.some((r) => r.term === "treatozone"));
});

test("a column of dates typed as text used as a term is an error (not a factor of one level per date)", () => {
  const dates = rows.map((r, i) => (i === 0 ? [...r, "date"] : [...r, `2024-01-${String(1 + (i % 28)).padStart(2, "0")}`]));
  const e = dataError(() => fitModel(tableFromRows(dates), "size ~ date + (1|tree)"));
  assert.match(e.message, /^the column 'date' holds dates or times typed as text \(row 2 '2024-01-02' \(a date or time typed as text\), .*\); as a model term it would be a factor with 28 levels\. .*or write factor\(date\)/);
  // Asked for as a factor, it is one.
  assert.ok(fitModel(tableFromRows(dates), "size ~ factor(date) + (1|tree)", { ci: "none" }).fixef.length === 28);
});

test("an all-missing column and an all-NA response name the column", () => {
  for (const blank of [null, "", "NA", "#N/A"]) {
    const t = tableFromRows(rows.map((r, i) => (i === 0 ? [...r, "x"] : [...r, blank])));
    assert.match(dataError(() => fitModel(t, "size ~ x + (1|tree)")).message, /^the column 'x' has no values: all 395 of its cells are blank, NA or error values/);
    const y = tableFromRows(rows.map((r, i) => (i === 0 ? r : [blank, ...r.slice(1)])));
    assert.match(dataError(() => fitModel(y, SPEC)).message, /^the column 'size' has no values: all 395 of its cells/);
    // As a grouping factor, and in a residual structure, too.
    assert.match(dataError(() => fitModel(t, "size ~ time + (1|x)")).message, /^the column 'x' has no values/);
    assert.match(dataError(() => fitModel(t, "size ~ time ; AR1(time | x)")).message, /^the column 'x' has no values/);
  }
});

test("values too large to square (±1e300 and beyond 1e150) name the column and the row", () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 394 }), fc.double({ min: 1.01e150, max: 1e308, noNaN: true }), fc.boolean(), fc.constantFrom(0, 1), (r, x, neg, col) => {
      const v = neg ? -x : x;
      for (const [reader, t] of bothTables(withCells([[r, col, v]]))) {
        const e = dataError(() => fitModel(t, SPEC));
        const name = col === 0 ? "size" : "time";
        assert.ok(e.message.startsWith(`the column '${name}' has a value too large to compute with (first: row ${r + 2}, `), `${reader}: ${e.message}`);
      }
    }),
    { numRuns: 30 },
  );
  // A computed variable too: I(time^60) overflows the squares though each value is finite.
  assert.match(dataError(() => fitModel(tableFromRows(rows), "size ~ I(time^70) + (1|tree)")).message, /^the variable 'time\^70' has 395 values too large/);
  // A column that is all but zero (its squares underflow) is reported; a few tiny values are not.
  const tiny = tableFromRows(rows.map((r, i) => (i === 0 ? [...r, "z"] : [...r, (i % 7) * 1e-160])));
  assert.match(dataError(() => fitModel(tiny, "size ~ z + (1|tree)")).message, /^the column 'z' has only values too close to zero/);
  const some = tableFromRows(rows.map((r, i) => (i === 0 ? [...r, "z"] : [...r, i === 5 ? 1e-200 : i % 7])));
  assert.equal(fitModel(some, "size ~ z + (1|tree)", { ci: "none" }).converged, true);
});

test("a continuous grouping column, or the response as grouping factor, is a DataError (issue 14: was a TypeError)", () => {
  const t = tableFromRows(rows);
  assert.match(dataError(() => fitModel(t, "size ~ time + (1|size)")).message, /^the grouping factor 'size' is the response/);
  const cont = tableFromRows(rows.map((r, i) => (i === 0 ? [...r, "w"] : [...r, Math.round(Math.sin(i) * 1e4) / 100])));
  assert.match(dataError(() => fitModel(cont, "size ~ time + (1|w)")).message, /^the grouping factor 'w' is a continuous measurement \(\d+ distinct values, not whole numbers, in 395 rows\)/);
  assert.match(dataError(() => fitModel(cont, "size ~ time + (time|w)")).message, /continuous measurement/);
  // A numeric grouping column of IDs is fine (R makes it a factor), and so is time as a group.
  assert.equal(fitModel(t, "size ~ time + (1|tree)", { ci: "none" }).groups.tree, 79);
  assert.equal(fitModel(t, "size ~ treat + (1|time)", { ci: "none" }).groups.time, 5);
});

test("unknown columns: the nearest name, backticks for names with spaces, an unsplit CSV", () => {
  const t = tableFromRows(rows);
  assert.match(dataError(() => fitModel(t, "size ~ tme + (1|tree)")).message, /^unknown column 'tme' \(did you mean time\?\); the data has: size, time, tree, treat$/);
  const spaced = tableFromRows(rows.map((r, i) => (i === 0 ? ["tree size", ...r.slice(1)] : r)));
  assert.match(dataError(() => fitModel(spaced, "size ~ time + (1|tree)")).message, /unknown column 'size' \(did you mean `tree size`\? write a column name with spaces or symbols in backticks, as R does\); the data has: `tree size`, time, tree, treat/);
  assert.equal(fitModel(spaced, "`tree size` ~ time + (1|tree)", { ci: "none" }).fixef.length, 2);
  assert.throws(() => fitModel(spaced, "tree size ~ time + (1|tree)"), /if 'tree size' is one column name, write it in backticks: `tree size`/);
  assert.throws(() => fitModel(spaced, "time ~ tree size + (1|tree)"), /if 'tree size' is one column name, write it in backticks/);
  assert.throws(() => fitModel(spaced, "time ~ 'tree size' + (1|tree)"), /column names are not quoted: write a name with spaces or symbols in backticks, as `tree size`/);
  // A sheet whose CSV lines were pasted into one column.
  const pasted = tableFromRows(rows.map((r) => [r.join(";")]));
  assert.match(dataError(() => fitModel(pasted, SPEC)).message, /the data has one column whose name holds semicolons: the columns were not split; in Excel use Data > Text to Columns/);
});

test("a column that is half numbers or more with text making a factor of many levels is an error (not a 136-level factor)", () => {
  fc.assert(
    fc.property(fc.integer({ min: 21, max: 190 }), fc.integer({ min: 0, max: 2 }), (k, offset) => {
      // k distinct text cells spread over the column, below the 20 % of the few-typos rule's reach.
      const cells: [number, number, unknown][] = Array.from({ length: k }, (_, i) => [(i * 2 + offset) % 395, 1, `t${i}`]);
      const e = dataError(() => fitModel(tableFromRows(withCells(cells)), SPEC));
      assert.match(e.message, /^the column 'time' (is numeric except \d+ cells|mixes numbers \(\d+ % of its cells\) and text \(\d+ cells; first: row \d+ 't\d+'\), so as a model term it would be a factor with \d+ levels)/, e.message);
    }),
    { numRuns: 25 },
  );
  // A factor of a few numeric levels and a text one (dose 0, 10, 20 and "placebo") stays a factor.
  const dose = tableFromRows(rows.map((r, i) => (i === 0 ? [...r, "dose"] : [...r, i % 4 === 0 ? "placebo" : (i % 4) * 10])));
  assert.ok(fitModel(dose, "size ~ dose + (1|tree)", { ci: "none" }).fixef.some((r) => r.term === "doseplacebo"));
});

test("the response used as a predictor is an error (it crashed with a TypeError)", () => {
  const t = tableFromRows(rows);
  for (const spec of ["size ~ size + (1|tree)", "size ~ time + I(size^2) + (1|tree)", "size ~ time + (size|tree)", "log(size) ~ log(size) + (1|tree)"]) {
    assert.match(dataError(() => fitModel(t, spec)).message, /is also used as a predictor \(or inside one\): a model cannot predict a column from itself/, spec);
  }
  // A transformation of the response is not the response.
  assert.equal(fitModel(t, "log(size) ~ time + (1|tree)", { ci: "none" }).converged, true);
});

test("a table that is not one the readers make is a DataError, not a TypeError", () => {
  const bad: unknown[] = [undefined, null, 3, "a,b\n1,2", { nrow: 2 }, { nrow: 1, columns: [{ kind: "numeric", name: "y" }] }, { nrow: 2, columns: [{ kind: "numeric", name: "y", values: new Float64Array(3) }] }, { nrow: 1, columns: [{ kind: "factor", name: "g", levels: ["a"], codes: [0] }] }];
  for (const t of bad) assert.match(dataError(() => fitModel(t as DataTable, "y ~ 1")).message, /^(the data must be a table made by parseCsv or tableFromRows|column 1 of the data table is malformed)/);
});
