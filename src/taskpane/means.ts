// The summary sheet's means section (plain data, no Office.js): for each fixed-effect factor,
// emmeans's table of estimated marginal means (factor, emmean, SE, df, lower.CL, upper.CL), the
// Tukey-adjusted pairwise comparisons (contrast, estimate, SE, df, t.ratio, p.value) with
// emmeans's notes under them, and a native XY chart beside them: each level's mean with its
// confidence interval drawn as a vertical segment (Office.js cannot give a series custom error
// bar values, so the bars are a line series broken at blanks), the level's name as the point's
// data label. When the factor interacts with a covariate (time), the chart draws one line per
// level over the covariate instead, with a bar at each value; those means and their pairwise
// comparisons at each value follow in two more tables. Every number comes from the worker
// (engine/inference/summary.ts); this file lays them out and picks formats.
import type { ContrastRow, EmmeanRow, EmmeansResult, FactorMeans } from "../engine";
import type { Cell, CellBlock } from "./layout";
import * as F from "./formats";
import { AxisBounds, POPULATION_COLORS, niceBounds } from "./chart";
import { cellAddress, rangeAddress } from "./naming";

export interface MeansSeries {
  name: string;
  /** Ranges on the summary sheet (no sheet name). */
  x: string;
  y: string;
  color: string;
  /** A line through the points (the CI segments, the lines over time); else markers only. */
  line: boolean;
  marker: boolean;
  /** Label the (single) point with the series name (the level). */
  label: boolean;
  /** Name it in the legend. */
  legend: boolean;
}

export interface MeansChart {
  name: string;
  title: string;
  xTitle: string;
  yTitle: string;
  series: MeansSeries[];
  x: AxisBounds;
  y: AxisBounds;
  /** Hide the x axis' numbers (the level positions 1..k mean nothing: the points carry the names). */
  xLabels: boolean;
  anchor: { from: string; to: string };
}

export interface MeansSection {
  blocks: CellBlock[];
  charts: MeansChart[];
  /** The first free row below the section. */
  nextRow: number;
  /** Widths (points) of the chart data's columns. */
  widths: Record<number, number>;
}

/** The chart beside the tables: columns I to N, this many rows. */
const CHART_COL = 8;
const CHART_COLS = 6;
const CHART_ROWS = 18;
/** Where the chart data go on the summary sheet: from column Q on, away from the tables. */
export const MEANS_DATA_COL = 16;

const num = (x: number | null | undefined): Cell => (x === null || x === undefined || !Number.isFinite(x) ? "" : x);

/** "0.95" -> "95 %", as the intervals are labelled elsewhere on the sheet. */
const pct = (level: number) => `${Number((level * 100).toPrecision(4))} %`;

/** A covariate value for a heading: four significant digits (the cells keep the exact value). */
const short = (s: string) => {
  const x = Number(s);
  return Number.isFinite(x) ? String(Number(x.toPrecision(4))) : s;
};

/** emmeans's notes of a table (the df method and level are said in the heading). */
function notesOf(r: EmmeansResult, keep: (n: string) => boolean): string[] {
  return r.notes.filter((n) => keep(n) && !/^Degrees-of-freedom method|^Confidence level used/.test(n));
}

/** The adjustment's note, short enough to sit under its table, left of the chart. */
function noteLine(r: EmmeansResult, keep: (n: string) => boolean): string | null {
  const lines = notesOf(r, keep);
  return lines.length ? lines.join(". ") : null;
}

const isAdjustNote = (n: string) => /^P value adjustment|^Note: adjust/.test(n);

/**
 * One format per column, so a column of means lines up: the estimates and limits to three
 * significant digits of the smallest SE in the table (R prints an estimate to its SE's
 * precision), the SEs to the same decimals.
 */
function columnFormats(ses: (number | null)[]): { est: string; se: string } {
  const pos = ses.filter((x): x is number => x !== null && Number.isFinite(x) && x > 0);
  if (!pos.length) return { est: F.GENERAL, se: F.GENERAL };
  const min = Math.min(...pos);
  const est = F.estimateFormat(null, min);
  return { est, se: /E/.test(est) ? F.sigFormat(min) : est };
}

