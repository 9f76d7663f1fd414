// The =LMM.* outputs' number formats (src/functions/format.ts, number-formats.ts, cell-values.ts):
// which form numbers take on which host (formatted-number cell values where the requirement sets
// allow, plain numbers elsewhere), the shape of those values, the format codes of each kind of
// number, that the value itself is never rounded, and LMM.FIT's label/value block.
import "./shim";
import { test } from "node:test";
import assert from "node:assert/strict";
import { invocation } from "./shim";
import { blup, fit, fitted, lrt, rlrt, varcomp } from "../../src/functions/functions";
import { fitTable } from "../../src/functions/format";
import { DoubleValue, ExcelCell, FormattedNumberValue, Requirements, excelCell, numberStyle } from "../../src/functions/cell-values";
import * as NF from "../../src/functions/number-formats";
import { Num } from "../../src/functions/format";
import { fitModel, parseCsv } from "../../src/engine";
import { csvRows } from "../helpers/fixtures";
import * as fs from "node:fs";

const sitka = csvRows("assets/examples/sitka.csv");
const SPEC = "size ~ time*treat + (1|tree)";

/** A host whose requirement sets are `sets` (name -> highest version). */
function host(sets: Record<string, string>): Requirements {
  const ver = (v: string) => v.split(".").map(Number);
  return {
    isSetSupported(name, min = "1.1") {
      const have = sets[name];
      if (!have) return false;
      const [a, b] = [ver(have), ver(min)];
      return a[0] > b[0] || (a[0] === b[0] && (a[1] ?? 0) >= (b[1] ?? 0));
    },
  };
}

/** Runs `f` with a fake Office.js whose context.requirements is `req` (undefined: no Office at all). */
async function withHost<T>(req: Requirements | undefined, f: () => Promise<T>): Promise<T> {
  const g = globalThis as { Office?: unknown };
  const before = g.Office;
  g.Office = req ? { context: { requirements: req } } : undefined;
  try {
    return await f();
  } finally {
    g.Office = before;
  }
}

const NEW = host({ CustomFunctionsRuntime: "1.5", ExcelApi: "1.19" });
const MID = host({ CustomFunctionsRuntime: "1.4", ExcelApi: "1.17" });
const OLD = host({ CustomFunctionsRuntime: "1.3", ExcelApi: "1.19" });

const isValue = (c: unknown): c is DoubleValue | FormattedNumberValue => typeof c === "object" && c !== null && "basicValue" in c;

test("support is read from the requirement sets: Double with numberFormat (ExcelApi 1.19), FormattedNumber (1.16), else plain", () => {
  assert.equal(numberStyle(NEW), "Double");
  assert.equal(numberStyle(MID), "FormattedNumber");
  assert.equal(numberStyle(host({ CustomFunctionsRuntime: "1.4", ExcelApi: "1.15" })), "plain", "no cell-value types before ExcelApi 1.16");
  assert.equal(numberStyle(OLD), "plain", "custom functions return data types from CustomFunctionsRuntime 1.4 on");
  assert.equal(numberStyle(undefined), "plain", "no Office.js (Node, or before it loads)");
  assert.equal(numberStyle({} as Requirements), "plain");
  assert.equal(
    numberStyle({
      isSetSupported() {
        throw new Error("not ready");
      },
    }),
    "plain",
    "a host that cannot answer",
  );
  // The shapes, as Office.js types them (Excel.DoubleCellValue / Excel.FormattedNumberCellValue).
  const d = excelCell(new Num(313.9999993, "0.0"), "Double");
  const typed: Excel.DoubleCellValue = d as DoubleValue;
  assert.deepEqual(typed, { type: "Double", basicValue: 313.9999993, numberFormat: "0.0" });
  const f: Excel.FormattedNumberCellValue = excelCell(new Num(2.5e-96, NF.P_VALUE), "FormattedNumber") as FormattedNumberValue;
  assert.deepEqual(f, { type: "FormattedNumber", basicValue: 2.5e-96, numberFormat: NF.P_VALUE });
  assert.equal(excelCell(new Num(1.5, "0.0"), "plain"), 1.5);
  assert.equal(excelCell("text", "Double"), "text");
  assert.equal(excelCell(true, "Double"), true);
});

