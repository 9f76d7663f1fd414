// The add-in's build (webpack, offline) and its manifest, checked structurally without the
// network (office-addin-manifest validate needs Microsoft's service, so it is not run here).
import { test, before } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { spawnSync } from "node:child_process";
import { ROOT } from "../helpers/fixtures";

const DIST = path.join(ROOT, "dist");

before(() => {
  // `npm run build` (CI runs it before the tests); build here only if dist/ is missing or stale.
  const stamp = path.join(DIST, "functions.json");
  const newest = (dir: string): number => fs.readdirSync(dir, { withFileTypes: true }).reduce((m, e) => Math.max(m, e.isDirectory() ? newest(path.join(dir, e.name)) : fs.statSync(path.join(dir, e.name)).mtimeMs), 0);
  if (!fs.existsSync(stamp) || fs.statSync(stamp).mtimeMs < newest(path.join(ROOT, "src"))) {
    const r = spawnSync(process.execPath, [path.join(ROOT, "node_modules", "webpack", "bin", "webpack.js"), "--mode", "production"], { cwd: ROOT, encoding: "utf8" });
    assert.equal(r.status, 0, r.stdout + r.stderr);
  }
});

test("dist/ has the page, the functions, their metadata, the worker, the manifest and icons", () => {
  for (const f of ["taskpane.html", "taskpane.js", "functions.js", "functions.json", "commands.js", "lmm-worker.js", "manifest.xml", "assets/icon-32.png", "assets/icon-80.png"]) {
    assert.ok(fs.existsSync(path.join(DIST, f)), `dist/${f} missing`);
  }
  const html = fs.readFileSync(path.join(DIST, "taskpane.html"), "utf8");
  for (const chunk of ["taskpane.js", "functions.js", "commands.js"]) assert.ok(html.includes(chunk), `taskpane.html loads ${chunk}`);
  assert.ok(html.includes("appsforoffice.microsoft.com/lib/1/hosted/office.js"), "Office.js from the CDN");
});

test("functions.json: ids, matrix data and results, optional arguments, error cells allowed", () => {
  const meta = JSON.parse(fs.readFileSync(path.join(DIST, "functions.json"), "utf8"));
  assert.equal(meta.allowErrorForDataTypeAny, true);
  const byId = new Map<string, { parameters: { name: string; dimensionality?: string; optional?: boolean }[]; result: { dimensionality?: string }; options?: { cancelable?: boolean } }>(meta.functions.map((f: { id: string }) => [f.id, f]));
  assert.deepEqual([...byId.keys()].sort(), ["BLUP", "FIT", "FITTED", "LRT", "VARCOMP"]);
  for (const [id, f] of byId) {
    assert.equal(f.result.dimensionality, "matrix", `${id} returns a matrix`);
    assert.equal(f.parameters[0].name, "data");
    assert.equal(f.parameters[0].dimensionality, "matrix", `${id} data is a matrix`);
    assert.equal(f.options?.cancelable, true, `${id} is cancelable`);
    assert.ok(f.parameters.some((p) => p.optional), `${id} has optional arguments`);
  }
  assert.equal(byId.get("LRT")!.parameters[1].dimensionality, "matrix");
  const js = fs.readFileSync(path.join(DIST, "functions.js"), "utf8");
  assert.ok(js.includes("CustomFunctions.associate"), "the metadata plugin associated the functions");
});

/** A small XML reader: elements with attributes and children (the manifest has no mixed content we need). */
interface El { name: string; attrs: Record<string, string>; children: El[] }
function parseXml(src: string): El {
  const root: El = { name: "#root", attrs: {}, children: [] };
  const stack = [root];
  const re = /<!--[\s\S]*?-->|<\?[\s\S]*?\?>|<\/([\w:.-]+)\s*>|<([\w:.-]+)((?:\s+[\w:.-]+\s*=\s*"[^"]*")*)\s*(\/?)>/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(src))) {
    if (m[1]) {
      const top = stack.pop()!;
      assert.equal(top.name, m[1], `closing </${m[1]}> matches <${top.name}>`);
    } else if (m[2]) {
      const attrs: Record<string, string> = {};
      for (const a of m[3].matchAll(/([\w:.-]+)\s*=\s*"([^"]*)"/g)) attrs[a[1]] = a[2];
      const el: El = { name: m[2], attrs, children: [] };
      stack[stack.length - 1].children.push(el);
      if (!m[4]) stack.push(el);
    }
  }
  assert.equal(stack.length, 1, "every element is closed");
  return root.children[0];
}
const all = (e: El, name: string): El[] => [...(e.name === name ? [e] : []), ...e.children.flatMap((c) => all(c, name))];

