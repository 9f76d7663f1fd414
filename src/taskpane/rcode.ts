// "Copy as R code": the lme4 or nlme call that fits the same model in R, for analysts who
// reproduce results there. Random effects only -> lme4::lmer (the spec's formula is lme4
// syntax already). A residual structure or varIdent -> nlme: gls without random effects, lme
// with them, the correlation as corCompSymm / corAR1 / corCAR1 / corSymm and the variances as
// varIdent. AR1, ARH1 and UN count lags in occasions (ranks of the distinct times), which nlme
// expresses with an integer covariate; ARH1 = AR(1) correlation + one variance per occasion.
import type { FitResult, Method, ModelSpec, RandomTerm } from "../engine/types";
import { exprLabel, parseSpec } from "../engine/formula";
import { tokenize, Token } from "../engine/formula/lexer";

const RESERVED = new Set(["if", "else", "repeat", "while", "function", "for", "next", "break", "TRUE", "FALSE", "NULL", "Inf", "NaN", "NA", "in"]);

/** A column name as R writes it: bare when syntactic, else in backticks. */
export function rName(name: string): string {
  const ok = /^(?:\p{L}|\.(?![0-9]))[\p{L}\p{N}_.]*$/u.test(name) && !RESERVED.has(name);
  return ok ? name : `\`${name.replace(/`/g, "\\`")}\``;
}

/** `data$col` (or data$`my col`). */
function col(data: string, name: string): string {
  return `${data}$${rName(name)}`;
}

/** The formula part of a spec (before the first ';' outside parentheses). */
export function formulaPart(spec: string): string {
  let depth = 0;
  for (let i = 0; i < spec.length; i++) {
    const ch = spec[i];
    if (ch === "`") {
      const j = spec.indexOf("`", i + 1);
      if (j > 0) i = j;
    } else if (ch === "(") depth++;
    else if (ch === ")") depth = Math.max(0, depth - 1);
    else if (ch === ";" && depth === 0) return spec.slice(0, i).trim();
  }
  return spec.trim();
}

/** Spans [from, to) (0-based string offsets) of the top-level random terms `(... | ...)`, each with the '+' that joins it. */
function randomSpans(formula: string): [number, number][] {
  const toks: Token[] = tokenize(formula);
  const spans: [number, number][] = [];
  const isOp = (t: Token | undefined, op: string) => !!t && t.kind === "op" && t.text === op;
  let i = 0;
  let depth = 0;
  let seenTilde = false;
  while (i < toks.length) {
    const t = toks[i];
    if (isOp(t, "~")) seenTilde = true;
    if (seenTilde && depth === 0 && isOp(t, "(")) {
      // Find the matching ')' and whether a '|' sits at its top level.
      let d = 0, bar = false, j = i;
      for (; j < toks.length; j++) {
        if (isOp(toks[j], "(")) d++;
        else if (isOp(toks[j], ")")) {
          d--;
          if (d === 0) break;
        } else if (d === 1 && (isOp(toks[j], "|") || isOp(toks[j], "||"))) bar = true;
      }
      if (bar && j < toks.length) {
        let from = t.col - 1;
        const to = toks[j].col - 1 + toks[j].len;
        if (isOp(toks[i - 1], "+")) from = toks[i - 1].col - 1;
        spans.push([from, to]);
        i = j + 1;
        continue;
      }
    }
    if (isOp(t, "(")) depth++;
    if (isOp(t, ")")) depth = Math.max(0, depth - 1);
    i++;
  }
  return spans;
}

/** The fixed part of a formula, keeping how the user wrote it: "size ~ time*treat" from "size ~ time*treat + (1|tree)". */
export function fixedFormula(formula: string, parsed: ModelSpec): string {
  let text = formula;
  for (const [from, to] of randomSpans(formula).reverse()) text = text.slice(0, from) + text.slice(to);
  text = text.replace(/\s+/g, " ").trim();
  // A leading '+' left where the first term was random: "y ~ + x" -> "y ~ x"; nothing left -> "y ~ 1".
  text = text.replace(/~\s*\+\s*/, "~ ").replace(/~\s*$/, "~ 1");
  try {
    const again = parseSpec(text).formula;
    const key = (ls: string[]) => ls.slice().sort().join("\u0001");
    if (again.intercept === parsed.formula.intercept && key(again.fixed.map((t) => t.label)) === key(parsed.formula.fixed.map((t) => t.label))) return text;
  } catch {
    /* fall through to the term list */
  }
  const f = parsed.formula;
  const terms = f.fixed.map((t) => t.label);
  const rhs = terms.length === 0 ? (f.intercept ? "1" : "0") : (f.intercept ? "" : "0 + ") + terms.join(" + ");
  return `${exprLabel(f.response)} ~ ${rhs}`;
}

