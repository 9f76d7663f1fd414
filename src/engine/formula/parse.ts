// The model spec (ARCHITECTURE.md §5): `formula [; RESID(time | group[, options])]
// [; varIdent(f) * varPower(x) ...] [; weights(w)]`,
// the formula in lme4 syntax. A recursive-descent parser over tokens builds R's term structure:
// `a*b` = a + b + a:b, `a/b` = a + a:b, `(a+b)^2`, `0`/`-1` drop the intercept, `- term` drops
// a term; random terms `(lhs | g)`, `(lhs || g)` (one term per effect term, as lme4 expands it),
// nested `(1 | a/b)` = `(1 | a) + (1 | b:a)` with lme4's group names. Terms are ordered as R's
// terms(): by degree, then by appearance; the variables of an interaction in the order in which
// they first appear in the formula (for the fixed part, with the random terms left out, as
// lme4's nobars() does).
import type { Expr, ModelFormula, ModelSpec, RandomTerm, ReCovType, ResidualSpec, ResidualType, Term, VarFuncSpec } from "../types";

/** Covariance structures of random-effects terms, by glmmTMB's names (model/re-cov/). */
const RE_STRUCTURES = new Set<string>(["us", "diag", "homdiag", "cs", "homcs", "ar1", "toep"]);
import { SpecError } from "../errors";
import { rDouble } from "../data/cells";
import { Token, tokenize } from "./lexer";
import { CONTRASTS, contrastName } from "../model/contrasts";

/** The coding a variable asks for: `C(f, contr.sum)` -> "contr.sum", else "" (the default). */
function codingOf(e: Expr): string {
  return e.kind === "call" && e.fn === "C" && e.args[1]?.kind === "var" ? e.args[1].name : "";
}

const FUNCTIONS = ["log", "sqrt", "exp", "factor", "I", "abs", "log10", "log2", "C"];
const RESIDUAL_TYPES: ResidualType[] = ["CS", "AR1", "CAR1", "ARH1", "UN", "CSH", "TOEP", "ARMA", "EXP", "GAUS", "SPHER", "LIN", "RATIO"];
/** Other names of the structures: SAS's SP(GAU), SP(SPH), nlme's corExp ... */
const RESIDUAL_ALIASES: Record<string, ResidualType> = { GAU: "GAUS", SPH: "SPHER", COREXP: "EXP", CORGAUS: "GAUS", CORSPHER: "SPHER", CORLIN: "LIN", CORRATIO: "RATIO", CORARMA: "ARMA", CORSYMM: "UN", CORCOMPSYMM: "CS", CORAR1: "AR1", CORCAR1: "CAR1" };
const SPATIAL_TYPES = new Set<ResidualType>(["EXP", "GAUS", "SPHER", "LIN", "RATIO"]);
const VAR_FUNCS = ["varIdent", "varPower", "varExp", "varConstPower", "varFixed"] as const;
const RESERVED = new Set(["if", "else", "repeat", "while", "function", "for", "next", "break", "TRUE", "FALSE", "NULL", "Inf", "NaN", "NA", "NA_integer_", "NA_real_", "NA_character_", "in"]);

/** Can R write this name without backticks? */
function syntactic(name: string): boolean {
  return /^(?:[\p{L}]|\.(?![0-9]))[\p{L}\p{N}_.]*$/u.test(name) && !RESERVED.has(name) || name === ".";
}

/**
 * R's deparse of an expression, which is what R uses for term labels and model-matrix column
 * names: spaces around + - *, none around / and ^, parentheses as written, numbers as R prints
 * them (1e+05), names that are not syntactic in backticks.
 */
export function exprLabel(e: Expr): string {
  switch (e.kind) {
    case "var":
      return syntactic(e.name) ? e.name : `\`${e.name}\``;
    case "num":
      return rDouble(e.value);
    case "neg":
      return `-${exprLabel(e.arg)}`;
    case "paren":
      return `(${exprLabel(e.arg)})`;
    case "call":
      // C(treat, contr.sum) is the variable treat with another coding: its columns are named
      // treat1, treat2 as R names them with lmer(..., contrasts = list(treat = contr.sum)).
      if (e.fn === "C") return exprLabel(e.args[0]);
      return `${e.fn}(${e.args.map(exprLabel).join(", ")})`;
    case "binop":
      return e.op === "^" || e.op === "/" ? `${exprLabel(e.left)}${e.op}${exprLabel(e.right)}` : `${exprLabel(e.left)} ${e.op} ${exprLabel(e.right)}`;
  }
}

/** A set of terms under construction: each term a list of variable keys (labels). */
interface TermSet {
  terms: string[][];
  /** true after `1`, false after `0` or `- 1`, null when not said. */
  intercept: boolean | null;
}


/**
 * Nesting the parser follows by recursion (parentheses, function calls, unary minus, powers,
 * chains of arithmetic operators): beyond this a spec is a SpecError, not a stack overflow.
 * R itself stops at about 50 nested parentheses; no model needs more than a few levels.
 */
export const MAX_DEPTH = 200;
/** Terms a formula may expand to (a*b*c*... doubles them with every factor). */
export const MAX_TERMS = 10000;