test("LMM.FIT on a host with data types: every number a Double with its format, values exact (the same as the plain fallback)", async () => {
  const rich = await withHost(NEW, () => fit(sitka, SPEC, null, null, null, invocation()));
  const plainOut = await withHost(undefined, () => fit(sitka, SPEC, null, null, null, invocation()));
  const mid = await withHost(MID, () => fit(sitka, SPEC, null, null, null, invocation()));
  const old = await withHost(OLD, () => fit(sitka, SPEC, null, null, null, invocation()));
  assert.deepEqual(old, plainOut, "an older host gets plain numbers");
  assert.equal(rich.length, plainOut.length);
  rich.forEach((row, i) =>
    row.forEach((c, j) => {
      const p = plainOut[i][j];
      if (typeof p === "number") {
        assert.ok(isValue(c), `row ${i} col ${j}: a cell value, not a bare number`);
        assert.equal(c.type, "Double");
        assert.equal(c.basicValue, p, "the exact value, not a rounded one");
        assert.equal(typeof c.numberFormat, "string");
        assert.ok(c.numberFormat.length > 0);
        const m = mid[i][j] as FormattedNumberValue;
        assert.deepEqual(m, { type: "FormattedNumber", basicValue: p, numberFormat: c.numberFormat }, "the older form, same value and format");
      } else assert.equal(c, p, "strings and booleans unchanged");
    }),
  );
  // Column by column, lmerTest's table: estimate, SE and CI on the SE's 4 significant digits.
  const sitkaTable = parseCsv(fs.readFileSync("assets/examples/sitka.csv", "utf8"));
  const ref = fitModel(sitkaTable, SPEC, { method: "REML" });
  ref.fixef.forEach((f, k) => {
    const row = rich[1 + k] as (string | DoubleValue)[];
    assert.equal(row[0], f.term);
    const decimals = 3 - Math.floor(Math.log10(f.se));
    const code = `0.${"0".repeat(decimals)}`;
    for (const j of [1, 2, 6, 7]) assert.equal((row[j] as DoubleValue).numberFormat, code, `${f.term} col ${j}: SE ${f.se}`);
    assert.equal((row[3] as DoubleValue).numberFormat, "0.0", "df: 1 decimal");
    assert.equal((row[4] as DoubleValue).numberFormat, "0.00", "t: 2 decimals");
    assert.equal((row[5] as DoubleValue).numberFormat, NF.P_VALUE, "p: R's floor, scientific under 0.001, else 3 decimals");
  });
  // (Intercept): SE 0.154 -> 4 decimals; time: SE 0.000462 -> 7 decimals.
  assert.equal((rich[1][2] as DoubleValue).numberFormat, "0.0000");
  assert.equal((rich[2][2] as DoubleValue).numberFormat, "0.0000000");
  const label = (l: string) => rich.find((r) => r[0] === l)!;
  assert.equal((label("logLik")[1] as DoubleValue).numberFormat, "0.0000");
  assert.equal((label("AIC")[1] as DoubleValue).numberFormat, "0.0000");
  assert.equal((label("parameters (df)")[1] as DoubleValue).numberFormat, "0");
  assert.equal((label("n")[1] as DoubleValue).numberFormat, "0");
  assert.equal((label("ICC")[1] as DoubleValue).numberFormat, "0.000");
  assert.equal((label("sigma")[1] as DoubleValue).numberFormat, "0.0000", "sigma 0.1938: 4 significant digits");
});

test("LMM.FIT lays its statistics out as a two-column label/value block under the term names", async () => {
  const t = await fit(sitka, SPEC, null, null, null, invocation());
  const blank = t.findIndex((r) => r.every((c) => c === ""));
  assert.equal(blank, 5, "the blank row follows the four terms");
  assert.equal(t[0].length, 8, "as wide as the fixed-effects table, no wider");
  const block = t.slice(blank + 1);
  for (const r of block) {
    assert.equal(typeof r[0], "string", "a label in the first column");
    assert.notEqual(r[1], "", `${r[0]}: a value in the second`);
    assert.ok(
      r.slice(2).every((c) => c === ""),
      `${r[0]}: nothing beyond the second column`,
    );
  }
  assert.deepEqual(
    block.map((r) => r[0]),
    ["logLik", "AIC", "BIC", "parameters (df)", "sigma", "method", "n", "dropped", "groups", "R² marginal", "R² conditional", "ICC", "df method", "converged", "singular", "note"],
  );
  // With a residual structure: its name and parameters in the same block (a matrix takes a row per row).
  const ar1 = await fit(sitka, "size ~ time*treat ; AR1(time | tree)", null, null, null, invocation());
  assert.equal(ar1[0].length, 8);
  const at = ar1.findIndex((r) => r[0] === "residual");
  assert.equal(ar1[at][1], "AR1 within tree over time");
  assert.equal(ar1[at + 1][0], "phi");
  assert.ok(ar1[at + 1].slice(2).every((c) => c === ""));
  // The plain table is what the pane sizes its =LMM.FIT block by.
  const sitkaTable = parseCsv(fs.readFileSync("assets/examples/sitka.csv", "utf8"));
  const plainTable = fitTable(fitModel(sitkaTable, SPEC, { method: "REML" }));
  assert.equal(plainTable.length, t.length);
  assert.equal(plainTable[0].length, t[0].length);
});

