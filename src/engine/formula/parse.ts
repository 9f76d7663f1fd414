// The model spec (ARCHITECTURE.md §5): `formula [; RESID(time | group)] [; varIdent(factor)]`,
// the formula in lme4 syntax. A recursive-descent parser over tokens builds R's term structure:
// `a*b` = a + b + a:b, `a/b` = a + a:b, `(a+b)^2`, `-1`/`0` drop the intercept, `- term` drops a
// term; random terms `(lhs | g)`, `(lhs || g)` (one term per effect), nested `(1 | a/b)` =
// `(1 | a) + (1 | b:a)` with lme4's group names. Terms are ordered as R's terms(): by degree,
// then by first appearance; variables inside an interaction by first appearance.
import type { Expr, ModelFormula, ModelSpec, RandomTerm, ResidualSpec, ResidualType, Term } from "../types";
import { SpecError } from "../errors";
import { Token, tokenize } from "./lexer";

const FUNCTIONS = new Set(["log", "sqrt", "exp", "factor", "I", "abs", "log10", "log2"]);
const RESIDUAL_TYPES: ResidualType[] = ["CS", "AR1", "CAR1", "ARH1", "UN"];

/** R's deparse of an expression: spaces around + - * /, none around ^. */
export function exprLabel(e: Expr): string {
  switch (e.kind) {
    case "var":
      return /^[A-Za-z.][A-Za-z0-9_.]*$/.test(e.name) ? e.name : `\`${e.name}\``;
    case "num":
      return String(e.value);
    case "neg":
      return `-${exprLabel(e.arg)}`;
    case "call":
      return `${e.fn}(${e.args.map(exprLabel).join(", ")})`;
    case "binop":
      return e.op === "^" ? `${exprLabel(e.left)}^${exprLabel(e.right)}` : `${exprLabel(e.left)} ${e.op} ${exprLabel(e.right)}`;
  }
}

/** A set of terms under construction: each term a list of variable keys. */
interface TermSet {
  terms: string[][];
  intercept: boolean | null;
}

class Parser {
  private i = 0;
  /** Variables by label, in order of first appearance. */
  readonly vars = new Map<string, Expr>();
  readonly random: RandomTerm[] = [];

  constructor(private readonly toks: Token[]) {}

  peek(): Token {
    return this.toks[this.i];
  }
  next(): Token {
    return this.toks[this.i++];
  }
  isOp(t: Token, op: string): boolean {
    return t.kind === "op" && t.text === op;
  }
  expectOp(op: string, what: string): Token {
    const t = this.next();
    if (!this.isOp(t, op)) throw new SpecError(`expected '${op}' ${what}${t.kind === "end" ? " but the spec ended" : ` but found '${t.text}'`}`, t.col);
    return t;
  }

  // ---- formula right-hand side (R formula operators)
  sum(allowRandom: boolean): TermSet {
    let acc: TermSet = { terms: [], intercept: null };
    let sign = 1;
    const first = this.peek();
    if (this.isOp(first, "-")) {
      this.next();
      sign = -1;
    } else if (this.isOp(first, "+")) {
      throw new SpecError("expected a term before '+'", first.col);
    }
    for (;;) {
      const t = this.peek();
      if (t.kind === "end" || this.isOp(t, ")") || this.isOp(t, "|") || this.isOp(t, "||") || this.isOp(t, ";") || this.isOp(t, ",")) {
        throw new SpecError(`expected a term${sign < 0 ? " after '-'" : ""}${t.kind === "end" ? " but the formula ended" : ` but found '${t.text}'`}`, t.col);
      }
      const part = this.product(allowRandom);
      acc = sign > 0 ? plus(acc, part) : minus(acc, part);
      const op = this.peek();
      if (this.isOp(op, "+")) {
        this.next();
        sign = 1;
      } else if (this.isOp(op, "-")) {
        this.next();
        sign = -1;
      } else return acc;
    }
  }

  product(allowRandom: boolean): TermSet {
    let acc = this.nest(allowRandom);
    while (this.isOp(this.peek(), "*")) {
      this.next();
      const b = this.nest(allowRandom);
      acc = plus(plus(acc, b), interact(acc, b));
    }
    return acc;
  }

  nest(allowRandom: boolean): TermSet {
    let acc = this.inter(allowRandom);
    while (this.isOp(this.peek(), "/")) {
      this.next();
      const b = this.inter(allowRandom);
      const all = [Array.from(new Set(acc.terms.flat()))];
      acc = plus(acc, interact({ terms: all, intercept: null }, b));
    }
    return acc;
  }

