// Invariance of the random-effect covariance structures (property tests, fast-check with the
// fixed seed of test/helpers/fc-seed.ts): y rescaled by c and shifted by s scales the SDs and
// coefficients by c (the intercept also moves by s), leaves rho and the df alone and moves the
// REML logLik by -(n - p) log c; permuting the rows and relabelling the grouping factor's levels
// change nothing. Each structure: homcs, cs, homdiag, diag, toep, ar1. (Scales of y near 1e4 can move
// the Satterthwaite df: the Hessian entry of sigma, ~1/sigma^2, then nears the absolute
// eigenvalue tolerance 1e-8 of the pseudo-inverse in fixef.ts, which lmerTest also uses.)
import { test } from "node:test";
import fc from "fast-check";
import { fitModel } from "../src/engine";
import { tableFromRows } from "../src/engine/data/table";
import type { FitResult } from "../src/engine/types";
import { closeAbs, closeRel, csvRows } from "./helpers/fixtures";

const machines = csvRows("test/data/machines.csv");
const sleep = csvRows("test/data/sleepstudy.csv");
const CASES: { rows: unknown[][]; y: number; g: number; spec: string }[] = [
  { rows: machines, y: 2, g: 0, spec: "score ~ Machine + homcs(0 + Machine | Worker)" },
  { rows: machines, y: 2, g: 0, spec: "score ~ Machine + cs(0 + Machine | Worker)" },
  { rows: machines, y: 2, g: 0, spec: "score ~ Machine + (1 | Worker) + homdiag(0 + Machine | Worker)" },
  { rows: machines, y: 2, g: 0, spec: "score ~ Machine + diag(0 + Machine | Worker)" },
  { rows: machines, y: 2, g: 0, spec: "score ~ Machine + toep(0 + Machine | Worker)" },
  { rows: sleep, y: 0, g: 2, spec: "Reaction ~ Days + (1 | Subject) + ar1(0 + factor(Days) | Subject)" },
];
const fit = (rows: unknown[][], spec: string): FitResult => fitModel(tableFromRows(rows), spec, { ci: "none" });
const base = CASES.map((c) => fit(c.rows, c.spec));

function compare(a: FitResult, b: FitResult, c: number, s: number, what: string): void {
  const p = a.fixef.length;
  closeAbs(b.logLik, a.logLik - (a.n - p) * Math.log(c), 1e-6 * Math.abs(a.logLik), `${what}: logLik`);
  closeRel(b.sigma, a.sigma * c, 1e-4, `${what}: sigma`);
  a.fixef.forEach((r, i) => {
    closeAbs(b.fixef[i].estimate, c * r.estimate + (i === 0 ? s : 0), 1e-4 * c * r.se, `${what}: ${r.term}`);
    closeRel(b.fixef[i].se, c * r.se, 1e-4, `${what}: SE of ${r.term}`);
    closeRel(b.fixef[i].df, r.df!, 1e-3, `${what}: df of ${r.term}`);
  });
  a.re_structures!.forEach((st, t) => {
    for (const [k, v] of Object.entries(st.params)) {
      const got = b.re_structures![t].params[k];
      if (k.startsWith("rho")) closeAbs(got, v, 1e-4, `${what}: ${k}`);
      else closeRel(got, c * v, 1e-4, `${what}: ${k}`);
    }
  });
}

test("property: y * c + s scales SDs and coefficients by c, moves the intercept, keeps rho and df", () => {
  fc.assert(fc.property(fc.integer({ min: 0, max: CASES.length - 1 }), fc.constantFrom(1e-3, 0.37, 12, 300), fc.double({ min: -1e3, max: 1e3, noNaN: true }), (k, c, s) => {
    const { rows, y, spec } = CASES[k];
    const moved = [rows[0], ...rows.slice(1).map((r) => r.map((v, j) => (j === y ? (v as number) * c + s : v)))];
    compare(base[k], fit(moved, spec), c, s, `${spec}, y * ${c} + ${s}`);
  }), { numRuns: 10 });
});

test("property: permuting the rows and relabelling the groups change nothing", () => {
  fc.assert(fc.property(fc.integer({ min: 0, max: CASES.length - 1 }), fc.integer({ min: 1, max: 1e6 }), (k, seed) => {
    const { rows, g, spec } = CASES[k];
    let u = seed;
    const rnd = () => ((u = (u * 1103515245 + 12345) % 2147483648) / 2147483648);
    const body = rows.slice(1).map((r) => r.slice());
    for (let i = body.length - 1; i > 0; i--) {
      const j = Math.floor(rnd() * (i + 1));
      [body[i], body[j]] = [body[j], body[i]];
    }
    // Labels in another sort order: "1" .. "6" become "w9", "w8", ...
    for (const r of body) r[g] = `w${String(1000 - Number(r[g])).padStart(4, "0")}`;
    compare(base[k], fit([rows[0], ...body], spec), 1, 0, `${spec} permuted, relabelled`);
  }), { numRuns: 10 });
});