class Parser {
  private i = 0;
  /** Current nesting (see MAX_DEPTH). */
  private depth = 0;
  /** Every variable met, by label. */
  readonly exprs = new Map<string, Expr>();
  /** Variables in order of first appearance in the part being read (fixed part, or one random term). */
  private order: string[] = [];
  readonly random: RandomTerm[] = [];

  /** Token indices of the '(' that open a random-effects term (see looksRandom). */
  private readonly randomParens: Set<number>;
  /** The keys in `order`, for a quick membership test. */
  private inOrder = new Set<string>();

  constructor(private readonly toks: Token[]) {
    this.randomParens = this.findRandomParens();
  }

  /** One level deeper, at token t; the caller calls up() when it returns. */
  down(t: Token): void {
    if (++this.depth > MAX_DEPTH) {
      throw new SpecError(`the spec is nested too deeply (more than ${MAX_DEPTH} levels of parentheses, function calls, signs or operators in one expression): write it more simply`, t.col);
    }
  }
  up(levels = 1): void {
    this.depth -= levels;
  }

  peek(k = 0): Token {
    return this.toks[Math.min(this.i + k, this.toks.length - 1)];
  }
  next(): Token {
    const t = this.toks[this.i];
    if (this.i < this.toks.length - 1) this.i++;
    return t;
  }
  isOp(t: Token, op: string): boolean {
    return t.kind === "op" && t.text === op;
  }
  found(t: Token): string {
    return t.kind === "end" ? "the spec ended" : `found '${t.text}'`;
  }
  /** After two names in a row ("tree size"): the hint that one name with a space needs backticks. */
  spaced(t: Token): string {
    const k = this.toks.indexOf(t);
    const prev = k > 0 ? this.toks[k - 1] : null;
    if (t.kind !== "name" || !prev || prev.kind !== "name") return "";
    const both = `${prev.text} ${t.text}`;
    return ` (if '${both}' is one column name, write it in backticks: \`${both}\`)`;
  }
  /** The ')' that closes the '(' at `open`, or a "missing ')'" error. */
  close(open: Token, what: string): void {
    const t = this.peek();
    if (this.isOp(t, ")")) {
      this.next();
      return;
    }
    if (t.kind === "end" || this.isOp(t, ";")) throw new SpecError(`missing ')': expected ')' to close the '(' of ${what} at column ${open.col}`, t.col);
    throw new SpecError(`expected ')' to close the '(' of ${what} at column ${open.col} but ${this.found(t)}`, t.col);
  }
  /** Does the token stop a sum (end of the formula, of a parenthesis, of a random lhs)? */
  stops(t: Token): boolean {
    return t.kind === "end" || this.isOp(t, ")") || this.isOp(t, "|") || this.isOp(t, "||") || this.isOp(t, ";") || this.isOp(t, ",") || this.isOp(t, "~");
  }

  // ---- the right-hand side: R's formula operators

  /** Terms joined by + and -. At the top level (`top`), random terms may be summands. */
  sum(top: boolean): TermSet {
    const acc = new TermAcc();
    let sign = 1;
    // The token before the next summand, for "expected a column name after '+'".
    let prev: Token = this.toks[Math.max(0, this.i - 1)];
    const first = this.peek();
    if (this.isOp(first, "-") || this.isOp(first, "+")) {
      prev = this.next();
      sign = first.text === "-" ? -1 : 1;
    }
    for (;;) {
      const t = this.peek();
      if (this.stops(t) || (t.kind === "op" && t.text !== "(")) {
        if (t.kind === "end" || this.isOp(t, ";")) throw new SpecError(`expected a column name after '${prev.text}'`, t.col);
        throw new SpecError(`expected a column name after '${prev.text}' but ${this.found(t)}`, t.col);
      }
      const structured = top && this.structureName(t);
      if (structured || (top && this.isOp(t, "(") && this.looksRandom())) {
        if (sign < 0) throw new SpecError("a random-effects term cannot be removed with '-'", t.col);
        if (structured) this.next();
        this.randomTerm(structured ? (t.text as ReCovType) : undefined, t);
        const after = this.peek();
        if (!this.stops(after) && !this.isOp(after, "+") && !this.isOp(after, "-")) {
          throw new SpecError(`a random-effects term (… | group) must be added to the formula with '+'; ${this.found(after)} after it`, after.col);
        }
      } else {
        const part = this.product();
        if (sign > 0) acc.add(part, t.col);
        else acc.remove(part);
      }
      const op = this.peek();
      if (this.isOp(op, "+") || this.isOp(op, "-")) {
        prev = this.next();
        sign = op.text === "-" ? -1 : 1;
        continue;
      }
      return acc.set();
    }
  }

  /** `*` and `/` (same precedence, left to right, as in R). */
  product(): TermSet {
    let acc = this.inter();
    for (;;) {
      const op = this.peek();
      if (!this.isOp(op, "*") && !this.isOp(op, "/")) return acc;
      this.next();
      const b = this.operand(op, () => this.inter());
      if (op.text === "*") acc = plus(plus(acc, b, op.col), interact(acc, b, op.col), op.col);
      else {
        // a/b = a + (all variables of a):b
        const all = Array.from(new Set(acc.terms.flat()));
        acc = plus(acc, interact({ terms: all.length ? [all] : [], intercept: null }, b, op.col), op.col);
      }
    }
  }