test("manifest.xml: resids resolve, the shared runtime is consistent, URLs agree, names are right", () => {
  for (const file of [path.join(ROOT, "manifest.xml"), path.join(DIST, "manifest.xml")]) {
    const doc = parseXml(fs.readFileSync(file, "utf8"));
    assert.equal(doc.name, "OfficeApp");
    const defined = new Map<string, string>();
    const resources = all(doc, "Resources")[0];
    for (const tag of ["bt:Url", "bt:String", "bt:Image"]) for (const e of all(resources, tag)) {
      assert.ok(!defined.has(e.attrs.id), `resource id ${e.attrs.id} defined once`);
      defined.set(e.attrs.id, e.attrs.DefaultValue);
    }
    const refs: string[] = [];
    (function walk(e: El) {
      if (e.attrs.resid) refs.push(e.attrs.resid);
      e.children.forEach(walk);
    })(doc);
    for (const r of refs) assert.ok(defined.has(r), `resid ${r} resolves`);
    const runtime = all(doc, "Runtime")[0];
    assert.equal(runtime.attrs.lifetime, "long");
    const page = all(doc, "Page")[0].children[0];
    const functionFile = all(doc, "FunctionFile")[0];
    assert.equal(page.attrs.resid, runtime.attrs.resid, "Page uses the runtime's resid");
    assert.equal(functionFile.attrs.resid, runtime.attrs.resid, "FunctionFile uses the runtime's resid");
    assert.ok(all(doc, "Set").some((s) => s.attrs.Name === "SharedRuntime" && s.attrs.MinVersion === "1.1"));
    assert.equal(defined.get(all(doc, "Namespace")[0].attrs.resid), "LMM");
    assert.ok(all(doc, "ExtensionPoint").some((e) => e.attrs["xsi:type"] === "CustomFunctions"));
    assert.equal(all(doc, "Permissions")[0].children.length, 0);
    assert.ok(fs.readFileSync(file, "utf8").includes("<Permissions>ReadWriteDocument</Permissions>"));
    // Every URL (resources and top-level settings) shares one origin.
    const urls = [...defined.values()].filter((v) => /^https?:/.test(v));
    for (const tag of ["SourceLocation", "IconUrl", "HighResolutionIconUrl", "SupportUrl"]) for (const e of all(doc, tag)) if (e.attrs.DefaultValue) urls.push(e.attrs.DefaultValue);
    const origins = new Set(urls.map((u) => new URL(u).origin));
    assert.equal(origins.size, 1, `one origin: ${[...origins].join(", ")}`);
    for (const [id, url] of defined) {
      if (!/^https?:/.test(url)) continue;
      const rel = new URL(url).pathname.replace(/^\//, "");
      if (file.startsWith(DIST) && rel) assert.ok(fs.existsSync(path.join(DIST, rel)), `${id} -> dist/${rel} exists`);
    }
  }
});

test("a production build replaces every development URL", () => {
  const out = path.join(ROOT, ".scratch-prod");
  const r = spawnSync(process.execPath, [path.join(ROOT, "node_modules", "webpack", "bin", "webpack.js"), "--mode", "production", "--output-path", out], {
    cwd: ROOT, encoding: "utf8", env: { ...process.env, LMM_PROD_URL: "https://lmm.example.org/addin/" },
  });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  const xml = fs.readFileSync(path.join(out, "manifest.xml"), "utf8");
  fs.rmSync(out, { recursive: true, force: true });
  assert.ok(!xml.includes("https://localhost:3000/"), "no development URL left");
  assert.ok((xml.match(/https:\/\/lmm\.example\.org\/addin\//g) ?? []).length >= 8);
});
