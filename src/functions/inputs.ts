// The arguments as Excel passes them, checked, and every failure turned into #VALUE! with a
// message that says what to fix. Excel passes blank cells as null, "" or (on some platforms) 0,
// error cells as error objects (allowErrorForDataTypeAny), numbers sometimes as text, and an
// omitted optional argument as null. The cells themselves are read by the engine
// (tableFromRows); here only the shape of the arguments is checked.
import type { Method } from "../engine/types";

/** A mistake in an argument (not in the data or the spec, which the engine reports). */
export class InputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "InputError";
  }
}

const isBlank = (v: unknown): boolean => v === null || v === undefined || (typeof v === "string" && v.trim() === "");

/** An omitted optional argument, or a reference to an empty cell (which may arrive as 0). */
const omitted = (v: unknown): boolean => isBlank(v) || v === 0;

export interface DataArg {
  /** The rows to fit: the header row, then the data rows up to the last non-blank one. */
  rows: unknown[][];
  /** Trailing rows left out because every cell was 0 or blank (blank cells passed as 0). */
  zeroRowsTrimmed: number;
}

/**
 * A data range: a 2-D array whose first row names the columns. Trailing rows with nothing in
 * them (a whole-column reference such as A:D, or a table's spare rows) are left out here, so
 * they are neither copied to the worker nor spilled back by LMM.FITTED. Excel on some platforms
 * passes blank cells as 0, so trailing rows of only zeros and blanks are left out too and the
 * output says so.
 */
export function dataArg(data: unknown): DataArg {
  if (!Array.isArray(data) || data.length === 0 || !Array.isArray(data[0])) {
    throw new InputError("data must be a range whose first row names the columns, such as A1:D396 or Table1[#All]");
  }
  const rows = data as unknown[][];
  if (rows.length < 2) throw new InputError("data has only one row: select the header row and the data rows below it");
  let last = rows.length - 1;
  while (last > 0 && Array.isArray(rows[last]) && rows[last].every(isBlank)) last--;
  let zeroRowsTrimmed = 0;
  while (last > 0 && Array.isArray(rows[last]) && rows[last].every(omitted)) {
    last--;
    zeroRowsTrimmed++;
  }
  if (last === 0) throw new InputError("data has no rows below its header row: select the header row and the data rows below it");
  return { rows: last === rows.length - 1 ? rows : rows.slice(0, last + 1), zeroRowsTrimmed };
}

/** The note that goes with a DataArg, if any. */
export function dataNotes(d: DataArg): string[] {
  return d.zeroRowsTrimmed > 0
    ? [`left out the last ${d.zeroRowsTrimmed} row(s) of the range: every cell was 0 or blank (Excel on some platforms passes blank cells as 0)`]
    : [];
}

/** The model spec: text. */
export function specArg(v: unknown): string {
  if (typeof v === "number" || typeof v === "boolean") throw new InputError(`spec must be a model formula in quotes, such as "size ~ time*treat + (1|tree)", not ${String(v)}`);
  if (typeof v !== "string" || v.trim() === "") throw new InputError('spec must be a model formula in quotes, such as "size ~ time*treat + (1|tree)"');
  return v;
}

const ordinal = (k: number): string => `${k}${k % 100 >= 11 && k % 100 <= 13 ? "th" : (["th", "st", "nd", "rd"][k % 10] ?? "th")}`;

/**
 * Two or more model specs: a range or an array constant (read row by row; blank cells are
 * skipped, so ranges of any shape work), or one cell.
 */
export function specsArg(v: unknown): string[] {
  const cells: unknown[] = Array.isArray(v) ? (v as unknown[]).flat(2) : [v];
  const specs: string[] = [];
  cells.forEach((c, i) => {
    if (isBlank(c)) return;
    if (typeof c === "string") specs.push(c);
    else if (typeof c === "number" || typeof c === "boolean") throw new InputError(`the ${ordinal(i + 1)} cell of specs holds ${String(c)}: every cell must hold a model formula such as "size ~ time + (1|tree)" (or be empty)`);
    else throw new InputError(`the ${ordinal(i + 1)} cell of specs is an error value: every cell must hold a model formula (or be empty)`);
  });
  if (specs.length < 2) {
    throw new InputError('specs must hold at least two model formulas: a range of cells, or an array such as {"size ~ time + (1|tree)","size ~ time + (time|tree)"}');
  }
  return specs;
}

