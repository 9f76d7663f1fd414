#!/usr/bin/env node
"use strict";
// The `lmm` command. The TypeScript is compiled to build/ by `npm install` (the prepare script).
let cli;
try {
  cli = require("../build/src/cli/main.js");
} catch (err) {
  process.stderr.write(`lmm: the command is not built (${err && err.code === "MODULE_NOT_FOUND" ? "build/ is missing" : err && err.message}): run npm install, or npx tsc -p tsconfig.json\n`);
  process.exit(2);
}
// A reader that stops early (`lmm fit ... | head`) closes the pipe: that is not an error of ours.
process.stdout.on("error", (err) => {
  if (err && err.code === "EPIPE") process.exit(0);
  throw err;
});
cli.main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (err) => { process.stderr.write(`lmm: ${err && err.message ? String(err.message).replace(/\s*\n\s*/g, " ") : err}\n`); process.exitCode = 2; }
);