  inter(): TermSet {
    let acc = this.power();
    while (this.isOp(this.peek(), ":")) {
      const op = this.next();
      acc = interact(acc, this.operand(op, () => this.power()), op.col);
    }
    return acc;
  }

  power(): TermSet {
    const base = this.primary();
    if (!this.isOp(this.peek(), "^")) return base;
    this.next();
    const t = this.next();
    const k = Number(t.text);
    if (t.kind !== "num" || !Number.isInteger(k) || k < 1) {
      throw new SpecError(`expected a whole number after '^' (as in (a + b)^2) but ${this.found(t)}`, t.col);
    }
    // As R expands a power: all pairwise products of the terms with those of the previous
    // power, the left term varying slowest, repeats removed (this fixes the order of terms of
    // equal degree: (z*x + b*c)^2 gives z:x, z:b, z:c, x:b, x:c, b:c).
    let acc: TermSet = { terms: base.terms, intercept: null };
    for (let j = 1; j < k; j++) {
      const next = interact(base, acc, t.col);
      // Once no new term appears, higher powers add none either ((a + b)^100 = (a + b)^2).
      if (next.terms.length === acc.terms.length) break;
      acc = next;
    }
    return { terms: acc.terms, intercept: base.intercept };
  }

  /** The operand after a binary operator, with a plain message when it is missing. */
  operand(op: Token, read: () => TermSet): TermSet {
    const t = this.peek();
    if (t.kind === "end") throw new SpecError(`expected a column name after '${op.text}'`, t.col);
    if (t.kind === "op" && t.text !== "(") throw new SpecError(`expected a column name after '${op.text}' but ${this.found(t)}`, t.col);
    return read();
  }

  primary(): TermSet {
    const t = this.peek();
    if (this.isOp(t, "(")) {
      if (this.looksRandom()) throw new SpecError("a random-effects term (… | group) cannot be part of another term: add it to the formula with '+'", t.col);
      this.next();
      if (this.isOp(this.peek(), ")")) throw new SpecError("empty parentheses", this.peek().col);
      this.down(t);
      const inner = this.sum(false);
      this.up();
      this.close(t, "this term");
      return inner;
    }
    if (t.kind === "num") {
      this.next();
      if (Number(t.text) === 0) return { terms: [], intercept: false };
      if (Number(t.text) === 1) return { terms: [], intercept: true };
      throw new SpecError(`a number (${t.text}) cannot be a term: use 1 or 0 for the intercept, or I(...) for arithmetic`, t.col);
    }
    if (t.kind === "name") {
      if (t.text === "." && !t.quoted) throw new SpecError("'.' (all other columns) is not supported: name the columns", t.col);
      const e = this.atom();
      return { terms: [[this.variable(e)]], intercept: null };
    }
    throw new SpecError(`expected a column name but ${this.found(t)}`, t.col);
  }

  /** Register a variable of the current part; returns its key (R's label). */
  variable(e: Expr): string {
    const key = exprLabel(e);
    const had = this.exprs.get(key);
    if (!had) this.exprs.set(key, e);
    else if (codingOf(had) !== codingOf(e)) {
      const say = (x: Expr) => (codingOf(x) ? `C(${key}, ${codingOf(x)})` : key);
      throw new SpecError(`'${key}' is used with two codings (${say(had)} and ${say(e)}): a factor has one coding in a model; write C(${key}, ...) everywhere or nowhere`, this.peek().col);
    }
    if (!this.inOrder.has(key)) {
      this.inOrder.add(key);
      this.order.push(key);
    }
    return key;
  }

  /** A column name or a call such as log(x), factor(x), I(x^2). */
  atom(): Expr {
    const t = this.next();
    if (!this.isOp(this.peek(), "(") || t.quoted) return { kind: "var", name: t.text };
    if (!FUNCTIONS.includes(t.text)) {
      const near = FUNCTIONS.find((f) => f.toLowerCase() === t.text.toLowerCase());
      throw new SpecError(`unknown function '${t.text}'${near ? ` (did you mean ${near}?)` : ""}: use log, sqrt, exp, factor, C(f, contr.sum) or I(...)`, t.col);
    }
    const open = this.next();
    if (t.text === "C") return this.contrastCall(t, open);
    if (this.isOp(this.peek(), ")")) throw new SpecError(`${t.text}() needs a column, as in ${t.text}(x)`, this.peek().col);
    this.down(t);
    const arg = this.arith();
    this.up();
    if (this.isOp(this.peek(), ",")) throw new SpecError(`${t.text}() takes one argument here`, this.peek().col);
    this.close(open, `${t.text}(`);
    if (t.text === "factor" && arg.kind !== "var") throw new SpecError("factor() takes a column name, as in factor(Days)", open.col + 1);
    return { kind: "call", fn: t.text, args: [arg] };
  }

