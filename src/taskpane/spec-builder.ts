// The model builder as pure functions. The pane's controls describe a model as ModelChoices;
// buildSpec turns them into the model spec string of ARCHITECTURE.md §5 (the same string
// =LMM.FIT takes), and choicesFromSpec goes back, so a spec the user typed by hand updates the
// controls whenever the controls can describe it. guessRoles proposes a first model from the
// column names and types.
import type { ModelSpec, ResidualType } from "../engine/types";
import { exprLabel, parseSpec } from "../engine/formula";

export type ResidualChoice = ResidualType | "none";
export const RESIDUAL_CHOICES: ResidualChoice[] = ["none", "CS", "AR1", "CAR1", "ARH1", "UN"];

export interface ModelChoices {
  response: string;
  /** Fixed-effect columns, in the order they are written. */
  fixed: string[];
  /** All fixed effects crossed (a*b: main effects and interactions) instead of added. */
  interaction: boolean;
  /** Zero, one or two grouping columns (random intercepts). */
  groups: string[];
  /** With two grouping columns: the second nested in the first (1|a/b), or crossed (1|a) + (1|b). */
  nesting: "nested" | "crossed";
  /** The time column: random slope, residual structure, chart. */
  time: string | null;
  /** A random slope on time for each group (correlated with the intercept). */
  randomSlope: boolean;
  residual: ResidualChoice;
  /** The column that groups the residuals; null = the model's grouping column. */
  residualGroup: string | null;
  /** One residual SD per level of this column (varIdent). */
  varIdent: string | null;
  /**
   * With a residual structure: no random effects, the structure alone within the grouping
   * column (a GLS, as nlme::gls: the lecture's AR1 model) instead of a random intercept per
   * group plus the structure (nlme::lme). Optional: absent means false.
   */
  gls?: boolean;
}

/** Which control an error belongs to. */
export type ChoiceField = "response" | "fixed" | "groups" | "time" | "residual" | "residualGroup" | "varIdent";

export class BuildError extends Error {
  constructor(readonly field: ChoiceField, message: string) {
    super(message);
    this.name = "BuildError";
  }
}

export function emptyChoices(): ModelChoices {
  return { response: "", fixed: [], interaction: false, groups: [], nesting: "nested", time: null, randomSlope: false, residual: "none", residualGroup: null, varIdent: null, gls: false };
}

/** A column name as the spec must write it: bare when the spec's lexer reads it as one name, else in backticks. */
export function specName(name: string): string {
  if (name.includes("`")) throw new BuildError("fixed", `the column name ${name} contains a backtick (\`), which a model spec cannot quote: rename the column`);
  return /^[\p{L}_.][\p{L}\p{N}_.]*$/u.test(name) && !/^\.[0-9]/.test(name) ? name : `\`${name}\``;
}

/**
 * The columns that group the residuals when the user left it to the model: the grouping column,
 * or for two nested ones their combination, inner first as lme4 names it ("cask:batch").
 */
export function defaultResidualGroup(c: Pick<ModelChoices, "groups" | "nesting">): string[] | null {
  if (c.groups.length === 1) return [c.groups[0]];
  if (c.groups.length === 2 && c.nesting === "nested") return [c.groups[1], c.groups[0]];
  if (c.groups.length === 2) return [c.groups[0]];
  return null;
}

