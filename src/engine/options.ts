// The arguments of the engine's entry points, checked before any work: a bad method, level, ci
// or nsim would otherwise give a wrong number (level 2 gives ±Infinity bounds, nsim 0 gives
// p = NaN) or a crash deep inside. Every face (CLI, functions, pane, worker) passes options
// here, so one set of rules and one set of messages serves them all.
import type { DataTable, Method } from "./types";
import { DataError } from "./errors";

const METHODS: Method[] = ["REML", "ML"];
const CIS = ["auto", "profile", "wald", "none"];
/** Draws of the RLRT null distribution: beyond this a test takes minutes and gains nothing. */
export const MAX_NSIM = 1_000_000;

const show = (v: unknown): string => (typeof v === "string" ? `'${v}'` : typeof v === "number" || typeof v === "boolean" || v === null ? String(v) : typeof v);

function checkObject(opts: unknown, what: string): Record<string, unknown> {
  if (opts === undefined || opts === null) return {};
  if (typeof opts !== "object" || Array.isArray(opts)) throw new DataError(`the ${what} must be an object such as { method: "ML" }, not ${show(opts)}`);
  return opts as Record<string, unknown>;
}

/**
 * A key that is a misspelling of a known option ({ levl: 0.9 }) would be ignored in silence:
 * reject it. Other keys pass, so that a face may carry its own options along.
 */
function checkKeys(o: Record<string, unknown>, known: string[], what: string): void {
  for (const k of Object.keys(o)) {
    if (o[k] === undefined || known.includes(k)) continue;
    const near = nearest(k, known);
    if (near) throw new DataError(`unknown ${what} '${k}' (did you mean '${near}'?): the options are ${known.join(", ")}`);
  }
}

function checkMethod(m: unknown): void {
  if (m === undefined) return;
  if (typeof m === "string" && METHODS.includes(m as Method)) return;
  const up = typeof m === "string" ? m.trim().toUpperCase() : "";
  const hint = METHODS.includes(up as Method) ? ` (write it in capitals: '${up}')` : "";
  throw new DataError(`method must be 'REML' or 'ML', not ${show(m)}${hint}`);
}

function checkSignal(s: unknown): void {
  if (s === undefined) return;
  if (s === null || typeof s !== "object") throw new DataError(`signal must be an object with a 'cancelled' field, not ${show(s)}`);
}

/** A table as the engine builds it (tableFromRows, parseCsv, tableFromCellColumns). */
export function checkTable(table: unknown): asserts table is DataTable {
  const t = table as DataTable | null;
  if (!t || typeof t !== "object" || !Array.isArray(t.columns) || !Number.isInteger(t.nrow) || t.nrow < 0) {
    throw new DataError("the data must be a table made by parseCsv or tableFromRows (a header row and data rows)");
  }
  t.columns.forEach((c, j) => {
    const ok = c && typeof c === "object" && typeof c.name === "string" &&
      ((c.kind === "numeric" && c.values instanceof Float64Array && c.values.length === t.nrow) ||
        (c.kind === "factor" && Array.isArray(c.levels) && c.codes instanceof Int32Array && c.codes.length === t.nrow));
    if (!ok) throw new DataError(`column ${j + 1} of the data table is malformed (not a numeric column of ${t.nrow} values or a factor of ${t.nrow} codes): make the table with parseCsv or tableFromRows`);
  });
}

function checkSpec(spec: unknown, what = "the model spec"): void {
  if (typeof spec !== "string") throw new DataError(`${what} must be text such as "size ~ time + (1 | tree)", not ${show(spec)}`);
}

/** fitModel(table, spec, opts). */
export function checkFitArgs(table: unknown, spec: unknown, opts: unknown): void {
  checkTable(table);
  checkSpec(spec);
  const o = checkObject(opts, "fit options");
  checkKeys(o, ["method", "level", "ci", "fixefCi", "fitted", "signal", "ddf", "onProgress"], "fit option");
  checkMethod(o.method);
  const level = o.level;
  if (level !== undefined && !(typeof level === "number" && level > 0 && level < 1)) {
    const pct = typeof level === "number" && level >= 50 && level < 100 ? ` (for ${level} % write ${level / 100})` : "";
    throw new DataError(`level must be a number between 0 and 1 (exclusive), such as 0.95, not ${show(level)}${pct}`);
  }
  if (o.ci !== undefined && !(typeof o.ci === "string" && CIS.includes(o.ci))) {
    throw new DataError(`ci must be 'auto', 'profile', 'wald' or 'none', not ${show(o.ci)}`);
  }
  if (o.fixefCi !== undefined && o.fixefCi !== "t" && o.fixefCi !== "profile") {
    throw new DataError(`fixefCi (the fixed-effect intervals) must be 't' or 'profile', not ${show(o.fixefCi)}`);
  }
  if (o.fitted !== undefined && typeof o.fitted !== "boolean") throw new DataError(`fitted must be true or false, not ${show(o.fitted)}`);
  checkSignal(o.signal);
  if (o.onProgress !== undefined && typeof o.onProgress !== "function") throw new DataError(`onProgress must be a function, not ${show(o.onProgress)}`);
}

