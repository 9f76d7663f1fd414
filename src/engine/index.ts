// The engine's public face: everything the functions, the pane, the worker and the CLI use.
// Pure TypeScript: no DOM, no Office.
export * from "./types";
export * from "./errors";
export { tableFromRows } from "./data/table";
export { parseCsv } from "./data/csv";
export { parseSpec } from "./formula/parse";
export { fitModel } from "./fit";
export { compareModels } from "./inference/lrt";
export { exactRlrt } from "./inference/rlrt";
export { anovaModel, contestModel, ddfName, parseAnovaType, parseDdf } from "./inference/anova";