  /** `C(f, contr.sum)`: a factor (a column or factor(x)) and the name of its contrasts. */
  contrastCall(t: Token, open: Token): Expr {
    const usage = "C(factor, contr.sum), with contr.treatment, contr.sum, contr.helmert, contr.poly or contr.SAS";
    const a = this.peek();
    if (a.kind !== "name") throw new SpecError(`C() needs a factor and its contrasts, as in ${usage}`, a.col);
    this.down(t);
    const arg = this.atom();
    this.up();
    if (arg.kind !== "var" && !(arg.kind === "call" && arg.fn === "factor")) {
      throw new SpecError(`C() takes a factor column or factor(x), as in ${usage}`, a.col);
    }
    const comma = this.peek();
    if (!this.isOp(comma, ",")) throw new SpecError(`C() needs the contrasts after a comma, as in ${usage}`, comma.col);
    this.next();
    const c = this.next();
    const name = c.kind === "name" ? contrastName(c.text) : null;
    if (!name) {
      const said = c.kind === "end" ? "nothing" : `'${c.text}'`;
      throw new SpecError(`unknown contrasts ${said} in C(): use one of ${CONTRASTS.join(", ")}`, c.col);
    }
    if (this.isOp(this.peek(), ",")) throw new SpecError("C() takes two arguments here (a factor and its contrasts; R's how.many is not supported)", this.peek().col);
    this.close(open, "C(");
    return { kind: "call", fn: "C", args: [arg, { kind: "var", name }] };
  }

  /** Arithmetic inside I(...), function arguments and the response: + - * / ^ as usual. */
  // A chain a + b + c is a left-deep tree as deep as it is long (and evaluated and labelled by
  // recursion), so each link counts as a level of nesting too.
  arith(): Expr {
    let left = this.arithTerm();
    let links = 0;
    while (this.isOp(this.peek(), "+") || this.isOp(this.peek(), "-")) {
      const tok = this.next();
      this.down(tok);
      links++;
      left = { kind: "binop", op: tok.text as "+" | "-", left, right: this.arithTerm() };
    }
    this.up(links);
    return left;
  }
  arithTerm(): Expr {
    let left = this.arithUnary();
    let links = 0;
    while (this.isOp(this.peek(), "*") || this.isOp(this.peek(), "/")) {
      const tok = this.next();
      this.down(tok);
      links++;
      left = { kind: "binop", op: tok.text as "*" | "/", left, right: this.arithUnary() };
    }
    this.up(links);
    return left;
  }
  /** Unary minus binds less tightly than ^ (R: -x^2 is -(x^2)). */
  arithUnary(): Expr {
    if (this.isOp(this.peek(), "-")) {
      this.down(this.next());
      const arg = this.arithUnary();
      this.up();
      return { kind: "neg", arg };
    }
    if (this.isOp(this.peek(), "+")) this.next();
    return this.arithPow();
  }
  arithPow(): Expr {
    const base = this.arithAtom();
    if (this.isOp(this.peek(), "^")) {
      this.down(this.next());
      const right = this.arithUnary();
      this.up();
      return { kind: "binop", op: "^", left: base, right };
    }
    return base;
  }
  arithAtom(): Expr {
    const t = this.peek();
    if (this.isOp(t, "(")) {
      this.next();
      this.down(t);
      const e = this.arith();
      this.up();
      this.close(t, "this expression");
      return { kind: "paren", arg: e };
    }
    if (t.kind === "num") {
      this.next();
      return { kind: "num", value: Number(t.text) };
    }
    if (t.kind === "name") return this.atom();
    throw new SpecError(t.kind === "end" ? "the expression ends too early" : `unexpected '${t.text}' in an expression`, t.col);
  }

  /** Is the '(' at the cursor a random-effects term, i.e. is there a '|' at its top level? */
  looksRandom(): boolean {
    return this.randomParens.has(this.i);
  }

  /**
   * The '(' that have a '|' or '||' at their own level (before their ')' or a ';'), found in one
   * pass: asking at each '(' by scanning ahead would cost the spec's length per level of nesting.
   */
  private findRandomParens(): Set<number> {
    const out = new Set<number>();
    const open: number[] = [];
    this.toks.forEach((t, k) => {
      if (this.isOp(t, "(")) open.push(k);
      else if (this.isOp(t, ")")) open.pop();
      else if (this.isOp(t, "|") || this.isOp(t, "||")) {
        if (open.length > 0) out.add(open[open.length - 1]);
      } else if (t.kind === "end" || this.isOp(t, ";")) open.length = 0;
    });
    return out;
  }

  /**
   * Is the token a covariance structure's name (glmmTMB's: us, diag, homdiag, cs, homcs, ar1)
   * written as a call around a random-effects term, `ar1(0 + time | tree)`?
   */
  structureName(t: Token): boolean {
    if (t.kind !== "name" || t.quoted || !RE_STRUCTURES.has(t.text)) return false;
    const open = this.toks[this.i + 1];
    return !!open && this.isOp(open, "(") && this.randomParens.has(this.i + 1);
  }