export function buildSpec(c: ModelChoices): string {
  if (!c.response) throw new BuildError("response", "choose the response column");
  if (c.groups.length > 2) throw new BuildError("groups", "at most two grouping columns");
  if (c.groups.includes(c.response)) throw new BuildError("groups", "the response cannot also be a grouping column");
  if (c.groups.length === 2 && c.groups[0] === c.groups[1]) throw new BuildError("groups", "choose two different grouping columns");
  const fixed = c.fixed.filter((f) => f !== c.response).map(specName);
  let rhs = fixed.length === 0 ? "1" : fixed.join(c.interaction ? "*" : " + ");
  if (c.randomSlope && !c.time) throw new BuildError("time", "a random slope needs a time column");
  if (c.randomSlope && c.groups.length === 0) throw new BuildError("groups", "a random slope needs a grouping column");
  const lhs = c.randomSlope && c.time ? specName(c.time) : "1";
  const gls = !!c.gls && c.residual !== "none";
  if (gls && c.randomSlope) throw new BuildError("residual", "a GLS has no random effects, so no random slope: untick the random slope, or choose a random intercept with the correlation");
  const g = gls ? [] : c.groups.map(specName);
  if (g.length === 1) rhs += ` + (${lhs}|${g[0]})`;
  else if (g.length === 2 && c.nesting === "nested") rhs += ` + (${lhs}|${g[0]}/${g[1]})`;
  else if (g.length === 2) rhs += ` + (${lhs}|${g[0]}) + (${lhs}|${g[1]})`;
  let spec = `${specName(c.response)} ~ ${rhs}`;
  if (c.residual !== "none") {
    const names = c.residualGroup ? [c.residualGroup] : defaultResidualGroup(c);
    const group = names ? names.map(specName).join(":") : null;
    if (!group) throw new BuildError("residualGroup", `${c.residual} correlates the residuals within groups: choose the column that groups them (for example the subject)`);
    if (c.residual === "CS") spec += ` ; CS(1 | ${group})`;
    else {
      if (!c.time) throw new BuildError("time", `${c.residual} needs a time column to order the observations`);
      spec += ` ; ${c.residual}(${specName(c.time)} | ${group})`;
    }
  }
  if (c.varIdent) {
    if (c.varIdent === c.response) throw new BuildError("varIdent", "the residual SD cannot vary by the response itself");
    spec += ` ; varIdent(${specName(c.varIdent)})`;
  }
  return spec;
}

// ---------------------------------------------------------------------------------------------
// From a spec back to the controls

const varName = (e: { kind: string; name?: string }): string | null => (e.kind === "var" ? (e.name as string) : null);

/** Do two parsed specs describe the same model (terms as sets, the default residual group resolved)? */
export function sameModel(a: ModelSpec, b: ModelSpec): boolean {
  const fa = a.formula, fb = b.formula;
  if (exprLabel(fa.response) !== exprLabel(fb.response) || fa.intercept !== fb.intercept) return false;
  const set = (xs: string[]) => Array.from(new Set(xs)).sort().join("\u0001");
  const termKey = (t: { label: string }) => t.label.split(":").sort().join(":");
  if (set(fa.fixed.map(termKey)) !== set(fb.fixed.map(termKey))) return false;
  const reKey = (s: ModelSpec) => set(s.formula.random.map((r) => `${r.cov ?? "us"}|${r.correlated}|${r.intercept}|${r.terms.map(termKey).sort().join("+")}|${r.group.slice().sort().join(":")}`));
  if (reKey(a) !== reKey(b)) return false;
  if ((a.varIdent ?? null) !== (b.varIdent ?? null)) return false;
  const ra = a.residual, rb = b.residual;
  if (!ra || !rb) return !ra && !rb;
  const grp = (s: ModelSpec) => {
    const g = s.residual!.group ?? singleGroup(s);
    return g === null ? null : g.split(":").sort().join(":");
  };
  return ra.type === rb.type && (ra.type === "CS" || ra.time === rb.time) && grp(a) === grp(b);
}

function singleGroup(s: ModelSpec): string | null {
  const gs = Array.from(new Set(s.formula.random.map((r) => r.group.join(":"))));
  return gs.length === 1 ? gs[0] : null;
}

/**
 * Choices that build the same model as `spec`, or null when the controls cannot describe it
 * (transformations, nested or crossed slopes that differ, uncorrelated effects, ...). `current`
 * fills what the spec does not say (the time column when nothing uses it).
 */
