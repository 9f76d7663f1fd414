// The Excel format codes the pane writes, as Excel shows them: the pane's results card and the
// screenshots' sheet renderer both draw numbers through numfmt.ts, so it is checked against
// what Excel displays for these codes.
import { test } from "node:test";
import assert from "node:assert/strict";
import { formatValue, general } from "../../src/taskpane/numfmt";
import { PVALUE } from "../../src/taskpane/formats";

test("fixed decimals, whole numbers, percent, scientific", () => {
  assert.equal(formatValue(2.121718, "0.000"), "2.122");
  assert.equal(formatValue(-0.0021385, "0.000000"), "-0.002139");
  assert.equal(formatValue(177.38, "0.0"), "177.4");
  assert.equal(formatValue(395, "0"), "395");
  assert.equal(formatValue(0.908, "0.0%"), "90.8%");
  assert.equal(formatValue(1.2345e-9, "0.000E+00"), "1.235E-09");
  assert.equal(formatValue(123456, "0.00E+00"), "1.23E+05");
  assert.equal(formatValue(1234567.5, "#,##0.0"), "1,234,567.5");
});

test("p-values: a condition with quoted text, the value itself unchanged", () => {
  assert.equal(PVALUE, '[<0.001]"< .001";0.000');
  assert.equal(formatValue(9.86e-30, PVALUE), "< .001");
  assert.equal(formatValue(0.000999, PVALUE), "< .001");
  assert.equal(formatValue(0.001, PVALUE), "0.001");
  assert.equal(formatValue(0.2367, PVALUE), "0.237");
  assert.equal(formatValue(1, PVALUE), "1.000");
});

test("General, text, blanks, two sections", () => {
  assert.equal(formatValue(4.51, "General"), "4.51");
  assert.equal(formatValue(1 / 3, "General"), "0.333333333");
  assert.equal(general(123456789012), "1.23457E+11");
  assert.equal(formatValue("tree", "@"), "tree");
  assert.equal(formatValue("", "0.00"), "");
  assert.equal(formatValue(true, "General"), "TRUE");
  assert.equal(formatValue(-2, "0.0;(0.0)"), "(2.0)");
});
