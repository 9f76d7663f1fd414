// The `lmm` command: --json shapes (ARCHITECTURE.md §5), readable tables, the demo, and one-line
// errors with exit code 2.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as path from "node:path";
import { spawnSync } from "node:child_process";
import { ROOT, closeAbs } from "./helpers/fixtures";

const run = (...args: string[]) => spawnSync(process.execPath, [path.join(ROOT, "bin", "lmm.js"), ...args], { cwd: ROOT, encoding: "utf8" });
const SITKA = "assets/examples/sitka.csv";

test("lmm fit --json prints the result object with the documented keys", () => {
  const r = run("fit", SITKA, "size ~ time*treat + (1|tree)", "--json");
  assert.equal(r.status, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  for (const k of ["spec", "method", "n", "n_dropped", "groups", "logLik", "df", "AIC", "BIC", "sigma", "converged", "singular", "messages", "fixef", "varcomp", "residual", "blups"]) {
    assert.ok(k in j, `key ${k}`);
  }
  closeAbs(j.logLik, -81.75852, 5e-6, "logLik");
  assert.deepEqual(j.groups, { tree: 79 });
  assert.deepEqual(Object.keys(j.fixef[0]).sort(), ["df", "estimate", "lower", "p", "se", "t", "term", "upper"]);
  assert.deepEqual(Object.keys(j.varcomp[0]).sort(), ["corr", "effect", "effect2", "group", "sd", "sd_lower", "sd_upper", "var_prop", "variance"]);
  assert.equal(j.varcomp[1].group, "Residual");
  assert.equal(j.blups.tree.levels.length, 79);
});

test("lmm fit prints readable tables; --method ML", () => {
  const r = run("fit", SITKA, "size ~ time + (1|tree)", "--method", "ML");
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /maximum likelihood/);
  assert.match(r.stdout, /-73\.32263/);
  assert.match(r.stdout, /Fixed effects \(Satterthwaite df\):/);
  assert.match(r.stdout, /R²: marginal 0\.\d{3}, conditional 0\.\d{3} \(Nakagawa/);
});

test("lmm lrt --json and lmm rlrt --json", () => {
  const r = run("lrt", SITKA, "size ~ time + (1|tree)", "size ~ time + (time|tree)", "--json");
  assert.equal(r.status, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  assert.deepEqual(Object.keys(j).sort(), ["messages", "method", "models", "refit_ml", "tests"]);
  closeAbs(j.tests[0]["L.Ratio"], 39.80992, 1e-5, "L.Ratio");
  assert.ok(Math.abs(j.tests[0].p_mixture - 1.273288e-9) < 1e-13);
  const s = run("rlrt", SITKA, "size ~ time*treat + (1|tree)", "--json", "--nsim", "2000");
  assert.equal(s.status, 0, s.stderr);
  const k = JSON.parse(s.stdout);
  assert.deepEqual(Object.keys(k).sort(), ["nsim", "p", "statistic"]);
  assert.equal(k.nsim, 2000);
});

// The lecture's tables as R printed them (seed/week6-linear-mixed-models.txt: mixedup's Table 1 and
// nlme's anova), and the GLS ladder's logLik column as nlme's anova prints it (issue 3). The demo
// must print the same rows to the last digit (row names aside: R's are the object names).
const LECTURE_ROWS = [
  "tree Intercept 0.370 0.608 0.516 0.710 0.908",
  "Residual 0.038 0.194 0.179 0.209 0.092", // R prints NA as the residual's effect; the demo leaves it blank
  "1 6 142.1890 166.0623 -65.09451",
  "2 4 154.6453 170.5608 -73.32263 1 vs 2 16.45623 3e-04",
  "1 4 172.7768 188.6720 -82.38840",
  "2 6 136.9669 160.8098 -62.48344 1 vs 2 39.80992 <.0001",
];
const LADDER_LOGLIK = ["-394.2299", "-81.7585", "-34.9311", "-15.7839", "21.5648"];

test("lmm demo prints the lecture's tables, digit for digit", () => {
  const r = run("demo");
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.split("\n").map((l) => l.trim().split(/\s+/).join(" "));
  for (const row of LECTURE_ROWS) {
    // our anova adds a last column, p (mixture)
    const same = (l: string) => l === row || l.startsWith(row + " ");
    assert.ok(lines.some((l) => same(l) || same(l.replace(/^\S+ /, ""))), `demo output lacks the lecture's row: ${row}`);
  }
  const ladder = lines.slice(lines.findIndex((l) => l.startsWith("Linear model with correlated errors")));
  const ll = ladder.filter((l) => /^m[1-5] /.test(l)).slice(0, 5).map((l) => l.split(" ")[5]);
  assert.deepEqual(ll, LADDER_LOGLIK);
  for (const s of ["175.5170", "199.3293", "-81.75852", "1.27329e-09", "Intra-class correlation: 0.908"]) {
    assert.ok(r.stdout.includes(s), `demo output lacks ${s}`);
  }
});

test("bad input: one line on stderr, exit code 2", () => {
  const cases: [string[], RegExp][] = [
    [["fit", "nope.csv", "y ~ x"], /cannot read 'nope.csv'/],
    [["fit", SITKA, "size ~ time +"], /expected a column name after '\+'/],
    [["fit", SITKA, "size ~ tim + (1|tree)"], /unknown column 'tim'/],
    [["fit", SITKA], /missing the model spec/],
    [["fit", SITKA, "size ~ time", "--method", "OLS"], /--method must be REML or ML/],
    [["frobnicate"], /unknown command/],
    [["fit", "test/data/bad-ragged.csv", "y ~ x"], /cannot read|fields/],
  ];
  for (const [args, re] of cases) {
    const r = run(...args);
    assert.equal(r.status, 2, `exit code for ${args.join(" ")}`);
    assert.match(r.stderr.split("\n")[0], re);
    assert.equal(r.stdout, "");
  }
});

// ---------------------------------------------------------------------------------------------
// Issue 13/14: every bad invocation is one line on stderr with exit code 2 (the usage only for
// `lmm` alone and --help); flags are checked per command with the nearest flag suggested.

/** main() in this process, with stdout and stderr captured (a spawn per case would be slow). */
async function runIn(...args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  const { main } = await import("../src/cli/main");
  let stdout = "", stderr = "";
  const out = process.stdout.write.bind(process.stdout), err = process.stderr.write.bind(process.stderr);
  // The command writes strings. The test runner's own reports to its parent are Buffers, and
  // they can arrive while the command awaits its worker thread: pass those through.
  process.stdout.write = ((s: string | Uint8Array, ...rest: never[]) => (typeof s === "string" ? ((stdout += s), true) : out(s, ...rest))) as typeof process.stdout.write;
  process.stderr.write = ((s: string | Uint8Array, ...rest: never[]) => (typeof s === "string" ? ((stderr += s), true) : err(s, ...rest))) as typeof process.stderr.write;
  try {
    const status = await main(args);
    return { status, stdout, stderr };
  } finally {
    process.stdout.write = out;
    process.stderr.write = err;
  }
}

const oneLine = (s: string) => s.endsWith("\n") && s.indexOf("\n") === s.length - 1;

test("bad invocations: exactly one line on stderr, nothing on stdout, exit code 2", async () => {
  const S = SITKA, M = "size ~ time + (1|tree)";
  const cases: [string[], RegExp][] = [
    [["fit", S, M, "--metod", "ML"], /^lmm: unknown flag --metod; did you mean --method\?/],
    [["fit", S, M, "--jsn"], /^lmm: unknown flag --jsn; did you mean --json\?/],
    [["fit", S, M, "--json=1"], /^lmm: --json takes no value: write --json, not --json=1/],
    [["fit", S, M, "-json"], /^lmm: unknown flag -json; did you mean --json\? \(flags start with two dashes\)/],
    [["fit", S, M, "--nsim", "100"], /^lmm: --nsim is not a flag of 'lmm fit' \(it belongs to lmm rlrt\)/],
    [["lrt", S, M, M, "--level", "0.9"], /^lmm: --level is not a flag of 'lmm lrt' \(it belongs to lmm fit and lmm emmeans and lmm predict\)/],
    [["fit", S, M, "--frobnicate"], /^lmm: unknown flag --frobnicate; the flags of 'lmm fit' are --method, --json, --ci, --level/],
    [["fit", S, M, "--method"], /^lmm: --method needs a value, as in --method ML/],
    [["fit", S, M, "--method", "--json"], /^lmm: --method needs a value/],
    [["fit", S, M, "--method", "OLS"], /^lmm: --method must be REML or ML, not 'OLS'/],
    [["fit", S, M, "--method", "ML", "--method", "REML"], /^lmm: --method is given twice/],
    [["fit", S, M, "--ci", "bootstrap"], /^lmm: --ci must be auto, profile, wald or none, not 'bootstrap'/],
    [["fit", S, M, "--level", "95"], /^lmm: --level must be a number between 0 and 1 \(exclusive\), such as 0\.9, not '95' \(for 95 % write 0\.95\)/],
    [["fit", S, M, "--level", "0"], /^lmm: --level must be a number between 0 and 1/],
    [["fit", S, M, "--level", "abc"], /^lmm: --level must be a number between 0 and 1/],
    [["rlrt", S, M, "--nsim", "0"], /^lmm: --nsim must be a whole number from 1 to 1000000, not '0'/],
    [["rlrt", S, M, "--nsim", "1e3"], /^lmm: --nsim must be a whole number/],
    [["rlrt", S, M, "--seed", "-1"], /^lmm: --seed must be a whole number from 0 to 4294967295/],
    [["fit", "nope.csv", M], /^lmm: cannot read 'nope.csv': no such file/],
    [["fit", M, S], /^lmm: cannot read 'size ~ time \+ \(1\|tree\)': no such file \(the data file comes first/],
    [["fit", "test", M], /^lmm: cannot read 'test': it is a folder, not a file/],
    [["fit", S], /^lmm: missing the model spec/],
    [["fit"], /^lmm: missing the data file and the model spec/],
    [["fit", S, "size", "~", "time"], /^lmm: unexpected argument '~' \(quote the spec/],
    [["lrt", S, M], /^lmm: lrt needs at least two model specs/],
    [["fti", S, M], /^lmm: unknown command 'fti'; did you mean fit\?/],
    [["frobnicate"], /^lmm: unknown command 'frobnicate' \(the commands are fit, lrt, rlrt, anova, (.*, )?demo\)/],
    [["demo", "x"], /^lmm: 'lmm demo' takes no arguments/],
    [["fit", S, "size ~ time + (1|size)"], /^lmm: the grouping factor 'size' is the response/],
    [["fit", S, "size ~ " + "(".repeat(5000) + "time" + ")".repeat(5000)], /^lmm: the spec is nested too deeply/],
  ];
  for (const [args, re] of cases) {
    const r = await runIn(...args);
    const what = args.join(" ").slice(0, 80);
    assert.equal(r.status, 2, `exit code for ${what}`);
    assert.ok(oneLine(r.stderr), `one line on stderr for ${what}: ${JSON.stringify(r.stderr)}`);
    assert.match(r.stderr, re, what);
    assert.equal(r.stdout, "", what);
  }
  // The usage: for `lmm` alone (on stderr, exit 2) and for --help (on stdout, exit 0), anywhere.
  const bare = await runIn();
  assert.equal(bare.status, 2);
  assert.match(bare.stderr, /^usage:/);
  for (const args of [["--help"], ["-h"], ["help"], ["fit", "--help"], ["rlrt", SITKA, "-h"]]) {
    const r = await runIn(...args);
    assert.equal(r.status, 0, args.join(" "));
    assert.match(r.stdout, /^usage:\n {2}lmm fit/);
  }
});

test("--level sets the confidence level of lmm fit, in the numbers and the headers", async () => {
  const M = "size ~ time + (1|tree)";
  const j90 = JSON.parse((await runIn("fit", SITKA, M, "--json", "--level", "0.9", "--ci", "wald")).stdout);
  const j95 = JSON.parse((await runIn("fit", SITKA, M, "--json", "--ci", "wald")).stdout);
  const { fitModel, parseCsv } = await import("../src/engine");
  const fs = await import("node:fs");
  const want = fitModel(parseCsv(fs.readFileSync(path.join(ROOT, SITKA), "utf8")), M, { level: 0.9, ci: "wald" });
  assert.deepEqual(j90.fixef.map((r: { lower: number }) => r.lower), want.fixef.map((r) => r.lower));
  assert.ok(j90.fixef[1].upper - j90.fixef[1].lower < j95.fixef[1].upper - j95.fixef[1].lower);
  const pct = await runIn("fit", SITKA, M, "--level", "90%", "--ci", "wald");
  assert.equal(pct.status, 0, pct.stderr);
  assert.match(pct.stdout, / 5 % +95 %/);
  assert.match(pct.stdout, /sd_5 +sd_95/);
});

test("lmm reads semicolon/tab files with decimal commas and UTF-16 files as the comma file", async () => {
  const fs = await import("node:fs");
  const os = await import("node:os");
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "lmm-cli-"));
  const text = fs.readFileSync(path.join(ROOT, SITKA), "utf8");
  const semi = text.split("\n").map((l) => l.split(",").map((f) => f.replace(".", ",")).join(";")).join("\r\n");
  const files: [string, Buffer][] = [
    ["semicolon.csv", Buffer.from(semi, "utf8")],
    ["tab.txt", Buffer.from(text.replace(/,/g, "\t"), "utf8")],
    ["utf8bom.csv", Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text)])],
    ["utf16le.csv", Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(semi, "utf16le")])],
    ["utf16le-nobom.csv", Buffer.from(text, "utf16le")],
  ];
  const M = "size ~ time + (1|tree)";
  const want = JSON.parse((await runIn("fit", SITKA, M, "--json", "--ci", "none")).stdout);
  for (const [name, bytes] of files) {
    const f = path.join(dir, name);
    fs.writeFileSync(f, bytes);
    const r = await runIn("fit", f, M, "--json", "--ci", "none");
    assert.equal(r.status, 0, `${name}: ${r.stderr}`);
    const j = JSON.parse(r.stdout);
    assert.equal(j.logLik, want.logLik, name);
    assert.deepEqual(j.fixef, want.fixef, name);
  }
  fs.rmSync(dir, { recursive: true, force: true });
});

test("the real command: one line and exit code 2 for a misspelled flag (spawned)", () => {
  const r = run("fit", SITKA, "size ~ time", "--metod", "ML");
  assert.equal(r.status, 2);
  assert.equal(r.stderr, "lmm: unknown flag --metod; did you mean --method? (lmm --help shows the usage)\n");
  assert.equal(r.stdout, "");
});