  randomTerm(cov?: ReCovType, nameTok?: Token): void {
    const open = this.next();
    const bar0 = this.peek();
    if (this.isOp(bar0, "|") || this.isOp(bar0, "||")) {
      throw new SpecError("empty random-effects term: write (1 | group) for a random intercept", bar0.col);
    }
    // The effects of a random term have their own variable order (lme4 builds ~ lhs alone).
    const outer = this.order;
    const outerSet = this.inOrder;
    this.order = [];
    this.inOrder = new Set();
    const lhs = this.sum(false);
    const lhsOrder = this.order;
    this.order = outer;
    this.inOrder = outerSet;
    const bar = this.next(); // '|' or '||' (looksRandom saw it at this level)
    const correlated = bar.text === "|";
    const groups = this.groupSpec();
    this.close(open, "the random-effects term");
    const intercept = lhs.intercept !== false;
    const terms = orderTerms(lhs.terms, lhsOrder).map((k) => this.term(k));
    if (!intercept && terms.length === 0) throw new SpecError("this random-effects term has no effects: (0 | group) estimates nothing", open.col);
    if (cov) {
      const col = nameTok?.col ?? open.col;
      if (!correlated) throw new SpecError(`'||' inside ${cov}(...): the structure already says how the effects are correlated; write ${cov}(… | group)${cov === "us" ? ", or diag(… | group) for independent effects" : ""}`, bar.col);
      const single = terms.length + (intercept ? 1 : 0) === 1;
      if ((cov === "cs" || cov === "homcs" || cov === "ar1" || cov === "toep") && single && terms.length === 0) {
        throw new SpecError(`${cov}(1 | …) has one effect, so there is no correlation to structure: ${cov} needs several effects, e.g. ${cov}(0 + f | group) for the levels of a factor f`, col);
      }
      if ((cov === "ar1" || cov === "toep") && (intercept || terms.length !== 1 || terms[0].factors.length !== 1)) {
        throw new SpecError(`${cov}(...) needs the indicator columns of one factor, in its level order: write ${cov}(0 + f | group) (no intercept, one factor, e.g. ${cov}(0 + factor(time) | tree))`, col);
      }
      for (const group of groups) {
        const gtext = group.map((g) => exprLabel({ kind: "var", name: g })).join(":");
        const lhsText = intercept ? ["1", ...terms.map((t) => t.label)].join(" + ") : ["0", ...terms.map((t) => t.label)].join(" + ");
        const rt: RandomTerm = { intercept, terms, group, correlated: true, text: `${lhsText} | ${gtext}` };
        // us is the plain term (a diagonal structure on one column is too: design.ts drops it).
        if (cov !== "us") rt.cov = cov;
        this.random.push(rt);
      }
      return;
    }
    for (const group of groups) {
      const gtext = group.map((g) => exprLabel({ kind: "var", name: g })).join(":");
      if (correlated || terms.length + (intercept ? 1 : 0) === 1) {
        const lhsText = intercept ? ["1", ...terms.map((t) => t.label)].join(" + ") : ["0", ...terms.map((t) => t.label)].join(" + ");
        this.random.push({ intercept, terms, group, correlated: true, text: `${lhsText} | ${gtext}` });
      } else {
        // (a + b || g) = (1 | g) + (0 + a | g) + (0 + b | g), as lme4 expands it.
        if (intercept) this.random.push({ intercept: true, terms: [], group, correlated: true, text: `1 | ${gtext}` });
        for (const t of terms) this.random.push({ intercept: false, terms: [t], group, correlated: true, text: `0 + ${t.label} | ${gtext}` });
      }
    }
  }

  /** `g`, `a:b` (one factor: the interaction) or `a/b` (nested: [a], [b, a]). */
  groupSpec(): string[][] {
    const names: string[] = [];
    const seps: string[] = [];
    for (;;) {
      const t = this.next();
      if (t.kind !== "name") {
        const where = seps.length ? `after '${seps[seps.length - 1]}'` : "after '|'";
        throw new SpecError(`expected a grouping column ${where} but ${this.found(t)}`, t.col);
      }
      if (this.isOp(this.peek(), "(") && !t.quoted) {
        throw new SpecError(`a grouping factor must be a column name, not a function call such as ${t.text}(...)`, t.col);
      }
      names.push(t.text);
      const s = this.peek();
      if (this.isOp(s, ":") || this.isOp(s, "/")) {
        seps.push(this.next().text);
        continue;
      }
      if (!this.isOp(s, ")") && s.kind !== "end") {
        throw new SpecError(`unexpected '${s.text}' in the grouping factor: use a column, a:b (their combinations) or a/b (b nested in a)${this.spaced(s)}`, s.col);
      }
      break;
    }
    // Split at '/': each chunk is one factor (its ':'-joined columns).
    const chunks: string[][] = [[names[0]]];
    seps.forEach((s, k) => {
      if (s === ":") chunks[chunks.length - 1].push(names[k + 1]);
      else chunks.push([names[k + 1]]);
    });
    // a/b/c = a + b:a + c:b:a -- lme4 writes the inner factor first ("cask:batch").
    const groups: string[][] = [];
    for (let k = 0; k < chunks.length; k++) {
      const vars: string[] = [];
      for (let j = k; j >= 0; j--) vars.push(...chunks[j]);
      groups.push(vars);
    }
    return groups;
  }

  term(keys: string[]): Term {
    return { factors: keys.map((k) => this.exprs.get(k)!), label: keys.join(":") };
  }

  get fixedOrder(): string[] {
    return this.order;
  }

  /** Read the response (before '~'): one column or expression, registered first (as R does). */
  response(): Expr {
    const e = this.arith();
    this.variable(e);
    return e;
  }
}

/** A term's identity: its variables as a set. */
function termKey(t: string[]): string {
  return t.length === 1 ? t[0] : t.slice().sort().join("\u0001");
}

