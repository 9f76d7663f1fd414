// The only module that talks to Office.js: it reads the data (selection, region, table) in row
// blocks, and carries out the plans of layout.ts on sheets it has just created. It never gets a
// user's sheet for writing: every write goes through a Worksheet object returned by
// worksheets.add, so nothing that existed before is overwritten. Everything it writes was
// decided in the pure modules; this file only moves cells.
import type { ChartPlan, CellBlock, DetailOutput, FitOutput, SheetPlan, StagedFitOutput, Style, TallTable } from "./layout";
import type { DataSet, DataSource, ProgressFn, WorkbookPort, WrittenFit } from "./ports";
import { CancelledByUser, Signal, blockRows, forEachBlock } from "./blocks";
import { HeaderFound, findHeader } from "./header";
import { DataCollector } from "../worker/data";
import { clockMs, recordPhase } from "../worker/phases";
import { TEXT } from "./formats";
import type { DiagnosticsPlan } from "./diagnostics";
import { writeDiagnosticsSheet } from "./diagnostics-io";
import { addMeansCharts } from "./means-io";
import { columnLetters, quoteSheet, rangeAddress, splitAddress, uniqueSheetNames, absoluteRef } from "./naming";
import { MODELS_KEY, SavedModel, parseModels, serializeModels } from "./store";
import { chartLegend, chartSeries, seriesLine } from "./chart-series";

/** Excel.run, or a stand-in (tests). */
export type Runner = <T>(batch: (ctx: Excel.RequestContext) => Promise<T>) => Promise<T>;

const defaultRunner: Runner = (batch) => Excel.run(batch);

/** Cells per block when writing values and their formats together (half the read budget). */
const WRITE_CELLS = 100000;

const fmtInt = (k: number) => k.toLocaleString("en-US");

/** Is an Office requirement set available? (false when Office is not there to ask) */
export function supports(set: string, version: string): boolean {
  try {
    return !!Office.context.requirements.isSetSupported(set, version);
  } catch {
    return false;
  }
}

function errorCode(e: unknown): string {
  const c = (e as { code?: unknown } | null)?.code;
  return typeof c === "string" ? c : "";
}

/** Data rows kept as read, to describe the columns (the model builder looks at this many). */
export const SAMPLE_ROWS = 20000;

export class ExcelWorkbook implements WorkbookPort {
  constructor(private readonly run: Runner = defaultRunner) {}

  async tables(): Promise<string[]> {
    return this.run(async (ctx) => {
      const t = ctx.workbook.tables;
      t.load("items/name");
      await ctx.sync();
      return t.items.map((x) => x.name);
    });
  }

  async read(source: DataSource, progress: ProgressFn, signal: Signal): Promise<DataSet> {
    try {
      return await this.readNow(source, progress, signal);
    } catch (e) {
      throw readError(e);
    }
  }