export function choicesFromSpec(spec: ModelSpec, current: ModelChoices = emptyChoices()): ModelChoices | null {
  const f = spec.formula;
  const response = varName(f.response);
  if (!response || !f.intercept) return null;
  const fixed: string[] = [];
  let interaction = false;
  for (const t of f.fixed) {
    const names = t.factors.map(varName);
    if (names.some((n) => n === null)) return null;
    if (names.length === 1) fixed.push(names[0]!);
    else interaction = true;
  }
  // Random part: one lhs (1, or 1 + time), one or two groups.
  let slope: string | null = null;
  const lhsKeys = new Set<string>();
  for (const r of f.random) {
    // A covariance structure (cs, ar1, ...) has no control: the spec is kept as typed.
    if (!r.intercept || !r.correlated || r.terms.length > 1 || r.cov) return null;
    if (r.terms.length === 1) {
      const v = r.terms[0].factors.length === 1 ? varName(r.terms[0].factors[0]) : null;
      if (!v || (slope && slope !== v)) return null;
      slope = v;
    }
    lhsKeys.add(r.terms.length === 0 ? "1" : "slope");
  }
  if (lhsKeys.size > 1) return null;
  const groupKeys: string[][] = [];
  for (const r of f.random) if (!groupKeys.some((g) => g.join(":") === r.group.join(":"))) groupKeys.push(r.group);
  let groups: string[] = [];
  let nesting: "nested" | "crossed" = current.nesting;
  if (groupKeys.length === 1) {
    if (groupKeys[0].length !== 1) return null;
    groups = [groupKeys[0][0]];
  } else if (groupKeys.length === 2) {
    const [a, b] = groupKeys;
    if (a.length === 1 && b.length === 1) {
      groups = [a[0], b[0]];
      nesting = "crossed";
    } else if (a.length === 1 && b.length === 2 && b[1] === a[0]) {
      groups = [a[0], b[0]];
      nesting = "nested";
    } else return null;
  } else if (groupKeys.length > 2) return null;
  let time = slope ?? current.time;
  let residual: ResidualChoice = "none";
  let residualGroup: string | null = null;
  if (spec.residual) {
    residual = spec.residual.type;
    if (spec.residual.time && spec.residual.time !== "1") {
      if (slope && spec.residual.time !== slope) return null;
      time = spec.residual.time;
    }
    const named = spec.residual.group;
    if (named) {
      const def = defaultResidualGroup({ groups, nesting })?.join(":") ?? null;
      if (named === def) residualGroup = null;
      else if (named.includes(":")) return null;
      else residualGroup = named;
    }
  }
  // No random effects and a structure within one column: the GLS choice, that column as the grouping column.
  let gls = false;
  if (f.random.length === 0 && spec.residual && residualGroup) {
    gls = true;
    groups = [residualGroup];
    residualGroup = null;
  }
  const c: ModelChoices = {
    gls,
    response,
    fixed,
    interaction,
    groups,
    nesting,
    time,
    randomSlope: slope !== null,
    residual,
    residualGroup,
    varIdent: spec.varIdent,
  };
  try {
    return sameModel(parseSpec(buildSpec(c)), spec) ? c : null;
  } catch {
    return null;
  }
}

// ---------------------------------------------------------------------------------------------
// A first guess from the data

export interface ColumnInfo {
  name: string;
  /** numeric: every non-blank cell is a number; text otherwise. */
  kind: "numeric" | "text";
  /** Distinct non-blank values (counted on a sample of rows). */
  distinct: number;
  /** Every number is a whole number. */
  integer: boolean;
  /** Non-blank cells in the sample. */
  filled: number;
}