test("the other functions on a host with data types: numbers as Doubles with the codes of their kind", async () => {
  await withHost(NEW, async () => {
    const all: [string, ExcelCell[][]][] = [
      ["VARCOMP", await varcomp(sitka, "size ~ time + (time|tree)", null, null, "wald", invocation())],
      ["LRT", await lrt(sitka, [["size ~ time + (1|tree)"], ["size ~ time + (time|tree)"]], null, invocation())],
      ["BLUP", await blup(sitka, SPEC, null, null, invocation())],
      ["FITTED", await fitted(sitka, SPEC, null, null, invocation())],
      ["RLRT", await rlrt(sitka, "size ~ time + (1|tree)", 200, 3, invocation())],
    ];
    for (const [name, t] of all) {
      let numbers = 0;
      for (const row of t)
        for (const c of row) {
          assert.ok(typeof c !== "number", `${name}: no bare numbers on a host with data types`);
          if (isValue(c)) {
            numbers++;
            assert.equal(c.type, "Double");
            assert.ok(Number.isFinite(c.basicValue));
            assert.ok(/^(General|0(\.0+)?|0\.000E\+00)$/.test(c.numberFormat) || c.numberFormat === NF.P_VALUE, `${name}: ${c.numberFormat}`);
          }
        }
      assert.ok(numbers > 0, `${name}: has numbers`);
    }
    const [vc, lr, bl, fi, rl] = all.map(([, t]) => t);
    // VARCOMP: an SD's interval on the SD's decimals; var_prop and correlations to 3 decimals.
    const tree = vc[1] as DoubleValue[];
    assert.equal(tree[4].numberFormat, tree[3].numberFormat, "sd_2.5 as sd");
    assert.equal(tree[5].numberFormat, tree[3].numberFormat, "sd_97.5 as sd");
    assert.equal(tree[6].numberFormat, "0.000", "var_prop");
    const corr = vc.find((r) => String(r[1]).includes(","))!;
    assert.equal((corr[7] as DoubleValue).numberFormat, "0.000");
    // LRT: counts whole, likelihoods 4 decimals, p as R.
    assert.deepEqual(
      (lr[2].slice(1, 6) as DoubleValue[]).map((c) => c.numberFormat),
      ["0", "0", "0.0000", "0.0000", "0.0000"],
    );
    assert.equal((lr[2][8] as DoubleValue).numberFormat, NF.P_VALUE);
    assert.equal((lr[2][9] as DoubleValue).numberFormat, NF.P_VALUE);
    // BLUP: numeric levels stay numbers (General), each BLUP on its conditional SD's decimals.
    assert.deepEqual(bl[1][0], { type: "Double", basicValue: 1, numberFormat: "General" });
    assert.equal((bl[1][1] as DoubleValue).numberFormat, (bl[1][2] as DoubleValue).numberFormat);
    // FITTED: blanks stay "", values on the residual SD's decimals.
    assert.equal(fi[0][0], "fitted");
    assert.equal((fi[1][0] as DoubleValue).numberFormat, "0.0000");
    // RLRT: p of a simulation to 4 decimals (0 shows as 0.0000 beside its note), nsim whole.
    assert.equal((rl[1][1] as DoubleValue).numberFormat, "0.0000");
    assert.deepEqual(rl[1][2], { type: "Double", basicValue: 200, numberFormat: "0" });
  });
});

test("number-format codes: significant digits, bounds, and estimates without a usable SE", () => {
  // p-values: R's floor as text, scientific under 0.001, else 3 decimals (two conditions and a default).
  assert.equal(NF.P_VALUE, '[<0.00000000000000022]"<2e-16";[<0.001]0.0E+00;0.000');
  assert.equal(Number("0.00000000000000022"), 2.2e-16);
  assert.equal(NF.significant(0.1938), "0.0000");
  assert.equal(NF.significant(12.34), "0.00");
  assert.equal(NF.significant(12345.6), "0");
  assert.equal(NF.significant(2e-9), "0.000E+00", "tiny: scientific, not 12 zeros");
  assert.equal(NF.significant(3e10), "0.000E+00", "huge: scientific");
  assert.equal(NF.significant(0), "0");
  assert.equal(NF.bySE(0.0004618972, 0.01414724), "0.0000000");
  assert.equal(NF.bySE(0, 2.5), "0.000", "an SE of 0: the estimate's own 4 digits");
  assert.equal(NF.bySE(Number.NaN, 2.5), "0.000");
  assert.equal(NF.bySE(null, null), "0");
  assert.equal(NF.fixed(0), "0");
  assert.equal(NF.fixed(3), "0.000");
  assert.equal(NF.fixed(40), "0.0000000000", "at most 10 decimals");
});
