// The add-in's build and its manifest, offline. One production build (`webpack --mode
// production`, as `npm run build`) runs in `before`, into test/out/addin-dist so it never races
// the pane's browser test over dist/, with LMM_PROD_URL set and office-addin-dev-certs made
// unloadable (a build must never ask for certificates). Then: the files, the page's scripts,
// functions.json (ids, matrix arguments, allowErrorForDataTypeAny), the worker bundle, and the
// manifest checked structurally (read with fast-xml-parser; office-addin-manifest validate needs
// Microsoft's service, so it is not run here).
import { test, before } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { spawnSync } from "node:child_process";
import { ROOT } from "../helpers/fixtures";
import { XmlElement, child, findAll, findOne, parseXml } from "./xml";
import { fitModel, tableFromRows } from "../../src/engine";

const OUT = path.join(ROOT, "test", "out", "addin-dist");
const PROD = "https://lmm.example.org/addin/";
const DEV = "https://localhost:3000/";
let buildLog = "";

before(() => {
  fs.rmSync(OUT, { recursive: true, force: true });
  fs.mkdirSync(path.dirname(OUT), { recursive: true });
  const guard = path.join(path.dirname(OUT), "no-dev-certs.js");
  fs.writeFileSync(
    guard,
    [
      "const Module = require('module');",
      "const load = Module._load;",
      "Module._load = function (request, ...rest) {",
      "  if (request === 'office-addin-dev-certs') throw new Error('a build must not load office-addin-dev-certs');",
      "  return load.call(this, request, ...rest);",
      "};",
    ].join("\n"),
  );
  const r = spawnSync(process.execPath, ["-r", guard, path.join(ROOT, "node_modules", "webpack", "bin", "webpack.js"), "--mode", "production", "--output-path", OUT], {
    cwd: ROOT,
    encoding: "utf8",
    env: { ...process.env, LMM_PROD_URL: PROD },
  });
  buildLog = r.stdout + r.stderr;
  assert.equal(r.status, 0, buildLog);
});

const read = (f: string) => fs.readFileSync(path.join(OUT, f), "utf8");

test("the build writes the page, the functions and their metadata, the worker, the manifest and the icons", () => {
  for (const f of ["taskpane.html", "taskpane.js", "functions.js", "functions.json", "commands.js", "lmm-worker.js", "manifest.xml"]) {
    assert.ok(fs.existsSync(path.join(OUT, f)), `${f} missing`);
  }
  for (const s of [16, 32, 64, 80, 128]) {
    const png = fs.readFileSync(path.join(OUT, "assets", `icon-${s}.png`));
    assert.deepEqual([...png.subarray(0, 8)], [137, 80, 78, 71, 13, 10, 26, 10], `icon-${s}.png is a PNG`);
    assert.equal(png.toString("ascii", 12, 16), "IHDR");
    assert.deepEqual([png.readUInt32BE(16), png.readUInt32BE(20)], [s, s], `icon-${s}.png is ${s}x${s}`);
  }
  assert.ok(!buildLog.includes("lmm-addin.invalid"), "LMM_PROD_URL was used, so no placeholder warning");
});