  inter(allowRandom: boolean): TermSet {
    let acc = this.power(allowRandom);
    while (this.isOp(this.peek(), ":")) {
      this.next();
      acc = interact(acc, this.power(allowRandom));
    }
    return acc;
  }

  power(allowRandom: boolean): TermSet {
    const base = this.primary(allowRandom);
    if (!this.isOp(this.peek(), "^")) return base;
    this.next();
    const t = this.next();
    if (t.kind !== "num" || !Number.isInteger(Number(t.text)) || Number(t.text) < 1) {
      throw new SpecError("expected a whole number after '^' (as in (a + b)^2)", t.col);
    }
    let acc = base;
    for (let k = 1; k < Number(t.text); k++) acc = plus(acc, interact(acc, base));
    return acc;
  }

  primary(allowRandom: boolean): TermSet {
    const t = this.peek();
    if (this.isOp(t, "(")) {
      if (this.looksRandom()) {
        if (!allowRandom) throw new SpecError("a random-effects term (… | group) cannot appear here", t.col);
        this.randomTerm();
        return { terms: [], intercept: null };
      }
      this.next();
      const inner = this.sum(allowRandom);
      this.expectOp(")", "to close '('");
      return inner;
    }
    if (t.kind === "num") {
      this.next();
      if (t.text === "0") return { terms: [], intercept: false };
      if (t.text === "1") return { terms: [], intercept: true };
      throw new SpecError(`a number (${t.text}) cannot be a term; use 0 or 1 for the intercept, or I(...) for arithmetic`, t.col);
    }
    if (t.kind === "name") {
      const e = this.atom();
      const key = exprLabel(e);
      if (!this.vars.has(key)) this.vars.set(key, e);
      return { terms: [[key]], intercept: null };
    }
    throw new SpecError(t.kind === "end" ? "the formula ended where a term was expected" : `expected a column name but found '${t.text}'`, t.col);
  }

  /** A column name or a function call such as log(x), factor(x), I(x^2). */
  atom(): Expr {
    const t = this.next();
    if (!this.isOp(this.peek(), "(")) return { kind: "var", name: t.text };
    if (!FUNCTIONS.has(t.text)) {
      throw new SpecError(`unknown function '${t.text}': use log, sqrt, exp, factor or I(...)`, t.col);
    }
    this.next();
    if (this.isOp(this.peek(), ")")) throw new SpecError(`${t.text}() needs an argument`, this.peek().col);
    const arg = t.text === "I" ? this.arith() : this.arith();
    this.expectOp(")", `to close ${t.text}(`);
    return { kind: "call", fn: t.text, args: [arg] };
  }

  /** Arithmetic inside I(...) and function arguments: + - * / ^ with the usual precedence. */
  arith(): Expr {
    let left = this.arithTerm();
    while (this.isOp(this.peek(), "+") || this.isOp(this.peek(), "-")) {
      const op = this.next().text as "+" | "-";
      left = { kind: "binop", op, left, right: this.arithTerm() };
    }
    return left;
  }
  arithTerm(): Expr {
    let left = this.arithPow();
    while (this.isOp(this.peek(), "*") || this.isOp(this.peek(), "/")) {
      const op = this.next().text as "*" | "/";
      left = { kind: "binop", op, left, right: this.arithPow() };
    }
    return left;
  }
  arithPow(): Expr {
    const base = this.arithUnary();
    if (this.isOp(this.peek(), "^")) {
      this.next();
      return { kind: "binop", op: "^", left: base, right: this.arithPow() };
    }
    return base;
  }
  arithUnary(): Expr {
    const t = this.peek();
    if (this.isOp(t, "-")) {
      this.next();
      return { kind: "neg", arg: this.arithUnary() };
    }
    if (this.isOp(t, "(")) {
      this.next();
      const e = this.arith();
      this.expectOp(")", "to close '('");
      return e;
    }
    if (t.kind === "num") {
      this.next();
      return { kind: "num", value: Number(t.text) };
    }
    if (t.kind === "name") return this.atom();
    throw new SpecError(t.kind === "end" ? "the expression ended too early" : `unexpected '${t.text}' in an expression`, t.col);
  }

  /** Is the parenthesis at the cursor a random-effects term, i.e. has a top-level '|'? */
  looksRandom(): boolean {
    let depth = 0;
    for (let k = this.i; k < this.toks.length; k++) {
      const t = this.toks[k];
      if (this.isOp(t, "(")) depth++;
      else if (this.isOp(t, ")")) {
        depth--;
        if (depth === 0) return false;
      } else if (depth === 1 && (this.isOp(t, "|") || this.isOp(t, "||"))) return true;
      else if (t.kind === "end") return false;
    }
    return false;
  }

