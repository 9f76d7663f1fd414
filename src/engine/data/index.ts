export { tableFromRows, columnLetter } from "./table";
export { parseCsv } from "./csv";