  private readNow(source: DataSource, progress: ProgressFn, signal: Signal): Promise<DataSet> {
    return this.run(async (ctx) => {
      const wb = ctx.workbook;
      let range: Excel.Range;
      let table: string | null = null;
      const notes: string[] = [];
      let totalsRow = 0;
      if (source.kind === "table") {
        const t = wb.tables.getItemOrNullObject(source.name);
        t.load("name,showTotals");
        await ctx.sync();
        if (t.isNullObject) throw new Error(`there is no table named '${source.name}' in this workbook any more: pick another source`);
        table = t.name;
        totalsRow = t.showTotals ? 1 : 0;
        range = t.getRange();
      } else if (source.kind === "region") {
        range = wb.getActiveCell().getSurroundingRegion();
      } else if (source.kind === "address") {
        const { sheet, cells } = splitAddress(source.address);
        const ws = sheet === null ? wb.worksheets.getActiveWorksheet() : wb.worksheets.getItemOrNullObject(sheet);
        ws.load("name");
        await ctx.sync();
        if (ws.isNullObject) throw new Error(`the sheet '${sheet}' of ${source.address} no longer exists`);
        range = ws.getRange(cells);
      } else {
        range = wb.getSelectedRange();
        range.load("cellCount");
        await ctx.sync();
        if (range.cellCount === 1) {
          range = range.getSurroundingRegion();
          notes.push("one cell was selected, so the region around it was used");
        }
      }
      // A whole-column selection reaches row 1,048,576: keep to the cells in use.
      if (source.kind === "selection" || source.kind === "address") {
        const used = range.worksheet.getUsedRangeOrNullObject(true);
        used.load("address");
        await ctx.sync();
        if (used.isNullObject) throw new Error("the sheet is empty: select the data, header row included");
        const clipped = range.getIntersectionOrNullObject(used);
        clipped.load("address");
        await ctx.sync();
        if (clipped.isNullObject) throw new Error("the selected cells are empty: select the data, header row included");
        range = clipped;
      }
      range.load("address,rowIndex,columnIndex,rowCount,columnCount");
      range.worksheet.load("name");
      await ctx.sync();
      const sheet = range.worksheet;
      const nrow = range.rowCount - totalsRow;
      const ncol = range.columnCount;
      if (nrow < 2) {
        throw new Error(
          source.kind === "region" || range.rowCount * range.columnCount === 1
            ? `there are no data around ${range.address}: click a cell inside the data (or select the data, header row included) and press Use data again`
            : `${range.address} has ${nrow} row${nrow === 1 ? "" : "s"}: the data need a header row and at least one row below it`,
        );
      }
      // Each block is turned into compact columns (and hashed) as it arrives, and then dropped:
      // the page never holds the range as JS values, and no step handles more than one block.
      let collector: DataCollector | null = null;
      let head: HeaderFound = { index: 0, skipped: 0, note: null };
      const sample: unknown[][] = [];
      let readMs = 0, convertMs = 0;
      await forEachBlock(
        nrow,
        blockRows(ncol),
        async (s, e) => {
          const t0 = clockMs();
          const block = sheet.getRangeByIndexes(range.rowIndex + s, range.columnIndex, e - s, ncol);
          block.load("values");
          await ctx.sync();
          const values = block.values;
          const t1 = clockMs();
          let from = 0;
          if (!collector) {
            // The header row: a title or blank line above the column names is skipped.
            head = table ? { index: 0, skipped: 0, note: null } : findHeader(values);
            collector = new DataCollector(values[head.index], nrow - head.index - 1);
            from = head.index + 1;
            sample.push(values[head.index]);
          }
          for (let i = from; i < values.length && sample.length <= SAMPLE_ROWS; i++) sample.push(values[i]);
          collector.add(values, from);
          readMs += t1 - t0;
          convertMs += clockMs() - t1;
        },
        {
          signal,
          what: "reading the data",
          onProgress: (p) => progress(`Reading rows ${fmtInt(p.block[0] + 1)}–${fmtInt(p.block[1])} of ${fmtInt(nrow)}`, p.done / p.total),
        },
      );
      const t2 = clockMs();
      const c = collector as DataCollector | null;
      if (!c) throw new Error("the range could not be read");
      const used = c.rows;
      const data = c.finish();
      recordPhase("read: Excel requests", readMs);
      recordPhase("read: convert to typed columns and hash", convertMs + (clockMs() - t2));
      if (head.note) notes.push(head.note);
      if (sample.length > used + 1) sample.length = used + 1;
      const headerRow = range.rowIndex + head.index + 1;
      const formats = await firstRowFormats(ctx, sheet, headerRow, range.columnIndex, ncol, used);
      const address = `${quoteSheet(sheet.name)}!${rangeAddress(headerRow - 1, range.columnIndex, used + 1, ncol)}`;
      return {
        source,
        address,
        ref: table ? `${table}[[#Headers],[#Data]]` : absoluteRef(address),
        table,
        headerRow,
        header: sample[0],
        nrow: used,
        sample,
        data,
        note: notes.length ? notes.join("; ") : null,
        formats,
      };
    });
  }

