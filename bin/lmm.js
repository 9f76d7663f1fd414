#!/usr/bin/env node
"use strict";
// The `lmm` command. The TypeScript is compiled to build/ by `npm install` (the prepare script).
require("../build/src/cli/main.js").main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (err) => { process.stderr.write(`lmm: ${err && err.message ? err.message : err}\n`); process.exitCode = 2; }
);
