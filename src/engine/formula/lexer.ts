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

const OPS = ["||", "~", "+", "-", "*", "/", ":", "^", "(", ")", "|", ",", ";", "="];
// Sticky patterns, matched in place at lastIndex: no substring per token, so a spec of any
// length is read in time proportional to its length.
const NUMBER = /(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?/y;
// Letters of any alphabet, digits, '.' and '_' (a name does not start with a digit).
const NAME = /[\p{L}_.][\p{L}\p{N}_.]*/uy;
const WORD = /[\p{L}\p{N}_.]+/uy;
/** Operators of one character that no longer operator starts with ('|' may start '||'). */
const SINGLE = new Set(["~", "+", "-", "*", "/", ":", "^", "(", ")", ",", ";", "="]);

/** Characters a word processor or Excel's autocorrect puts in place of the plain ones. */
const TYPOGRAPHIC: Record<string, string> = {
  "\u2212": "a typographic minus sign: type the plain '-'",
  "\u2013": "a dash: type the plain '-'",
  "\u2014": "a dash: type the plain '-'",
  "\u00d7": "a multiplication sign: type '*'",
  "\u201c": "a typographic quote: column names are not quoted; write a name with spaces in backticks, as `tree size`",
  "\u201d": "a typographic quote: column names are not quoted; write a name with spaces in backticks, as `tree size`",
  "\u2018": "a typographic quote: write a name with spaces in backticks, as `tree size`",
  "\u2019": "a typographic quote: write a name with spaces in backticks, as `tree size`",
  "\uff5e": "a full-width tilde: type the plain '~'",
  "\uff08": "a full-width parenthesis: type the plain '('",
  "\uff09": "a full-width parenthesis: type the plain ')'",
};

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
    if (SINGLE.has(ch)) {
      out.push({ kind: "op", text: ch, col, len: 1 });
      i++;
      continue;
    }
    if (ch === "`") {
      const j = src.indexOf("`", i + 1);
      if (j < 0) throw new SpecError("a column name in backticks is not closed: add the closing `", col);
      if (j === i + 1) throw new SpecError("empty column name in backticks", col);
      out.push({ kind: "name", text: src.slice(i + 1, j), col, len: j + 1 - i, quoted: true });
      i = j + 1;
      continue;
    }
    NUMBER.lastIndex = i;
    const num = NUMBER.exec(src);
    if (num) {
      const after = src.slice(i + num[0].length, i + num[0].length + 1);
      if (/[\p{L}_.]/u.test(after)) {
        WORD.lastIndex = i;
        const word = WORD.exec(src)![0];
        throw new SpecError(`a column name cannot start with a digit: write it in backticks, as \`${word}\``, col);
      }
      out.push({ kind: "num", text: num[0], col, len: num[0].length });
      i += num[0].length;
      continue;
    }
    NAME.lastIndex = i;
    const name = NAME.exec(src);
    if (name) {
      const text = name[0];
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
    const typo = TYPOGRAPHIC[ch];
    if (typo) throw new SpecError(`unexpected character '${ch}' (${typo})`, col);
    throw new SpecError(`unexpected character '${ch}'`, col);
  }
  out.push({ kind: "end", text: "", col: src.length + 1, len: 0 });
  return out;
}
