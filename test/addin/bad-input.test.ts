// Bad input as Excel sends it: every case gives #VALUE! with a message that names the column or
// cell and says what to fix (never a crash, a hang or a wrong number).
import "./shim";
import { test } from "node:test";
import assert from "node:assert/strict";
import { expectValueError, errorCell, invocation } from "./shim";
import { blup, fit, fitted, lrt, rlrt, varcomp } from "../../src/functions/functions";
import { csvRows } from "../helpers/fixtures";

const sitka = csvRows("assets/examples/sitka.csv");
const SPEC = "size ~ time*treat + (1|tree)";
const withCell = (r: number, c: number, v: unknown) => sitka.map((row, i) => (i === r ? row.map((x, j) => (j === c ? v : x)) : row));


const cases: [string, () => Promise<unknown>, RegExp][] = [
  ["unknown column in the response", () => fit(sitka, "sise ~ time + (1|tree)", null, null, null, invocation()), /unknown column 'sise' \(did you mean size\?\); the data has: size, time, tree, treat/],
  ["unknown column, wrong case", () => fit(sitka, "size ~ Time + (1|tree)", null, null, null, invocation()), /did you mean 'time'/],
  ["unknown grouping column", () => fit(sitka, "size ~ time + (1|plot)", null, null, null, invocation()), /unknown column 'plot'/],
  ["syntax: missing ~", () => fit(sitka, "size time", null, null, null, invocation()), /no '~'.*column 1/],
  ["syntax: dangling +", () => fit(sitka, "size ~ time +", null, null, null, invocation()), /expected a column name after '\+'.*column 14/],
  ["syntax: unclosed (", () => fit(sitka, "size ~ time + (1|tree", null, null, null, invocation()), /expected '\)'/],
  ["syntax: unknown function", () => fit(sitka, "size ~ logg(time) + (1|tree)", null, null, null, invocation()), /unknown function 'logg'/],
  ["syntax: unknown residual structure", () => fit(sitka, "size ~ time ; AR2(time | tree)", null, null, null, invocation()), /unknown residual structure 'AR2'/],
  ["empty spec", () => fit(sitka, "", null, null, null, invocation()), /spec must be a model formula/],
  ["spec not text", () => fit(sitka, 42 as unknown as string, null, null, null, invocation()), /spec must be a model formula/],
  ["bad method", () => fit(sitka, SPEC, "OLS", null, null, invocation()), /method must be "REML" or "ML"/],
  ["bad level", () => varcomp(sitka, SPEC, null, 95, null, invocation()), /level must be a number between 0 and 1/],
  ["one group", () => fit(sitka.filter((r, i) => i === 0 || r[2] === 1), "size ~ time + (1|tree)", null, null, null, invocation()), /'tree' has only 1 level/],
  ["constant response", () => fit(sitka.map((r, i) => (i === 0 ? r : [1, ...r.slice(1)])), "size ~ time + (1|tree)", null, null, null, invocation()), /response 'size' is constant/],
  ["text in the numeric response", () => fit(withCell(5, 0, "abc"), SPEC, null, null, null, invocation()), /the response 'size' is numeric except 1 cell: row 6 'abc'\. Fix the cell/],
  ["text in a numeric covariate used in log()", () => fit(withCell(5, 1, "n/a?"), "size ~ log(time) + (1|tree)", null, null, null, invocation()), /the column 'time' is numeric except 1 cell: row 6 'n\/a\?'.*or write factor\(time\)/],
  ["missing header row", () => fit(sitka.slice(1), SPEC, null, null, null, invocation()), /is the header row missing/],
  ["repeated header", () => fit([["size", "time", "size", "treat"], ...sitka.slice(1)], SPEC, null, null, null, invocation()), /'size' appears twice \(columns A and C\)/],
  ["empty header cell", () => fit([["size", "", "tree", "treat"], ...sitka.slice(1)], SPEC, null, null, null, invocation()), /header cell of column B\b.*is empty/],
  ["header only", () => fit([sitka[0]], SPEC, null, null, null, invocation()), /only one row/],
  ["not a range", () => fit("A1:D396" as unknown as unknown[][], SPEC, null, null, null, invocation()), /data must be a range/],
  ["ragged rows", () => fit([sitka[0], [1, 2]], SPEC, null, null, null, invocation()), /row 2 of the data has 2 cells but the header.* has 4/],
  ["all rows missing", () => fit(sitka.map((r, i) => (i === 0 ? r : [null, ...r.slice(1)])), SPEC, null, null, null, invocation()), /the column 'size' has no values: all 395 of its cells are blank, NA or error values/],
  ["LRT with one spec", () => lrt(sitka, [[SPEC]], null, invocation()), /at least two model formulas/],
  ["LRT with different rows used", () => lrt(withCell(3, 0, null), [[SPEC], ["size ~ log(time) + (1|tree)"]], null, invocation()).then(() => lrt(withCell(3, 1, ""), [["size ~ treat + (1|tree)"], [SPEC]], null, invocation())), /uses \d+ rows but model 1 uses \d+/],
  ["BLUP for an unknown group", () => blup(sitka, SPEC, "plot", null, invocation()), /no random effect is grouped by 'plot'/],
  ["FITTED with a bad type", () => fitted(sitka, SPEC, "predicted", null, invocation()), /type must be "conditional".*"marginal".*"residual"/],
  ["more levels than rows", () => fit(sitka, "size ~ time + (1|treat:tree:time)", null, null, null, invocation()), /levels for 395 rows/],
  ["duplicated AR1 times within a group", () => fit(sitka, "size ~ time ; AR1(treat | tree)", null, null, null, invocation()), /has text|distinct times/],
  ["AR1 time column with text", () => fit(sitka, "size ~ time ; AR1(treat | tree)", null, null, null, invocation()), /time column 'treat' of AR1 has text/],
  ["residual structure without a group when none is implied", () => fit(sitka, "size ~ time ; AR1(time)", null, null, null, invocation()), /say which column groups the residuals/],
  ["UN with too many occasions", () => fit(sitka.filter((r, i) => i === 0 || (r[2] as number) <= 3), "size ~ time ; UN(time | tree)", null, null, null, invocation()), /UN with 5 occasions of 'time' cannot be identified/],
  ["varIdent with one level", () => fit(sitka.filter((r, i) => i === 0 || r[3] === "ozone"), "size ~ time + (1|tree) ; varIdent(treat)", null, null, null, invocation()), /varIdent\(treat\) needs at least 2 levels/],
  // Arguments other than the data and the spec (checked by the adapter, inputs.ts).
  ["bad ci", () => varcomp(sitka, SPEC, null, null, "bootstrap", invocation()), /ci must be "profile", "wald" or "auto"/],
  ["method as a number", () => fit(sitka, SPEC, 1 as unknown as string, null, null, invocation()), /method must be "REML" or "ML".*not "1"/],
  ["level as text", () => varcomp(sitka, SPEC, null, "high" as unknown as number, null, invocation()), /level must be a number between 0 and 1.*"high"/],
  ["LRT spec cell holding a number", () => lrt(sitka, [[SPEC], [3], ["size ~ time + (1|tree)"]], null, invocation()), /the 2nd cell of specs holds 3/],
  ["LRT spec cell holding an error", () => lrt(sitka, [[SPEC], [errorCell()], ["size ~ time + (1|tree)"]], null, invocation()), /the 2nd cell of specs is an error value/],
  ["LRT with only blank spec cells besides one", () => lrt(sitka, [[SPEC, "", null]], null, invocation()), /at least two model formulas/],
  ["BLUP of a model without random effects", () => blup(sitka, "size ~ time*treat", null, null, invocation()), /no random effects.*add a term such as \(1\|tree\)/],
  ["BLUP group as a boolean", () => blup(sitka, SPEC, true as unknown as string, null, invocation()), /group must be a column name/],
  ["RLRT nsim too small", () => rlrt(sitka, "size ~ time + (1|tree)", 10, null, invocation()), /nsim must be a whole number from 100/],
  ["RLRT seed not whole", () => rlrt(sitka, "size ~ time + (1|tree)", null, 1.5, invocation()), /seed must be a whole number/],
  ["RLRT with two variance components", () => rlrt(sitka, "size ~ time + (time|tree)", null, null, invocation()), /exactly one random-effect term/],
  ["header and blank rows only (whole columns of an empty sheet)", () => fit([sitka[0], [null, null, null, null], ["", "", "", ""]], SPEC, null, null, null, invocation()), /no rows below its header row/],
  ["error cells in the header", () => fit([["size", errorCell("#REF!"), "tree", "treat"], ...sitka.slice(1)], SPEC, null, null, null, invocation()), /column B/],
  ["a response of error cells only", () => fit(sitka.map((r, i) => (i === 0 ? r : [errorCell(), ...r.slice(1)])), SPEC, null, null, null, invocation()), /no rows are left|size/],
];

