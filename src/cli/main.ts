// The `lmm` command (ARCHITECTURE.md §5):
//   lmm fit  DATA.csv "SPEC" [--method REML|ML] [--json] [--ci auto|profile|wald|none] [--level 0.95] [--ddf satterthwaite|kr|residual|containment] [--fixef-ci t|profile]
//   lmm anova DATA.csv "SPEC" [--type 1|2|3] [--ddf ...] [--method REML|ML] [--L "0,1,0;0,0,1"] [--json]
//   lmm emmeans DATA.csv "SPEC" --specs "f[,g]" [--by h] [--at "x=1,z=2"] [--trend x] [--adjust ...] [--ddf ...] [--method] [--level] [--json]
//   lmm lrt  DATA.csv "SPEC0" "SPEC1" [...] [--method REML|ML] [--json]
//   (fit, lrt, rlrt and anova also take --weights COLUMN: the spec part "; weights(COLUMN)")
//   lmm rlrt DATA.csv "SPEC" [--nsim 10000] [--seed 1] [--json]
//   lmm structures DATA.csv "SPEC" [--candidates "CS,AR1,..."] [--json]
//   lmm influence DATA.csv "SPEC" [--group g] [--method REML|ML] [--json]
//   lmm predict DATA.csv "SPEC" NEWDATA.csv [--level population|group|forecast] [--interval none|confidence|prediction] [--conf 0.95] [--json]
//   lmm demo
// Bad input prints one line on stderr and exits with 2; only `lmm` alone or --help prints the
// usage. Every flag is checked: an unknown or misspelled one is an error with the nearest flag,
// never ignored in silence. The engine runs in a worker thread (progress.ts): Ctrl-C prints one
// line and exits with 130; long fits show progress on a terminal.
import * as fs from "node:fs";
import * as path from "node:path";
import { guarded } from "../engine/errors";
import { parseCsv as parseCsv0 } from "../engine/data/csv";
import { parseDdf } from "../engine/inference/ddf-option";
import type { DataTable, FitResultWithRows, LrtResult, Method, RlrtResult } from "../engine/types";
import { decodeText } from "../engine/data/decode";
import { nearest } from "../engine/options";
import { runEngine } from "./progress";
import { formatRows } from "./rows-format";
import { formatFit, formatLrt, formatRlrt } from "./format";
import { formatStructures, splitCandidates } from "./structures";
import type { StructuresResult } from "../engine/inference/structures";

const USAGE = `usage:
  lmm fit  DATA.csv "SPEC" [--method REML|ML] [--json] [--ci auto|profile|wald|none] [--level 0.95]
                            [--ddf satterthwaite|kr|residual|containment] [--fixef-ci t|profile] [--rows]
  lmm lrt  DATA.csv "SPEC0" "SPEC1" [...] [--method REML|ML] [--json]
  lmm rlrt DATA.csv "SPEC" [--nsim 10000] [--seed 1] [--json]
  lmm anova DATA.csv "SPEC" [--type 1|2|3] [--ddf satterthwaite|kr|residual|containment] [--method REML|ML] [--L "0,1,0;0,0,1"] [--json]
  lmm structures DATA.csv "SPEC" [--candidates "independence,CS,AR1,ARH1,CSH,TOEP,UN"] [--json]
  lmm influence DATA.csv "SPEC" [--group g] [--method REML|ML] [--json]
  lmm emmeans DATA.csv "SPEC" --specs "treat[,g]" [--by "h"] [--at "time=200" | "time=150|200"] [--trend time]
                            [--adjust tukey|holm|bonferroni|sidak|none] [--ddf ...] [--method REML|ML] [--level 0.95] [--json]
  lmm predict DATA.csv "SPEC" NEWDATA.csv [--level population|group|forecast] [--interval none|confidence|prediction]
                            [--conf 0.95] [--method REML|ML] [--json]
              (for predict, --level is the prediction level; --conf is the intervals' confidence level)
  lmm demo
SPEC is a model such as "size ~ time*treat + (1|tree)" (lme4 syntax), optionally followed by
"; AR1(time | tree)" (residual structure CS, AR1, CAR1, ARH1, UN, CSH, TOEP, ARMA, or spatial EXP,
GAUS, SPHER, LIN, RATIO), variance functions "; varIdent(treat) * varPower(time)" and
"; weights(w)" (prior weights: Var(e_i) = sigma^2 / w_i; --weights w adds it to every spec).
C(treat, contr.sum) codes a factor by other contrasts (contr.sum, contr.helmert, contr.poly, contr.SAS).
DATA.csv may be separated by commas, semicolons or tabs, with decimal points or commas.`;

class UsageError extends Error {}