  randomTerm(): void {
    const open = this.next();
    if (this.isOp(this.peek(), "|") || this.isOp(this.peek(), "||")) {
      throw new SpecError("empty random-effects term: write (1 | group) for a random intercept", this.peek().col);
    }
    const lhs = this.sum(false);
    const bar = this.next();
    const correlated = bar.text === "|";
    const groups = this.groupSpec();
    this.expectOp(")", "to close the random-effects term");
    const intercept = lhs.intercept !== false;
    const terms = orderTerms(lhs.terms).map((k) => this.term(k));
    if (!intercept && terms.length === 0) throw new SpecError("this random-effects term has no effects: (0 | group) estimates nothing", open.col);
    for (const group of groups) {
      const gtext = group.join(":");
      if (correlated || terms.length + (intercept ? 1 : 0) === 1) {
        const text = `${[intercept ? "1" : "0", ...terms.map((t) => t.label)].join(" + ")} | ${gtext}`;
        this.random.push({ intercept, terms, group, correlated: true, text });
      } else {
        if (intercept) this.random.push({ intercept: true, terms: [], group, correlated: true, text: `1 | ${gtext}` });
        for (const t of terms) this.random.push({ intercept: false, terms: [t], group, correlated: true, text: `0 + ${t.label} | ${gtext}` });
      }
    }
  }

  /** `g`, `a:b`, or `a/b` (nested: [a], [b, a]); returns the groups as variable lists. */
  groupSpec(): string[][] {
    const names: string[] = [];
    const seps: string[] = [];
    for (;;) {
      const t = this.next();
      if (t.kind !== "name") throw new SpecError(t.kind === "end" ? "the random-effects term needs a grouping column after '|'" : `expected a grouping column after '|' but found '${t.text}'`, t.col);
      if (this.isOp(this.peek(), "(")) throw new SpecError("a grouping factor must be a column name, not a function call", this.peek().col);
      names.push(t.text);
      const s = this.peek();
      if (this.isOp(s, ":") || this.isOp(s, "/")) {
        seps.push(this.next().text);
        continue;
      }
      break;
    }
    // a/b/c: nesting; ':' joins into one factor.
    const chunks: string[][] = [[names[0]]];
    seps.forEach((s, k) => {
      if (s === ":") chunks[chunks.length - 1].push(names[k + 1]);
      else chunks.push([names[k + 1]]);
    });
    const groups: string[][] = [];
    for (let k = 0; k < chunks.length; k++) {
      // lme4 names the inner factor first: batch/cask -> "cask:batch".
      const vars: string[] = [];
      for (let j = k; j >= 0; j--) vars.push(...chunks[j]);
      groups.push(vars);
    }
    return groups;
  }

  term(keys: string[]): Term {
    return { factors: keys.map((k) => this.vars.get(k)!), label: keys.join(":") };
  }
}

function plus(a: TermSet, b: TermSet): TermSet {
  const terms = a.terms.slice();
  for (const t of b.terms) if (!terms.some((u) => sameTerm(u, t))) terms.push(t);
  return { terms, intercept: b.intercept ?? a.intercept };
}

function minus(a: TermSet, b: TermSet): TermSet {
  const terms = a.terms.filter((t) => !b.terms.some((u) => sameTerm(u, t)));
  return { terms, intercept: b.intercept === true || b.intercept === false ? false : a.intercept };
}

function interact(a: TermSet, b: TermSet): TermSet {
  const terms: string[][] = [];
  for (const ta of a.terms) for (const tb of b.terms) {
    const t = Array.from(new Set([...ta, ...tb]));
    if (!terms.some((u) => sameTerm(u, t))) terms.push(t);
  }
  return { terms, intercept: null };
}

function sameTerm(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((x) => b.includes(x));
}

/** R's order: by degree, then appearance; variables inside a term by first appearance. */
function orderTerms(terms: string[][], order?: string[]): string[][] {
  const pos = new Map((order ?? Array.from(new Set(terms.flat()))).map((k, i) => [k, i]));
  const sorted = terms.map((t) => t.slice().sort((x, y) => pos.get(x)! - pos.get(y)!));
  return sorted.map((t, i) => ({ t, i })).sort((x, y) => x.t.length - y.t.length || x.i - y.i).map((x) => x.t);
}