for (const [name, call, re] of cases) {
  test(`bad input gives #VALUE! with a message: ${name}`, () => expectValueError(call(), re));
}

test("blanks, error cells, numbers as text and whole-column padding are read, not errors", async () => {
  const messy = sitka.map((r, i) => (i === 0 ? r : r.map((v) => (typeof v === "number" ? String(v) : v))));
  messy[7][0] = "";
  messy[9][1] = { type: "Error", code: "#N/A" };
  messy[11][0] = null;
  for (let k = 0; k < 50; k++) messy.push([null, "", null, ""]);
  const t = await fit(messy, SPEC, null, null, null, invocation());
  const note = t.find((r) => r[0] === "note" && String(r[1]).includes("dropped"));
  assert.ok(note, "the output says rows were dropped");
  assert.match(String(note![1]), /dropped 3 rows with missing values \(of 395\)/);
});

test("blank cells passed as 0 below the data (a whole-column reference) are left out, and the output says so", async () => {
  const padded: unknown[][] = [...sitka];
  for (let k = 0; k < 1000; k++) padded.push([0, 0, 0, 0]);
  const t = await fit(padded, SPEC, null, null, null, invocation());
  const ref = await fit(sitka, SPEC, null, null, null, invocation());
  const ll = (x: unknown[][]) => x.find((r) => String(r[0]).includes("logLik"))![1];
  assert.equal(ll(t), ll(ref), "the same fit as on the data alone");
  assert.ok(t.some((r) => r[0] === "note" && /left out the last 1000 row\(s\).*0 or blank/.test(String(r[1]))));
  const f = await fitted(padded, SPEC, null, null, invocation());
  assert.equal(f.length, sitka.length, "LMM.FITTED spills only as far as the data");
});

test("error cells (as Excel passes them) count as missing values, in any column used", async () => {
  const data = sitka.map((r) => [...r]);
  data[2][0] = errorCell("#DIV/0!");
  data[4][2] = errorCell("#N/A");
  data[6][3] = "#N/A";
  const t = await fit(data, SPEC, null, null, null, invocation());
  assert.match(String(t.find((r) => r[0] === "note" && String(r[1]).includes("dropped"))![1]), /dropped 3 rows/);
});

test("the specs of LMM.LRT may be a column, a row or a block of cells, with blanks", async () => {
  const a = await lrt(sitka, [["size ~ time + (1|tree)"], ["size ~ time + (time|tree)"]], null, invocation());
  const b = await lrt(sitka, [["size ~ time + (1|tree)", "size ~ time + (time|tree)"]], null, invocation());
  const c = await lrt(sitka, [["size ~ time + (1|tree)", null], ["", "size ~ time + (time|tree)"]], null, invocation());
  assert.deepEqual(b, a);
  assert.deepEqual(c, a);
});