function meansRows(r: EmmeansResult, lead: string[], leadOf: (e: EmmeanRow) => Cell[]): { rows: Cell[][]; formats: string[][] } {
  const rows: Cell[][] = [[...lead, r.value, "SE", "df", "lower.CL", "upper.CL"]];
  const formats: string[][] = [rows[0].map(() => F.TEXT)];
  const { est, se } = columnFormats(r.emmeans.map((e) => e.SE));
  for (const e of r.emmeans) {
    const row: Cell[] = [...leadOf(e), e.estimable ? num(e.estimate) : "NA", num(e.SE), num(e.df), num(e["lower.CL"]), num(e["upper.CL"])];
    rows.push(row);
    formats.push(row.map((v, j) => F.cellFormat(v, j < lead.length ? F.GENERAL : [est, se, F.DF, est, est][j - lead.length])));
  }
  return { rows, formats };
}

function contrastRows(cs: ContrastRow[], lead: string[], leadOf: (c: ContrastRow) => Cell[]): { rows: Cell[][]; formats: string[][] } {
  const rows: Cell[][] = [["contrast", ...lead, "estimate", "SE", "df", "t.ratio", "p.value"]];
  const formats: string[][] = [rows[0].map(() => F.TEXT)];
  const { est, se } = columnFormats(cs.map((c) => c.SE));
  for (const c of cs) {
    const row: Cell[] = [c.contrast, ...leadOf(c), c.estimate === null ? "NA" : c.estimate, num(c.SE), num(c.df), num(c["t.ratio"]), num(c["p.value"])];
    rows.push(row);
    formats.push(row.map((v, j) => F.cellFormat(v, j <= lead.length ? F.GENERAL : [est, se, F.DF, F.TSTAT, F.PVALUE][j - lead.length - 1])));
  }
  return { rows, formats };
}

const headed = (row: number, col: number, t: { rows: Cell[][]; formats: string[][] }, textColumns: number): CellBlock => ({ row, col, values: t.rows, formats: t.formats, header: { textColumns } });
const heading = (row: number, text: string): CellBlock => ({ row, col: 0, values: [[text]], style: "heading", formats: [[F.TEXT]] });
const note = (row: number, text: string): CellBlock => ({ row, col: 0, values: [[text]], style: "note", formats: [[F.TEXT]] });

/**
 * The means section from `top` down: per factor its tables and chart. `dataCol` is where the
 * chart data start (they move right for each chart). `response` names the y axis.
 */