/** The flags of each command: true when the flag takes a value. */
const FLAGS: Record<string, Record<string, boolean>> = {
  fit: { "--method": true, "--json": false, "--ci": true, "--level": true, "--ddf": true, "--weights": true, "--fixef-ci": true, "--rows": false },
  lrt: { "--method": true, "--json": false, "--weights": true },
  rlrt: { "--nsim": true, "--seed": true, "--json": false, "--weights": true },
  anova: { "--method": true, "--json": false, "--type": true, "--ddf": true, "--L": true, "--weights": true },
  structures: { "--candidates": true, "--json": false, "--weights": true },
  influence: { "--group": true, "--method": true, "--json": false, "--weights": true },
  emmeans: { "--method": true, "--json": false, "--specs": true, "--by": true, "--at": true, "--trend": true, "--adjust": true, "--ddf": true, "--level": true, "--weights": true },
  predict: { "--method": true, "--json": false, "--level": true, "--interval": true, "--conf": true, "--weights": true },
  demo: {},
};
const COMMANDS = Object.keys(FLAGS);
const ALL_FLAGS = Array.from(new Set(COMMANDS.flatMap((c) => Object.keys(FLAGS[c]))));

interface Args {
  positional: string[];
  flags: Map<string, string | true>;
}

function parseArgs(cmd: string, argv: string[]): Args {
  const known = FLAGS[cmd];
  const positional: string[] = [];
  const flags = new Map<string, string | true>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith("-") || a === "-" || /^-\d/.test(a)) {
      positional.push(a);
      continue;
    }
    const eq = a.indexOf("=");
    const k = eq >= 0 ? a.slice(0, eq) : a;
    const inline = eq >= 0 ? a.slice(eq + 1) : undefined;
    if (!(k in known)) throw new UsageError(unknownFlag(cmd, k));
    if (flags.has(k)) throw new UsageError(`${k} is given twice`);
    if (!known[k]) {
      if (inline !== undefined) throw new UsageError(`${k} takes no value: write ${k}, not ${a}`);
      flags.set(k, true);
      continue;
    }
    let v = inline;
    if (v === undefined) {
      if (i + 1 >= argv.length || argv[i + 1].startsWith("--")) throw new UsageError(`${k} needs a value, as in ${k} ${example(k)}`);
      v = argv[++i];
    }
    if (v.trim() === "") throw new UsageError(`${k} needs a value, as in ${k} ${example(k)}`);
    flags.set(k, v);
  }
  return { positional, flags };
}

function example(flag: string): string {
  return { "--specs": "treat", "--by": "time", "--at": "time=200", "--trend": "time", "--adjust": "holm", "--method": "ML", "--group": "Subject", "--ci": "wald", "--level": "0.9", "--nsim": "10000", "--seed": "1", "--fixef-ci": "profile" }[flag] ?? "VALUE";
}

/** "unknown flag --metod; did you mean --method?" */
function unknownFlag(cmd: string, k: string): string {
  const own = Object.keys(FLAGS[cmd]);
  const bare = k.replace(/^-+/, "");
  const dashed = `--${bare}`;
  if (own.includes(dashed)) return `unknown flag ${k}; did you mean ${dashed}? (flags start with two dashes)`;
  const others = COMMANDS.filter((c) => c !== cmd && dashed in FLAGS[c]);
  if (others.length > 0) return `${dashed} is not a flag of 'lmm ${cmd}' (it belongs to lmm ${others.join(" and lmm ")})`;
  const near = nearest(dashed, own);
  if (near) return `unknown flag ${k}; did you mean ${near}?`;
  const list = own.length ? `the flags of 'lmm ${cmd}' are ${own.join(", ")}` : `'lmm ${cmd}' takes no flags`;
  const elsewhere = nearest(dashed, ALL_FLAGS);
  return `unknown flag ${k}; ${list}${elsewhere && !own.includes(elsewhere) ? ` (${elsewhere} belongs to another command)` : ""}`;
}

function methodOf(args: Args): Method | undefined {
  const m = args.flags.get("--method");
  if (m === undefined) return undefined;
  const u = String(m).trim().toUpperCase();
  if (u !== "REML" && u !== "ML") throw new UsageError(`--method must be REML or ML, not '${m}'`);
  return u;
}

function ciOf(args: Args): "auto" | "profile" | "wald" | "none" {
  const v = args.flags.get("--ci");
  if (v === undefined) return "auto";
  const c = String(v).trim().toLowerCase();
  if (c !== "auto" && c !== "profile" && c !== "wald" && c !== "none") throw new UsageError(`--ci must be auto, profile, wald or none, not '${v}'`);
  return c;
}

function fixefCiOf(args: Args): "t" | "profile" | undefined {
  const v = args.flags.get("--fixef-ci");
  if (v === undefined) return undefined;
  const c = String(v).trim().toLowerCase();
  if (c !== "t" && c !== "profile") throw new UsageError(`--fixef-ci must be t or profile, not '${v}'`);
  return c;
}