  async writeFit(out: FitOutput | StagedFitOutput, progress: ProgressFn, signal: Signal): Promise<WrittenFit> {
    return this.run(async (ctx) => {
      const ts = clockMs();
      const [summary, detail] = await createSheets(ctx, out.base, ["", " data"]);
      summary.load("name");
      detail.load("name");
      writeSheetPlan(summary, out.summary);
      await ctx.sync();
      let meansNote: string | null = null;
      if (out.summary.meansCharts?.length) {
        try {
          addMeansCharts(summary, out.summary.meansCharts);
          await ctx.sync();
        } catch (e) {
          meansNote = `no means chart: Excel refused it (${errorCode(e) || (e as Error).message}); the means tables and the chart data are on the summary sheet`;
        }
      }
      recordPhase("write: summary sheet", clockMs() - ts);
      // The estimates are there: show them while the rest is planned and written.
      summary.activate();
      await ctx.sync();
      if (signal.cancelled) throw new CancelledByUser("writing the results");
      progress("Preparing the fitted values and the chart data", null);
      const rest: DetailOutput = "details" in out ? await out.details() : out;
      // The detail sheet's tall tables, in row blocks.
      const total = rest.detail.tables.reduce((k, t) => k + t.nrows, 0);
      let before = 0;
      for (const t of rest.detail.tables) {
        const t0 = clockMs();
        await writeTall(ctx, detail, t, signal, (done) =>
          progress(`Writing ${t.what}: ${fmtInt(done)} of ${fmtInt(t.nrows)} rows`, total > 0 ? (before + done) / total : null),
        );
        recordPhase(`write: ${t.what}`, clockMs() - t0);
        before += t.nrows;
      }
      setWidths(detail, rest.detail.widths);
      if (rest.detail.freezeRows > 0 && supports("ExcelApi", "1.7")) detail.freezePanes.freezeRows(rest.detail.freezeRows);
      await ctx.sync();
      let chartNote: string | null = rest.chart ? null : rest.chartSkipped ?? null;
      if (rest.chart && !supports("ExcelApi", "1.7")) {
        chartNote = "no chart: this version of Excel cannot set a chart's series (it needs Excel API 1.7); the chart data are on the data sheet";
      } else if (rest.chart) {
        if (signal.cancelled) throw new CancelledByUser("writing the results");
        progress("Drawing the chart", null);
        const t0 = clockMs();
        try {
          addChart(summary, detail, rest.chart, out.summary.chartAnchor);
          await ctx.sync();
          chartNote = rest.chart.note;
        } catch (e) {
          // Some hosts refuse a chart whose data sit on another sheet: draw it beside its data.
          try {
            addChart(detail, detail, rest.chart, { from: cellAddress0(1, chartColumn(rest)), to: cellAddress0(25, chartColumn(rest) + 10) });
            await ctx.sync();
            chartNote = `the chart is on the data sheet${rest.chart.note ? `; ${rest.chart.note}` : ""} (${errorCode(e) || "not allowed beside the tables"})`;
          } catch (e2) {
            // The tables are written; a chart that cannot be drawn is said, not fatal.
            chartNote = `no chart: Excel refused it (${errorCode(e2) || (e2 as Error).message}); the chart data are on the data sheet`;
          }
        }
        recordPhase("write: chart", clockMs() - t0);
      }
      await ctx.sync();
      return { summarySheet: summary.name, detailSheet: detail.name, chartNote, ...(meansNote ? { meansNote } : {}) };
    });
  }

  /** A new Diagnostics sheet with its charts (diagnostics-io.ts); returns its name. */
  async writeDiagnostics(plan: DiagnosticsPlan): Promise<string> {
    return this.run((ctx) => writeDiagnosticsSheet(ctx, plan));
  }

  async writeChartSheet(base: string, plan: DiagnosticsPlan): Promise<string> {
    return this.run((ctx) => writeDiagnosticsSheet(ctx, plan, base));
  }

  async writeComparison(plan: SheetPlan, base: string): Promise<string> {
    return this.run(async (ctx) => {
      const [sheet] = await createSheets(ctx, base, [""]);
      sheet.load("name");
      writeSheetPlan(sheet, plan);
      sheet.activate();
      await ctx.sync();
      return sheet.name;
    });
  }

  async loadModels(): Promise<SavedModel[]> {
    return this.run(async (ctx) => {
      const s = ctx.workbook.settings.getItemOrNullObject(MODELS_KEY);
      s.load("value");
      await ctx.sync();
      return s.isNullObject ? [] : parseModels(s.value);
    });
  }

