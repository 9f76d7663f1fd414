// Tokens of a model spec, each with its 1-based column so errors can point at the problem.
import { SpecError } from "../errors";

export type TokKind = "name" | "num" | "op" | "end";

export interface Token {
  kind: TokKind;
  text: string;
  col: number;
}

const OPS = ["||", "~", "+", "-", "*", "/", ":", "^", "(", ")", "|", ",", ";"];

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
      out.push({ kind: "name", text: src.slice(i + 1, j), col });
      i = j + 1;
      continue;
    }
    const num = /^(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?/.exec(src.slice(i));
    if (num) {
      out.push({ kind: "num", text: num[0], col });
      i += num[0].length;
      continue;
    }
    const name = /^[A-Za-z_.][A-Za-z0-9_.]*/.exec(src.slice(i));
    if (name) {
      out.push({ kind: "name", text: name[0], col });
      i += name[0].length;
      continue;
    }
    const op = OPS.find((o) => src.startsWith(o, i));
    if (op) {
      out.push({ kind: "op", text: op, col });
      i += op.length;
      continue;
    }
    throw new SpecError(`unexpected character '${ch}'`, col);
  }
  out.push({ kind: "end", text: "", col: src.length + 1 });
  return out;
}