function levelOf(args: Args): number | undefined {
  const v = args.flags.get("--level");
  if (v === undefined) return undefined;
  const s = String(v).trim();
  const pct = /^(\d+(?:\.\d+)?)\s*%$/.exec(s);
  const x = pct ? Number(pct[1]) / 100 : Number(s);
  if (!(x > 0 && x < 1)) {
    const hint = x >= 50 && x < 100 ? ` (for ${x} % write ${x / 100})` : "";
    throw new UsageError(`--level must be a number between 0 and 1 (exclusive), such as 0.9, not '${v}'${hint}`);
  }
  return x;
}

function intFlag(args: Args, name: string, dflt: number, lo: number, hi: number): number {
  const v = args.flags.get(name);
  if (v === undefined) return dflt;
  const s = String(v).trim();
  const n = /^[+]?\d+$/.test(s) ? Number(s) : NaN;
  if (!Number.isInteger(n) || n < lo || n > hi) throw new UsageError(`${name} must be a whole number from ${lo} to ${hi}, not '${v}'`);
  return n;
}

/** The engine's parseCsv (engine/index.ts), without loading the rest of the engine into this thread. */
const parseCsv = guarded(parseCsv0);

function readTable(file: string | undefined): DataTable {
  if (!file) throw new UsageError("missing the data file");
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch (err) {
    const code = (err as { code?: string }).code;
    const why = code === "ENOENT" ? "no such file" : code === "EISDIR" ? "it is a folder, not a file" : code === "EACCES" || code === "EPERM" ? "permission denied" : "not readable";
    const swapped = /~/.test(file) ? ' (the data file comes first: lmm fit DATA.csv "SPEC")' : "";
    throw new UsageError(`cannot read '${file}': ${why}${swapped}`);
  }
  return parseCsv(decodeText(bytes).text);
}

function print(obj: unknown): void {
  process.stdout.write(JSON.stringify(obj, (_k, v) => (typeof v === "number" && !Number.isFinite(v) ? null : v), 2) + "\n");
}