/** compareModels(table, specs, opts). */
export function checkCompareArgs(table: unknown, specs: unknown, opts: unknown): void {
  checkTable(table);
  if (!Array.isArray(specs)) throw new DataError(`the model specs must be a list of at least two specs, not ${show(specs)}`);
  specs.forEach((s, i) => checkSpec(s, `model spec ${i + 1}`));
  const o = checkObject(opts, "comparison options");
  checkKeys(o, ["method", "signal", "onProgress"], "comparison option");
  checkMethod(o.method);
  checkSignal(o.signal);
  if (o.onProgress !== undefined && typeof o.onProgress !== "function") throw new DataError(`onProgress must be a function, not ${show(o.onProgress)}`);
}

/** exactRlrt(table, spec, opts). */
export function checkRlrtArgs(table: unknown, spec: unknown, opts: unknown): void {
  checkTable(table);
  checkSpec(spec);
  const o = checkObject(opts, "RLRT options");
  checkKeys(o, ["nsim", "seed"], "RLRT option");
  const nsim = o.nsim;
  if (nsim !== undefined && !(typeof nsim === "number" && Number.isInteger(nsim) && nsim >= 1 && nsim <= MAX_NSIM)) {
    throw new DataError(`nsim (the number of simulated draws) must be a whole number from 1 to ${MAX_NSIM}, such as 10000, not ${show(nsim)}`);
  }
  const seed = o.seed;
  if (seed !== undefined && !(typeof seed === "number" && Number.isInteger(seed) && seed >= 0 && seed <= 0xffffffff)) {
    throw new DataError(`seed must be a whole number from 0 to 4294967295, not ${show(seed)}`);
  }
}

/** Edit distance (Levenshtein, with swaps of neighbours), for "did you mean" hints. */
export function editDistance(a: string, b: string): number {
  const m = a.length, n = b.length;
  let prev = Array.from({ length: n + 1 }, (_, j) => j);
  let prevprev = prev;
  for (let i = 1; i <= m; i++) {
    const cur = [i];
    for (let j = 1; j <= n; j++) {
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
      // A swap of two neighbours ("fti" for "fit") counts as one edit.
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) cur[j] = Math.min(cur[j], prevprev[j - 2] + 1);
    }
    prevprev = prev;
    prev = cur;
  }
  return prev[n];
}

/** The candidate nearest to `s` (case-insensitive), if it is near enough to be a misspelling. */
export function nearest(s: string, candidates: string[]): string | null {
  let best: string | null = null;
  let bestD = Infinity;
  const low = s.toLowerCase();
  for (const c of candidates) {
    const d = editDistance(low, c.toLowerCase());
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  return best !== null && bestD <= Math.max(1, Math.floor(Math.min(s.length, best.length) / 3)) ? best : null;
}

const PREDICT_LEVELS = ["population", "group", "forecast"];
const PREDICT_INTERVALS = ["none", "confidence", "prediction"];

/** predictModel(table, spec, newdata, opts). */
export function checkPredictArgs(table: unknown, spec: unknown, newdata: unknown, opts: unknown): void {
  checkTable(table);
  checkSpec(spec);
  checkTable(newdata);
  const o = checkObject(opts, "prediction options");
  checkKeys(o, ["level", "interval", "conf", "method", "signal"], "prediction option");
  checkMethod(o.method);
  if (o.level !== undefined && !(typeof o.level === "string" && PREDICT_LEVELS.includes(o.level))) {
    throw new DataError(`the prediction level must be 'population', 'group' or 'forecast', not ${show(o.level)}${typeof o.level === "number" ? " (the confidence level is conf)" : ""}`);
  }
  if (o.interval !== undefined && !(typeof o.interval === "string" && PREDICT_INTERVALS.includes(o.interval))) {
    throw new DataError(`interval must be 'none', 'confidence' or 'prediction', not ${show(o.interval)}`);
  }
  const conf = o.conf;
  if (conf !== undefined && !(typeof conf === "number" && conf > 0 && conf < 1)) {
    const pct = typeof conf === "number" && conf >= 50 && conf < 100 ? ` (for ${conf} % write ${conf / 100})` : "";
    throw new DataError(`the confidence level must be a number between 0 and 1 (exclusive), such as 0.95, not ${show(conf)}${pct}`);
  }
  checkSignal(o.signal);
}
