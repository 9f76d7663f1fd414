// `lmm fit --rows` as a person reads it: one line per data row used, as R prints a data frame
// (print.data.frame: each column through format() with 7 significant digits, so a column shares
// its decimals; names right-aligned over their numbers; row names left-aligned). The row name is
// the data row (1 = the first row below the header), as R keeps a data frame's row names through
// na.omit, so rows dropped for missing values leave gaps. Formatting only: the numbers are the
// engine's (FitResult.fitted).
import type { FitResultWithRows } from "../engine/types";
import { formatColumn } from "./rformat";

type Values = ArrayLike<number>;

/** The columns printed, in order, with the names the other faces use (=LMM.FITTED's types). */
function columnsOf(f: NonNullable<FitResultWithRows["fitted"]>): { name: string; values: Values }[] {
  const n = f.rows.length;
  const observed = new Float64Array(n);
  for (let i = 0; i < n; i++) observed[i] = f.conditional[i] + f.residual[i];
  const cols: { name: string; values: Values | undefined }[] = [
    { name: "observed", values: observed },
    { name: "fitted", values: f.conditional },
    { name: "marginal", values: f.marginal },
    { name: "residual", values: f.residual },
    { name: "pearson", values: f.pearson },
    { name: "normalized", values: f.normalized },
  ];
  // The marginal level's standardized residuals differ from the conditional ones only with a
  // residual structure or random effects; printed when the engine gave them.
  if (f.residual_marginal) cols.push({ name: "residual.marginal", values: f.residual_marginal });
  return cols.filter((c): c is { name: string; values: Values } => c.values !== undefined);
}

/** The per-row table, with a line above it saying what the columns are. */
export function formatRows(fit: FitResultWithRows): string {
  const f = fit.fitted;
  if (!f) return "";
  const n = f.rows.length;
  const cols = columnsOf(f);
  const cells = cols.map((c) => formatColumn(Array.from(c.values), 7));
  const names = Array.from(f.rows, (r) => String(r + 1));
  const nameWidth = Math.max(0, ...names.map((s) => s.length));
  const widths = cols.map((c, j) => {
    let w = c.name.length;
    for (const s of cells[j]) if (s.length > w) w = s.length;
    return w;
  });
  const lines: string[] = [];
  const has = (name: string) => cols.some((c) => c.name === name);
  const defs = ["fitted = X beta + Z b", "marginal = X beta", "residual = observed - fitted", ...(has("pearson") ? ["pearson = residual / (sigma x the row's SD ratio)"] : []), ...(has("normalized") ? ["normalized = pearson whitened by the residual correlation"] : []), ...(has("residual.marginal") ? ["residual.marginal = observed - marginal"] : [])];
  lines.push(`Fitted values and residuals, ${n} row${n === 1 ? "" : "s"} used (row names: the data row, 1 = the first row below the header)`);
  lines.push(`  ${defs.join("; ")}`);
  lines.push(["".padEnd(nameWidth), ...cols.map((c, j) => c.name.padStart(widths[j]))].join(" "));
  for (let i = 0; i < n; i++) {
    let line = names[i].padEnd(nameWidth);
    for (let j = 0; j < cols.length; j++) line += " " + cells[j][i].padStart(widths[j]);
    lines.push(line);
  }
  return lines.join("\n");
}