/** `--weights w`: the spec part `; weights(w)`, so the spec printed is the model fitted. */
function weighted(spec: string, args: { flags: Map<string, string | true> }): string {
  const w = args.flags.get("--weights");
  if (w === undefined || w === true) return spec;
  if (/;\s*weights\s*\(/i.test(spec)) throw new UsageError("the spec already has weights(...): give the weights once, in the spec or with --weights");
  const name = /^[\p{L}.][\p{L}\p{N}_.]*$/u.test(w) ? w : `\`${w}\``;
  return `${spec} ; weights(${name})`;
}

function noExtra(extra: string | undefined): void {
  if (extra !== undefined) throw new UsageError(`unexpected argument '${extra}' (quote the spec: "size ~ time + (1|tree)")`);
}

export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  try {
    if (!cmd) {
      process.stderr.write(USAGE + "\n");
      return 2;
    }
    if (cmd === "--help" || cmd === "-h" || cmd === "help" || rest.includes("--help") || rest.includes("-h")) {
      process.stdout.write(USAGE + "\n");
      return 0;
    }
    if (!(cmd in FLAGS)) {
      const near = nearest(cmd, COMMANDS);
      throw new UsageError(`unknown command '${cmd}'${near ? `; did you mean ${near}?` : ""} (the commands are ${COMMANDS.join(", ")})`);
    }
    const args = parseArgs(cmd, rest);
    const json = args.flags.has("--json");
    switch (cmd) {
      case "fit": {
        const [file, spec0, extra] = args.positional;
        if (!file) throw new UsageError("missing the data file and the model spec");
        if (!spec0) throw new UsageError("missing the model spec");
        noExtra(extra);
        const spec = weighted(spec0, args);
        const ddfFlag = args.flags.get("--ddf");
        const opts = { method: methodOf(args), ci: ciOf(args), level: levelOf(args), ddf: parseDdf(ddfFlag === true ? "" : ddfFlag), fixefCi: fixefCiOf(args), ...(args.flags.has("--rows") ? { fitted: true } : {}) };
        const fit = await runEngine<FitResultWithRows>(() => ({ kind: "fit", table: readTable(file), spec, options: opts }));
        if (fit.fitted) {
          // Typed arrays from the worker print as objects in JSON: plain arrays.
          const f = fit.fitted as unknown as Record<string, ArrayLike<number>>;
          for (const k of Object.keys(f)) f[k] = Array.from(f[k]);
        }
        if (json) print(fit);
        else process.stdout.write(formatFit(fit, path.basename(file), opts.level) + "\n" + (fit.fitted ? "\n" + formatRows(fit) + "\n" : ""));
        return 0;
      }
      case "lrt": {
        const [file, ...specs0] = args.positional;
        if (!file) throw new UsageError("missing the data file and the model specs");
        if (specs0.length < 2) throw new UsageError("lrt needs at least two model specs");
        const specs = specs0.map((s) => weighted(s, args));
        const method = methodOf(args);
        const res = await runEngine<LrtResult>(() => ({ kind: "lrt", table: readTable(file), specs, options: { method } }));
        if (json) print(res);
        else process.stdout.write(formatLrt(res) + "\n");
        return 0;
      }
      case "rlrt": {
        const [file, spec0, extra] = args.positional;
        if (!file) throw new UsageError("missing the data file and the model spec");
        if (!spec0) throw new UsageError("missing the model spec");
        noExtra(extra);
        const spec = weighted(spec0, args);
        const nsim = intFlag(args, "--nsim", 10000, 1, 1_000_000);
        const seed = intFlag(args, "--seed", 1, 0, 4294967295);
        const res = await runEngine<RlrtResult>(() => ({ kind: "rlrt", table: readTable(file), spec, options: { nsim, seed } }));
        if (json) print(res);
        else process.stdout.write(formatRlrt(res, spec) + "\n");
        return 0;
      }
      case "anova": {
        const [file, spec0, extra] = args.positional;
        if (!file) throw new UsageError("missing the data file and the model spec");
        if (!spec0) throw new UsageError("missing the model spec");
        noExtra(extra);
        const { runAnova } = await import("./anova");
        const res = runAnova(readTable(file), weighted(spec0, args), args.flags, methodOf(args));
        if (json) print(res.json);
        else process.stdout.write(res.text + "\n");
        return 0;
      }
      case "structures": {
        const [file, spec, extra] = args.positional;
        if (!file) throw new UsageError("missing the data file and the model spec");
        if (!spec) throw new UsageError("missing the model spec, with the time and group columns in a structure: \"size ~ time*treat ; AR1(time | tree)\"");
        noExtra(extra);
        const c = args.flags.get("--candidates");
        if (c === true) throw new UsageError("--candidates needs a list, as --candidates \"CS,AR1,UN\"");
        const candidates = c === undefined ? null : splitCandidates(c);
        const res = await runEngine<StructuresResult>(() => ({ kind: "structures", table: readTable(file), spec: weighted(spec, args), options: { candidates } }));
        if (json) print(res);
        else process.stdout.write(formatStructures(res) + "\n");
        return 0;
      }
      case "influence": {
        const [file, spec, extra] = args.positional;
        if (!file) throw new UsageError("missing the data file and the model spec");
        if (!spec) throw new UsageError("missing the model spec");
        noExtra(extra);
        const g = args.flags.get("--group");
        const { formatInfluence, runInfluence } = await import("./influence");
        const res = runInfluence(readTable(file), weighted(spec, args), g === undefined ? undefined : String(g).trim(), methodOf(args));
        if (json) print(res);
        else process.stdout.write(formatInfluence(res) + "\n");
        return 0;
      }
      case "emmeans": {
        const [file, spec, extra] = args.positional;
        if (!file) throw new UsageError("missing the data file and the model spec");
        if (!spec) throw new UsageError("missing the model spec");
        noExtra(extra);
        const { runEmmeans } = await import("./emmeans");
        const res = runEmmeans(readTable(file), weighted(spec, args), args.flags, methodOf(args), levelOf(args));
        if (json) print(res.json);
        else process.stdout.write(res.text + "\n");
        return 0;
      }
      case "predict": {
        const [file, spec, newFile, extra] = args.positional;
        if (!file) throw new UsageError("missing the data file, the model spec and the new data file");
        if (!spec) throw new UsageError("missing the model spec and the new data file");
        if (!newFile) throw new UsageError("missing the new data file (a CSV whose header names the model's columns)");
        noExtra(extra);
        const { PredictUsageError, formatPredict, runPredict } = await import("./predict");
        let res;
        try {
          res = runPredict(readTable(file), spec, readTable(newFile), args.flags, methodOf(args));
        } catch (e) {
          if (e instanceof PredictUsageError) throw new UsageError(e.message);
          throw e;
        }
        if (json) print(res);
        else process.stdout.write(formatPredict(res, path.basename(newFile)) + "\n");
        return 0;
      }
      default: {
        if (args.positional.length > 0) throw new UsageError(`'lmm ${cmd}' takes no arguments, not '${args.positional[0]}'`);
        const { runDemo } = await import("./demo");
        process.stdout.write(runDemo() + "\n");
        return 0;
      }
    }
  } catch (err) {
    const e = err as Error;
    const raw = e && typeof e.message === "string" ? e.message : String(err);
    const msg = e instanceof UsageError ? `${raw} (lmm --help shows the usage)` : raw;
    process.stderr.write(`lmm: ${msg.replace(/\s*\n\s*/g, " ")}\n`);
    return 2;
  }
}
