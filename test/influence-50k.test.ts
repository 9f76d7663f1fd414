// Issue 12's acceptance: group deletion at 50,000 groups finishes or is refused with a message
// that says why. At 50,000 groups (100,000 rows) the 50,000 refits are counted before any
// starts, and refused: the note gives the count, the time of one refit, the total and the limit,
// and says what is still given; the leverages and Cook's distances per row are computed.
// (bench/influence.ts times the same at 200,000 rows and 1,000,000 rows.)
import { test } from "node:test";
import assert from "node:assert/strict";
import { influenceModel } from "../src/engine";
import { DELETION_MS } from "../src/engine/inference/influence";
import { tableFromRows } from "../src/engine/data/table";

test("group deletion at 50,000 groups is refused before it starts, with a note that says why", () => {
  const rows: unknown[][] = [["y", "x", "g"]];
  let s = 7;
  const rnd = (): number => ((s = (s * 69069 + 1) % 2 ** 32) / 2 ** 32) - 0.5;
  for (let g = 0; g < 50000; g++) {
    const u = rnd();
    for (let j = 0; j < 2; j++) rows.push([u + j * 0.1 + rnd() * 0.3, j, `g${g}`]);
  }
  const t0 = Date.now();
  const r = influenceModel(tableFromRows(rows), "y ~ x + (1|g)", { groups: ["g"] });
  const ms = Date.now() - t0;
  assert.equal(r.groups.g, undefined, "no deletion results");
  assert.equal(r.hat.length, 100000, "the leverages are still given");
  assert.equal(r.cooks.length, 100000);
  const note = r.notes.find((x) => /per-group influence for 'g' was skipped/.test(x));
  assert.ok(note, r.notes.join("\n"));
  const m = /deleting each of its 50000 levels means 50000 refits of about ([\d.]+) (ms|s) each, about (\d+) s in all \(the limit is (\d+) s\)/.exec(note);
  assert.ok(m, note);
  assert.equal(Number(m[4]), DELETION_MS / 1000);
  assert.ok(Number(m[3]) > Number(m[4]), "the total it would take exceeds the limit it states");
  assert.match(note, /the leverages and per-observation Cook's distances are still given/);
  // Refused by counting, not by trying: far quicker than even one second of refits.
  assert.ok(ms < 30000, `the refusal took ${ms} ms`);
});