export function methodArg(v: unknown): Method | undefined {
  if (omitted(v)) return undefined;
  const u = typeof v === "string" ? v.trim().toUpperCase() : "";
  if (u !== "REML" && u !== "ML") throw new InputError(`method must be "REML" or "ML" (or left out for REML), not "${String(v)}"`);
  return u;
}

export function levelArg(v: unknown): number | undefined {
  if (omitted(v)) return undefined;
  const x = typeof v === "number" ? v : typeof v === "string" ? Number(v.trim()) : NaN;
  if (!(x > 0 && x < 1)) throw new InputError(`level must be a number between 0 and 1, such as 0.95, not "${String(v)}"`);
  return x;
}

/** How variance-component intervals are computed; undefined (the engine's "auto") when left out. */
export function ciArg(v: unknown): "profile" | "wald" | "auto" | undefined {
  if (omitted(v)) return undefined;
  const c = typeof v === "string" ? v.trim().toLowerCase() : "";
  if (c !== "profile" && c !== "wald" && c !== "auto") throw new InputError(`ci must be "profile", "wald" or "auto" (or left out), not "${String(v)}"`);
  return c === "auto" ? undefined : c;
}

/** An optional name (a grouping factor): null when left out. */
export function nameArg(v: unknown, what: string): string | null {
  if (omitted(v)) return null;
  if (typeof v === "string") return v.trim();
  if (typeof v === "number") return String(v);
  throw new InputError(`${what} must be a column name in quotes`);
}

export type FittedType = "conditional" | "marginal" | "residual" | "pearson" | "normalized";
const FITTED_TYPES: FittedType[] = ["conditional", "marginal", "residual", "pearson", "normalized"];

export function fittedTypeArg(v: unknown): FittedType {
  if (omitted(v)) return "conditional";
  const t = typeof v === "string" ? v.trim().toLowerCase() : "";
  if (!FITTED_TYPES.includes(t as FittedType)) {
    throw new InputError(`type must be "conditional" (fixed + random effects, the default), "marginal" (fixed effects only), "residual", "pearson" (residual / (sigma x the row's SD ratio)) or "normalized" (pearson whitened by the residual correlation, as nlme), not "${String(v)}"`);
  }
  return t as FittedType;
}

/** A whole number in [lo, hi], or undefined when left out. */
export function intArg(v: unknown, what: string, lo: number, hi: number): number | undefined {
  if (omitted(v)) return undefined;
  const x = typeof v === "number" ? v : typeof v === "string" ? Number(v.trim()) : NaN;
  if (!Number.isInteger(x) || x < lo || x > hi) throw new InputError(`${what} must be a whole number from ${lo} to ${hi}, not "${String(v)}"`);
  return x;
}

/** Excel's cancellation handle, in the form the client takes. */
export function onCancel(invocation: CustomFunctions.CancelableInvocation | null | undefined): ((hook: () => void) => void) | undefined {
  if (!invocation) return undefined;
  return (hook) => {
    invocation.onCanceled = hook;
  };
}

/** Names of the errors whose message is meant for the user as it is. */
const USER_ERRORS = new Set(["InputError", "DataError", "SpecError"]);

/** Excel shows a custom error message of moderate length; longer ones are cut. */
const MAX_MESSAGE = 255;

/** Any failure as #VALUE! with a message for the user. */
export function fail(e: unknown): CustomFunctions.Error {
  const name = e instanceof Error ? e.name : "";
  const raw = e instanceof Error ? e.message : String(e);
  let msg: string;
  if (USER_ERRORS.has(name)) msg = raw;
  else if (name === "CancelledError") msg = "the calculation was cancelled";
  else if (name === "WorkerError") msg = raw;
  else msg = `LMM could not finish: ${raw} (please report this with the formula)`;
  if (msg.length > MAX_MESSAGE) msg = msg.slice(0, MAX_MESSAGE - 3) + "...";
  return new CustomFunctions.Error(CustomFunctions.ErrorCode.invalidValue, msg);
}
