// The worker's "influence" job (src/worker/run.ts, client.ts): the pane's Cook's-distance chart
// asks for the group deletions only (rows: false); the answer equals the engine's own call, the
// defaults are spelled out in the key (so an omitted method shares the REML job), and bad options
// come back as the engine's DataError.
import { test } from "node:test";
import assert from "node:assert/strict";
import { LmmClient, canonicalJob, jobKey } from "../../src/worker/client";
import { InProcessRunner } from "../../src/worker/inprocess";
import { dataFromRows } from "../../src/worker/data";
import { influenceModel } from "../../src/engine";
import { csvRows, loadTable } from "../helpers/fixtures";

const rows = csvRows("test/data/sleepstudy.csv");
const SPEC = "Reaction ~ Days + (Days|Subject)";

test("worker job 'influence': group deletion only, as the engine computes it; shared by defaults", async () => {
  const runner = new InProcessRunner();
  const client = new LmmClient(runner);
  const r = await client.influence(rows, SPEC, { groups: ["Subject"], rows: false });
  const want = influenceModel(loadTable("test/data/sleepstudy.csv"), SPEC, { groups: ["Subject"], rows: false });
  assert.deepEqual(r.hat, []);
  assert.deepEqual(r.rows, []);
  assert.deepEqual(r.groups.Subject.levels, want.groups.Subject.levels);
  r.groups.Subject.cooks.forEach((c, i) => assert.equal(c, want.groups.Subject.cooks[i]));
  await client.influence(rows, SPEC, { method: "REML", groups: ["Subject"], rows: false });
  assert.equal(runner.calls, 1, "an omitted method is REML: one job");
  const data = dataFromRows(rows);
  assert.notEqual(jobKey(canonicalJob({ kind: "influence", data, spec: SPEC, options: { rows: false } })), jobKey(canonicalJob({ kind: "influence", data, spec: SPEC, options: {} })), "rows: false is its own job");
  await assert.rejects(client.influence(rows, SPEC, { groups: ["Subjet"] }), (e: Error) => e.name === "DataError" && /unknown group 'Subjet'/.test(e.message));
  await assert.rejects(client.influence(rows, "Reaction ~ Days ; AR1(Days | Subject)", {}), (e: Error) => e.name === "DataError" && /residual structure/.test(e.message));
});
