// Influence (issue 12) against lme4: hatvalues and cooks.distance per observation, and
// influence(fit, groups =) with cooks.distance and dfbeta of it, from
// test/fixtures/make-fixtures-influence.R. Tolerance 1e-4 relative (the issue's); Cook's
// distances near zero are compared on the scale of the largest one (1e-3 of it), dfbeta to 1e-4
// of its coefficient's SE. Then invariance (shift and rescale y, rescale a covariate, permute
// rows) and bad input.
import { test } from "node:test";
import assert from "node:assert/strict";
import { DataError, fitModel, influenceModel } from "../src/engine";
import type { Method } from "../src/engine/types";
import { tableFromRows } from "../src/engine/data/table";
import { closeAbs, closeRel, csvRows, loadTable, readJson } from "./helpers/fixtures";

interface ObsFx { name: string; data: string; spec: string; method: Method; hat: number[]; cooks: number[] }
interface GroupFx { name: string; data: string; spec: string; method: Method; group: string; levels: string[]; cooks: number[]; lme4_cooks: number[]; terms: string[]; dfbeta: number[][]; sigma: number[] }
const FX = readJson<{ observations: ObsFx[]; groups: GroupFx[] }>("test/fixtures/influence.json");

for (const fx of FX.observations) {
  test(`hatvalues and cooks.distance as lme4: ${fx.name}`, () => {
    const r = influenceModel(loadTable(fx.data), fx.spec, { method: fx.method, groups: [] });
    assert.equal(r.hat.length, fx.hat.length);
    const top = Math.max(...fx.cooks);
    fx.hat.forEach((h, i) => closeRel(r.hat[i], h, 1e-4, `hat[${i + 1}]`));
    fx.cooks.forEach((c, i) => closeRel(r.cooks[i], c, 1e-4, `cooks[${i + 1}]`, 1e-3 * top));
    // The trace of the hat matrix lies between p and p + q (effective degrees of freedom).
    const tr = r.hat.reduce((s, h) => s + h, 0);
    assert.ok(tr > 0 && tr < r.hat.length, `trace ${tr}`);
  });
}

for (const fx of FX.groups) {
  test(`influence(fit, groups = "${fx.group}") as lme4: ${fx.name}`, () => {
    const table = loadTable(fx.data);
    const r = influenceModel(table, fx.spec, { method: fx.method, groups: [fx.group] });
    const g = r.groups[fx.group];
    assert.ok(g, "group present");
    assert.deepEqual([...g.levels].sort(), [...fx.levels].sort(), "levels");
    assert.deepEqual(g.terms, fx.terms, "terms");
    const se = fitModel(table, fx.spec, { method: fx.method, ci: "none" }).fixef.map((f) => f.se);
    fx.levels.forEach((l, i) => {
      const j = g.levels.indexOf(l);
      closeRel(g.cooks[j], fx.cooks[i], 1e-4, `Cook's distance without ${fx.group} ${l}`);
      closeRel(g.cooks[j], fx.lme4_cooks[i], 1e-4, `Cook's distance without ${fx.group} ${l} (lme4's own refits)`);
      closeRel(g.sigma[j], fx.sigma[i], 1e-4, `sigma without ${l}`);
      fx.dfbeta[i].forEach((d, f) => closeAbs(g.dfbeta[j][f], d, 1e-4 * se[f], `dfbeta ${fx.terms[f]} without ${l}`));
      assert.ok(g.converged[j], `refit without ${l} converged`);
    });
  });
}

/** sleepstudy rows with y' = a y + b, Days' = c Days, rows in the order `perm`. */
function sleep(a = 1, b = 0, c = 1, perm?: number[]) {
  const rows = csvRows("test/data/sleepstudy.csv") as [string, ...unknown[]][];
  const body = rows.slice(1).map((r) => [a * (r[0] as unknown as number) + b, c * (r[1] as number), String(r[2])]);
  const order = perm ?? body.map((_, i) => i);
  return tableFromRows([rows[0] as unknown as string[], ...order.map((i) => body[i])]);
}

function closeAll(a: number[], b: number[], what: string): void {
  assert.equal(a.length, b.length);
  const top = Math.max(...b.map(Math.abs));
  a.forEach((x, i) => assert.ok(Math.abs(x - b[i]) <= 1e-6 * Math.max(Math.abs(b[i]), 1e-3 * top), `${what}[${i}]: ${x} vs ${b[i]}`));
}

