// The task pane on a 1,000,000-row sheet (50,000 groups x 20 times) in headless Chromium: read in
// blocks (each converted to typed columns and hashed as it arrives), fit in the Web Worker,
// write BLUPs and fitted values back in blocks, draw the chart. Prints the time of each phase
// (as the pane records them in window.__lmmPhases) and the long tasks on the page's thread
// while the pane works (the UI must not freeze: target, none over 200 ms). Generating the rows
// in the page happens before and is not counted.
// `node build/bench/pane.js [rows] [--spec "..."]`
import * as fs from "node:fs";
import { openPane } from "../test/pane/browser";

const args = process.argv.slice(2);
const specAt = args.indexOf("--spec");
const spec = specAt >= 0 ? args.splice(specAt, 2)[1] : "y ~ time + x1 + grp + (time | subject)";
// `--csv FILE`: seed the sheet with that file's cells instead (e.g. InstEval, bench/insteval.ts).
const csvAt = args.indexOf("--csv");
const csvFile = csvAt >= 0 ? args.splice(csvAt, 2)[1] : null;
const csvCells = csvFile ? csvGrid(fs.readFileSync(csvFile, "utf8")) : null;
const rows = csvCells ? csvCells.length - 1 : Number(args[0] ?? 1000000);
const groups = Math.round(rows / 20);

/** A plain CSV (no quoted commas) as sheet cells: numbers where they parse, else text. */
function csvGrid(text: string): (string | number)[][] {
  return text.trim().split(/\r?\n/).map((line) => line.split(",").map((c) => {
    const v = c.replace(/^"(.*)"$/, "$1");
    return v !== "" && Number.isFinite(Number(v)) ? Number(v) : v;
  }));
}
const LONG = 200;

// Generated in the page (no 40 MB of JSON): y = 1 + 0.3 t + 0.5 x1 + group effects + noise.
const seedScript = `(() => {
  let s = 12345; const u = () => (s = (s * 1103515245 + 12345) % 2147483648) / 2147483648;
  const norm = () => Math.sqrt(-2 * Math.log(u() + 1e-12)) * Math.cos(2 * Math.PI * u());
  const rows = [["y", "time", "x1", "grp", "subject"]];
  for (let g = 0; g < ${groups}; g++) {
    const b0 = 0.8 * norm(), b1 = 0.2 * norm(), grp = ["a", "b", "c"][g % 3];
    for (let t = 0; t < 20; t++) { const x1 = norm(); rows.push([1 + 0.3 * t + 0.5 * x1 + b0 + b1 * t + 0.5 * norm(), t, x1, grp, "S" + g]); }
  }
  window.__fakeExcel.seedGrid("Sheet1", rows);
})();`;

const seed = csvCells ? `window.__fakeExcel.seedGrid("Sheet1", ${JSON.stringify(csvCells)});` : seedScript;

interface Phase {
  name: string;
  ms: number;
  at: number;
}
interface LongTask {
  start: number;
  ms: number;
}

const fmt = (ms: number) => `${(ms / 1000).toFixed(2)} s`.padStart(8);

