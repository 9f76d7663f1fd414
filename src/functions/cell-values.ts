// How the tables' numbers reach the sheet. Where the host lets custom functions return data
// types, each number goes as a cell value that carries its number format (Excel shows 314.0 and
// <2e-16 while the cell holds 313.9999993 and 2.5E-96, and formulas that reference the cell get
// the exact number); elsewhere as a plain number, which Excel shows in General format.
//
// Support is read from Office's requirement sets (Office.context.requirements.isSetSupported):
// - CustomFunctionsRuntime 1.4 lets custom functions return data types (the generated
//   functions.json has "allowCustomDataForDataTypeAny": true, which they need);
// - ExcelApi 1.19 gives DoubleCellValue its numberFormat: { type: "Double", basicValue,
//   numberFormat }, the form Microsoft's docs show (custom-functions-data-types-concepts);
// - ExcelApi 1.16 has the older FormattedNumberCellValue, { type: "FormattedNumber", basicValue,
//   numberFormat }, deprecated since 1.19 but what hosts between the two understand.
// Anything else (no Office object, older hosts, a throwing check) gets plain numbers.
import { Num, Rich } from "./format";

/** Excel's DoubleCellValue with a number format (ExcelApi 1.19). */
export interface DoubleValue {
  type: "Double";
  basicValue: number;
  numberFormat: string;
}

/** Excel's FormattedNumberCellValue (ExcelApi 1.16; deprecated since 1.19). */
export interface FormattedNumberValue {
  type: "FormattedNumber";
  basicValue: number;
  numberFormat: string;
}

export type ExcelCell = number | string | boolean | DoubleValue | FormattedNumberValue;

/** Which form numbers take: the current data type, the older one, or plain numbers. */
export type NumberStyle = "Double" | "FormattedNumber" | "plain";

/** What Office.context.requirements offers. */
export interface Requirements {
  isSetSupported(name: string, minVersion?: string): boolean;
}

/** The host's requirement sets, if Office.js is loaded (it is not in Node). */
function hostRequirements(): Requirements | undefined {
  const office = (globalThis as { Office?: { context?: { requirements?: Requirements } } }).Office;
  return office?.context?.requirements;
}

/** The form numbers can take on this host. */
export function numberStyle(req: Requirements | undefined = hostRequirements()): NumberStyle {
  if (!req || typeof req.isSetSupported !== "function") return "plain";
  try {
    if (!req.isSetSupported("CustomFunctionsRuntime", "1.4")) return "plain";
    if (req.isSetSupported("ExcelApi", "1.19")) return "Double";
    if (req.isSetSupported("ExcelApi", "1.16")) return "FormattedNumber";
  } catch {
    // A host that cannot answer is treated as one without data types.
  }
  return "plain";
}

/** One cell as Excel receives it. */
export function excelCell(c: Rich, style: NumberStyle): ExcelCell {
  if (!(c instanceof Num)) return c;
  if (style === "plain") return c.value;
  return { type: style, basicValue: c.value, numberFormat: c.format };
}

/** A table as the custom function returns it: formatted numbers where the host supports them. */
export function toExcel(rows: Rich[][], style: NumberStyle = numberStyle()): ExcelCell[][] {
  return rows.map((r) => r.map((c) => excelCell(c, style)));
}
