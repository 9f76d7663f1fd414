// The harness for the real-browser tests and the pane benchmark: the built dist/ served on
// 127.0.0.1, Debian's Chromium driven by playwright-core, and Office.js's CDN request answered by
// the scripted workbook (fake-office.js) seeded with the given rows.
import * as fs from "node:fs";
import * as http from "node:http";
import * as path from "node:path";
import { spawnSync } from "node:child_process";
import type { AddressInfo } from "node:net";
import { chromium, Browser, Page } from "playwright-core";

export const ROOT_DIR = path.join(__dirname, "..", "..", "..");
const DIST = path.join(ROOT_DIR, "dist");
export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

/** Build dist/ if it is missing or older than the sources. */
export function ensureBuilt(): void {
  const stamp = path.join(DIST, "taskpane.html");
  const newest = (dir: string): number => fs.readdirSync(dir, { withFileTypes: true }).reduce((m, e) => Math.max(m, e.isDirectory() ? newest(path.join(dir, e.name)) : fs.statSync(path.join(dir, e.name)).mtimeMs), 0);
  if (fs.existsSync(stamp) && fs.statSync(stamp).mtimeMs >= newest(path.join(ROOT_DIR, "src"))) return;
  const r = spawnSync(process.execPath, [path.join(ROOT_DIR, "node_modules", "webpack", "bin", "webpack.js"), "--mode", "production"], { cwd: ROOT_DIR, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`webpack failed:\n${r.stdout}${r.stderr}`);
}

export interface Harness {
  page: Page;
  close(): Promise<void>;
}

/** `rows`: the user's data; or a script (a string) that seeds the fake workbook itself in the page. */
export async function openPane(rows: unknown[][] | string, viewport = { width: 380, height: 1100 }): Promise<Harness> {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM}: apt-get install chromium (the CI script does)`);
  ensureBuilt();
  const server = http.createServer((req, res) => {
    const file = path.join(DIST, decodeURIComponent((req.url ?? "/").split("?")[0]));
    if (!file.startsWith(DIST) || !fs.existsSync(file) || fs.statSync(file).isDirectory()) {
      res.writeHead(404).end();
      return;
    }
    const type = file.endsWith(".html") ? "text/html" : file.endsWith(".js") ? "text/javascript" : file.endsWith(".json") ? "application/json" : "application/octet-stream";
    res.writeHead(200, { "Content-Type": type }).end(fs.readFileSync(file));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  const browser: Browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  const page = await browser.newPage({ viewport });
  // Long tasks on the page's thread (the pane must stay responsive while it works).
  await page.addInitScript(() => {
    const w = window as unknown as { __longTasks: number[] };
    w.__longTasks = [];
    try {
      new PerformanceObserver((list) => list.getEntries().forEach((e) => w.__longTasks.push(e.duration))).observe({ type: "longtask", buffered: true });
    } catch {
      /* no long-task timing in this browser */
    }
  });
  const fake = fs.readFileSync(path.join(ROOT_DIR, "test", "pane", "fake-office.js"), "utf8");
  const seed = typeof rows === "string" ? `\n;${rows}\n` : `\n;window.__fakeExcel.seed("Sheet1", ${JSON.stringify(rows)});\n`;
  await page.route("**/*", (route) => {
    const url = route.request().url();
    if (url.startsWith(`http://127.0.0.1:${port}/`)) return route.continue();
    if (url.includes("appsforoffice.microsoft.com")) return route.fulfill({ status: 200, contentType: "text/javascript", body: fake + seed });
    return route.abort();
  });
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await page.goto(`http://127.0.0.1:${port}/taskpane.html`);
  return {
    page,
    close: async () => {
      await browser.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      if (errors.length) throw new Error(`errors in the page: ${errors.join("; ")}`);
    },
  };
}
