// The task pane on a 1,000,000-row sheet (50,000 groups x 20 times) in headless Chromium: read in
// blocks, fit in the Web Worker, write BLUPs and fitted values back in blocks. Prints the time of
// each phase and the longest task on the page's thread (the UI must not freeze; target < 200 ms).
// `node build/bench/pane.js [rows]`
import { openPane } from "../test/pane/browser";

const rows = Number(process.argv[2] ?? 1000000);
const groups = Math.round(rows / 20);

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

async function main(): Promise<void> {
  const t0 = Date.now();
  const h = await openPane(seedScript);
  const { page } = h;
  const status = () => page.evaluate(() => document.getElementById("status")!.textContent + " | " + document.getElementById("fit-err")!.textContent + document.getElementById("data-err")!.textContent);
  console.log(`pane benchmark: ${rows} rows, ${groups} groups; browser and page ready in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  const tRead = Date.now();
  await page.click("#read");
  await page.waitForFunction(() => /rows, columns/.test(document.getElementById("data-info")!.textContent!) || document.getElementById("data-err")!.textContent !== "", null, { timeout: 600000 });
  const readS = (Date.now() - tRead) / 1000;
  await page.fill("#spec", "y ~ time + x1 + grp + (time | subject)");
  const tFit = Date.now();
  await page.click("#fit");
  await page.waitForFunction(() => /writing/.test(document.getElementById("status")!.textContent!) || document.getElementById("fit-err")!.textContent !== "", null, { timeout: 600000 });
  const fitS = (Date.now() - tFit) / 1000;
  const tWrite = Date.now();
  await page.waitForFunction(() => /Written|cancel/.test(document.getElementById("status")!.textContent!) || document.getElementById("fit-err")!.textContent !== "", null, { timeout: 600000 });
  const writeS = (Date.now() - tWrite) / 1000;
  const long = await page.evaluate(() => (window as unknown as { __longTasks: number[] }).__longTasks);
  console.log(`  read in blocks of 20,000 rows: ${readS.toFixed(2)} s`);
  console.log(`  fit (worker, incl. sending the rows): ${fitS.toFixed(2)} s`);
  console.log(`  write summary, BLUPs, fitted values (blocks), chart: ${writeS.toFixed(2)} s`);
  console.log(`  status: ${await status()}`);
  const sorted = long.slice().sort((a, b) => b - a);
  console.log(`  long tasks on the page's thread: ${long.length}; longest ${sorted.slice(0, 5).map((d) => d.toFixed(0)).join(", ")} ms (target: none over 200 ms)`);
  await h.close();
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