  async saveModels(models: SavedModel[]): Promise<void> {
    await this.run(async (ctx) => {
      ctx.workbook.settings.add(MODELS_KEY, serializeModels(models));
      await ctx.sync();
    });
  }
}

/**
 * The number format of each column in the first data row (the pane copies some columns beside
 * the fitted values and keeps their format); null when the host cannot say.
 */
async function firstRowFormats(ctx: Excel.RequestContext, sheet: Excel.Worksheet, headerRow: number, col: number, ncol: number, used: number): Promise<(string | null)[] | null> {
  if (used < 1) return null;
  try {
    const r = sheet.getRangeByIndexes(headerRow, col, 1, ncol);
    r.load("numberFormat");
    await ctx.sync();
    const row = (r.numberFormat as unknown[][] | undefined)?.[0];
    return Array.isArray(row) ? row.map((f) => (typeof f === "string" && f !== "@" ? f : null)) : null;
  } catch {
    return null;
  }
}

/** Office's errors in the words of the pane. */
function readError(e: unknown): Error {
  switch (errorCode(e)) {
    case "InvalidSelection":
      return new Error("select one rectangular range (a selection of several areas cannot be read), or click inside the data and use the region around the active cell");
    case "ItemNotFound":
      return new Error("the data are not there any more (was the sheet or the table deleted or renamed?): choose them again");
    case "ResponsePayloadSizeLimitExceeded":
    case "RequestPayloadSizeLimitExceeded":
      return new Error("Excel refused to pass the data even in small blocks: select fewer columns");
    default:
      return e instanceof Error ? e : new Error(String(e));
  }
}

const cellAddress0 = (row: number, col: number) => `${columnLetters(col)}${row + 1}`;

/** The first free column right of the detail sheet's tables. */
function chartColumn(out: DetailOutput): number {
  return out.detail.tables.reduce((m, t) => Math.max(m, t.col + t.header.length + 1), 0);
}

/**
 * Adds sheets named `${base} k${suffix}` with the first k that makes every name new, and returns
 * them. Another add-in or the user may take a name between our look and our add: then look again.
 */
export async function createSheets(ctx: Excel.RequestContext, base: string, suffixes: string[]): Promise<Excel.Worksheet[]> {
  for (let attempt = 0; ; attempt++) {
    const sheets = ctx.workbook.worksheets;
    sheets.load("items/name");
    await ctx.sync();
    const names = uniqueSheetNames(sheets.items.map((s) => s.name), base, suffixes);
    const added = names.map((n) => sheets.add(n));
    try {
      await ctx.sync();
      return added;
    } catch (e) {
      if (errorCode(e) !== "ItemAlreadyExists" || attempt >= 2) throw e;
    }
  }
}

function styleRange(r: Excel.Range, style: Style | undefined): void {
  if (!style) return;
  const font = r.format.font;
  switch (style) {
    case "title":
      font.bold = true;
      font.size = 14;
      break;
    case "subtitle":
      font.italic = true;
      font.color = "#424242";
      break;
    case "heading":
      font.bold = true;
      font.color = "#0E5C2F";
      break;
    case "note":
      font.italic = true;
      font.color = "#616161";
      break;
    case "code":
      font.name = "Consolas";
      break;
    case "label":
      break;
    case "header":
      font.bold = true;
      r.format.borders.getItem("EdgeBottom").style = "Continuous";
      break;
  }
}

/** One block of a plan: formats first (so text stays text), then the values or formulas, then the table. */
export function writeBlock(sheet: Excel.Worksheet, b: CellBlock): void {
  const nrow = b.values.length, ncol = b.values[0].length;
  const r = sheet.getRange(rangeAddress(b.row, b.col, nrow, ncol));
  if (b.formats) r.numberFormat = b.formats;
  if (b.formulas) r.formulas = b.values;
  else r.values = b.values;
  styleRange(r, b.style);
  if (b.style === "label") sheet.getRange(rangeAddress(b.row, b.col, nrow, 1)).format.font.bold = true;
  if (b.header) {
    const head = sheet.getRange(rangeAddress(b.row, b.col, 1, ncol));
    styleRange(head, "header");
    if (ncol > b.header.textColumns) sheet.getRange(rangeAddress(b.row, b.col + b.header.textColumns, 1, ncol - b.header.textColumns)).format.horizontalAlignment = "Right";
  }
  if (b.table) sheet.tables.add(r, true);
}

