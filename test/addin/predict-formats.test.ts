// =LMM.PREDICT's numbers as Excel shows them (src/functions/predict-format.ts through
// cell-values.ts): on a host with data types every fit, se and bound is a Double carrying one
// number format for the whole table (four significant digits of the smallest SE, the precision
// of the best-known prediction, so the decimals line up down each column), the value itself is
// never rounded (it equals the plain fallback's), blank cells stay "", and an older host gets
// plain numbers.
import "./shim";
import { test } from "node:test";
import assert from "node:assert/strict";
import { invocation } from "./shim";
import { predict } from "../../src/functions/functions";
import type { DoubleValue, Requirements } from "../../src/functions/cell-values";
import * as NF from "../../src/functions/number-formats";
import { formatValue } from "../../src/taskpane/numfmt";
import { csvRows } from "../helpers/fixtures";

const data = csvRows("assets/examples/sitka.csv");
const nd = csvRows("test/data/predict-sitka-new.csv");
const SPEC = "size ~ time*treat + (1|tree)";

function host(excelApi: string, cfr: string): Requirements {
  const v = (s: string) => s.split(".").map(Number);
  const sets: Record<string, string> = { ExcelApi: excelApi, CustomFunctionsRuntime: cfr };
  return {
    isSetSupported(name, min = "1.1") {
      const have = sets[name];
      if (!have) return false;
      const [a, b] = [v(have), v(min)];
      return a[0] > b[0] || (a[0] === b[0] && (a[1] ?? 0) >= (b[1] ?? 0));
    },
  };
}

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

const isDouble = (c: unknown): c is DoubleValue => typeof c === "object" && c !== null && (c as DoubleValue).type === "Double";

test("LMM.PREDICT on a host with data types: one format for fit, se and bounds, from the smallest SE; values exact", async () => {
  // A blank time in the last new row: its cells are "", not a number.
  const rows = [...nd, [null, 3, "ozone"]];
  const rich = await withHost(host("1.19", "1.4"), () => predict(data, SPEC, rows, "group", "prediction", null, invocation()));
  const plain = await withHost(undefined, () => predict(data, SPEC, rows, "group", "prediction", null, invocation()));
  assert.deepEqual(rich[0], ["fit", "se", "lower 95%", "upper 95%", "level", "note"]);
  assert.equal(rich.length, rows.length);
  const ses = plain.slice(1).map((r) => r[1]).filter((x): x is number => typeof x === "number");
  const want = NF.significant(Math.min(...ses), 4);
  const formats = new Set<string>();
  for (let i = 1; i < rich.length - 1; i++) {
    for (let j = 0; j < 4; j++) {
      const c = rich[i][j];
      assert.ok(isDouble(c), `row ${i} col ${j} is a formatted number`);
      assert.equal(c.basicValue, plain[i][j], "the cell keeps the exact value");
      formats.add(c.numberFormat);
    }
    assert.equal(typeof rich[i][4], "string");
  }
  assert.deepEqual([...formats], [want], "one format for the table");
  // What a person reads: the SE to four significant digits, the fit to the same decimals.
  const se1 = plain[1][1] as number, fit1 = plain[1][0] as number;
  const shown = formatValue(fit1, want);
  const decimals = (shown.split(".")[1] ?? "").length;
  assert.equal(decimals, 4 - 1 - Math.floor(Math.log10(Math.min(...ses))));
  assert.equal(shown, fit1.toFixed(decimals));
  assert.ok(formatValue(se1, want).replace(/^0\.0*/, "").length >= 4, `SE ${formatValue(se1, want)} shows 4 significant digits or more`);
  // The missing row: blanks and its note.
  const last = rich[rich.length - 1];
  assert.deepEqual(last.slice(0, 4), ["", "", "", ""]);
  assert.match(String(last[5]), /no value of 'time'/);
  // An older host: plain numbers, the same values.
  const old = await withHost(host("1.19", "1.3"), () => predict(data, SPEC, rows, "group", "prediction", null, invocation()));
  assert.deepEqual(old, plain);
  for (const r of plain.slice(1)) for (const c of r) assert.ok(typeof c === "number" || typeof c === "string");
});
