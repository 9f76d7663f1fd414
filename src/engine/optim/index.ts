export type { OptimOptions, OptimResult } from "./types";
export { bobyqa } from "./bobyqa";
export { nelderMead } from "./nelder-mead";
