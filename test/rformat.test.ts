// R's column formatting (src/cli/rformat.ts) against what R 4.2 prints for the same vectors:
// format(zapsmall(x)), format(round(p, 4)), format(x). The expected strings were printed by R.
import { test } from "node:test";
import assert from "node:assert/strict";
import { anovaColumn, anovaPvalues, formatColumn } from "../src/cli/rformat";

test("format(): common decimals for the column, scientific when narrower, as R", () => {
  assert.deepEqual(formatColumn([0.5, 0.25, 12]), ["0.50", "0.25", "12.00"]);
  assert.deepEqual(formatColumn([-5.12969, 70.27575, 1e-12]), ["-5.129690e+00", "7.027575e+01", "1.000000e-12"]);
  assert.deepEqual(formatColumn([123456789.123, 1.5]), ["123456789.1", "1.5"]);
  assert.deepEqual(formatColumn([1.2732899e-9]), ["1.27329e-09"]);
  assert.deepEqual(formatColumn([0, 16.45623]), ["0.00000", "16.45623"]);
  assert.deepEqual(formatColumn([1e-20, 1]), ["1e-20", "1e+00"]);
  assert.deepEqual(formatColumn([null, 2]), ["", "2"]);
});

test("nlme's anova columns: zapsmall's double rounding (BIC 160.809746796 prints 160.8098), p-values", () => {
  assert.deepEqual(anovaColumn([188.672044814, 160.809746796]), ["188.6720", "160.8098"]);
  assert.deepEqual(anovaColumn([null, 16.45623]), ["", "16.45623"]);
  assert.deepEqual(anovaPvalues([null, 2.7e-4]), ["", "3e-04"]);
  assert.deepEqual(anovaPvalues([null, 2.3e-9]), ["", "<.0001"]);
});