function tooMany(count: number, col: number): never {
  throw new SpecError(`the formula expands to ${count > MAX_TERMS ? `more than ${MAX_TERMS}` : count} terms (a*b*c and (a + b + c)^k multiply them): write fewer terms or interactions`, col);
}

/** Terms summed in order (a later repeat is dropped, a removed one may come back at the end). */
class TermAcc {
  private readonly map = new Map<string, string[]>();
  private intercept: boolean | null = null;

  add(s: TermSet, col: number): void {
    for (const t of s.terms) {
      const k = termKey(t);
      if (!this.map.has(k)) this.map.set(k, t);
    }
    if (this.map.size > MAX_TERMS) tooMany(this.map.size, col);
    this.intercept = s.intercept ?? this.intercept;
  }

  remove(s: TermSet): void {
    for (const t of s.terms) this.map.delete(termKey(t));
    // - 1 removes the intercept; - 0 puts it back.
    if (s.intercept !== null) this.intercept = !s.intercept;
  }

  set(): TermSet {
    return { terms: Array.from(this.map.values()), intercept: this.intercept };
  }
}

function plus(a: TermSet, b: TermSet, col: number): TermSet {
  const acc = new TermAcc();
  acc.add(a, col);
  acc.add(b, col);
  return acc.set();
}

function interact(a: TermSet, b: TermSet, col: number): TermSet {
  if (a.terms.length * b.terms.length > 10 * MAX_TERMS) tooMany(a.terms.length * b.terms.length, col);
  const seen = new Set<string>();
  const terms: string[][] = [];
  for (const ta of a.terms) {
    for (const tb of b.terms) {
      const t = Array.from(new Set([...ta, ...tb]));
      const k = termKey(t);
      if (!seen.has(k)) {
        seen.add(k);
        terms.push(t);
      }
    }
  }
  if (terms.length > MAX_TERMS) tooMany(terms.length, col);
  return { terms, intercept: null };
}

/** R's order: by degree, then appearance; the variables of a term by first appearance. */
function orderTerms(terms: string[][], order: string[]): string[][] {
  const pos = new Map(order.map((k, i) => [k, i]));
  const sorted = terms.map((t) => t.slice().sort((x, y) => pos.get(x)! - pos.get(y)!));
  return sorted
    .map((t, i) => ({ t, i }))
    .sort((x, y) => x.t.length - y.t.length || x.i - y.i)
    .map((x) => x.t);
}

function parseFormula(toks: Token[]): ModelFormula {
  const tilde = toks.findIndex((t) => t.kind === "op" && t.text === "~");
  if (tilde < 0) throw new SpecError("the formula has no '~': write it as response ~ terms, e.g. size ~ time + (1 | tree)", toks[0].col);
  if (tilde === 0) throw new SpecError("the formula needs a response before '~', e.g. size ~ time", toks[0].col);
  const p = new Parser(toks);
  const response = p.response();
  const after = p.peek();
  if (!p.isOp(after, "~")) {
    throw new SpecError(`the response must be one column or expression; ${p.found(after)} before '~'${p.spaced(after)}`, after.col);
  }
  p.next();
  const rhs = p.sum(true);
  const end = p.peek();
  if (end.kind !== "end") {
    if (p.isOp(end, ")")) throw new SpecError("unmatched ')': there is no '(' for it", end.col);
    if (p.isOp(end, "|") || p.isOp(end, "||")) throw new SpecError(`'${end.text}' outside parentheses: write a random-effects term as (1 | group)`, end.col);
    if (p.isOp(end, "~")) throw new SpecError("a formula has one '~'", end.col);
    throw new SpecError(`unexpected '${end.text}': join terms with '+'${p.spaced(end)}`, end.col);
  }
  const fixed = orderTerms(rhs.terms, p.fixedOrder).map((k) => p.term(k));
  return { response, intercept: rhs.intercept !== false, fixed, random: p.random };
}

/** A name in a residual part, or a SpecError saying what was expected. */
function nameAt(p: Parser, what: string): string {
  const t = p.next();
  if (t.kind !== "name") throw new SpecError(`expected ${what} but ${p.found(t)}`, t.col);
  return t.text;
}

/** `g` or `a:b` after '|' in a residual part. */
function groupAt(p: Parser, head: string): string {
  const parts = [nameAt(p, `a grouping column after '|' in ${head}(...)`)];
  while (p.isOp(p.peek(), ":")) {
    p.next();
    parts.push(nameAt(p, `a grouping column after ':' in ${head}(...)`));
  }
  return parts.join(":");
}

