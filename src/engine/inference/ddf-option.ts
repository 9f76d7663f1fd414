// The ddf option's spellings, in a file of its own: the `lmm` command checks its flags before it
// loads the engine (cli/main.ts), and anova.ts, which the rest of the engine reads it from, is not light.
import type { DdfOption } from "../types";
import { DataError } from "../errors";

/** A ddf choice as users write it (case-insensitive; "Kenward-Roger" and "KR" alike). */
export function parseDdf(x: unknown): DdfOption {
  if (x === null || x === undefined || x === "") return "satterthwaite";
  const s = String(x).trim().toLowerCase().replace(/[\s_]/g, "-");
  if (s === "satterthwaite" || s === "satt") return "satterthwaite";
  if (s === "kr" || s === "kenward-roger" || s === "kenwardroger") return "kr";
  if (s === "residual" || s === "resid") return "residual";
  if (s === "containment" || s === "contain" || s === "between-within") return "containment";
  throw new DataError(`ddf must be satterthwaite, kenward-roger (kr), residual or containment, not '${String(x)}'`);
}
