// The `lmm` command (ARCHITECTURE.md §5):
//   lmm fit  DATA.csv "SPEC" [--method REML|ML] [--json] [--ci auto|profile|wald|none]
//   lmm lrt  DATA.csv "SPEC0" "SPEC1" [...] [--method REML|ML] [--json]
//   lmm rlrt DATA.csv "SPEC" [--nsim 10000] [--seed 1] [--json]
//   lmm demo
// Bad input prints one line on stderr and exits with 2. The engine runs in a worker thread
// (progress.ts): Ctrl-C prints one line and exits with 130; long fits show progress on a terminal.
import * as fs from "node:fs";
import * as path from "node:path";
import { parseCsv } from "../engine";
import type { DataTable, FitResultWithRows, LrtResult, Method, RlrtResult } from "../engine/types";
import { runEngine } from "./progress";
import { formatFit, formatLrt, formatRlrt } from "./format";
import { runDemo } from "./demo";

const USAGE = `usage:
  lmm fit  DATA.csv "SPEC" [--method REML|ML] [--json] [--ci auto|profile|wald|none]
  lmm lrt  DATA.csv "SPEC0" "SPEC1" [...] [--method REML|ML] [--json]
  lmm rlrt DATA.csv "SPEC" [--nsim 10000] [--seed 1] [--json]
  lmm demo
SPEC is a model such as "size ~ time*treat + (1|tree)" (lme4 syntax), optionally followed by
"; AR1(time | tree)" (residual structure CS, AR1, CAR1, ARH1 or UN) and "; varIdent(treat)".`;

class UsageError extends Error {}

interface Args {
  positional: string[];
  flags: Map<string, string | true>;
}

function parseArgs(argv: string[]): Args {
  const positional: string[] = [];
  const flags = new Map<string, string | true>();
  const valued = new Set(["--method", "--nsim", "--seed", "--ci", "--level"]);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a.startsWith("--")) {
      const [k, v] = a.split("=", 2);
      if (v !== undefined) flags.set(k, v);
      else if (valued.has(k)) {
        if (i + 1 >= argv.length) throw new UsageError(`${k} needs a value`);
        flags.set(k, argv[++i]);
      } else flags.set(k, true);
    } else positional.push(a);
  }
  return { positional, flags };
}

function methodOf(args: Args): Method | undefined {
  const m = args.flags.get("--method");
  if (m === undefined) return undefined;
  const u = String(m).toUpperCase();
  if (u !== "REML" && u !== "ML") throw new UsageError(`--method must be REML or ML, not '${m}'`);
  return u;
}

function intFlag(args: Args, name: string, dflt: number): number {
  const v = args.flags.get(name);
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new UsageError(`${name} must be a positive whole number, not '${v}'`);
  return n;
}

function readTable(file: string | undefined): DataTable {
  if (!file) throw new UsageError("missing the data file");
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch {
    throw new UsageError(`cannot read '${file}': no such file or not readable`);
  }
  return parseCsv(text);
}

function print(obj: unknown): void {
  process.stdout.write(JSON.stringify(obj, (_k, v) => (typeof v === "number" && !Number.isFinite(v) ? null : v), 2) + "\n");
}

export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  try {
    if (!cmd || cmd === "--help" || cmd === "-h" || cmd === "help") {
      process.stdout.write(USAGE + "\n");
      return cmd ? 0 : 2;
    }
    const args = parseArgs(rest);
    const json = args.flags.has("--json");
    switch (cmd) {
      case "fit": {
        const [file, spec, extra] = args.positional;
        if (!spec) throw new UsageError("missing the model spec");
        if (extra !== undefined) throw new UsageError(`unexpected argument '${extra}' (quote the spec)`);
        const ci = args.flags.get("--ci");
        if (ci !== undefined && ci !== "auto" && ci !== "profile" && ci !== "wald" && ci !== "none") throw new UsageError("--ci must be auto, profile, wald or none");
        const table = readTable(file);
        const fit = await runEngine<FitResultWithRows>({ kind: "fit", table, spec, options: { method: methodOf(args), ci: (ci as "auto" | "profile" | "wald" | "none" | undefined) ?? "auto" } });
        if (json) print(fit);
        else process.stdout.write(formatFit(fit, path.basename(file)) + "\n");
        return 0;
      }
      case "lrt": {
        const [file, ...specs] = args.positional;
        if (specs.length < 2) throw new UsageError("lrt needs at least two model specs");
        const res = await runEngine<LrtResult>({ kind: "lrt", table: readTable(file), specs, options: { method: methodOf(args) } });
        if (json) print(res);
        else process.stdout.write(formatLrt(res) + "\n");
        return 0;
      }
      case "rlrt": {
        const [file, spec] = args.positional;
        if (!spec) throw new UsageError("missing the model spec");
        const res = await runEngine<RlrtResult>({ kind: "rlrt", table: readTable(file), spec, options: { nsim: intFlag(args, "--nsim", 10000), seed: intFlag(args, "--seed", 1) } });
        if (json) print(res);
        else process.stdout.write(formatRlrt(res, spec) + "\n");
        return 0;
      }
      case "demo":
        process.stdout.write(runDemo() + "\n");
        return 0;
      default:
        throw new UsageError(`unknown command '${cmd}'`);
    }
  } catch (err) {
    const e = err as Error;
    const msg = e instanceof UsageError ? `${e.message}\n${USAGE}` : e.message;
    process.stderr.write(`lmm: ${msg}\n`);
    return 2;
  }
}