test("influence is invariant to shifting and rescaling y, rescaling a covariate, and permuting rows", () => {
  const spec = "Reaction ~ Days + (Days|Subject)";
  const base = influenceModel(sleep(), spec);
  const cases: [string, ReturnType<typeof sleep>][] = [
    ["y + 1000", sleep(1, 1000)],
    ["y / 1000 (seconds)", sleep(1e-3, 0)],
    ["Days / 7 (weeks)", sleep(1, 0, 1 / 7)],
  ];
  for (const [what, t] of cases) {
    const r = influenceModel(t, spec);
    closeAll(r.hat, base.hat, `${what}: hat`);
    closeAll(r.cooks, base.cooks, `${what}: cooks`);
    closeAll(r.groups.Subject.cooks, base.groups.Subject.cooks, `${what}: group cooks`);
  }
  // A fixed permutation (reversed, then interleaved): hat and cooks follow their rows.
  const n = base.hat.length;
  const perm = Array.from({ length: n }, (_, i) => (i % 2 === 0 ? n - 1 - i / 2 : (i - 1) / 2));
  const r = influenceModel(sleep(1, 0, 1, perm), spec);
  closeAll(perm.map((_, i) => r.hat[i]), perm.map((src) => base.hat[src]), "permuted: hat");
  closeAll(perm.map((_, i) => r.cooks[i]), perm.map((src) => base.cooks[src]), "permuted: cooks");
  const g = r.groups.Subject, g0 = base.groups.Subject;
  closeAll(g0.levels.map((l) => g.cooks[g.levels.indexOf(l)]), g0.cooks, "permuted: group cooks");
  assert.deepEqual(r.rows, perm.map((_, i) => i + 1), "rows are the table's own, 1-based");
});

test("influence: bad input is a DataError that says what to fix", () => {
  const t = loadTable("test/data/sleepstudy.csv");
  const spec = "Reaction ~ Days + (Days|Subject)";
  assert.throws(() => influenceModel(t, spec, { groups: ["Subjet"] }), (e: Error) => e instanceof DataError && /unknown group 'Subjet'/.test(e.message) && /Subject/.test(e.message));
  assert.throws(() => influenceModel(t, "Reaction ~ Days ; AR1(Days | Subject)"), (e: Error) => e instanceof DataError && /residual structure/.test(e.message));
  assert.throws(() => influenceModel(t, "Reaction ~ Days"), (e: Error) => e instanceof DataError && /random effects/.test(e.message));
  assert.throws(() => influenceModel(t, spec, { groups: "Subject" } as never), (e: Error) => e instanceof DataError && /groups must be a list/.test(e.message));
  assert.throws(() => influenceModel(t, spec, { gruops: [] } as never), (e: Error) => e instanceof DataError && /unknown influence option 'gruops'/.test(e.message));
  assert.throws(() => influenceModel(t, spec, { method: "OLS" } as never), (e: Error) => e instanceof DataError && /method/.test(e.message));
  assert.throws(() => influenceModel(t, ""), (e: Error) => e instanceof DataError);
  const one = tableFromRows([["y", "x", "g"], [1, 1, "a"], [2, 2, "a"], [3, 3, "a"], [2, 1, "a"]]);
  assert.throws(() => influenceModel(one, "y ~ x + (1|g)", { groups: ["g"] }), (e: Error) => e instanceof DataError);
});

test("group deletion is refused, with the reason, when it would take too long", async () => {
  const { deletionMs, DELETION_MS } = await import("../src/engine/inference/influence");
  // 3000 groups of 4 rows: cheap to fit once, and the note says why the deletions were skipped.
  const rows: unknown[][] = [["y", "x", "g"]];
  let s = 1;
  const rnd = (): number => ((s = (s * 69069 + 1) % 2 ** 32) / 2 ** 32) - 0.5;
  for (let g = 0; g < 3000; g++) {
    const u = rnd();
    for (let j = 0; j < 4; j++) rows.push([u + j * 0.1 + rnd() * 0.3, j, `g${g}`]);
  }
  const t = tableFromRows(rows);
  const r = influenceModel(t, "y ~ x + (1|g)");
  assert.equal(r.hat.length, 12000);
  assert.equal(r.groups.g, undefined);
  const note = r.notes.find((x) => /per-group influence for 'g' was skipped/.test(x));
  assert.ok(note, r.notes.join("\n"));
  assert.match(note, /3000 levels/);
  assert.ok(typeof deletionMs === "function" && DELETION_MS > 0);
});
