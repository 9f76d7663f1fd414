export type { OptimOptions, OptimResult } from "./types";
export { bobyqa } from "./trqm";
export { nelderMead } from "./nelder-mead";
