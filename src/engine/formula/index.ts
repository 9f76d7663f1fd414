export { parseSpec, exprLabel } from "./parse";
