// Invariance of the two new pane charts: the Cook's-distance chart (cooks.ts) and the shrinkage
// chart (shrinkage.ts) on Sitka with the response rescaled and shifted (y' = 3 y + 10), the rows
// permuted and the tree labels relabelled ("T1", ...). Cook's distances do not change at all
// (same bars, in the same order, the labels mapped); the shrinkage chart draws the same trees,
// its fitted lines and points transformed as y is, 1e-6 relative.
import { test } from "node:test";
import assert from "node:assert/strict";
import { fitModel, influenceModel, tableFromRows } from "../../src/engine";
import { addCooks } from "../../src/taskpane/cooks";
import { shrinkageModels, shrinkagePlan } from "../../src/taskpane/shrinkage";
import type { DiagnosticsPlan } from "../../src/taskpane/diagnostics";
import { parseSpec } from "../../src/engine";
import { csvRows } from "../helpers/fixtures";

const base = csvRows("assets/examples/sitka.csv");
/** Sitka with y' = a y + b, trees relabelled "T<id>", rows in a fixed shuffled order. */
function variant(a: number, b: number, relabel: boolean, shuffle: boolean): unknown[][] {
  const body = base.slice(1).map((r) => [a * (r[0] as number) + b, r[1], relabel ? `T${r[2]}` : r[2], r[3]]);
  if (shuffle) {
    let s = 11;
    for (let i = body.length - 1; i > 0; i--) {
      s = (s * 69069 + 1) % 2 ** 32;
      const j = s % (i + 1);
      [body[i], body[j]] = [body[j], body[i]];
    }
  }
  return [base[0], ...body];
}

function gridOf(plan: DiagnosticsPlan): unknown[][] {
  const g: unknown[][] = [];
  for (const bl of plan.blocks) bl.values.forEach((r, i) => r.forEach((v, j) => ((g[bl.row + i] ??= [])[bl.col + j] = v)));
  return g;
}
function cellsOf(range: string, g: unknown[][]): unknown[] {
  const m = /^([A-Z]+)(\d+)(?::([A-Z]+)(\d+))?$/.exec(range)!;
  let c = 0;
  for (const ch of m[1]) c = c * 26 + ch.charCodeAt(0) - 64;
  const out: unknown[] = [];
  for (let r = Number(m[2]); r <= Number(m[4] ?? m[2]); r++) out.push(g[r - 1]?.[c - 1] ?? "");
  return out;
}
const close = (x: number, y: number, what: string) => assert.ok(Math.abs(x - y) <= 1e-6 * Math.max(1e-3, Math.abs(y)), `${what}: ${x} vs ${y}`);

test("Cook's distance by tree: unchanged by rescaling y, permuting rows and relabelling trees", () => {
  const bars = (rows: unknown[][]) => {
    const inf = influenceModel(tableFromRows(rows), "size ~ time + (1|tree)", { groups: ["tree"], rows: false });
    const plan: DiagnosticsPlan = { blocks: [], charts: [], notes: [], next: { col: 19, chart: 0 } };
    addCooks(plan, { influence: inf });
    const g = gridOf(plan);
    return { labels: cellsOf(plan.charts[0].series[0].x, g).map(String), values: cellsOf(plan.charts[0].series[0].y, g) as number[] };
  };
  const a = bars(variant(1, 0, false, false));
  const b = bars(variant(3, 10, true, true));
  assert.deepEqual(b.labels, a.labels.map((l) => `T${l}`), "the same trees in the same order");
  a.values.forEach((v, i) => close(b.values[i], v, `Cook's distance of tree ${a.labels[i]}`));
});

test("shrinkage chart: the same trees drawn, the lines transformed as y is", () => {
  const chart = (rows: unknown[][], relabel: boolean) => {
    const t = tableFromRows(rows);
    const spec = "size ~ time + (1|tree)";
    const mixed = fitModel(t, spec, { fitted: true, ci: "none" });
    const fixed = fitModel(t, "size ~ factor(tree) + time", { fitted: true, ci: "none" });
    const f = mixed.fitted!, g = fixed.fitted!;
    const m = shrinkageModels(parseSpec(spec), spec, "time");
    if ("why" in m) throw new Error(m.why);
    const plan = shrinkagePlan({ group: Array.from(f.rows, (r) => String(rows[r + 1][2])), time: Array.from(f.rows, (r) => rows[r + 1][1] as number), y: Array.from(f.rows, (r) => rows[r + 1][0] as number), fixed: g.conditional, mixed: f.conditional, marginal: f.marginal }, { models: m, dataRef: "A1:D396", notes: [] });
    const grid = gridOf(plan);
    const out = new Map<string, { t: number; y: number; fx: number; mx: number }[]>();
    for (let k = 0; k < 8; k++) {
      const s = plan.charts[0].series.slice(1 + 3 * k, 4 + 3 * k);
      const tree = String(cellsOf(s[0].x.replace(/^[A-Z]+/, "L"), grid)[0]);
      const ts = cellsOf(s[0].x, grid) as number[];
      const ys = cellsOf(s[0].y, grid) as number[], fx = cellsOf(s[1].y, grid) as number[], mx = cellsOf(s[2].y, grid) as number[];
      out.set(relabel ? tree.slice(1) : tree, ts.map((t, i) => ({ t, y: ys[i], fx: fx[i], mx: mx[i] })));
    }
    return out;
  };
  const a = chart(variant(1, 0, false, false), false);
  const b = chart(variant(3, 10, true, true), true);
  assert.deepEqual([...b.keys()].sort(), [...a.keys()].sort(), "the same trees drawn");
  for (const [tree, pts] of a) {
    const q = b.get(tree)!;
    pts.forEach((p, i) => {
      assert.equal(q[i].t, p.t);
      close(q[i].y, 3 * p.y + 10, `observed, tree ${tree}`);
      close(q[i].fx, 3 * p.fx + 10, `fixed-effects-only line, tree ${tree}`);
      close(q[i].mx, 3 * p.mx + 10, `random-intercept line, tree ${tree}`);
    });
  }
});