test("a production build without LMM_PROD_URL says its placeholder warning is expected for local use", () => {
  // The warning's text, from the plugin itself (a second full build would double this file's time).
  const cfg = require(path.join(ROOT, "webpack.config.js")) as (env: object, o: object) => Promise<{ plugins: { constructor: { name: string }; apply(c: unknown): void }[] }>;
  return cfg({}, { mode: "production" }).then((config) => {
    const plugin = config.plugins.find((p) => p.constructor.name === "PlaceholderWarningPlugin");
    assert.ok(plugin, "the placeholder warning plugin is in a production build without LMM_PROD_URL");
    const warnings: { message: string; file?: string }[] = [];
    class WebpackError extends Error {
      file?: string;
    }
    plugin.apply({ webpack: { WebpackError }, hooks: { thisCompilation: { tap: (_n: string, f: (c: unknown) => void) => f({ warnings }) } } });
    assert.equal(warnings.length, 1);
    assert.match(warnings[0].message, /^Expected for local use: nothing failed and dist\/ is complete\./);
    assert.match(warnings[0].message, /LMM_PROD_URL=https:\/\/your\.host\/path\//);
    assert.match(String(warnings[0].file), /without LMM_PROD_URL/);
  });
});

test("taskpane.html is the shared runtime's one page: Office.js from the CDN, then the pane, the functions and the commands", () => {
  const html = scriptTags(read("taskpane.html"));
  const scripts = html.filter((s) => s.src).map((s) => s.src!);
  assert.equal(scripts[0], "https://appsforoffice.microsoft.com/lib/1/hosted/office.js", "Office.js first, from Microsoft's CDN");
  for (const chunk of ["taskpane.js", "functions.js", "commands.js"]) assert.ok(scripts.includes(chunk), `taskpane.html loads ${chunk}`);
  assert.ok(!scripts.includes("lmm-worker.js"), "the worker is not a page script");
});

/** The <script> tags of an HTML page (HTML is not XML, so only script tags are read). */
function scriptTags(html: string): { src: string | null }[] {
  const out: { src: string | null }[] = [];
  let i = 0;
  for (;;) {
    const s = html.indexOf("<script", i);
    if (s < 0) return out;
    const e = html.indexOf(">", s);
    const tag = html.slice(s, e);
    const k = tag.indexOf("src=");
    if (k < 0) out.push({ src: null });
    else if (tag[k + 4] === '"' || tag[k + 4] === "'") {
      out.push({ src: tag.slice(k + 5, tag.indexOf(tag[k + 4], k + 5)) });
    } else {
      // The production page is minified: attribute values lose their quotes.
      let end = k + 4;
      while (end < tag.length && tag[end] !== " ") end++;
      out.push({ src: tag.slice(k + 4, end) });
    }
    i = e;
  }
}

test("the engine is bundled only into the worker; the functions hold the associate calls", () => {
  const engineOnly = "the exact RLRT tests one variance component";
  assert.ok(read("lmm-worker.js").includes(engineOnly), "the worker has the engine");
  for (const f of ["functions.js", "commands.js"]) assert.ok(!read(f).includes(engineOnly), `${f} does not bundle the engine`);
  const js = read("functions.js");
  for (const id of ["FIT", "VARCOMP", "LRT", "BLUP", "FITTED", "RLRT", "STRUCTURES"]) assert.ok(js.includes(`CustomFunctions.associate("${id}"`), `associate ${id}`);
  assert.ok(js.includes("lmm-worker.js"), "the functions start the worker by its file name");
});

interface ParamMeta {
  name: string;
  type?: string;
  dimensionality?: string;
  optional?: boolean;
}
interface FnMeta {
  id: string;
  name: string;
  description: string;
  parameters: ParamMeta[];
  result: { dimensionality?: string };
  options?: { cancelable?: boolean };
}

test("functions.json: the ids, matrix data and results, optional arguments, cancelable, error cells allowed", () => {
  const meta = JSON.parse(read("functions.json")) as { allowErrorForDataTypeAny?: boolean; allowCustomDataForDataTypeAny?: boolean; functions: FnMeta[] };
  assert.equal(meta.allowErrorForDataTypeAny, true, "top-level allowErrorForDataTypeAny");
  // The functions return numbers as formatted-number cell values where the host supports data
  // types (src/functions/cell-values.ts); Excel accepts them only with this flag.
  assert.equal(meta.allowCustomDataForDataTypeAny, true, "top-level allowCustomDataForDataTypeAny");
  const byId = new Map(meta.functions.map((f) => [f.id, f]));
  assert.deepEqual([...byId.keys()].sort(), ["ANOVA", "BLUP", "CONTRAST", "EMMEANS", "FIT", "FITTED", "LRT", "PREDICT", "RLRT", "STRUCTURES", "VARCOMP"]);
  const params = (id: string) => byId.get(id)!.parameters.map((p) => `${p.name}${p.optional ? "?" : ""}`);
  assert.deepEqual(params("FIT"), ["data", "spec", "method?", "ddf?", "ci?"]);
  assert.deepEqual(params("ANOVA"), ["data", "spec", "type?", "ddf?", "method?"]);
  assert.deepEqual(params("EMMEANS"), ["data", "spec", "specs", "by?", "at?", "adjust?", "method?", "ddf?", "trend?"]);
  assert.deepEqual(params("CONTRAST"), ["data", "spec", "L", "joint?", "ddf?"]);
  assert.deepEqual(params("VARCOMP"), ["data", "spec", "method?", "level?", "ci?"]);
  assert.deepEqual(params("LRT"), ["data", "specs", "method?"]);
  assert.deepEqual(params("BLUP"), ["data", "spec", "group?", "method?"]);
  assert.deepEqual(params("FITTED"), ["data", "spec", "type?", "method?"]);
  assert.deepEqual(params("RLRT"), ["data", "spec", "nsim?", "seed?"]);
  assert.deepEqual(params("STRUCTURES"), ["data", "spec", "candidates?"]);
  assert.deepEqual(params("PREDICT"), ["data", "spec", "newdata", "level?", "interval?", "method?"]);
  for (const [id, f] of byId) {
    assert.equal(f.name, id);
    assert.ok(f.description.length > 20, `${id} has a description`);
    assert.equal(f.result.dimensionality, "matrix", `${id} returns a matrix (spills)`);
    assert.equal(f.parameters[0].dimensionality, "matrix", `${id}: data is a matrix`);
    assert.equal(f.parameters[0].type, "any", `${id}: data is any, so error cells reach the function`);
    assert.equal(f.options?.cancelable, true, `${id} is cancelable`);
    assert.ok(!f.parameters.some((p) => p.name === "invocation"), `${id}: the invocation is not an Excel argument`);
  }
  const specs = byId.get("LRT")!.parameters[1];
  assert.deepEqual([specs.type, specs.dimensionality], ["any", "matrix"], "LRT specs: a range or an array");
});

// ---------------------------------------------------------------------------------------------
// The manifest

const URL_ELEMENTS = ["SourceLocation", "FunctionFile", "LearnMoreUrl", "Runtime"];
const STRING_ELEMENTS = ["Title", "Description", "Label", "Namespace"];

function checkManifest(xml: string, base: string, dist: string | null): void {
  const doc = parseXml(xml);
  assert.equal(doc.name, "OfficeApp");
  assert.equal(doc.attrs["xsi:type"], "TaskPaneApp");
  const id = child(doc, "Id")!.text.trim();
  assert.equal(id.length, 36, "Id is a GUID");
  assert.equal(id.split("-").map((p) => p.length).join(), "8,4,4,4,12", "Id is a GUID");
  const version = child(doc, "Version")!.text.trim().split(".");
  assert.ok(version.length === 4 && version.every((p) => p !== "" && [...p].every((c) => c >= "0" && c <= "9")), "Version n.n.n.n");
  assert.equal(findOne(child(doc, "Hosts")!, "Host").attrs.Name, "Workbook");
  assert.ok(findAll(doc, "Set").some((s) => s.attrs.Name === "SharedRuntime" && s.attrs.MinVersion === "1.1"), "requires SharedRuntime 1.1");
  assert.equal(child(doc, "Permissions")!.text.trim(), "ReadWriteDocument");

  // Resources: ids unique, and each kind in its place.
  const resources = findOne(doc, "Resources");
  const urls = new Map<string, string>(), strings = new Map<string, string>(), images = new Map<string, string>();
  const allIds = new Set<string>();
  for (const [tag, map] of [["bt:Url", urls], ["bt:String", strings], ["bt:Image", images]] as const) {
    for (const e of findAll(resources, tag)) {
      assert.ok(e.attrs.id, `a ${tag} without an id (at ${e.path})`);
      assert.ok(!allIds.has(e.attrs.id), `resource id ${e.attrs.id} is defined once`);
      allIds.add(e.attrs.id);
      map.set(e.attrs.id, e.attrs.DefaultValue);
    }
  }
  for (const s of findAll(findOne(resources, "bt:ShortStrings"), "bt:String")) assert.ok(s.attrs.DefaultValue.length <= 125, `${s.attrs.id} fits a short string`);
  for (const s of findAll(findOne(resources, "bt:LongStrings"), "bt:String")) assert.ok(s.attrs.DefaultValue.length <= 250, `${s.attrs.id} fits a long string`);
  // Element ids outside the resources (groups, controls) are unique too.
  const controlIds = new Set<string>();
  (function walk(e: XmlElement) {
    if (e !== resources && e.attrs.id && e.name !== "OfficeTab") {
      assert.ok(!controlIds.has(e.attrs.id), `id ${e.attrs.id} is used once`);
      controlIds.add(e.attrs.id);
    }
    if (e !== resources) e.children.forEach(walk);
  })(doc);

  // Every resid resolves, to the right kind of resource.
  (function walk(e: XmlElement) {
    const r = e.attrs.resid;
    if (r !== undefined) {
      if (e.name === "bt:Image") assert.ok(images.has(r), `image resid ${r} (at ${e.path}) resolves`);
      else if (URL_ELEMENTS.includes(e.name)) assert.ok(urls.has(r), `url resid ${r} on <${e.name}> (at ${e.path}) resolves to a bt:Url`);
      else if (STRING_ELEMENTS.includes(e.name)) assert.ok(strings.has(r), `string resid ${r} on <${e.name}> (at ${e.path}) resolves to a bt:String`);
      else assert.fail(`unexpected resid on <${e.name}> (at ${e.path})`);
    }
    e.children.forEach(walk);
  })(doc);

  // The shared runtime: Runtimes first in the Host; Runtime, Page and FunctionFile on one resid.
  const host = findOne(findOne(doc, "VersionOverrides"), "Host");
  assert.equal(host.children[0].name, "Runtimes", "<Runtimes> comes right after <Host>");
  const runtime = findOne(host, "Runtime");
  assert.equal(runtime.attrs.lifetime, "long");
  const cf = findAll(host, "ExtensionPoint").filter((e) => e.attrs["xsi:type"] === "CustomFunctions");
  assert.equal(cf.length, 1, "one CustomFunctions extension point");
  const page = findOne(findOne(cf[0], "Page"), "SourceLocation");
  assert.equal(page.attrs.resid, runtime.attrs.resid, "the functions' Page uses the runtime's resid");
  assert.equal(findOne(host, "FunctionFile").attrs.resid, runtime.attrs.resid, "FunctionFile uses the runtime's resid");
  const action = findOne(host, "Action");
  assert.equal(action.attrs["xsi:type"], "ShowTaskpane");
  assert.equal(findOne(action, "SourceLocation").attrs.resid, runtime.attrs.resid, "the button opens the runtime's page");
  assert.equal(strings.get(findOne(cf[0], "Namespace").attrs.resid), "LMM", "namespace LMM");
  assert.equal(urls.get(runtime.attrs.resid), `${base}taskpane.html`);
  assert.equal(urls.get(findOne(findOne(cf[0], "Script"), "SourceLocation").attrs.resid), `${base}functions.js`);
  assert.equal(urls.get(findOne(findOne(cf[0], "Metadata"), "SourceLocation").attrs.resid), `${base}functions.json`);
  assert.equal(findOne(child(doc, "DefaultSettings")!, "SourceLocation").attrs.DefaultValue, `${base}taskpane.html`);
  const buttonSizes = findAll(findOne(host, "Control"), "bt:Image").map((e) => e.attrs.size);
  assert.deepEqual(buttonSizes, ["16", "32", "80"], "the ribbon button has 16, 32 and 80 px icons");

  // Every URL is https under one base (so one origin), and in a build each one exists.
  const all: string[] = [...urls.values(), ...images.values()];
  for (const tag of ["IconUrl", "HighResolutionIconUrl", "SupportUrl", "SourceLocation"]) for (const e of findAll(doc, tag)) if (e.attrs.DefaultValue) all.push(e.attrs.DefaultValue);
  for (const e of findAll(doc, "AppDomain")) all.push(e.text.trim());
  const origins = new Set(all.map((u) => new URL(u).origin));
  assert.deepEqual([...origins], [new URL(base).origin], "all URLs share one origin");
  for (const u of all) {
    assert.ok(u.startsWith(base), `${u} is under ${base}`);
    if (dist) assert.ok(fs.existsSync(path.join(dist, u.slice(base.length))), `${u} -> ${u.slice(base.length)} is in the build`);
  }
}

test("manifest.xml (source): structure, resids, shared runtime, one origin", () => {
  checkManifest(fs.readFileSync(path.join(ROOT, "manifest.xml"), "utf8"), DEV, null);
});

test("manifest.xml (built with LMM_PROD_URL): every development URL replaced, every URL served by the build", () => {
  const xml = read("manifest.xml");
  assert.ok(!xml.includes("localhost"), "no development URL left");
  const count = (s: string, sub: string) => s.split(sub).length - 1;
  assert.equal(count(xml, PROD), count(fs.readFileSync(path.join(ROOT, "manifest.xml"), "utf8"), DEV), "each development URL became a production one");
  checkManifest(xml, PROD, OUT);
});

test("webpack.config.js: the production URL is checked, and the placeholder is used when it is not set", () => {
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const cfg = require(path.join(ROOT, "webpack.config.js")) as {
    productionUrl(env: Record<string, string | undefined>): string;
    productionManifest(xml: string, url: string): string;
    PLACEHOLDER_URL: string;
  };
  assert.equal(cfg.productionUrl({}), cfg.PLACEHOLDER_URL);
  assert.equal(cfg.productionUrl({ LMM_PROD_URL: "https://a.example/x" }), "https://a.example/x/", "a trailing slash is added");
  assert.throws(() => cfg.productionUrl({ LMM_PROD_URL: "http://a.example/" }), /must be an https/);
  assert.throws(() => cfg.productionUrl({ LMM_PROD_URL: "not a url" }), /not a URL/);
  const twice = `<a href="${DEV}x"/><b href="${DEV}y"/>`;
  assert.equal(cfg.productionManifest(twice, "https://h.example/$&/"), '<a href="https://h.example/$&/x"/><b href="https://h.example/$&/y"/>', "every match, literally");
});

test("the XML reader (fast-xml-parser) rejects malformed manifests and decodes entities", () => {
  assert.throws(() => parseXml("<a><b></a>"), /line 1, column \d+: Expected closing tag 'b'/);
  assert.throws(() => parseXml("<a x='1' x='2'/>"), /Attribute 'x' is repeated/);
  assert.throws(() => parseXml("<a><b/>"), /Unclosed tag 'a'/);
  assert.throws(() => parseXml("<a x=1/>"), /Attribute 'x' is without value/);
  assert.throws(() => parseXml("<a/><b/>"), /2 root elements/);
  const e = parseXml("<?xml version='1.0'?><a t='&quot;x&gt;'>&amp;<!-- c --><b/><b k='v'/></a>");
  assert.equal(e.attrs.t, '"x>');
  assert.equal(e.text, "&");
  assert.deepEqual(
    findAll(e, "b").map((b) => [b.path, b.attrs.k]),
    [
      ["a/b[1]", undefined],
      ["a/b[2]", "v"],
    ],
  );
});

// ---------------------------------------------------------------------------------------------
// The built functions in a real browser: Chromium loads the built taskpane.html (Office.js
// answered by a stub that records CustomFunctions.associate), then the registered functions are
// called as Excel calls them. Fits run in lmm-worker.js; the page's thread stays free; one fit
// serves several functions; a cancelled fit's worker is terminated.

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

const OFFICE_STUB = `
window.__cf = {};
window.Office = { onReady: function () { return new Promise(function () {}); } };
window.CustomFunctions = {
  associate: function (id, fn) { window.__cf[id] = fn; },
  Error: function (code, message) { this.code = code; this.message = message; },
  ErrorCode: { invalidValue: "#VALUE!", notAvailable: "#N/A" }
};`;

test("in Chromium: the functions fit in the Web Worker, share one fit, keep the page responsive, and cancel by terminating the worker", async (t) => {
  if (!fs.existsSync(CHROMIUM)) {
    t.skip(`Chromium not found at ${CHROMIUM} (apt-get install chromium)`);
    return;
  }
  const http = await import("node:http");
  const { chromium } = await import("playwright-core");
  const types: Record<string, string> = { ".html": "text/html", ".js": "text/javascript", ".json": "application/json", ".png": "image/png", ".xml": "application/xml" };
  const server = http.createServer((req, res) => {
    const rel = (req.url ?? "/").split("?")[0].slice(1) || "taskpane.html";
    const file = path.join(OUT, rel);
    if (!file.startsWith(OUT + path.sep) || !fs.existsSync(file)) return void res.writeHead(404).end();
    res.writeHead(200, { "Content-Type": types[path.extname(file)] ?? "application/octet-stream" }).end(fs.readFileSync(file));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const port = (server.address() as { port: number }).port;
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--headless", "--no-sandbox", "--disable-gpu"] });
  try {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(String(e)));
    await page.route("**/*", (route) => {
      const url = route.request().url();
      if (url.startsWith("https://appsforoffice.microsoft.com/")) return route.fulfill({ status: 200, contentType: "text/javascript", body: OFFICE_STUB });
      if (url.startsWith(`http://127.0.0.1:${port}/`)) return route.continue();
      return route.abort();
    });
    await page.addInitScript(() => {
      const w = window as unknown as { __workers: { created: number; terminated: number }; Worker: typeof Worker };
      w.__workers = { created: 0, terminated: 0 };
      const Base = w.Worker;
      w.Worker = class extends Base {
        constructor(url: string | URL, opts?: WorkerOptions) {
          super(url, opts);
          w.__workers.created++;
        }
        override terminate() {
          w.__workers.terminated++;
          super.terminate();
        }
      };
    });
    await page.goto(`http://127.0.0.1:${port}/taskpane.html`);
    // Every function of the generated metadata is registered with the shared runtime.
    const ids = (JSON.parse(read("functions.json")) as { functions: FnMeta[] }).functions.length;
    await page.waitForFunction((n) => Object.keys((window as unknown as { __cf: object }).__cf).length === n, ids);

    const sitka = fs
      .readFileSync(path.join(ROOT, "assets", "examples", "sitka.csv"), "utf8")
      .trim()
      .split(/\r?\n/)
      .map((l, i) => l.split(",").map((c) => (i > 0 && c !== "" && !Number.isNaN(Number(c)) ? Number(c) : c.replace(/"/g, ""))));
    const out = await page.evaluate(async (data) => {
      type Fn = (...a: unknown[]) => Promise<unknown[][]>;
      const w = window as unknown as { __cf: Record<string, Fn>; __lmmClient: { started: number }; __workers: { created: number } };
      const inv = () => ({ onCanceled: null });
      const spec = "size ~ time*treat + (1|tree)";
      const [f, v, b] = await Promise.all([w.__cf.FIT(data, spec, null, null, null, inv()), w.__cf.VARCOMP(data, spec, null, null, null, inv()), w.__cf.BLUP(data, spec, null, null, inv())]);
      let bad: unknown = null;
      try {
        await w.__cf.FIT(data, "size ~ tme + (1|tree)", null, null, null, inv());
      } catch (e) {
        bad = { code: (e as { code: string }).code, message: (e as Error).message };
      }
      return { logLik: f.find((r) => String(r[0]).includes("logLik"))![1], tree: v[1][2], blups: b.length, started: w.__lmmClient.started, created: w.__workers.created, bad };
    }, sitka);
    assert.ok(Math.abs((out.logLik as number) + 81.75852) < 1e-4, `logLik ${out.logLik}`);
    assert.ok(Math.abs((out.tree as number) - 0.369909) < 1e-4, `tree variance ${out.tree}`);
    assert.equal(out.blups, 80);
    assert.equal(out.started, 2, "one fit for FIT, VARCOMP and BLUP, one for the bad spec");
    assert.ok(out.created >= 1 && out.created <= 2, `workers created: ${out.created}`);
    assert.deepEqual(out.bad && (out.bad as { code: string }).code, "#VALUE!");
    assert.match((out.bad as { message: string }).message, /unknown column 'tme'/);

    // Crossed factors of 60 and 40 levels: the 40-level one forms the dense block, which goes
    // through the WebAssembly SIMD kernel (or its JS fallback) in the browser's worker. The
    // numbers must be Node's (whose kernel is checked against a textbook loop, and whose
    // crossed fits match lme4 in the engine tests).
    const crossed: unknown[][] = [["y", "a", "b"]];
    for (let i = 0; i < 40; i++) {
      for (let j = 0; j < 60; j++) {
        if ((i * 7 + j * 3) % 5 !== 0) crossed.push([Math.sin(i) + Math.cos(j * 1.3) + ((i * 31 + j * 17) % 11) / 10, `a${i}`, `b${j}`]);
      }
    }
    const crossedSpec = "y ~ 1 + (1|a) + (1|b)";
    const inBrowser = await page.evaluate(
      async ([data, spec]) => {
        type Fn = (...a: unknown[]) => Promise<unknown[][]>;
        const w = window as unknown as { __cf: Record<string, Fn> };
        const f = await w.__cf.FIT(data, spec, null, null, null, { onCanceled: null });
        return f.find((r) => String(r[0]).includes("logLik"))![1] as number;
      },
      [crossed, crossedSpec] as const,
    );
    const inNode = fitModel(tableFromRows(crossed), crossedSpec).logLik;
    assert.ok(Math.abs(inBrowser - inNode) < 1e-8, `crossed fit in the browser's worker: logLik ${inBrowser}, in Node ${inNode}`);

    const cancel = await page.evaluate(async (data) => {
      type Fn = (...a: unknown[]) => Promise<unknown[][]>;
      const w = window as unknown as { __cf: Record<string, Fn>; __lmmClient: { running(): number; currentRunner(): { stats(): { busy: number } } }; __workers: { created: number; terminated: number } };
      const before = { ...w.__workers };
      const inv: { onCanceled: null | (() => void) } = { onCanceled: null };
      // A heartbeat on the page's thread: it keeps ticking while the worker fits.
      let last = performance.now(), maxGap = 0;
      const beat = setInterval(() => {
        const now = performance.now();
        maxGap = Math.max(maxGap, now - last);
        last = now;
      }, 10);
      // An exact RLRT with 90,000 simulations (just under the cost cap) takes seconds (and the engine cannot stop
      // it from inside): only terminating its worker ends it.
      const p = w.__cf.RLRT(data, "size ~ time + (1|tree)", 90000, null, inv).then(
        () => "finished",
        (e) => String((e as Error).message),
      );
      await new Promise((r) => setTimeout(r, 400));
      const busy = w.__lmmClient.currentRunner().stats().busy;
      inv.onCanceled!();
      const outcome = await p;
      clearInterval(beat);
      return { busy, outcome, terminated: w.__workers.terminated - before.terminated, running: w.__lmmClient.running(), stats: w.__lmmClient.currentRunner().stats(), maxGap };
    }, sitka);
    assert.equal(cancel.busy, 1, `the fit was running in a worker when cancelled: ${JSON.stringify(cancel)}`);
    assert.match(cancel.outcome, /cancelled/);
    assert.equal(cancel.terminated, 1, "its worker was terminated");
    assert.equal(cancel.running, 0);
    assert.equal(cancel.stats.busy, 0);
    assert.ok(cancel.maxGap < 250, `the page's thread stayed free (longest gap ${Math.round(cancel.maxGap)} ms)`);
    assert.deepEqual(errors, [], "no errors in the page");
  } finally {
    await browser.close();
    await new Promise<void>((r) => server.close(() => r()));
  }
});
