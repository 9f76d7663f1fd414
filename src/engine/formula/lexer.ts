// Tokens of a model spec, each with its 1-based column so errors can point at the problem.
import { SpecError } from "../errors";

export type TokKind = "name" | "num" | "op" | "end";

export interface Token {
  kind: TokKind;
  /** The name (without backticks), the number as written, or the operator. */
  text: string;
  /** 1-based column of the token's first character in the whole spec. */
  col: number;
  /** Columns the token spans (for "found 'x'" messages). */
  len: number;
  /** A name written in backticks. */
  quoted?: boolean;
}

const OPS = ["||", "~", "+", "-", "*", "/", ":", "^", "(", ")", "|", ",", ";"];
const NUMBER = /^(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?/;
// Letters of any alphabet, digits, '.' and '_' (a name does not start with a digit).
const NAME = /^[\p{L}_.][\p{L}\p{N}_.]*/u;

export function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const ch = src[i];
    if (/\s/.test(ch)) {
      i++;
      continue;
    }
    const col = i + 1;
    if (ch === "`") {
      const j = src.indexOf("`", i + 1);
      if (j < 0) throw new SpecError("a column name in backticks is not closed: add the closing `", col);
      if (j === i + 1) throw new SpecError("empty column name in backticks", col);
      out.push({ kind: "name", text: src.slice(i + 1, j), col, len: j + 1 - i, quoted: true });
      i = j + 1;
      continue;
    }
    const rest = src.slice(i, i + 200);
    const num = NUMBER.exec(rest);
    if (num) {
      const after = src.slice(i + num[0].length, i + num[0].length + 1);
      if (/[\p{L}_.]/u.test(after)) {
        const word = /^[\p{L}\p{N}_.]+/u.exec(rest)![0];
        throw new SpecError(`a column name cannot start with a digit: write it in backticks, as \`${word}\``, col);
      }
      out.push({ kind: "num", text: num[0], col, len: num[0].length });
      i += num[0].length;
      continue;
    }
    const name = NAME.exec(rest);
    if (name) {
      let text = name[0];
      // Long names: take the rest of the name beyond the 200-character window.
      let k = i + text.length;
      while (k < src.length && /[\p{L}\p{N}_.]/u.test(src[k])) text += src[k++];
      out.push({ kind: "name", text, col, len: text.length });
      i += text.length;
      continue;
    }
    if (ch === "'" || ch === '"') {
      const j = src.indexOf(ch, i + 1);
      const inner = j > i ? src.slice(i + 1, j) : "";
      const shown = inner ? `\`${inner}\`` : "`tree size`";
      throw new SpecError(`column names are not quoted: write a name with spaces or symbols in backticks, as ${shown}`, col);
    }
    if (ch === "%") {
      const j = src.indexOf("%", i + 1);
      const op = j > i ? src.slice(i, j + 1) : "%";
      throw new SpecError(`the operator ${op} is not supported: write interactions with ':' or '*' and nesting with '/'`, col);
    }
    const op = OPS.find((o) => src.startsWith(o, i));
    if (op) {
      out.push({ kind: "op", text: op, col, len: op.length });
      i += op.length;
      continue;
    }
    throw new SpecError(`unexpected character '${ch}'`, col);
  }
  out.push({ kind: "end", text: "", col: src.length + 1, len: 0 });
  return out;
}
