// The pane's model builder as pure functions: choices -> the model spec string (the same string
// the =LMM.* functions take), and the equivalent R call for analysts who reproduce in R.
import type { ResidualType } from "../engine/types";

export interface ModelChoices {
  response: string;
  fixed: string[];
  /** Cross all fixed effects (a*b) instead of adding them (a+b). */
  interaction: boolean;
  groups: string[];
  /** With two grouping columns: the second nested in the first, or crossed with it. */
  nesting: "nested" | "crossed";
  time: string | null;
  randomSlope: boolean;
  residual: ResidualType | "none";
  varIdent: string | null;
}

const name = (s: string) => (/^[A-Za-z.][A-Za-z0-9_.]*$/.test(s) ? s : `\`${s}\``);

export function buildSpec(c: ModelChoices): string {
  if (!c.response) throw new Error("choose the response column");
  const fixed = c.fixed.map(name);
  let rhs = fixed.length === 0 ? "1" : fixed.join(c.interaction ? "*" : " + ");
  const lhs = c.time && c.randomSlope ? name(c.time) : "1";
  const g = c.groups.map(name);
  if (g.length === 1) rhs += ` + (${lhs} | ${g[0]})`;
  else if (g.length === 2 && c.nesting === "nested") rhs += ` + (${lhs} | ${g[0]}/${g[1]})`;
  else if (g.length === 2) rhs += ` + (${lhs} | ${g[0]}) + (${lhs} | ${g[1]})`;
  let spec = `${name(c.response)} ~ ${rhs}`;
  if (c.residual !== "none") {
    const group = g.length > 0 ? ` | ${g.length === 2 && c.nesting === "nested" ? `${g[1]}:${g[0]}` : g[0]}` : "";
    if (c.residual === "CS") spec += ` ; CS(1${group})`;
    else {
      if (!c.time) throw new Error(`${c.residual} needs a time column`);
      spec += ` ; ${c.residual}(${name(c.time)}${group})`;
    }
  }
  if (c.varIdent) spec += ` ; varIdent(${name(c.varIdent)})`;
  return spec;
}

/** The lme4 (random effects only) or nlme (residual structures) call for a spec. */
export function rCode(spec: string, method: "REML" | "ML", data = "data"): string {
  const parts = spec.split(";").map((s) => s.trim());
  const formula = parts[0];
  const resid = parts.slice(1).find((p) => /^(CS|AR1|CAR1|ARH1|UN)\s*\(/i.test(p));
  const vi = parts.slice(1).find((p) => /^varIdent\s*\(/.test(p));
  if (!resid && !vi) return `library(lme4)\nfit <- lmer(${formula}, data = ${data}, REML = ${method === "REML" ? "TRUE" : "FALSE"})\nsummary(fit)`;
  // nlme: split the random terms off the formula.
  const randoms = Array.from(formula.matchAll(/\(([^()|]+)\|\s*([^()]+)\)/g));
  let fixed = formula;
  for (const r of randoms) fixed = fixed.replace(r[0], "");
  fixed = fixed.replace(/\+\s*\+/g, "+").replace(/\+\s*$/, "").replace(/~\s*\+/, "~").trim();
  if (/~\s*$/.test(fixed)) fixed += " 1";
  const args = [`${fixed}`];
  if (randoms.length > 0) args.push(`random = ${randoms.map((r) => `~ ${r[1].trim()} | ${r[2].trim()}`).join(", ")}`);
  if (resid) {
    const m = /^(\w+)\s*\(\s*([^|)]+?)\s*(?:\|\s*([^)]+?))?\s*\)$/.exec(resid)!;
    const type = m[1].toUpperCase(), time = m[2], group = m[3] ?? (randoms[0] ? randoms[0][2].trim() : "group");
    const cor: Record<string, string> = {
      CS: `corCompSymm(form = ~ 1 | ${group})`,
      AR1: `corAR1(form = ~ 1 | ${group})`,
      CAR1: `corCAR1(form = ~ ${time} | ${group})`,
      ARH1: `corAR1(form = ~ 1 | ${group})`,
      UN: `corSymm(form = ~ occasion | ${group})`,
    };
    args.push(`correlation = ${cor[type]}`);
    const w: string[] = [];
    if (type === "ARH1") w.push(`varIdent(form = ~ 1 | factor(${time}))`);
    if (type === "UN") w.push(`varIdent(form = ~ 1 | occasion)`);
    if (vi) w.push(`varIdent(form = ~ 1 | ${/varIdent\(\s*([^)]+)\)/.exec(vi)![1]})`);
    if (w.length === 1) args.push(`weights = ${w[0]}`);
    else if (w.length > 1) args.push(`weights = varComb(${w.join(", ")})`);
    const prep = type === "UN" ? `${data}$occasion <- match(${data}$${time}, sort(unique(${data}$${time})))\n` : "";
    const order = type === "AR1" || type === "ARH1" || type === "UN" ? `${data} <- ${data}[order(${data}$${group}, ${data}$${time}), ]  # AR1/UN follow the time order\n` : "";
    const fn = randoms.length > 0 ? "lme" : "gls";
    return `library(nlme)\n${order}${prep}fit <- ${fn}(${args.join(",\n           ")},\n           data = ${data}, method = "${method}")\nsummary(fit)`;
  }
  args.push(`weights = varIdent(form = ~ 1 | ${/varIdent\(\s*([^)]+)\)/.exec(vi!)![1]})`);
  return `library(nlme)\nfit <- ${randoms.length > 0 ? "lme" : "gls"}(${args.join(",\n           ")},\n           data = ${data}, method = "${method}")\nsummary(fit)`;
}
