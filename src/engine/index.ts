// The engine's public face: everything the functions, the pane, the worker and the CLI use.
// Pure TypeScript: no DOM, no Office.
export * from "./types";
export * from "./errors";
import { guarded } from "./errors";
import { tableFromRows as tableFromRows0 } from "./data/table";
import { parseCsv as parseCsv0 } from "./data/csv";
import { parseSpec as parseSpec0 } from "./formula/parse";
import { fitModel as fitModel0 } from "./fit";
import { compareModels as compareModels0 } from "./inference/lrt";
import { exactRlrt as exactRlrt0 } from "./inference/rlrt";

// Every entry point reports an unexpected exception as the engine's own InternalError.
export const tableFromRows = guarded(tableFromRows0);
export const parseCsv = guarded(parseCsv0);
export const parseSpec = guarded(parseSpec0);
export const fitModel = guarded(fitModel0);
export const compareModels = guarded(compareModels0);
export const exactRlrt = guarded(exactRlrt0);
import { anovaModel as anovaModel0, contestModel as contestModel0 } from "./inference/anova";
export const anovaModel = guarded(anovaModel0);
export const contestModel = guarded(contestModel0);
export { ddfName, parseAnovaType, parseDdf } from "./inference/anova";
import { compareStructures as compareStructures0 } from "./inference/structures";
export const compareStructures = guarded(compareStructures0);
export type { StructuresResult, StructureRow } from "./inference/structures";
import { influenceModel as influenceModel0 } from "./inference/influence";
export const influenceModel = guarded(influenceModel0);
export type { InfluenceResult, GroupInfluence, InfluenceOptions } from "./inference/influence";
import { emmeansModel as emmeansModel0 } from "./inference/emmeans";
export const emmeansModel = guarded(emmeansModel0);
export type { EmmeansOptions, EmmeansResult, EmmeanRow, ContrastRow } from "./inference/emmeans";
export { parseAdjust, ADJUSTS } from "./inference/adjust";
export type { Adjust } from "./inference/adjust";
import { contrastModel as contrastModel0 } from "./inference/lcontrast";
export const contrastModel = guarded(contrastModel0);
export type { LContrastResult, LContrastRow } from "./inference/lcontrast";
import { predictModel as predictModel0 } from "./inference/predict";
export const predictModel = guarded(predictModel0);
import { fitSummary as fitSummary0 } from "./inference/summary";
export const fitSummary = guarded(fitSummary0);
export type { SummaryResult, SummaryTests, FactorMeans } from "./inference/summary";