export function meansSection(means: FactorMeans[], top: number, response: string, dataCol = MEANS_DATA_COL): MeansSection {
  const blocks: CellBlock[] = [];
  const charts: MeansChart[] = [];
  let row = top;
  let col = dataCol;
  const widths: Record<number, number> = {};
  for (const m of means) {
    const start = row;
    const r = m.means;
    const at = Object.entries(r.at).filter(([k, v]) => v.length === 1 && k !== m.factor).map(([k, v]) => `${k} = ${short(v[0])}`);
    const where = at.length ? ` at ${at.join(", ")}` : "";
    blocks.push(heading(row, `Estimated marginal means of ${m.factor}${where} (${r.ddf} df, ${pct(r.level)} CI)`));
    const mt = meansRows(r, [m.factor], (e) => [e.levels[m.factor] ?? ""]);
    blocks.push(headed(row + 1, 0, mt, 1));
    row += 1 + mt.rows.length;
    // The longer notes (averaged over, not estimable, interactions) would run under the chart: they go below it, one per row.
    const footnotes = notesOf(r, (n) => !isAdjustNote(n));
    row++;
    if (r.contrasts.length) {
      blocks.push(heading(row, `Pairwise comparisons of ${m.factor} (${adjustWord(r)})`));
      const ct = contrastRows(r.contrasts, [], () => []);
      blocks.push(headed(row + 1, 0, ct, 1));
      row += 1 + ct.rows.length;
      const n2 = noteLine(r, isAdjustNote);
      if (n2) blocks.push(note(row++, n2));
      row++;
    }
    let chart: { chart: MeansChart; data: CellBlock[]; width: number };
    const tr = m.over?.trends;
    if (m.over && tr) {
      // The slope of the covariate per level (emtrends): growth per unit of time, by treatment.
      const cov = m.over.covariate;
      blocks.push(heading(row, `Slopes of ${response} per unit of ${cov}, by ${m.factor} (emtrends; ${tr.ddf} df, ${pct(tr.level)} CI)`));
      const tt = meansRows(tr, [m.factor], (e) => [e.levels[m.factor] ?? ""]);
      blocks.push(headed(row + 1, 0, tt, 1));
      row += 1 + tt.rows.length + 1;
      if (tr.contrasts.length) {
        blocks.push(heading(row, `Pairwise comparisons of the slopes (${adjustWord(tr)})`));
        const tc = contrastRows(tr.contrasts, [], () => []);
        blocks.push(headed(row + 1, 0, tc, 1));
        row += 1 + tc.rows.length;
        const n4 = noteLine(tr, isAdjustNote);
        if (n4) blocks.push(note(row++, n4));
        row++;
      }
    }
    if (m.over) {
      const o = m.over.means, cov = m.over.covariate;
      blocks.push(heading(row, `Estimated marginal means of ${m.factor} over ${cov} (${o.ddf} df, ${pct(o.level)} CI)`));
      for (const n of notesOf(o, (x) => !isAdjustNote(x))) if (!footnotes.includes(n)) footnotes.push(n);
      const ot = meansRows(o, [m.factor, cov], (e) => [e.levels[m.factor] ?? "", Number(e.levels[cov])]);
      blocks.push(headed(row + 1, 0, ot, 1));
      row += 1 + ot.rows.length + 1;
      if (o.contrasts.length) {
        blocks.push(heading(row, `Pairwise comparisons of ${m.factor} at each ${cov} (${adjustWord(o)})`));
        const oc = contrastRows(o.contrasts, [cov], (c) => [Number(c.by[cov])]);
        blocks.push(headed(row + 1, 0, oc, 1));
        row += 1 + oc.rows.length;
        const n3 = noteLine(o, isAdjustNote);
        if (n3) blocks.push(note(row++, n3));
        row++;
      }
      chart = overChart(m, response, start, col);
    } else {
      chart = levelsChart(m, response, start, col);
    }
    charts.push(chart.chart);
    blocks.push(...chart.data);
    for (let c = col; c < col + chart.width; c++) widths[c] = 13 * 7;
    col += chart.width + 1;
    // The chart must not reach the notes or the next factor's tables.
    row = Math.max(row, start + CHART_ROWS + 1);
    if (footnotes.length) {
      footnotes.forEach((n, i) => blocks.push(note(row + i, `Note (${m.factor}): ${n}`)));
      row += footnotes.length + 1;
    }
  }
  return { blocks, charts, nextRow: row, widths };
}

function adjustWord(r: EmmeansResult): string {
  return r.adjust === "none" ? "no adjustment" : `${r.adjust === "tukey" ? "Tukey" : r.adjust} adjustment`;
}

const anchorAt = (row: number) => ({ from: cellAddress(row, CHART_COL), to: cellAddress(row + CHART_ROWS - 1, CHART_COL + CHART_COLS - 1) });

function boundsOf(values: (number | null)[]): AxisBounds {
  let lo = Infinity, hi = -Infinity;
  for (const v of values) if (v !== null && Number.isFinite(v)) (lo = Math.min(lo, v)), (hi = Math.max(hi, v));
  return niceBounds(lo, hi);
}

const colour = (j: number) => POPULATION_COLORS[j % POPULATION_COLORS.length];

/**
 * A factor's means at positions 1..k: per level a one-point series (labelled with the level)
 * and its interval, two rows of the data table: (x, lower) and (x, upper).
 */