function parseFormula(src: string, offset: number): ModelFormula {
  const toks = tokenize(src).map((t) => ({ ...t, col: t.col + offset }));
  const tilde = toks.findIndex((t) => t.kind === "op" && t.text === "~");
  if (tilde < 0) throw new SpecError("the formula has no '~': write it as response ~ terms, e.g. size ~ time + (1 | tree)", offset + 1);
  if (tilde === 0) throw new SpecError("the formula needs a response before '~'", toks[0].col);
  const p = new Parser(toks);
  const response = p.arith();
  const after = p.peek();
  if (!p.isOp(after, "~")) throw new SpecError(`the response must be one column or expression; found '${after.text}' before '~'`, after.col);
  p.next();
  const rhs = p.sum(true);
  const end = p.peek();
  if (end.kind !== "end") {
    throw new SpecError(p.isOp(end, ")") ? "unmatched ')'" : `unexpected '${end.text}': join terms with '+'`, end.col);
  }
  const order = Array.from(p.vars.keys());
  const fixed = orderTerms(rhs.terms, order).map((k) => p.term(k));
  return { response, intercept: rhs.intercept !== false, fixed, random: p.random };
}

function parseResidual(src: string, offset: number): { residual?: ResidualSpec; varIdent?: string } {
  const toks = tokenize(src).map((t) => ({ ...t, col: t.col + offset }));
  const p = new Parser(toks);
  const head = p.next();
  if (head.kind !== "name") throw new SpecError(`expected a residual structure (CS, AR1, CAR1, ARH1, UN) or varIdent after ';'`, head.col);
  p.expectOp("(", `after ${head.text}`);
  if (head.text === "varIdent") {
    const f = p.next();
    if (f.kind !== "name") throw new SpecError("varIdent needs a column name, as in varIdent(treat)", f.col);
    p.expectOp(")", "to close varIdent(");
    if (p.peek().kind !== "end") throw new SpecError(`unexpected '${p.peek().text}' after varIdent(...)`, p.peek().col);
    return { varIdent: f.text };
  }
  const type = RESIDUAL_TYPES.find((t) => t === head.text.toUpperCase());
  if (!type) throw new SpecError(`unknown residual structure '${head.text}': use CS, AR1, CAR1, ARH1, UN or varIdent`, head.col);
  const first = p.next();
  let time: string | null = null;
  if (first.kind === "num") {
    if (first.text !== "1") throw new SpecError(`expected a time column or 1 in ${type}(...)`, first.col);
  } else if (first.kind === "name") time = first.text;
  else throw new SpecError(`expected a time column in ${type}(time | group)`, first.col);
  let group: string | null = null;
  if (p.isOp(p.peek(), "|")) {
    p.next();
    const parts: string[] = [];
    for (;;) {
      const g = p.next();
      if (g.kind !== "name") throw new SpecError(`expected a grouping column after '|' in ${type}(...)`, g.col);
      parts.push(g.text);
      if (!p.isOp(p.peek(), ":")) break;
      p.next();
    }
    group = parts.join(":");
  }
  p.expectOp(")", `to close ${type}(`);
  if (p.peek().kind !== "end") throw new SpecError(`unexpected '${p.peek().text}' after ${type}(...)`, p.peek().col);
  if (type !== "CS" && time === null) throw new SpecError(`${type} needs a time column, as in ${type}(time | group)`, first.col);
  return { residual: { type, time, group } };
}

export function parseSpec(text: string): ModelSpec {
  if (typeof text !== "string" || text.trim() === "") throw new SpecError("the model spec is empty: write a formula such as size ~ time + (1 | tree)", 1);
  // Split at top-level ';'.
  const parts: { src: string; offset: number }[] = [];
  let depth = 0, start = 0;
  for (let i = 0; i <= text.length; i++) {
    const ch = text[i];
    if (ch === "(") depth++;
    else if (ch === ")") depth--;
    if (i === text.length || (ch === ";" && depth === 0)) {
      parts.push({ src: text.slice(start, i), offset: start });
      start = i + 1;
    }
  }
  const formula = parseFormula(parts[0].src, parts[0].offset);
  let residual: ResidualSpec | null = null;
  let varIdent: string | null = null;
  for (const part of parts.slice(1)) {
    if (part.src.trim() === "") throw new SpecError("nothing after ';'", part.offset + 1);
    const r = parseResidual(part.src, part.offset);
    if (r.residual) {
      if (residual) throw new SpecError("only one residual correlation structure is allowed", part.offset + 1);
      residual = r.residual;
    }
    if (r.varIdent) {
      if (varIdent) throw new SpecError("only one varIdent is allowed", part.offset + 1);
      varIdent = r.varIdent;
    }
  }
  return { text: text.trim(), formula, residual, varIdent };
}