export function writeSheetPlan(sheet: Excel.Worksheet, plan: SheetPlan): void {
  for (const b of plan.blocks) writeBlock(sheet, b);
  setWidths(sheet, plan.widths);
}

function setWidths(sheet: Excel.Worksheet, widths: Record<number, number>): void {
  for (const [c, w] of Object.entries(widths)) {
    const L = columnLetters(Number(c));
    sheet.getRange(`${L}:${L}`).format.columnWidth = w;
  }
}

/** A tall table: the header, then the rows in blocks (one request each), then the Excel table over all of it. */
export async function writeTall(ctx: Excel.RequestContext, sheet: Excel.Worksheet, t: TallTable, signal: Signal, onRows: (done: number) => void): Promise<void> {
  const ncol = t.header.length;
  if (t.label && t.row > 0) {
    const label = sheet.getRange(rangeAddress(t.row - 1, t.col, 1, 1));
    label.numberFormat = [[TEXT]];
    label.values = [[t.label]];
    styleRange(label, "heading");
  }
  const head = sheet.getRange(rangeAddress(t.row, t.col, 1, ncol));
  head.numberFormat = [t.header.map(() => TEXT)];
  head.values = [t.header];
  head.format.font.bold = true;
  let slowest = 0;
  await forEachBlock(
    t.nrows,
    blockRows(ncol, { maxCells: WRITE_CELLS }),
    async (s, e) => {
      const t0 = clockMs();
      const rows = t.slice(s, e);
      const r = sheet.getRange(rangeAddress(t.row + 1 + s, t.col, e - s, ncol));
      r.numberFormat = rows.map((row) => row.map((v, j) => (typeof v === "string" ? TEXT : t.formats[j])));
      r.values = rows;
      const sync = ctx.sync();
      slowest = Math.max(slowest, clockMs() - t0);
      await sync;
    },
    { signal, what: "writing the results", onProgress: (p) => onRows(p.done) },
  );
  // The page's part of the slowest block (making its cells, handing them to Office): a diagnostic.
  recordPhase(`write: ${t.what}, slowest block on the page`, slowest);
  if (t.table && t.nrows > 0) sheet.tables.add(sheet.getRange(rangeAddress(t.row, t.col, t.nrows + 1, ncol)), true);
  await ctx.sync();
}

/** The spaghetti plot: a native XY chart, its series taken from the chart data on `data`; every style decided in the plan. */
export function addChart(host: Excel.Worksheet, data: Excel.Worksheet, plan: ChartPlan, anchor: { from: string; to: string }): Excel.Chart {
  const first = plan.series[0];
  const chart = host.charts.add("XYScatterLinesNoMarkers", data.getRange(first.y), "Columns");
  chart.name = "LMM spaghetti plot";
  chart.title.text = plan.title;
  chart.title.format.font.size = 12;
  chart.axes.categoryAxis.title.text = plan.xTitle;
  chart.axes.valueAxis.title.text = plan.yTitle;
  for (const [axis, b] of [[chart.axes.categoryAxis, plan.x], [chart.axes.valueAxis, plan.y]] as const) {
    axis.minimum = b.min;
    axis.maximum = b.max;
    axis.majorUnit = b.major;
  }
  if (supports("ExcelApi", "1.8")) chart.displayBlanksAs = "Interplotted";
  plan.series.forEach((s, k) => seriesLine(chartSeries(chart, k, s.name, data, s.x, s.y), s.color, { weight: s.weight, style: s.dash }));
  // The legend names the population lines only (one entry per factor level, not 60 groups).
  chartLegend(chart, plan.series.length, plan.legend.length > 0, new Set(plan.legend));
  chart.setPosition(anchor.from, anchor.to);
  return chart;
}
