// RFC 4180 CSV (quoted fields, doubled quotes, CRLF or LF, separators and newlines inside quotes)
// read straight into typed columns: one scan over the text, no array of rows.
import type { DataTable } from "../types";
import { DataError } from "../errors";
import { Cell, MISSING, isMissingText, parseNumber } from "./cells";
import { ColumnBuilder, finishTable, headerBuilders } from "./builder";

export function parseCsv(text: string): DataTable {
  const len = text.length;
  let pos = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  let line = 1;

  /** Next field (unquoted); stops before the separator or line end. */
  const field = (): string => {
    if (text.charCodeAt(pos) === 34) {
      pos++;
      let out = "";
      let start = pos;
      for (;;) {
        const q = text.indexOf('"', pos);
        if (q < 0) throw new DataError(`the CSV has an unclosed quote starting on line ${line}`);
        if (text.charCodeAt(q + 1) === 34) {
          out += text.slice(start, q + 1);
          pos = q + 2;
          start = pos;
          continue;
        }
        out += text.slice(start, q);
        for (let i = start; i < q; i++) if (text.charCodeAt(i) === 10) line++;
        pos = q + 1;
        return out;
      }
    }
    const start = pos;
    while (pos < len) {
      const ch = text.charCodeAt(pos);
      if (ch === 44 || ch === 10 || ch === 13) break;
      pos++;
    }
    return text.slice(start, pos);
  };

  /** After a field: true at end of line (consumed), false at a comma (consumed). */
  const endOfField = (): boolean => {
    if (pos >= len) return true;
    const ch = text.charCodeAt(pos);
    if (ch === 44) {
      pos++;
      return false;
    }
    if (ch === 13) pos++;
    if (text.charCodeAt(pos) === 10) pos++;
    line++;
    return true;
  };

  // Quotes do not make a number text (as R's read.csv): "152" is the number 152.
  const cell = (s: string): Cell => {
    const t = s.trim();
    if (isMissingText(t)) return MISSING;
    const n = parseNumber(t);
    return n === null ? t : n;
  };

  if (pos >= len || text.trim() === "") throw new DataError("the CSV file is empty");
  const header: string[] = [];
  for (;;) {
    header.push(field());
    if (endOfField()) break;
  }
  const builders: ColumnBuilder[] = headerBuilders(header);
  const width = builders.length;
  let nrow = 0;
  while (pos < len) {
    // Skip blank lines.
    const ch = text.charCodeAt(pos);
    if (ch === 10 || ch === 13) {
      endOfField();
      continue;
    }
    const rowLine = line;
    let j = 0;
    for (;;) {
      const s = field();
      if (j < width) builders[j].push(cell(s));
      j++;
      if (endOfField()) break;
    }
    if (j !== width) {
      throw new DataError(`line ${rowLine} of the CSV has ${j} fields but the header has ${width}`);
    }
    nrow++;
  }
  return finishTable(builders, nrow);
}
