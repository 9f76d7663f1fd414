// Issue 14, CSV files as Excel and other tools write them: semicolon- or tab-separated, with
// decimal commas, in UTF-16 or with a byte-order mark. Any such file of a table parses to the
// same table as the plain comma file; text that is not CSV says what it is.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import fc from "fast-check";
import { DataError, fitModel, parseCsv } from "../src/engine";
import { sniffCsv } from "../src/engine/data/csv";
import { decodeText } from "../src/engine/data/decode";
import type { DataTable } from "../src/engine/types";
import { ROOT } from "./helpers/fixtures";

/** A cell of a generated table: a number, a word, or missing. */
type Cell = number | string | null;

const numberCell = fc.oneof(
  fc.integer({ min: -100000, max: 100000 }),
  fc.double({ min: -1e6, max: 1e6, noNaN: true, noDefaultInfinity: true }).map((x) => Number(x.toPrecision(6))),
  fc.constantFrom(0.5, -0.25, 1e-7, 12345.678),
);
const wordCell = fc.stringMatching(/^[a-zA-Z][a-zA-Z0-9 _-]{0,8}$/).map((s) => s.trim()).filter((s) => s !== "" && !/^(NA|NaN|Inf|inf|TRUE|FALSE)$/i.test(s));
const column = fc.constantFrom("numeric" as const, "text" as const);

const table = fc
  .record({ nrow: fc.integer({ min: 1, max: 25 }), kinds: fc.array(column, { minLength: 1, maxLength: 6 }) })
  .chain(({ nrow, kinds }) =>
    fc.tuple(
      fc.constant(kinds.map((_, j) => `col${j + 1}`)),
      fc.array(
        fc.tuple(...kinds.map((k) => (k === "numeric" ? fc.option(numberCell, { freq: 6 }) : fc.option(wordCell, { freq: 6 })))),
        { minLength: nrow, maxLength: nrow },
      ),
    ),
  )
  .filter(([, rs]) => rs.some((r) => r.some((c) => c !== null)));

/** The file as written with this separator and decimal mark (text quoted, as Excel quotes). */
function write(header: string[], rs: Cell[][], sep: string, decimalComma: boolean, eol = "\n"): string {
  const field = (c: Cell): string => {
    if (c === null) return "";
    if (typeof c === "number") return decimalComma ? String(c).replace(".", ",") : String(c);
    return c.includes(sep) || c.includes('"') ? `"${c.replace(/"/g, '""')}"` : c;
  };
  return [header.join(sep), ...rs.map((r) => r.map(field).join(sep))].join(eol) + eol;
}

const plain = (t: DataTable) => JSON.stringify({ nrow: t.nrow, columns: t.columns }, (_k, v) => (ArrayBuffer.isView(v) ? Array.from(v as Float64Array) : v));

test("any separator among , ; tab, with or without decimal commas, parses to the same table as the comma file", () => {
  fc.assert(
    fc.property(table, fc.constantFrom(";", "\t"), fc.boolean(), fc.constantFrom("\n", "\r\n"), fc.boolean(), ([header, rs], sep, dc, eol, bom) => {
      const want = plain(parseCsv(write(header, rs, ",", false)));
      const text = (bom ? "\ufeff" : "") + write(header, rs, sep, dc, eol);
      assert.equal(plain(parseCsv(text)), want, JSON.stringify(text));
    }),
    { numRuns: 300 },
  );
});

test("the separator and the decimal mark found, for the files Excel writes", () => {
  assert.deepEqual(sniffCsv("a,b\n1.5,2\n"), { sep: ",", decimalComma: false });
  assert.deepEqual(sniffCsv("a;b\n1,5;2\n"), { sep: ";", decimalComma: true });
  assert.deepEqual(sniffCsv("a;b\n1.5;2\n"), { sep: ";", decimalComma: false });
  assert.deepEqual(sniffCsv("a\tb\n1,5\t2\n"), { sep: "\t", decimalComma: true });
  assert.deepEqual(sniffCsv('"a;b",c\n"x;y",1\n'), { sep: ",", decimalComma: false }); // separators inside quotes do not count
  assert.deepEqual(sniffCsv("a;b\n1;2\n3;4\n"), { sep: ";", decimalComma: false });
  assert.deepEqual(sniffCsv("y\n1\n2\n"), { sep: ",", decimalComma: false }); // one column
  // A decimal comma far down the file is still found.
  const long = "a;b\n" + Array.from({ length: 2000 }, (_, i) => `${i};${i === 1500 ? "2,5" : i}`).join("\n");
  assert.equal(sniffCsv(long).decimalComma, true);
});

test("the issue's semicolon file fits as the comma file does (it said: unknown column 'size'; the data has: size;time;tree;treat)", () => {
  const comma = fs.readFileSync(path.join(ROOT, "assets/examples/sitka.csv"), "utf8");
  const semi = comma.split("\n").map((l) => l.split(",").map((f) => f.replace(".", ",")).join(";")).join("\r\n");
  const a = fitModel(parseCsv(comma), "size ~ time + (1|tree)", { ci: "none" });
  const b = fitModel(parseCsv(semi), "size ~ time + (1|tree)", { ci: "none" });
  assert.equal(b.logLik, a.logLik);
  assert.deepEqual(b.fixef, a.fixef);
});

