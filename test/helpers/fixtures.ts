// Shared by the tests: the repository root, R fixtures, data tables and tolerance checks that
// say which number missed and by how much.
import * as fs from "node:fs";
import * as path from "node:path";
import assert from "node:assert/strict";
import { parseCsv } from "../../src/engine";
import type { DataTable, FitResult, Method } from "../../src/engine/types";

/** Repository root (tests run compiled from build/test/). */
export const ROOT = path.join(__dirname, "..", "..", "..");

export function readJson<T>(rel: string): T {
  return JSON.parse(fs.readFileSync(path.join(ROOT, rel), "utf8")) as T;
}

const tables = new Map<string, DataTable>();
export function loadTable(rel: string): DataTable {
  let t = tables.get(rel);
  if (!t) {
    t = parseCsv(fs.readFileSync(path.join(ROOT, rel), "utf8"));
    tables.set(rel, t);
  }
  return t;
}

export function csvRows(rel: string): unknown[][] {
  const lines = fs.readFileSync(path.join(ROOT, rel), "utf8").trim().split(/\r?\n/);
  return lines.map((l) => l.split(",").map((c) => {
    const s = c.replace(/^"|"$/g, "");
    return s !== "" && !Number.isNaN(Number(s)) && !c.startsWith('"') ? Number(s) : s;
  }));
}

export function closeAbs(actual: number | null | undefined, expected: number, tol: number, what: string): void {
  assert.ok(actual !== null && actual !== undefined && Math.abs(actual - expected) <= tol,
    `${what}: got ${actual}, R has ${expected} (|diff| ${actual == null ? "n/a" : Math.abs(actual - expected).toExponential(2)} > ${tol})`);
}

export function closeRel(actual: number | null | undefined, expected: number, rel: number, what: string, floor = 0): void {
  const tol = rel * Math.max(Math.abs(expected), floor);
  assert.ok(actual !== null && actual !== undefined && Math.abs(actual - expected) <= tol,
    `${what}: got ${actual}, R has ${expected} (rel diff ${actual == null ? "n/a" : (Math.abs(actual - expected) / Math.max(Math.abs(expected), 1e-300)).toExponential(2)} > ${rel})`);
}

interface FixefFx { term: string; estimate: number; se: number }
interface VcFx { group: string; effect: string | null; effect2: string | null; variance: number | null; sd: number | null; corr: number | null }
export interface EngineFx {
  name: string; data: string; spec: string; method: Method; source: string;
  n: number; n_dropped: number; groups: Record<string, number>;
  logLik: number; df: number; AIC: number; BIC: number; sigma: number; singular: boolean;
  fixef: FixefFx[]; varcomp: VcFx[];
  residual?: { type: string; params: Record<string, unknown> };
}

/**
 * A fit against an R fixture with the issue's tolerances: logLik 1e-4 absolute (AIC/BIC 2e-4);
 * beta within 1e-4 x its SE; SEs, sigma and variance components 1e-4 relative; correlations
 * 1e-4 absolute.
 */
export function compareFit(fit: FitResult, fx: EngineFx): void {
  assert.equal(fit.n, fx.n, "rows used");
  assert.equal(fit.n_dropped, fx.n_dropped, "rows dropped");
  assert.deepEqual(fit.groups, fx.groups, "groups");
  closeAbs(fit.logLik, fx.logLik, 1e-4, "logLik");
  assert.equal(fit.df, fx.df, "df");
  closeAbs(fit.AIC, fx.AIC, 2e-4, "AIC");
  closeAbs(fit.BIC, fx.BIC, 2e-4, "BIC");
  closeRel(fit.sigma, fx.sigma, 1e-4, "sigma");
  assert.equal(fit.singular, fx.singular, "singular flag");
  assert.equal(fit.fixef.length, fx.fixef.length, "number of fixed effects");
  for (const r of fx.fixef) {
    const ours = fit.fixef.find((x) => x.term === r.term);
    assert.ok(ours, `fixed effect ${r.term} missing; ours: ${fit.fixef.map((x) => x.term).join(", ")}`);
    closeAbs(ours.estimate, r.estimate, 1e-4 * r.se, `estimate of ${r.term}`);
    closeRel(ours.se, r.se, 1e-4, `SE of ${r.term}`);
  }
  const sigma2 = fx.sigma * fx.sigma;
  for (const r of fx.varcomp) {
    const ours = fit.varcomp.find((x) => x.group === r.group && x.effect === r.effect && x.effect2 === r.effect2);
    const key = `${r.group} ${r.effect ?? ""} ${r.effect2 ?? ""}`.trim();
    assert.ok(ours, `variance component ${key} missing; ours: ${fit.varcomp.map((x) => `${x.group}/${x.effect}/${x.effect2}`).join(", ")}`);
    // A variance of exactly 0 (singular fits) is compared on the scale of the residual variance.
    if (r.variance !== null) closeRel(ours.variance, r.variance, 1e-4, `variance of ${key}`, 1e-6 * sigma2);
    if (r.sd !== null) closeRel(ours.sd, r.sd, 1e-4, `SD of ${key}`, 1e-3 * fx.sigma);
    if (r.corr !== null) closeAbs(ours.corr, r.corr, 1e-4, `correlation ${key}`);
  }
}