/** The lhs of a random term as nlme writes it: "1", "time", "0 + time". */
function lhsText(r: RandomTerm): string {
  const labels = r.terms.map((t) => t.label);
  if (labels.length === 0) return "1";
  return r.intercept ? labels.join(" + ") : `0 + ${labels.join(" + ")}`;
}

interface NlmeRandom {
  /** The `random = ...` argument, or null when nlme cannot express the random part. */
  arg: string | null;
  /** The grouping as nlme's correlation form writes it ("tree", "batch/cask"). */
  innermost: string | null;
  /** Columns of each level, outermost first. */
  chain: string[][];
}

/** The random part for nlme::lme: one group, nested groups (a/b), or independent effects (pdDiag). */
function nlmeRandom(random: RandomTerm[]): NlmeRandom {
  if (random.length === 0) return { arg: null, innermost: null, chain: [] };
  // Group the terms by their grouping factor, in order of first appearance.
  const byGroup = new Map<string, RandomTerm[]>();
  for (const r of random) {
    const k = r.group.join(":");
    if (!byGroup.has(k)) byGroup.set(k, []);
    byGroup.get(k)!.push(r);
  }
  const groups = Array.from(byGroup.keys()).map((k) => byGroup.get(k)![0].group);
  // Nested chain: each level adds one column in front of the previous (lme4: b:a inside a).
  groups.sort((a, b) => a.length - b.length);
  const chain = groups.map((g, i) => (i === 0 ? g : g.slice(0, g.length - groups[i - 1].length)));
  const nested = groups.every((g, i) => i === 0 || (g.length === groups[i - 1].length + 1 && g.slice(1).join(":") === groups[i - 1].join(":")));
  if (!nested || groups[0].length !== 1) return { arg: null, innermost: null, chain: [] };
  const formulaOf = (terms: RandomTerm[]): string | null => {
    if (terms.length === 1) return lhsText(terms[0]);
    // Several single-effect terms on one factor: independent effects, a diagonal pdMat.
    if (terms.every((t) => t.terms.length + (t.intercept ? 1 : 0) === 1)) {
      const hasInt = terms.some((t) => t.intercept);
      const effects = terms.filter((t) => !t.intercept).map((t) => t.terms[0].label);
      return `pdDiag(~ ${hasInt ? effects.join(" + ") || "1" : `0 + ${effects.join(" + ")}`})`;
    }
    return null;
  };
  const levels = groups.map((g) => formulaOf(byGroup.get(g.join(":"))!));
  if (levels.some((l) => l === null)) return { arg: null, innermost: null, chain: [] };
  const path = chain.map((c) => c.map(rName).join(":")).join("/");
  const names = chain.map((c) => c[0]);
  let arg: string;
  if (levels.length === 1) {
    const l = levels[0]!;
    arg = l.startsWith("pdDiag") ? `list(${rName(names[0])} = ${l})` : `~ ${l} | ${path}`;
  } else if (levels.every((l) => l === levels[0] && !l!.startsWith("pdDiag"))) {
    arg = `~ ${levels[0]} | ${path}`;
  } else {
    arg = `list(${names.map((n, i) => `${rName(n)} = ${levels[i]!.startsWith("pdDiag") ? levels[i] : `~ ${levels[i]}`}`).join(", ")})`;
  }
  return { arg, innermost: path, chain };
}