test("a line with the wrong number of fields says which separator the file was read with", () => {
  assert.throws(() => parseCsv("a;b;c\n1;2;3\n1;2\n"), /line 3 of the CSV has 2 fields but the header line has 3 fields \(read as separated by semicolons\)/);
  assert.throws(() => parseCsv("a\tb\n1,5\t2\n1\n"), /\(read as separated by tabs, with decimal commas\)/);
  assert.throws(() => parseCsv("a,b\n1,2,3\n"), /\(read as separated by commas\)/);
});

test("in a decimal-comma file a number with a decimal point is a text cell, which the model names", () => {
  const t = parseCsv("y;x;g\n1,5;2;a\n2,5;3.5;b\n3;4,5;a\n4;5;b\n5;6;a\n6;7;b\n");
  assert.equal(t.columns[0].kind, "numeric");
  assert.deepEqual(Array.from((t.columns[0] as { values: Float64Array }).values), [1.5, 2.5, 3, 4, 5, 6]);
  assert.throws(() => fitModel(t, "y ~ x + (1|g)"), /the column 'x' is numeric except 1 cell: row 3 '3\.5' \(a decimal point, in a file written with decimal commas\)\. Fix the cell/);
});

// ---------------------------------------------------------------------------------------------
// Encodings

const csvText = fc
  .tuple(fc.array(fc.string({ unit: "grapheme", minLength: 1, maxLength: 8 }), { minLength: 1, maxLength: 4 }), fc.array(fc.integer(), { minLength: 1, maxLength: 10 }))
  .map(([names, xs]) => `${names.map((n, j) => `"${n.replace(/"/g, '""')}${j}"`).join(",")}\n${xs.map((x) => names.map(() => x).join(",")).join("\n")}\n`);

function utf16be(s: string): Uint8Array {
  const le = Buffer.from(s, "utf16le");
  const be = Buffer.alloc(le.length);
  for (let i = 0; i < le.length; i += 2) {
    be[i] = le[i + 1];
    be[i + 1] = le[i];
  }
  return be;
}

test("UTF-8 with or without BOM, UTF-16 LE/BE with or without BOM: the text comes back exactly", () => {
  fc.assert(
    fc.property(csvText, (s) => {
      const cases: [string, Uint8Array, string][] = [
        ["utf-8", Buffer.from(s, "utf8"), "utf-8"],
        ["utf-8 BOM", Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(s, "utf8")]), "utf-8"],
        ["utf-16le BOM", Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(s, "utf16le")]), "utf-16le"],
        ["utf-16be BOM", Buffer.concat([Buffer.from([0xfe, 0xff]), utf16be(s)]), "utf-16be"],
      ];
      for (const [what, bytes, enc] of cases) {
        const d = decodeText(bytes);
        assert.equal(d.text, s, what);
        assert.equal(d.encoding, enc, what);
      }
    }),
    { numRuns: 100 },
  );
  // Without a BOM, UTF-16 of CSV text (mostly ASCII) is recognized by its NUL bytes.
  const sitka = fs.readFileSync(path.join(ROOT, "assets/examples/sitka.csv"), "utf8");
  assert.deepEqual(decodeText(Buffer.from(sitka, "utf16le")), { text: sitka, encoding: "utf-16le", bom: false });
  assert.deepEqual(decodeText(utf16be(sitka)), { text: sitka, encoding: "utf-16be", bom: false });
  // Bytes that are not UTF-8 are Windows-1252 (Excel's "CSV" in Western locales): umlauts survive.
  const latin = decodeText(Buffer.from("größe;zeit\n4,5;1\n", "latin1"));
  assert.deepEqual(latin, { text: "größe;zeit\n4,5;1\n", encoding: "windows-1252", bom: false });
  assert.deepEqual(Array.from((parseCsv(latin.text).columns[0] as { values: Float64Array }).values), [4.5]);
});

test("UTF-16 or a workbook read as text is named, not a field-count error", () => {
  const sitka = fs.readFileSync(path.join(ROOT, "assets/examples/sitka.csv"), "utf8");
  const asUtf8 = (b: Uint8Array) => Buffer.from(b).toString("utf8");
  const le = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(sitka, "utf16le")]);
  assert.throws(() => parseCsv(asUtf8(le)), (e: Error) => e instanceof DataError && /^the file holds NUL characters: it is UTF-16 \(little-endian\) text/.test(e.message));
  assert.throws(() => parseCsv(asUtf8(utf16be(sitka))), /it is UTF-16 \(big-endian\) text/);
  assert.throws(() => parseCsv("PK\u0003\u0004\u0014\u0000binary"), /not a CSV file but a zip archive \(an \.xlsx workbook\?\)/);
});