/** One variance function `varPower(x)`, `varExp(x | g)`, `varIdent(g)`, `varFixed(v)`. */
function parseVarFunc(p: Parser): { varIdent?: string; func?: VarFuncSpec } {
  const head = p.next();
  const kind = VAR_FUNCS.find((k) => k.toLowerCase() === head.text.toLowerCase());
  if (head.kind !== "name" || !kind) throw new SpecError(`expected a variance function (${VAR_FUNCS.join(", ")}) but ${p.found(head)}`, head.col);
  const open = p.peek();
  if (!p.isOp(open, "(")) throw new SpecError(`expected '(' after ${kind}, as in ${kind === "varIdent" ? "varIdent(group)" : `${kind}(x)`}`, open.col);
  p.next();
  if (p.isOp(p.peek(), "~")) p.next(); // nlme's one-sided formula: varPower(~ x)
  if (kind === "varIdent") {
    // varIdent(treat) or varIdent(1 | treat)
    if (p.peek().kind === "num" && p.peek().text === "1" && p.isOp(p.peek(1), "|")) {
      p.next();
      p.next();
    }
    if (p.peek().kind !== "name") throw new SpecError(`varIdent needs a column, as in varIdent(treat), but ${p.found(p.peek())}`, p.peek().col);
    const f = groupAt(p, "varIdent");
    p.close(open, "varIdent(");
    return { varIdent: f };
  }
  const cov = p.peek();
  if (cov.kind !== "name") throw new SpecError(`${kind} needs a numeric column, as in ${kind}(x), but ${p.found(cov)}`, cov.col);
  p.next();
  // The fitted values: varPower(fitted), or nlme's varPower(~ fitted(.)).
  const fitted = cov.text === "fitted" && !cov.quoted;
  if (fitted) {
    if (kind === "varFixed") throw new SpecError("varFixed(fitted): a known variance cannot depend on the fit; use varPower(fitted)", cov.col);
    if (p.isOp(p.peek(), "(")) {
      const o = p.next();
      if (p.peek().kind === "name" && p.peek().text === ".") p.next();
      p.close(o, "fitted(");
    }
  }
  let strata: string | null = null;
  if (p.isOp(p.peek(), "|")) {
    p.next();
    strata = groupAt(p, kind);
  }
  p.close(open, `${kind}(`);
  if (kind === "varFixed" && strata) throw new SpecError("varFixed has no parameters to stratify: write varFixed(v)", open.col);
  return { func: { kind, covariate: cov.text, strata, ...(fitted ? { fitted: true } : {}) } };
}

/** A variance part: variance functions joined by '*' (nlme's varComb). */
function parseVarPart(toks: Token[]): { varIdent?: string; funcs: VarFuncSpec[] } {
  const p = new Parser(toks);
  let varIdent: string | undefined;
  const funcs: VarFuncSpec[] = [];
  for (;;) {
    const at = p.peek();
    const r = parseVarFunc(p);
    if (r.varIdent) {
      if (varIdent) throw new SpecError("only one varIdent(...) is allowed: write varIdent(a:b) for the cells of two factors", at.col);
      varIdent = r.varIdent;
    }
    if (r.func) funcs.push(r.func);
    const next = p.peek();
    if (next.kind === "end") break;
    if (!p.isOp(next, "*")) throw new SpecError(`unexpected '${next.text}' after a variance function: combine them with '*', as in varIdent(treat) * varPower(time)`, next.col);
    p.next();
  }
  return { varIdent, funcs };
}

/** `, name = value` options after a structure's `time | group`: bands, p, q, nugget. */
function parseOptions(p: Parser, type: ResidualType, spec: ResidualSpec): void {
  const allowed = type === "TOEP" ? ["bands"] : type === "ARMA" ? ["p", "q"] : SPATIAL_TYPES.has(type) ? ["nugget"] : [];
  while (p.isOp(p.peek(), ",")) {
    p.next();
    const name = p.next();
    if (name.kind !== "name" || !allowed.includes(name.text)) {
      throw new SpecError(`${type} has ${allowed.length ? `the options ${allowed.join(", ")}` : "no options"}, but ${p.found(name)}`, name.col);
    }
    if (name.text === "nugget" && !p.isOp(p.peek(), "=")) {
      spec.nugget = true;
      continue;
    }
    if (!p.isOp(p.peek(), "=")) throw new SpecError(`expected '=' after ${name.text}, as in ${name.text} = ${name.text === "nugget" ? "TRUE" : "1"}`, p.peek().col);
    p.next();
    const v = p.next();
    if (name.text === "nugget") {
      if (v.kind !== "name" || (v.text !== "TRUE" && v.text !== "FALSE")) throw new SpecError(`nugget is TRUE or FALSE but ${p.found(v)}`, v.col);
      spec.nugget = v.text === "TRUE";
      continue;
    }
    const k = v.kind === "num" ? Number(v.text) : NaN;
    if (!Number.isInteger(k) || k < (name.text === "bands" ? 1 : 0)) throw new SpecError(`${name.text} must be a whole number${name.text === "bands" ? " of 1 or more" : " of 0 or more"}, but ${p.found(v)}`, v.col);
    if (name.text === "bands") spec.bands = k;
    else if (name.text === "p") spec.p = k;
    else spec.q = k;
  }
}