export interface RCodeOptions {
  /** The R data frame's name (default "data"). */
  data?: string;
  /** Where the data came from, for the comment (e.g. "Sheet1!A1:D396"). */
  source?: string;
  /**
   * The engine's fit of this spec, if there is one: its CAR1 correlation becomes nlme's
   * starting value (nlme's default start leaves corCAR1 far from the optimum when times are
   * large numbers such as days). AR1 keeps nlme's own start.
   */
  fit?: FitResult | null;
  /** Confidence level of the sheet's intervals (default 0.95). */
  level?: number;
  /** How the sheet's SD intervals were asked for (default "auto": profile). */
  ci?: "auto" | "profile" | "wald" | "none";
}

const num = (x: number) => String(Number(x.toPrecision(6)));

/**
 * After an lmer fit: the R lines that print every number of the summary sheet, as lmerTest and
 * lme4 compute them: the t tests with Satterthwaite df, the intervals (estimate -/+ t quantile x
 * SE, as the sheet), the variance components with their share and profile intervals, and the
 * fit criteria (BIC of a REML fit with log(n - p), as nlme and the sheet).
 */
function lmerReport(method: Method, level: number, ci: RCodeOptions["ci"], fit: FitResult | null | undefined): string[] {
  const lo = num(((1 - level) / 2) * 100), hi = num(100 - ((1 - level) / 2) * 100);
  // Kenward-Roger df when the fit used them (pbkrtest through lmerTest), else lmerTest's Satterthwaite.
  const kr = (fit as { ddf?: string } | null | undefined)?.ddf === "Kenward-Roger";
  const ddfArg = kr ? ', ddf = "Kenward-Roger"' : "";
  const out = [
    `fx <- coef(summary(fit${ddfArg}))  # Estimate, Std. Error, df (${kr ? "Kenward-Roger" : "Satterthwaite"}), t value, Pr(>|t|)`,
    `fx <- cbind(fx, fx[, "Estimate"] + outer(qt(${num(1 - (1 - level) / 2)}, fx[, "df"]) * fx[, "Std. Error"], c(-1, 1)))`,
    `colnames(fx)[6:7] <- c("${lo} %", "${hi} %")`,
    "print(fx, digits = 4)",
    "vc <- as.data.frame(VarCorr(fit))  # variance (vcov) and sd (sdcor) per group, then the residual",
    "vc$var_prop <- ifelse(is.na(vc$var2), vc$vcov / sum(vc$vcov[is.na(vc$var2)]), NA)",
    "print(vc, digits = 4)",
  ];
  if (ci === "wald") out.push("# the sheet's SD intervals are Wald intervals on the log-SD scale, which lme4 does not offer; its profile intervals:");
  if (ci !== "none") out.push(`sdci <- confint(fit, parm = "theta_", oldNames = FALSE, level = ${num(level)})  # sd_${lo} / sd_${hi} (profile likelihood)`, "print(sdci, digits = 4)");
  const bic = method === "REML" ? '-2 * as.numeric(logLik(fit)) + attr(logLik(fit), "df") * log(nobs(fit) - length(fixef(fit)))' : "BIC(fit)";
  out.push(`crit <- c(logLik = as.numeric(logLik(fit)), AIC = AIC(fit), BIC = ${bic}, sigma = sigma(fit))${method === "REML" ? "  # BIC of a REML fit with log(n - p), as nlme" : ""}`, "print(crit, digits = 8)");
  const aov = (fit as { anova?: { type?: number } | null } | null | undefined)?.anova;
  if (aov) out.push(`print(anova(fit, type = ${aov.type ?? 3}${ddfArg}))  # the sheet's F tests`);
  if (fit && (fit as { r2?: unknown }).r2) out.push("print(performance::r2_nakagawa(fit))  # R² marginal / conditional");
  return out;
}

/** After an nlme fit: what nlme can print of the sheet, and what it cannot. */
function nlmeReport(level: number, ci: RCodeOptions["ci"]): string[] {
  return [
    "summary(fit)  # Estimate, Std. Error, t; nlme's df (n - p, or within-group) are not the sheet's Satterthwaite df",
    `intervals(fit, level = ${num(level)}${ci === "none" ? ', which = "coef"' : ""})  # Wald intervals (nlme's df); the sheet's use Satterthwaite df${ci === "wald" || ci === "none" ? "" : " and profile SD intervals"}`,
    "print(c(logLik = as.numeric(logLik(fit)), AIC = AIC(fit), BIC = BIC(fit)), digits = 8)",
  ];
}