async function main(): Promise<void> {
  const t0 = Date.now();
  const h = await openPane(seed);
  const { page } = h;
  const text = (id: string) => page.evaluate((i) => document.getElementById(i)!.textContent ?? "", id);
  console.log(`pane benchmark: ${rows.toLocaleString("en-US")} rows, ${csvFile ? csvFile : `${groups.toLocaleString("en-US")} groups`}, ${spec}; browser and page ready in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  const start = await page.evaluate(() => performance.now());
  const tRead = Date.now();
  await page.click("#read");
  await page.waitForFunction(() => /rows, columns/.test(document.getElementById("data-info")!.textContent!) || document.getElementById("data-err")!.textContent !== "", null, { timeout: 600000 });
  const readWall = Date.now() - tRead;
  await page.fill("#spec", spec);
  await page.dispatchEvent("#spec", "input");
  await page.waitForTimeout(400);
  const fitStart = await page.evaluate(() => performance.now());
  const tFit = Date.now();
  await page.click("#fit");
  await page.waitForFunction(() => /Written|cancel/.test(document.getElementById("status")!.textContent!) || document.getElementById("fit-err")!.textContent !== "", null, { timeout: 900000 });
  const fitWriteWall = Date.now() - tFit;
  const phases = await page.evaluate(() => (window as unknown as { __lmmPhases?: Phase[] }).__lmmPhases ?? []);
  const long = (await page.evaluate(() => (window as unknown as { __longTaskEntries: LongTask[] }).__longTaskEntries)).filter((t) => t.start >= start);
  const err = (await text("fit-err")) + (await text("data-err"));
  // Diagnostics ("slowest block") are not phases: left out of the sums.
  const get = (re: RegExp) => phases.filter((p) => re.test(p.name) && !/slowest/.test(p.name)).reduce((k, p) => k + p.ms, 0);
  const most = (re: RegExp) => phases.filter((p) => re.test(p.name)).reduce((k, p) => Math.max(k, p.ms), 0);
  console.log(`  status: ${await text("status")}${err ? ` | ERROR: ${err}` : ""}`);
  console.log("  phase                                        time");
  const line = (label: string, ms: number) => console.log(`  ${label.padEnd(44)} ${fmt(ms)}`);
  line("read: Excel requests (blocks of 20,000 rows)", get(/^read: Excel/));
  line("read: convert to typed columns + hash", get(/^read: convert/));
  line("read, wall clock (click to data shown)", readWall);
  line("transfer to the worker (copy + post)", get(/^transfer/));
  line("worker: table from the typed columns", get(/^worker: table/));
  line("worker: engine (fit + inference)", get(/^worker: engine \(/));
  line("  design (model matrices)", get(/^worker: engine: design/));
  line("  optimizer (the REML/ML estimates)", get(/^worker: engine: optimizer/));
  line("  inference (Satterthwaite, CIs), BLUPs", get(/^worker: engine: inference/));
  line("worker: packing the answer", get(/^worker: packing/));
  line("fit, request to result on the page", get(/^fit: request/));
  line("plan the detail sheet + chart data", get(/^write: plan/));
  line("write: summary sheet", get(/^write: summary/));
  line("write: BLUPs", get(/^write: BLUPs/));
  line("write: fitted values", get(/^write: fitted/));
  line("  slowest block's page work (BLUPs, fitted)", most(/slowest block/));
  line("write: chart data", get(/^write: chart data/));
  line("write: chart", get(/^write: chart$/));
  const summaryAt = phases.find((p) => /^write: summary/.test(p.name))?.at;
  line("estimates on the summary sheet (click to shown)", summaryAt === undefined ? NaN : summaryAt - fitStart);
  line("fit + write, wall clock (click to written)", fitWriteWall);
  line("total, wall clock", readWall + fitWriteWall);
  // Which phase each long task fell in: the first phase recorded after the task began.
  const sorted = phases.slice().sort((a, b) => a.at - b.at);
  const where = (t: LongTask) => sorted.find((p) => p.at >= t.start + t.ms - 1)?.name ?? "after the last phase";
  const over = long.filter((t) => t.ms > LONG);
  const top = long.slice().sort((a, b) => b.ms - a.ms).slice(0, 5);
  console.log(`  long tasks (> 50 ms) on the page's thread while the pane worked: ${long.length}; over ${LONG} ms: ${over.length}; longest ${top.map((t) => `${t.ms.toFixed(0)} ms (${where(t)})`).join(", ") || "none"}`);
  if (process.env.BENCH_TIMELINE) {
    // Every phase and long task in time order (ms since the click on Use data), to see where a long task falls.
    const events = [...sorted.map((p) => ({ t: p.at - start, s: `phase end: ${p.name} (${p.ms.toFixed(0)} ms)` })), ...long.map((t) => ({ t: t.start - start, s: `long task ${t.ms.toFixed(0)} ms` }))];
    for (const e of events.sort((a, b) => a.t - b.t)) console.log(`    ${e.t.toFixed(0).padStart(7)}  ${e.s}`);
  }
  await h.close();
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