function parseExtra(toks: Token[]): { residual?: ResidualSpec; varIdent?: string; funcs?: VarFuncSpec[]; weights?: string } {
  const p = new Parser(toks);
  const head = p.next();
  if (head.kind !== "name") {
    throw new SpecError(`expected a residual structure (CS, AR1, CAR1, ARH1, UN, CSH, TOEP, ARMA, EXP ...), a variance function such as varIdent(...), or weights(...) after ';' but ${p.found(head)}`, head.col);
  }
  if (VAR_FUNCS.some((k) => k.toLowerCase() === head.text.toLowerCase())) return parseVarPart(toks);
  const open = p.peek();
  const lower = head.text.toLowerCase();
  if (!p.isOp(open, "(")) throw new SpecError(`expected '(' after ${head.text}, as in ${lower === "weights" ? "weights(w)" : `${head.text}(time | group)`}`, open.col);
  p.next();
  if (lower === "weights") {
    // weights(w): one numeric column of prior weights (lme4's weights =, SAS WEIGHT).
    const w = p.peek();
    if (w.kind !== "name" || p.isOp(p.peek(1), "(")) throw new SpecError(`weights() takes one column of weights, as in weights(w), but ${p.found(w)}`, w.col);
    p.next();
    p.close(open, "weights(");
    const rest = p.peek();
    if (rest.kind !== "end") throw new SpecError(`unexpected '${rest.text}' after weights(...): separate parts with ';'`, rest.col);
    return { weights: w.text };
  }
  if (p.isOp(p.peek(), "~")) p.next(); // nlme's one-sided formula: AR1(~ time | tree)
  const upper = head.text.toUpperCase();
  const type = RESIDUAL_TYPES.find((t) => t === upper) ?? RESIDUAL_ALIASES[upper];
  if (!type) throw new SpecError(`unknown residual structure '${head.text}': use CS, AR1, CAR1, ARH1, UN, CSH, TOEP, ARMA, or the spatial EXP, GAUS, SPHER, LIN, RATIO`, head.col);
  const first = p.peek();
  let time: string | null = null;
  const coords: string[] = [];
  if (first.kind === "num") {
    if (first.text !== "1") throw new SpecError(`expected a time column or 1 in ${type}(...) but found '${first.text}'`, first.col);
    p.next();
  } else if (first.kind === "name") {
    time = first.text;
    p.next();
    // Spatial: more coordinate columns, EXP(x + y | plot).
    while (SPATIAL_TYPES.has(type) && p.isOp(p.peek(), "+")) {
      p.next();
      coords.push(nameAt(p, `a coordinate column after '+' in ${type}(...)`));
    }
  } else if (p.isOp(first, "|")) {
    throw new SpecError(`${type} needs a time column before '|', as in ${type}(${type === "CS" ? "1" : "time"} | group)`, first.col);
  } else throw new SpecError(`expected a time column in ${type}(time | group) but ${p.found(first)}`, first.col);
  let group: string | null = null;
  if (p.isOp(p.peek(), "|")) {
    p.next();
    group = groupAt(p, type);
  }
  const spec: ResidualSpec = { type, time, group };
  if (coords.length) spec.coords = coords;
  parseOptions(p, type, spec);
  p.close(open, `${type}(`);
  const rest = p.peek();
  if (rest.kind !== "end") throw new SpecError(`unexpected '${rest.text}' after ${type}(...): separate parts with ';'`, rest.col);
  if (type !== "CS" && time === null) throw new SpecError(`${type} needs a time column, as in ${type}(time | group)`, first.col);
  if (type === "ARMA" && !spec.p && !spec.q) throw new SpecError("ARMA needs its orders, as in ARMA(time | group, p = 1, q = 1)", head.col);
  return { residual: spec };
}

export function parseSpec(text: string): ModelSpec {
  if (typeof text !== "string" || text.trim() === "") {
    throw new SpecError("the model spec is empty: write a formula such as size ~ time + (1 | tree)", 1);
  }
  const toks = tokenize(text);
  // Split at ';' outside parentheses; each part ends with an end token at its own end.
  const parts: { toks: Token[]; semi: number }[] = [];
  let cur: Token[] = [];
  let semi = 0;
  let depth = 0;
  for (const t of toks) {
    if (t.kind === "op" && t.text === "(") depth++;
    if (t.kind === "op" && t.text === ")") depth = Math.max(0, depth - 1);
    if (t.kind === "end" || (t.kind === "op" && t.text === ";" && depth === 0)) {
      cur.push({ kind: "end", text: "", col: t.col, len: 0 });
      parts.push({ toks: cur, semi });
      cur = [];
      semi = t.col;
      depth = 0;
      continue;
    }
    cur.push(t);
  }
  const formula = parseFormula(parts[0].toks);
  let residual: ResidualSpec | null = null;
  let varIdent: string | null = null;
  const varFuncs: VarFuncSpec[] = [];
  let weights: string | null = null;
  for (const part of parts.slice(1)) {
    if (part.toks.length === 1) throw new SpecError("nothing after ';': add a residual structure such as AR1(time | group), or remove the ';'", part.semi);
    const r = parseExtra(part.toks);
    if (r.residual) {
      if (residual) throw new SpecError("only one residual correlation structure is allowed", part.toks[0].col);
      residual = r.residual;
    }
    if (r.varIdent) {
      if (varIdent) throw new SpecError("only one varIdent(...) is allowed", part.toks[0].col);
      varIdent = r.varIdent;
    }
    if (r.funcs) varFuncs.push(...r.funcs);
    if (r.weights) {
      if (weights) throw new SpecError("only one weights(...) is allowed", part.toks[0].col);
      weights = r.weights;
    }
  }
  const spec: ModelSpec = { text: text.trim(), formula, residual, varIdent, weights };
  if (varFuncs.length) spec.varFuncs = varFuncs;
  return spec;
}