function levelsChart(m: FactorMeans, response: string, top: number, col: number): { chart: MeansChart; data: CellBlock[]; width: number } {
  const r = m.means;
  const header: Cell[] = [m.factor, "x (position)", "CI limits", r.value];
  const values: Cell[][] = [header];
  const series: MeansSeries[] = [];
  const dataTop = top + 2;
  // A level whose mean is not estimable has no point: the others close up, and the title names it.
  const shown = r.emmeans.filter((e) => e.estimable && e.estimate !== null);
  const missing = r.emmeans.filter((e) => !shown.includes(e)).map((e) => e.levels[m.factor] ?? "");
  shown.forEach((e, i) => {
    const level = e.levels[m.factor] ?? "";
    values.push([level, i + 1, num(e["lower.CL"]), num(e.estimate)], ["", i + 1, num(e["upper.CL"]), ""]);
    const r0 = dataTop + 1 + 2 * i;
    series.push({ name: level, x: rangeAddress(r0, col + 1, 1, 1), y: rangeAddress(r0, col + 3, 1, 1), color: colour(i), line: false, marker: true, label: true, legend: false });
    series.push({ name: `${level} ${pct(r.level)} CI`, x: rangeAddress(r0, col + 1, 2, 1), y: rangeAddress(r0, col + 2, 2, 1), color: colour(i), line: true, marker: false, label: false, legend: false });
  });
  const k = Math.max(1, shown.length);
  const chart: MeansChart = {
    name: `LMM means ${m.factor}`,
    title: `Estimated marginal means of ${response} by ${m.factor}${missing.length ? ` (not estimable: ${missing.join(", ")})` : ""}`,
    xTitle: m.factor,
    yTitle: `${response} (mean, ${pct(r.level)} CI)`,
    series,
    x: { min: 0.5, max: k + 0.5, major: 1 },
    y: boundsOf(shown.flatMap((e) => [e["lower.CL"], e["upper.CL"]])),
    xLabels: false,
    anchor: anchorAt(top),
  };
  return { chart, data: dataBlocks(top, col, `Chart data: the means plot of ${m.factor} draws these cells`, values), width: header.length };
}

/**
 * Lines per level over the covariate: per level, its means (x nudged a little per level so the
 * bars do not overlap) and its intervals as segments (x, lower), (x, upper), blank.
 */
function overChart(m: FactorMeans, response: string, top: number, col: number): { chart: MeansChart; data: CellBlock[]; width: number } {
  const o = m.over!.means, cov = m.over!.covariate;
  const levels: string[] = [];
  for (const e of o.emmeans) {
    const l = e.levels[m.factor] ?? "";
    if (!levels.includes(l)) levels.push(l);
  }
  const xs = o.at[cov].map(Number);
  const span = Math.max(...xs) - Math.min(...xs) || 1;
  const step = 0.012 * span;
  const T = xs.length;
  const header: Cell[] = [];
  const columns: Cell[][] = [];
  const series: MeansSeries[] = [];
  const dataTop = top + 2;
  levels.forEach((level, j) => {
    const rowsOf = xs.map((x) => o.emmeans.find((e) => e.levels[m.factor] === level && Number(e.levels[cov]) === x) ?? null);
    const dx = (j - (levels.length - 1) / 2) * step;
    const px = xs.map((x) => Number((x + dx).toPrecision(12)));
    const segX: Cell[] = [], segY: Cell[] = [];
    rowsOf.forEach((e, t) => {
      segX.push(px[t], px[t], "");
      segY.push(num(e?.["lower.CL"]), num(e?.["upper.CL"]), "");
    });
    const c0 = col + columns.length;
    header.push(`${level}: ${cov}`, `${level}: ${o.value}`, `${level}: CI ${cov}`, `${level}: CI limits`);
    columns.push(px, rowsOf.map((e) => num(e?.estimate)), segX, segY);
    series.push({ name: level, x: rangeAddress(dataTop + 1, c0, T, 1), y: rangeAddress(dataTop + 1, c0 + 1, T, 1), color: colour(j), line: true, marker: true, label: false, legend: true });
    series.push({ name: `${level} ${pct(o.level)} CI`, x: rangeAddress(dataTop + 1, c0 + 2, 3 * T, 1), y: rangeAddress(dataTop + 1, c0 + 3, 3 * T, 1), color: colour(j), line: true, marker: false, label: false, legend: false });
  });
  const height = Math.max(...columns.map((c) => c.length));
  const values: Cell[][] = [header, ...Array.from({ length: height }, (_, i) => columns.map((c) => (i < c.length ? c[i] : "")))];
  const room = (step * levels.length) / 2;
  const lo = Math.min(...xs) - room, hi = Math.max(...xs) + room;
  const chart: MeansChart = {
    name: `LMM means ${m.factor} over ${cov}`,
    title: `Estimated marginal means of ${response} by ${m.factor} over ${cov}`,
    xTitle: cov,
    yTitle: `${response} (mean, ${pct(o.level)} CI)`,
    series,
    x: niceBounds(lo, hi),
    y: boundsOf(o.emmeans.flatMap((e) => [e["lower.CL"], e["upper.CL"]])),
    xLabels: true,
    anchor: anchorAt(top),
  };
  const label = `Chart data: the means plot of ${m.factor} over ${cov} draws these cells (each level's ${cov} is nudged by ${Number(step.toPrecision(2))} so the bars do not overlap)`;
  return { chart, data: dataBlocks(top, col, label, values), width: header.length };
}