/** Describe the columns from the rows (header first), looking at up to `sample` data rows. */
export function describeColumns(rows: unknown[][], sample = 20000): ColumnInfo[] {
  const header = rows[0] ?? [];
  const n = Math.min(rows.length - 1, sample);
  return header.map((h, j) => {
    const seen = new Set<string>();
    let numeric = true, integer = true, filled = 0;
    for (let i = 1; i <= n; i++) {
      const v = rows[i][j];
      if (v === null || v === undefined || v === "" || (typeof v === "string" && (v.trim() === "" || /^(NA|NaN|#N\/A|#[A-Z0-9/]+[!?])$/i.test(v.trim())))) continue;
      filled++;
      const num = typeof v === "number" ? v : typeof v === "string" ? Number(v.trim()) : NaN;
      if (!Number.isFinite(num)) numeric = false;
      else if (!Number.isInteger(num)) integer = false;
      if (seen.size <= 100000) seen.add(typeof v === "string" ? v.trim() : String(v));
    }
    return { name: String(h).trim(), kind: numeric && filled > 0 ? "numeric" : "text", distinct: seen.size, integer: numeric && integer, filled };
  });
}

const TIME_NAMES = /^(time|times|t|day|days|week|weeks|month|months|year|years|visit|age|occasion|wave|hour|hours|session|trial|period|dose)$/i;
const TIME_PARTS = /(time|day|week|month|year|visit|occasion|wave)/i;
const GROUP_NAMES = /^(id|subject|subj|tree|patient|person|participant|animal|plant|plot|batch|school|class|cluster|site|centre|center|hospital|family|household|unit|rat|mouse|pig|cow|chick|rep|block|litter|worker|student|sample|plate|cask)$/i;
const GROUP_PARTS = /(^id$|_id$|id_|subject|patient|participant|person|tree|batch|school|cluster|site|group|unit)/i;

/** A first model: response, time, grouping column, and the remaining columns as fixed effects. */
export function guessRoles(cols: ColumnInfo[]): ModelChoices {
  const c = emptyChoices();
  if (cols.length === 0) return c;
  const n = Math.max(...cols.map((x) => x.filled));
  const pick = (pred: (x: ColumnInfo) => boolean, taken: string[]) => cols.find((x) => !taken.includes(x.name) && pred(x))?.name ?? null;
  const time = pick((x) => x.kind === "numeric" && TIME_NAMES.test(x.name), []) ?? pick((x) => x.kind === "numeric" && TIME_PARTS.test(x.name), []);
  let group = pick((x) => GROUP_NAMES.test(x.name) && x.distinct >= 2, time ? [time] : []) ?? pick((x) => GROUP_PARTS.test(x.name) && x.distinct >= 2, time ? [time] : []);
  if (!group) {
    // The column with the most levels among those with repeats: text, or whole numbers.
    const cands = cols.filter((x) => x.name !== time && (x.kind === "text" || x.integer) && x.distinct >= 3 && x.distinct <= n / 2);
    cands.sort((a, b) => b.distinct - a.distinct);
    group = cands[0]?.name ?? null;
  }
  const taken = [time, group].filter((x): x is string => !!x);
  const response = pick((x) => x.kind === "numeric" && !x.integer, taken) ?? pick((x) => x.kind === "numeric", taken) ?? cols[0].name;
  c.response = response;
  c.time = time;
  c.groups = group && group !== response ? [group] : [];
  c.fixed = cols.map((x) => x.name).filter((name) => name !== response && name !== group);
  return c;
}

/**
 * Ticked fixed effects that look like ID numbers (whole numbers naming units: a grouping column,
 * a name such as "tree" or "id", or many repeated levels): as a fixed effect such a column is one
 * slope over the ID numbers, which is rarely meant.
 */
export function idLikeFixed(c: ModelChoices, cols: ColumnInfo[]): string[] {
  return c.fixed.filter((name) => {
    const col = cols.find((x) => x.name === name);
    if (!col || col.kind !== "numeric" || !col.integer) return false;
    return c.groups.includes(name) || GROUP_NAMES.test(name) || GROUP_PARTS.test(name) || (col.distinct > 20 && col.distinct <= col.filled / 2);
  });
}
