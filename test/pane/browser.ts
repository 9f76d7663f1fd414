// Harness for the real-browser test and the pane benchmark: dist/ served from 127.0.0.1 by a
// small node http server, Debian's Chromium driven by playwright-core, and the request for
// Office.js (Microsoft's CDN) answered with the scripted workbook (fake-office.js) plus a seed.
// Any other outside request is refused, so the page runs offline.
import * as fs from "node:fs";
import * as http from "node:http";
import * as path from "node:path";
import { spawnSync } from "node:child_process";
import type { AddressInfo } from "node:net";
import { chromium, Browser, Page } from "playwright-core";

export const ROOT_DIR = path.join(__dirname, "..", "..", "..");
export const DIST = path.join(ROOT_DIR, "dist");
export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

const TYPES: Record<string, string> = { ".html": "text/html; charset=utf-8", ".js": "text/javascript", ".json": "application/json", ".png": "image/png", ".xml": "application/xml" };

/** Newest modification time under a directory. */
function newest(dir: string): number {
  let m = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    m = Math.max(m, e.isDirectory() ? newest(p) : fs.statSync(p).mtimeMs);
  }
  return m;
}

/** Build dist/ when it is missing or older than src/. */
export function ensureBuilt(): void {
  const page = path.join(DIST, "taskpane.html");
  if (fs.existsSync(page) && fs.statSync(page).mtimeMs >= newest(path.join(ROOT_DIR, "src"))) return;
  const r = spawnSync(process.execPath, [path.join(ROOT_DIR, "node_modules", "webpack", "bin", "webpack.js"), "--mode", "production"], { cwd: ROOT_DIR, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`webpack failed:\n${r.stdout}\n${r.stderr}`);
}

/** Serve dist/ on 127.0.0.1 (a free port). */
export async function serveDist(): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    const rel = decodeURIComponent((req.url ?? "/").split("?")[0]).replace(/^\/+/, "");
    const file = path.normalize(path.join(DIST, rel || "taskpane.html"));
    if (!file.startsWith(DIST + path.sep) || !fs.existsSync(file) || !fs.statSync(file).isFile()) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { "Content-Type": TYPES[path.extname(file)] ?? "application/octet-stream" }).end(fs.readFileSync(file));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return { url: `http://127.0.0.1:${port}/`, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

export interface Harness {
  page: Page;
  /** Errors thrown in the page so far. */
  errors: string[];
  /** URLs of the Web Workers the page started (the engine runs in lmm-worker.js). */
  workers: string[];
  close(): Promise<void>;
}

/**
 * Open the built pane with a scripted workbook. `seed`: the user's rows (header first), put on
 * "Sheet1" and selected; or a script that seeds window.__fakeExcel itself (large data).
 */
export async function openPane(seed: unknown[][] | string, viewport = { width: 360, height: 1200 }): Promise<Harness> {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM}: apt-get install chromium (the CI script does)`);
  ensureBuilt();
  const server = await serveDist();
  const browser: Browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  const page = await browser.newPage({ viewport });
  await page.addInitScript(() => {
    // Long tasks on the page's thread: the pane must stay responsive while it works.
    const w = window as unknown as { __longTasks: number[]; __longTaskEntries: { start: number; ms: number }[] };
    w.__longTasks = [];
    w.__longTaskEntries = [];
    try {
      new PerformanceObserver((list) =>
        list.getEntries().forEach((e) => {
          w.__longTasks.push(e.duration);
          w.__longTaskEntries.push({ start: e.startTime, ms: e.duration });
        }),
      ).observe({ type: "longtask", buffered: true });
    } catch {
      /* no long-task timing here */
    }
  });
  const fake = fs.readFileSync(path.join(ROOT_DIR, "test", "pane", "fake-office.js"), "utf8");
  const seeding = typeof seed === "string" ? seed : `window.__fakeExcel.seed("Sheet1", ${JSON.stringify(seed)});`;
  await page.route("**/*", (route) => {
    const url = route.request().url();
    if (url.startsWith(server.url)) return route.continue();
    if (url.startsWith("https://appsforoffice.microsoft.com/")) return route.fulfill({ status: 200, contentType: "text/javascript", body: `${fake}\n;${seeding}\n` });
    return route.abort();
  });
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  const workers: string[] = [];
  page.on("worker", (w) => workers.push(w.url()));
  await page.goto(`${server.url}taskpane.html`);
  return {
    page,
    errors,
    workers,
    close: async () => {
      await browser.close();
      await server.close();
    },
  };
}
