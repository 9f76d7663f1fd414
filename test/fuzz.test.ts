// The fuzz acceptance test (issue 14): 10,000 generated tables and specs, from a fixed seed, each
// bounded deterministically. For every case:
//  - building the table and preparing the model (parse, design, residual structure, and the
//    up-front cost check of cost.ts) either succeeds or raises one of the engine's own errors
//    with a message — never another exception;
//  - a prepared model's typical cost is within the cost check's limit, so together with the
//    evaluation budget of every fit no case can run away (no hang, without any clock);
//  - the cases that are cheap to fit, and every 20th case whatever its cost, are run through
//    to the end (fit, LRT or RLRT with their options): the result holds no NaN or infinite
//    number anywhere (what cannot be computed is null, with a note), or the error is the
//    engine's own.
// A failure names the case number; `makeCase(id)` (helpers/gen-case.ts) rebuilds it, and
// `node build/test/helpers/gen-explore.js ID ID+1` runs it alone.
import { test } from "node:test";
import assert from "node:assert/strict";
import { tableFromRows } from "../src/engine";
import { prepareFit } from "../src/engine/model/prepared";
import { REFUSE_MS, fitCost } from "../src/engine/model/cost";
import { isEngineError, makeCase, runCase } from "./helpers/gen-case";

const CASES = Number(process.env.FUZZ_CASES ?? 10000);
const CHUNK = 1000;
/** Cases whose typical cost is below this (estimated ms) are run to the end. */
const RUN_BELOW_MS = 40;
/** And every RUN_EVERY-th case, whatever its cost. */
const RUN_EVERY = 20;

interface Tally {
  refused: number;
  prepared: number;
  run: number;
  fitted: number;
}

function checkCase(id: number, tally: Tally, failures: string[]): void {
  const c = makeCase(id);
  const where = `case ${id} (${c.kind} ${JSON.stringify(c.specs)} ${JSON.stringify(c.opts)})`;
  let cheapest = Infinity;
  try {
    const table = tableFromRows(c.rows);
    for (const spec of c.specs) {
      const cost = fitCost(prepareFit(table, spec));
      if (!(cost.typicalMs <= REFUSE_MS)) failures.push(`${where}: prepared although its typical cost is ${cost.typicalMs} ms`);
      cheapest = Math.min(cheapest, cost.typicalMs);
    }
    tally.prepared++;
  } catch (e) {
    if (isEngineError(e)) {
      tally.refused++;
      return;
    }
    const err = e as Error;
    failures.push(`${where}: uncaught ${err?.name}: ${err?.message}\n${err?.stack?.split("\n").slice(1, 4).join("\n")}`);
    return;
  }
  if (!(cheapest <= RUN_BELOW_MS || id % RUN_EVERY === 0)) return;
  tally.run++;
  const out = runCase(c);
  if (!out.ok) failures.push(`${where}: ${out.why}`);
  else if (out.how === "fit") tally.fitted++;
}

const total: Tally = { refused: 0, prepared: 0, run: 0, fitted: 0 };
for (let from = 0; from < CASES; from += CHUNK) {
  test(`fuzz cases ${from}..${from + CHUNK - 1}: engine errors or finite results, every case bounded`, () => {
    const failures: string[] = [];
    for (let id = from; id < from + CHUNK; id++) checkCase(id, total, failures);
    assert.equal(failures.length, 0, `${failures.length} failing case(s):\n${failures.slice(0, 8).join("\n")}`);
  });
}

test("the fuzz cases cover both outcomes: many fits and many clean refusals", () => {
  // The generator must keep producing both kinds; a change that made every case an error (or
  // every case trivial) would hollow the test out.
  assert.equal(total.refused + total.prepared, CASES);
  assert.ok(total.prepared > CASES * 0.3, `only ${total.prepared} of ${CASES} cases prepared`);
  assert.ok(total.refused > CASES * 0.3, `only ${total.refused} of ${CASES} cases refused`);
  assert.ok(total.fitted > CASES * 0.12, `only ${total.fitted} cases fitted to the end (of ${total.run} run)`);
});
