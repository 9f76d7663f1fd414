// `lmm fit --rows` without --json: the per-row table laid out as R's print.data.frame lays out
// the same columns (test/fixtures/rows-print.json from make-fixtures-rows.R): the header line,
// and for the first and last rows the same cells at the same places (each column's shared
// decimals, right-aligned; the row names left-aligned), the numbers equal to 1e-6 relative (residuals
// relative to their observation: a residual's error is its fitted value's).
// Our table has more columns than R's frame (pearson, normalized, ...): R's columns come first.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as path from "node:path";
import { spawnSync } from "node:child_process";
import { ROOT, readJson } from "./helpers/fixtures";

interface Fx { name: string; data: string; spec: string; header: string; first: string[]; last: string[] }
const FX = readJson<Fx[]>("test/fixtures/rows-print.json");
const run = (...args: string[]) => spawnSync(process.execPath, [path.join(ROOT, "bin", "lmm.js"), ...args], { cwd: ROOT, encoding: "utf8", maxBuffer: 1 << 26 });

/** The cells of a printed line with where each ends (columns are right-aligned). */
function cells(line: string): { text: string; end: number }[] {
  const out: { text: string; end: number }[] = [];
  const re = /\S+/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(line))) out.push({ text: m[0], end: m.index + m[0].length });
  return out;
}

for (const fx of FX) {
  test(`lmm fit --rows prints the rows as R prints the data frame: ${fx.name}`, () => {
    const r = run("fit", fx.data, fx.spec, "--rows");
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stdout.trimEnd().split("\n");
    const at = lines.findIndex((l) => /^Fitted values and residuals, \d+ rows used/.test(l));
    assert.ok(at > 0, "the table follows the fit's summary");
    assert.match(lines[at + 1], /fitted = X beta \+ Z b; marginal = X beta; residual = observed - fitted/);
    const header = lines[at + 2];
    assert.equal(header.slice(0, fx.header.length), fx.header, "R's column names at R's places");
    const body = lines.slice(at + 3);
    const n = Number(/(\d+) rows used/.exec(lines[at])![1]);
    assert.equal(body.length, n, "one line per row used");
    const compare = (ours: string, theirs: string) => {
      const a = cells(ours), b = cells(theirs);
      assert.equal(a[0].text, b[0].text, "row name");
      for (let j = 1; j < b.length; j++) {
        assert.equal(a[j].end, b[j].end, `column ${j} ends where R's does in '${theirs}'`);
        assert.equal(a[j].text.length, b[j].text.length, `column ${j} has R's decimals in '${theirs}'`);
        // A residual's error is its fitted value's: 1e-6 relative to the observation's scale.
        const x = Number(a[j].text), y = Number(b[j].text), scale = Math.max(1, Math.abs(Number(b[1].text)), Math.abs(y));
        assert.ok(Math.abs(x - y) <= 1e-6 * scale, `${x} vs R's ${y}`);
      }
    };
    fx.first.forEach((l, i) => compare(body[i], l));
    fx.last.forEach((l, i) => compare(body[body.length - fx.last.length + i], l));
    // Every line as wide as the header: the columns line up.
    for (const l of body) assert.equal(l.length, header.length);
  });
}

test("lmm fit --rows: rows dropped for missing values leave gaps in the row names, as R's na.omit", () => {
  const r = run("fit", "test/data/airquality.csv", "Ozone ~ Solar.R + Temp + (1|Month)", "--rows");
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.trimEnd().split("\n");
  const at = lines.findIndex((l) => /^Fitted values and residuals/.test(l));
  const names = lines.slice(at + 3).map((l) => Number(l.split(/\s+/)[0]));
  const used = Number(/(\d+) rows? used/.exec(lines[at])![1]);
  assert.equal(names.length, used);
  assert.ok(names.every((x, i) => i === 0 || x > names[i - 1]), "increasing data rows");
  assert.deepEqual(names.slice(0, 5), [1, 2, 3, 4, 7], "rows 5 and 6 of airquality have a missing value");
});
