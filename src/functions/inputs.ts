// Checking the arguments Excel passes and turning failures into #VALUE! with a message that says
// what to fix. Blanks arrive as null, "" or 0 by platform; omitted optional arguments as null.
import type { Method } from "../engine/types";

/** A data range: a 2-D array with at least a header row and one data row. */
export function dataArg(data: unknown): unknown[][] {
  if (!Array.isArray(data) || data.length === 0 || !Array.isArray(data[0])) {
    throw new TypeError("data must be a range with a header row, such as A1:D396 or Table1[#All]");
  }
  if (data.length < 2) throw new TypeError("data has only one row: select the header row and the data rows below it");
  return data as unknown[][];
}

export function textArg(v: unknown, what: string): string {
  if (typeof v !== "string" || v.trim() === "") throw new TypeError(`${what} must be a model formula in quotes, such as "size ~ time*treat + (1|tree)"`);
  return v;
}

export function methodArg(v: unknown): Method | undefined {
  if (v === null || v === undefined || v === "") return undefined;
  const u = String(v).trim().toUpperCase();
  if (u !== "REML" && u !== "ML") throw new TypeError(`method must be "REML" or "ML", not "${v}"`);
  return u;
}

export function levelArg(v: unknown): number | undefined {
  if (v === null || v === undefined || v === "") return undefined;
  const x = Number(v);
  if (!(x > 0 && x < 1)) throw new TypeError(`level must be a number between 0 and 1, such as 0.95, not "${v}"`);
  return x;
}

/** Model specs from a range or array (blank cells skipped) or one string. */
export function specsArg(v: unknown): string[] {
  const flat = Array.isArray(v) ? (v as unknown[]).flat(2) : [v];
  const specs = flat.filter((x): x is string => typeof x === "string" && x.trim() !== "");
  if (specs.length < 2) throw new TypeError("specs must hold at least two model formulas (a range of cells or an array such as {\"y ~ x + (1|g)\",\"y ~ x + (x|g)\"})");
  return specs;
}

/** Excel's cancellation hook, in the form the client takes. */
export function onCancel(invocation: CustomFunctions.CancelableInvocation | undefined): ((hook: () => void) => void) | undefined {
  if (!invocation) return undefined;
  return (hook) => {
    invocation.onCanceled = hook;
  };
}

/** Any failure as #VALUE! with a message for the user. */
export function fail(e: unknown): CustomFunctions.Error {
  const msg = e instanceof Error ? e.message : String(e);
  return new CustomFunctions.Error(CustomFunctions.ErrorCode.invalidValue, msg.length > 250 ? msg.slice(0, 247) + "..." : msg);
}