/**
 * `C(f, contr.sum)` written as R's `contrasts = list(f = "contr.sum")` argument, which names the
 * columns f1, f2 as the engine does (R's C() would name them `C(f, contr.sum)1`).
 */
export function contrastsArg(formula: string): { formula: string; arg: string | null } {
  const found: string[] = [];
  const SHORT: Record<string, string> = { treatment: "contr.treatment", sum: "contr.sum", helmert: "contr.helmert", poly: "contr.poly", SAS: "contr.SAS" };
  const out = formula.replace(/\bC\(\s*((?:factor\(\s*[^()]+?\s*\))|`[^`]+`|[^,()\s]+)\s*,\s*([\w.]+)\s*\)/g, (_m, v: string, c: string) => {
    const name = v.replace(/\s+/g, "");
    const key = /^`.*`$/.test(name) ? name : /^[\p{L}.][\p{L}\p{N}_.]*$/u.test(name) ? name : `\`${name}\``;
    const entry = `${key} = "${SHORT[c] ?? c}"`;
    if (!found.includes(entry)) found.push(entry);
    return v.trim();
  });
  return { formula: out, arg: found.length ? `contrasts = list(${found.join(", ")})` : null };
}

/** The R code that fits `spec` as the engine does. Throws SpecError for a spec that does not parse. */
export function rCode(spec: string, method: Method, opts: RCodeOptions = {}): string {
  const data = opts.data ?? "data";
  const parsed = parseSpec(spec);
  const coded = contrastsArg(formulaPart(spec));
  const formula = coded.formula;
  const f = parsed.formula;
  const head: string[] = [`# ${data}: a data frame with the columns of ${opts.source ?? "the data range"} (e.g. ${data} <- read.csv("data.csv"))`];
  const w = parsed.weights ?? null;
  if (w) head.push(`${data} <- ${data}[!(${col(data, w)} %in% 0), ]  # rows of weight 0 carry no information: the engine leaves them out (lme4's logLik would be -Inf)`);
  const reml = method === "REML";
  // Random slopes: lme4's default optimizer can stop early on raw time scales; bobyqa (as the engine) does not.
  const slopes = f.random.some((r) => r.terms.length + (r.intercept ? 1 : 0) > 1);
  const extra = [coded.arg, w ? `weights = ${rName(w)}` : null].filter((x) => x !== null).map((x) => `, ${x}`).join("");
  const lmer = `fit <- lmer(${formula}, data = ${data}, REML = ${reml ? "TRUE" : "FALSE"}${extra}${slopes ? `,\n            control = lmerControl(optimizer = "bobyqa")` : ""})`;
  const level = opts.level ?? 0.95;
  // lmerTest's lmer is lme4's, with the Satterthwaite df and p-values the sheet shows.
  const lib = "library(lmerTest)  # lme4's lmer, plus Satterthwaite df and p-values";
  // Structured random terms (homcs, cs, ar1, diag, homdiag): glmmTMB, whose names the spec uses.
  if (f.random.some((r) => r.cov)) return glmmTMBCode(head, formula, data, parsed, reml, extra);
  if (!parsed.residual && !parsed.varIdent && f.random.length > 0) return [...head, lib, lmer, ...lmerReport(method, level, opts.ci, opts.fit)].join("\n");
  // nlme
  const lines = [...head, "library(nlme)"];
  const notes: string[] = [];
  const args = [fixedFormula(formula, parsed)];
  const rnd = nlmeRandom(f.random);
  if (f.random.length > 0 && !rnd.arg) {
    notes.push("# nlme has no simple form for crossed random effects or for these random terms; lme4 fits them");
    notes.push("# but has no residual structures, so this call leaves the residual structure out:");
    return [...head, ...notes, lib, lmer, ...lmerReport(method, level, opts.ci, opts.fit)].join("\n");
  }
  if (rnd.arg) args.push(`random = ${rnd.arg}`);
  const weights: string[] = [];
  const res = parsed.residual;
  if (res) {
    // The residual groups as nlme writes them.
    let group: string;
    if (res.group) {
      const parts = res.group.split(":");
      const asPath = rnd.chain.length === parts.length && rnd.innermost && rnd.chain.every((c) => parts.includes(c[0])) ? rnd.innermost : null;
      if (parts.length === 1) group = rName(parts[0]);
      else if (asPath) group = asPath;
      else {
        const g = parts.join("_");
        lines.push(`${col(data, g)} <- interaction(${parts.map((p) => col(data, p)).join(", ")}, drop = TRUE)`);
        group = rName(g);
      }
    } else if (rnd.innermost) group = rnd.innermost;
    else group = "1";
    const by = group === "1" ? "" : ` | ${group}`;
    const phi = opts.fit && opts.fit.residual && typeof opts.fit.residual.params.phi === "number" ? opts.fit.residual.params.phi : null;
    const start = phi !== null && phi > -1 && phi < 1 ? `value = ${Number(phi.toPrecision(6))}, ` : "";
    const occ = res.type === "AR1" || res.type === "ARH1" || res.type === "UN";
    if (occ && res.time) {
      lines.push(`# ${res.type} counts lags in occasions: the rank of each distinct ${res.time}`);
      lines.push(`${col(data, "occasion")} <- match(${col(data, res.time)}, sort(unique(${col(data, res.time)})))`);
    }
    switch (res.type) {
      case "CS":
        args.push(`correlation = corCompSymm(form = ~ 1${by})`);
        break;
      case "AR1":
        args.push(`correlation = corAR1(form = ~ occasion${by})`);
        break;
      case "ARH1":
        args.push(`correlation = corAR1(form = ~ occasion${by})`);
        weights.push("varIdent(form = ~ 1 | occasion)");
        notes.push("# ARH1 = AR(1) correlation with one variance per occasion");
        break;
      case "CAR1":
        if (!start) notes.push("# corCAR1 on a long time scale may need a start near the estimate, e.g. corCAR1(value = 0.9, ...)");
        args.push(`correlation = corCAR1(${start}form = ~ ${rName(res.time ?? "time")}${by})`);
        break;
      case "UN":
        args.push(`correlation = corSymm(form = ~ occasion${by})`);
        weights.push("varIdent(form = ~ 1 | occasion)");
        notes.push("# UN = general correlations (corSymm) with one variance per occasion");
        break;
    }
  }
  if (parsed.varIdent) weights.push(`varIdent(form = ~ 1 | ${parsed.varIdent.split(":").map(rName).join(" * ")})`);
  // Prior weights: Var(e_i) = sigma^2 / w_i is nlme's varFixed(~ 1/w).
  if (w) weights.push(`varFixed(~ 1 / ${rName(w)})`);
  if (weights.length === 1) args.push(`weights = ${weights[0]}`);
  else if (weights.length > 1) args.push(`weights = varComb(${weights.join(", ")})`);
  if (coded.arg) args.push(coded.arg);
  args.push(`data = ${data}`, `method = "${method}"`, "na.action = na.omit");
  const fn = rnd.arg ? "lme" : "gls";
  const indent = " ".repeat(`fit <- ${fn}(`.length);
  lines.push(...notes, `fit <- ${fn}(${args.join(`,\n${indent}`)})`, ...nlmeReport(level, opts.ci));
  return lines.join("\n");
}

/**
 * glmmTMB for random terms with a covariance structure: the spec's formula is glmmTMB's syntax
 * (cs, ar1, diag, homcs, homdiag). glmmTMB has no residual correlation structures, said in a note.
 */
function glmmTMBCode(head: string[], formula: string, data: string, parsed: ModelSpec, reml: boolean, extra: string): string {
  const lines = [...head];
  if (parsed.residual || parsed.varIdent) lines.push("# glmmTMB has no residual correlation structures or varIdent: this call leaves them out");
  if (parsed.formula.random.some((r) => r.cov === "homcs" || r.cov === "homdiag")) {
    lines.push("# homcs and homdiag need glmmTMB >= 1.1.10 (nlme: pdCompSymm and pdIdent)");
  }
  lines.push("library(glmmTMB)");
  lines.push(`fit <- glmmTMB(${formula}, data = ${data}, REML = ${reml ? "TRUE" : "FALSE"}${extra})`);
  lines.push("summary(fit)", "VarCorr(fit)");
  return lines.join("\n");
}

