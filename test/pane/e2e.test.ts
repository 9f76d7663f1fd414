// End to end in a real browser: the built task pane in headless Chromium, Office.js answered by a
// scripted workbook holding the Sitka data. Pick the columns, fit, and check what lands in the
// new sheets against the R fixtures; a screenshot goes to docs/taskpane.png for the README.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { openPane, ROOT_DIR } from "./browser";
import { EngineFx, closeAbs, closeRel, csvRows, readJson } from "../helpers/fixtures";

test("the pane fits the lecture's model and writes it to new sheets (Chromium)", { timeout: 120000 }, async () => {
  const rows = csvRows("assets/examples/sitka.csv");
  const want = readJson<EngineFx[]>("test/fixtures/engine.json").find((f) => f.name === "sitka_ri_reml")!;
  const h = await openPane(rows);
  const { page } = h;
  try {
    await page.click("#read");
    await page.waitForFunction(() => document.getElementById("data-info")!.textContent!.includes("395 rows"));
    // The pane guessed the roles; ask for the interaction, as in the lecture.
    await page.check("#interaction");
    assert.equal(await page.inputValue("#spec"), "size ~ time*treat + (1 | tree)");
    await page.selectOption("#chart-factor", "treat");
    await page.click("#fit");
    await page.waitForFunction(() => /Written to/.test(document.getElementById("status")!.textContent!) || document.getElementById("fit-err")!.textContent !== "", null, { timeout: 60000 });
    assert.equal(await page.textContent("#fit-err"), "");
    const status = (await page.textContent("#status"))!;
    assert.match(status, /logLik -81\.7585, converged\. Written to 'LMM 1' and 'LMM data 1'/);
    const out = await page.evaluate(() => {
      const f = (window as unknown as { __fakeExcel: { snapshot(n: string): unknown[][]; log: { op: string; sheet: string }[]; charts(n: string): unknown[] } }).__fakeExcel;
      return { summary: f.snapshot("LMM 1"), detail: f.snapshot("LMM data 1"), overwrites: f.log.filter((e) => e.op === "OVERWRITE").length, charts: f.charts("LMM data 1").length, sheet1: f.snapshot("Sheet1") };
    });
    assert.equal(out.overwrites, 0, "the user's sheet was not written");
    assert.deepEqual(out.sheet1!.length, rows.length);
    const find = (label: string) => out.summary!.find((r) => r[0] === label)!;
    closeAbs(find("logLik")[1] as number, want.logLik, 1e-4, "logLik");
    closeAbs(find("AIC")[1] as number, want.AIC, 2e-4, "AIC");
    for (const fx of want.fixef) {
      closeAbs(find(fx.term)[1] as number, fx.estimate, 1e-4 * fx.se, fx.term);
      closeRel(find(fx.term)[2] as number, fx.se, 1e-4, `SE ${fx.term}`);
    }
    const tree = out.summary!.find((r) => r[0] === "tree" && r[1] === "(Intercept)")!;
    closeRel(tree[2] as number, want.varcomp[0].variance!, 1e-4, "tree variance");
    // Detail sheet: 79 BLUP rows (+ title and header) and 395 fitted rows.
    assert.ok(out.detail!.filter((r) => r[0] !== "" && r[0] !== "tree" && r[0] !== "BLUPs: tree").length >= 79);
    assert.equal(out.detail!.filter((r) => typeof r[5] === "number").length, 395, "one fitted row per data row");
    assert.equal(out.charts, 1);
    fs.mkdirSync(path.join(ROOT_DIR, "docs"), { recursive: true });
    await page.screenshot({ path: path.join(ROOT_DIR, "docs", "taskpane.png"), fullPage: true });
    // Copy as R code and an error shown next to the spec.
    await page.click("#rcode");
    assert.match(await page.inputValue("#rcode-text"), /lmer\(size ~ time\*treat \+ \(1 \| tree\), data = data, REML = TRUE\)/);
    await page.fill("#spec", "size ~ tim + (1|tree");
    await page.dispatchEvent("#spec", "input");
    assert.match((await page.textContent("#spec-err"))!, /expected '\)'/);
  } finally {
    await h.close();
  }
});
