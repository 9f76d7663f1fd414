// The pane's "Which structure?" button (issue 15): the covariance-structure ranking of
// engine/inference/structures.ts (=LMM.STRUCTURES, `lmm structures`) for the pane's current
// model, run in the worker, written to a new sheet `LMM structures N`: the candidates ranked by
// AIC with BIC, logLik and the likelihood-ratio test against the largest candidate nested in
// each, the candidates that could not be fitted and why, the notes, and the =LMM.STRUCTURES
// formula that gives the same table live. The numbers are formatted as the function formats them
// (functions/structures-format.ts); nothing here is a statistic.
import type { ModelSpec } from "../engine/types";
import type { StructuresResult } from "../engine/inference/structures";
import { structuresCells } from "../functions/structures-format";
import { Num } from "../functions/format";
import type { Cell, CellBlock } from "./layout";
import type { DataSet, Fitter, WorkbookPort } from "./ports";
import type { DiagnosticsPlan } from "./diagnostics";
import { BuildError } from "./spec-builder";

/** Points per character of Calibri 11, about. */
const POINTS_PER_CHAR = 5.6;

/**
 * The spec the ranking starts from: the model as it is when it has a residual structure with a
 * time and a group (its type is replaced by each candidate); else the model with AR1 over the
 * pane's time and grouping columns.
 */
export function ladderSpec(spec: ModelSpec, specText: string, time: string | null, group: string | null): string {
  const r = spec.residual;
  if (r && r.time && r.time !== "1" && r.group) return specText.trim();
  if (!time || !group) {
    throw new BuildError("time", "Which structure? compares residual correlations over time within groups: choose the time column and the grouping column in the model first");
  }
  const parts = specText.split(";").map((s) => s.trim());
  // Keep the variance functions and weights; the user's correlation (CS without a time) gives way.
  const rest = parts.slice(1).filter((p) => /^(var|weights)/i.test(p));
  return [parts[0], `AR1(${time} | ${group})`, ...rest].join(" ; ");
}

/** The sheet: title, what was done, the ranked table with its formats, the live formula, the engine's notes. */
export function structuresPlan(res: StructuresResult, ladder: string, dataRef: string): DiagnosticsPlan {
  const rich = structuresCells(res);
  const values: Cell[][] = rich.map((r) => r.map((c) => (c instanceof Num ? c.value : c)));
  const formats: string[][] = rich.map((r, i) => r.map((c) => (c instanceof Num ? c.format : i === 0 ? "@" : "General")));
  const best = res.rows[0];
  const nTable = res.rows.length + 1;
  const blocks: CellBlock[] = [
    { row: 0, col: 0, values: [[`Which structure? ${ladder.split(";")[0].trim()}`]], style: "title" },
    { row: 1, col: 0, values: [["Each candidate residual structure with the same fixed and random effects, fitted by REML; ranked by AIC (smaller is better), BIC beside it; each tested against the largest candidate nested in it."]], style: "subtitle" },
    { row: 2, col: 0, values: [[`Best by AIC: ${best.structure}; by BIC: ${res.byBIC[0]}. Live: =LMM.STRUCTURES(${dataRef}, "${ladder}")`]], style: "subtitle" },
  ];
  // The table in column groups, so each header sits over its column as its cells do: text
  // (Structure, Test, spec) left, numbers right.
  const groups: [number, number, number][] = [[0, 5, 1], [5, 6, 1], [6, 8, 0], [8, 9, 1]];
  for (const [a, b, text] of groups) {
    blocks.push({ row: 4, col: a, values: values.slice(0, nTable).map((r) => r.slice(a, b)), formats: formats.slice(0, nTable).map((r) => r.slice(a, b)), header: { textColumns: text } });
  }
  // Then the candidates not fitted and the notes, label and text.
  const tail = values.slice(nTable).map((r) => r.slice(0, 2));
  const tailFormats = formats.slice(nTable).map((r) => r.slice(0, 2));
  if (tail.length > 0) blocks.push({ row: 4 + nTable, col: 0, values: tail, formats: tailFormats });
  // Each column as wide as its longest entry (numbers as shown, about 10 characters), the spec at most 60.
  const widths: Record<number, number> = {};
  values[0].forEach((_, j) => {
    let chars = 6;
    for (const r of values.slice(0, nTable)) chars = Math.max(chars, typeof r[j] === "number" ? 10 : String(r[j] ?? "").length + 3);
    widths[j] = Math.min(60, chars) * POINTS_PER_CHAR;
  });
  return { blocks, charts: [], notes: [], widths };
}

/**
 * The controller's step: rank the structures in the worker and write the sheet. Returns the
 * status line's sentence. Errors (no time column, a bad spec) are thrown for the controller to
 * route next to the control they concern.
 */
export async function writeStructures(workbook: WorkbookPort, fitter: Fitter, data: DataSet, spec: ModelSpec, specText: string, time: string | null, group: string | null): Promise<string> {
  const ladder = ladderSpec(spec, specText, time, group);
  if (!fitter.structures) throw new Error("this host's worker cannot rank structures");
  if (!workbook.writeChartSheet) throw new Error("this host cannot write the table");
  const res = await fitter.structures(data.data, ladder);
  const name = await workbook.writeChartSheet("LMM structures", structuresPlan(res, ladder, data.ref));
  const best = res.rows[0];
  const skipped = res.skipped.length ? ` Not fitted: ${res.skipped.map((s) => s.structure).join(", ")} (the reasons are on the sheet).` : "";
  return `Structures ranked on '${name}' (${res.rows.length} fitted by REML): best by AIC ${best.structure} (AIC ${best.AIC.toFixed(2)}), by BIC ${res.byBIC[0]}.${skipped}`;
}
