#!/usr/bin/env node
"use strict";
// Runs every compiled test file (build/test/**/*.test.js) with node's test runner. Its closing
// lines ("ℹ tests N", "ℹ pass N", "ℹ fail N") are what CI reads. `node test/run.js PATTERN`
// runs only the files whose path contains PATTERN.
const { spawnSync } = require("node:child_process");
const fs = require("node:fs");
const path = require("node:path");

const root = path.join(__dirname, "..", "build", "test");
const files = [];
(function walk(dir) {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) walk(p);
    else if (e.name.endsWith(".test.js")) files.push(p);
  }
})(root);
const only = process.argv[2];
const chosen = files.filter((f) => !only || f.includes(only)).sort();
// node --test with no files would search the whole tree for tests of its own: say so instead.
if (chosen.length === 0) {
  console.error(`no test file matches '${only}' under build/test (run tsc first?)`);
  process.exit(1);
}
// Every test process first loads the fixed fast-check seed (test/helpers/fc-seed.ts).
const seed = path.join(root, "helpers", "fc-seed.js");
const r = spawnSync(process.execPath, ["--require", seed, "--test", "--test-reporter=spec", ...chosen], { stdio: "inherit" });
process.exit(r.status === null ? 1 : r.status);
