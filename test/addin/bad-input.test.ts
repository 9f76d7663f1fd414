// Bad input as Excel sends it: every case gives #VALUE! with a message that names the column or
// cell and says what to fix (never a crash, a hang or a wrong number).
import "./shim";
import { test } from "node:test";
import assert from "node:assert/strict";
import { CfError, invocation } from "./shim";
import { blup, fit, fitted, lrt, varcomp } from "../../src/functions/functions";
import { csvRows } from "../helpers/fixtures";

const sitka = csvRows("assets/examples/sitka.csv");
const SPEC = "size ~ time*treat + (1|tree)";
const withCell = (r: number, c: number, v: unknown) => sitka.map((row, i) => (i === r ? row.map((x, j) => (j === c ? v : x)) : row));

async function expectValueError(p: Promise<unknown>, re: RegExp) {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof CfError, `not a CustomFunctions.Error: ${e}`);
    assert.equal(e.code, "#VALUE!");
    assert.match(e.message, re);
    return;
  }
  assert.fail(`no error (wanted ${re})`);
}

const cases: [string, () => Promise<unknown>, RegExp][] = [
  ["unknown column in the response", () => fit(sitka, "sise ~ time + (1|tree)", null, invocation()), /unknown column 'sise'; the data has: size, time, tree, treat/],
  ["unknown column, wrong case", () => fit(sitka, "size ~ Time + (1|tree)", null, invocation()), /did you mean 'time'/],
  ["unknown grouping column", () => fit(sitka, "size ~ time + (1|plot)", null, invocation()), /unknown column 'plot'/],
  ["syntax: missing ~", () => fit(sitka, "size time", null, invocation()), /no '~'.*column 1/],
  ["syntax: dangling +", () => fit(sitka, "size ~ time +", null, invocation()), /expected a column name after '\+'.*column 14/],
  ["syntax: unclosed (", () => fit(sitka, "size ~ time + (1|tree", null, invocation()), /expected '\)'/],
  ["syntax: unknown function", () => fit(sitka, "size ~ logg(time) + (1|tree)", null, invocation()), /unknown function 'logg'/],
  ["syntax: unknown residual structure", () => fit(sitka, "size ~ time ; AR2(time | tree)", null, invocation()), /unknown residual structure 'AR2'/],
  ["empty spec", () => fit(sitka, "", null, invocation()), /spec must be a model formula/],
  ["spec not text", () => fit(sitka, 42 as unknown as string, null, invocation()), /spec must be a model formula/],
  ["bad method", () => fit(sitka, SPEC, "OLS", invocation()), /method must be "REML" or "ML"/],
  ["bad level", () => varcomp(sitka, SPEC, null, 95, invocation()), /level must be a number between 0 and 1/],
  ["one group", () => fit(sitka.filter((r, i) => i === 0 || r[2] === 1), "size ~ time + (1|tree)", null, invocation()), /'tree' has only 1 level/],
  ["constant response", () => fit(sitka.map((r, i) => (i === 0 ? r : [1, ...r.slice(1)])), "size ~ time + (1|tree)", null, invocation()), /response 'size' is constant/],
  ["text in the numeric response", () => fit(withCell(5, 0, "abc"), SPEC, null, invocation()), /response 'size' has text/],
  ["text in a numeric covariate used in log()", () => fit(withCell(5, 1, "n/a?"), "size ~ log(time) + (1|tree)", null, invocation()), /has text/],
  ["missing header row", () => fit(sitka.slice(1), SPEC, null, invocation()), /is the header row missing/],
  ["repeated header", () => fit([["size", "time", "size", "treat"], ...sitka.slice(1)], SPEC, null, invocation()), /'size' appears twice \(columns A and C\)/],
  ["empty header cell", () => fit([["size", "", "tree", "treat"], ...sitka.slice(1)], SPEC, null, invocation()), /header cell of column B is empty/],
  ["header only", () => fit([sitka[0]], SPEC, null, invocation()), /only one row/],
  ["not a range", () => fit("A1:D396" as unknown as unknown[][], SPEC, null, invocation()), /data must be a range/],
  ["ragged rows", () => fit([sitka[0], [1, 2]], SPEC, null, invocation()), /row 2 of the data has 2 cells but the header has 4/],
  ["all rows missing", () => fit(sitka.map((r, i) => (i === 0 ? r : [null, ...r.slice(1)])), SPEC, null, invocation()), /no rows are left/],
  ["LRT with one spec", () => lrt(sitka, [[SPEC]], null, invocation()), /at least two model formulas/],
  ["LRT with different rows used", () => lrt(withCell(3, 0, null), [[SPEC], ["size ~ log(time) + (1|tree)"]], null, invocation()).then(() => lrt(withCell(3, 1, ""), [["size ~ treat + (1|tree)"], [SPEC]], null, invocation())), /uses \d+ rows but model 1 uses \d+/],
  ["BLUP for an unknown group", () => blup(sitka, SPEC, "plot", null, invocation()), /no random effect is grouped by 'plot'/],
  ["FITTED with a bad type", () => fitted(sitka, SPEC, "predicted", null, invocation()), /type must be "conditional", "marginal" or "residual"/],
  ["more levels than rows", () => fit(sitka, "size ~ time + (1|treat:tree:time)", null, invocation()), /levels for 395 rows/],
  ["duplicated AR1 times within a group", () => fit(sitka, "size ~ time ; AR1(treat | tree)", null, invocation()), /has text|distinct times/],
  ["AR1 time column with text", () => fit(sitka, "size ~ time ; AR1(treat | tree)", null, invocation()), /time column 'treat' of AR1 has text/],
  ["residual structure without a group when none is implied", () => fit(sitka, "size ~ time ; AR1(time)", null, invocation()), /say which column groups the residuals/],
  ["UN with too many occasions", () => fit(sitka.filter((r, i) => i === 0 || (r[2] as number) <= 3), "size ~ time ; UN(time | tree)", null, invocation()), /UN with 5 occasions of 'time' cannot be identified/],
  ["varIdent with one level", () => fit(sitka.filter((r, i) => i === 0 || r[3] === "ozone"), "size ~ time + (1|tree) ; varIdent(treat)", null, invocation()), /varIdent\(treat\) needs at least 2 levels/],
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
  const t = await fit(messy, SPEC, null, invocation());
  const note = t.find((r) => r[0] === "note" && String(r[1]).includes("dropped"));
  assert.ok(note, "the output says rows were dropped");
  assert.match(String(note![1]), /dropped 3 rows with missing values \(of 395\)/);
});