function dataBlocks(top: number, col: number, label: string, values: Cell[][]): CellBlock[] {
  const formats = values.map((r, i) => r.map((v) => (i === 0 || typeof v === "string" ? F.TEXT : F.GENERAL)));
  return [
    { row: top + 1, col, values: [[label]], style: "note", formats: [[F.TEXT]] },
    { row: top + 2, col, values, formats, header: { textColumns: 1 } },
  ];
}

/** R's names of a column inside a formula: bare when syntactic, else in backticks. */
const rVar = (name: string) => (/^[A-Za-z.][A-Za-z0-9._]*$/.test(name) ? name : `\`${name.replace(/`/g, "\\`")}\``);

/**
 * The R lines that give the Type III table and the means (lmerTest's anova, emmeans), appended
 * to the copy of the model's R call. Only for lmer fits: for nlme fits R has no Satterthwaite or
 * Kenward-Roger df, which is said instead.
 */
export function testsRCode(fit: { anova?: { type: number; ddf: string } | null; means?: FactorMeans[]; residual: unknown; varcomp: unknown[] }, lmer: boolean): string[] {
  const out: string[] = [];
  const ddf = fit.anova?.ddf ?? fit.means?.[0]?.means.ddf ?? "Satterthwaite";
  if (!lmer) {
    if (fit.anova || fit.means?.length) out.push(`# The Type III tests and the means above use ${ddf} df, which nlme does not offer (anova(fit, type = "marginal") and emmeans use nlme's containment df)`);
    return out;
  }
  // (The anova call is rcode.ts's, with the fit's ddf.)
  if (fit.means?.length) {
    const df = ddf === "Kenward-Roger" ? "kenward-roger" : "satterthwaite";
    out.push("library(emmeans)");
    for (const m of fit.means) {
      const lvl = m.means.level === 0.95 ? "" : `, level = ${m.means.level}`;
      out.push(`emm <- emmeans(fit, ~ ${rVar(m.factor)}, lmer.df = "${df}"${lvl})  # the sheet's means of ${m.factor}`);
      out.push(`print(emm); print(pairs(emm, adjust = "tukey"))`);
      if (m.over) {
        const cov = rVar(m.over.covariate);
        out.push(`emm <- emmeans(fit, ~ ${rVar(m.factor)} | ${cov}, at = list(${cov} = c(${m.over.means.at[m.over.covariate].join(", ")})), lmer.df = "${df}"${lvl})  # over ${m.over.covariate}`);
        out.push(`print(emm); print(pairs(emm, adjust = "tukey"))`);
        if (m.over.trends) {
          out.push(`emt <- emtrends(fit, ~ ${rVar(m.factor)}, var = "${m.over.covariate}", lmer.df = "${df}"${lvl})  # the slopes of ${m.over.covariate}`);
          out.push(`print(emt); print(pairs(emt, adjust = "tukey"))`);
        }
      }
    }
  }
  return out;
}

/** The status line's words on the tests and means (" Type III tests and the means of treat on the summary sheet."). */
export function meansStatus(fit: object, refused?: string | null): string {
  const f = fit as { anova?: { type: number } | null; means?: FactorMeans[] };
  const parts: string[] = [];
  if (f.anova) parts.push(`Type ${f.anova.type === 3 ? "III" : f.anova.type} tests`);
  if (f.means?.length) parts.push(`the means of ${f.means.map((m) => m.factor).join(", ")} with pairwise comparisons`);
  if (!parts.length) return "";
  return ` ${parts.join(" and ").replace(/^./, (c) => c.toUpperCase())} on the summary sheet${refused ? ` (${refused})` : ""}.`;
}
