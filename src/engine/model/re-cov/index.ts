// The random-effect covariance structures by name. Adding one: a file implementing ReStructure
// and a line here (and its name in ReCovType, types.ts).
import type { ReCovType } from "../../types";
import type { ReStructure } from "./types";
import { unstructured } from "./us";
import { diagonal } from "./diag";
import { compoundSymmetry } from "./cs";
import { autoregressive } from "./ar1";
import { toeplitz } from "./toep";

export type { ReStructure } from "./types";

export function makeStructure(type: ReCovType, effects: string[]): ReStructure {
  switch (type) {
    case "us": return unstructured(effects.length);
    case "diag": return diagonal(effects, false);
    case "homdiag": return diagonal(effects, true);
    case "cs": return compoundSymmetry(effects, false);
    case "homcs": return compoundSymmetry(effects, true);
    case "ar1": return autoregressive(effects);
    case "toep": return toeplitz(effects);
  }
}

