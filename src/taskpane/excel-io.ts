// Every read from and write to the workbook. Reads go in row blocks (large ranges exceed Office's
// payload limits); writes go only to sheets this module has just created, so a user's cells are
// never overwritten.
import type { FitResultWithRows } from "../engine/types";
import type { Cell } from "../functions/format";
import { SheetTable, blupTables, fittedRows, liveFormulas, rowBlocks, spaghetti, summaryTables, uniqueSheetName } from "./layout";

/** Rows per read or write: Microsoft suggests starting at 5k-20k. */
export const BLOCK_ROWS = 20000;

export type Source = "selection" | "region" | "table";

export interface DataRead {
  address: string;
  rows: unknown[][];
  /** Sheet row number (1-based) of the header row. */
  headerRow: number;
}

export async function readData(source: Source, onProgress: (share: number) => void, signal: { cancelled: boolean }): Promise<DataRead> {
  return Excel.run(async (ctx) => {
    let range: Excel.Range;
    if (source === "selection") range = ctx.workbook.getSelectedRange();
    else if (source === "region") range = ctx.workbook.getActiveCell().getSurroundingRegion();
    else range = ctx.workbook.getActiveCell().getTables(false).getFirst().getRange();
    range.load("address,rowCount,columnCount,rowIndex,columnIndex");
    const sheet = range.worksheet;
    await ctx.sync();
    if (range.rowCount < 2) throw new Error("the data need a header row and at least one row below it: select the whole table");
    const rows: unknown[][] = [];
    for (const [s, e] of rowBlocks(range.rowCount, BLOCK_ROWS)) {
      if (signal.cancelled) throw new Error("reading was cancelled");
      const block = sheet.getRangeByIndexes(range.rowIndex + s, range.columnIndex, e - s, range.columnCount);
      block.load("values");
      await ctx.sync();
      for (const r of block.values) rows.push(r);
      onProgress(e / range.rowCount);
    }
    return { address: range.address, rows, headerRow: range.rowIndex + 1 };
  });
}

/** A1-style address of a block starting at (row, col), 0-based. */
export function a1(row: number, col: number, nrow: number, ncol: number): string {
  const letter = (c: number) => {
    let s = "";
    for (let k = c + 1; k > 0; k = Math.floor((k - 1) / 26)) s = String.fromCharCode(65 + ((k - 1) % 26)) + s;
    return s;
  };
  return `${letter(col)}${row + 1}:${letter(col + ncol - 1)}${row + nrow}`;
}

/** Write a titled table at `row`, as an Excel table with number formats; returns the next free row. */
function writeTable(sheet: Excel.Worksheet, row: number, t: SheetTable): number {
  const title = sheet.getRange(a1(row, 0, 1, 1));
  title.values = [[t.title]];
  title.format.font.bold = true;
  const w = t.rows[0].length;
  const range = sheet.getRange(a1(row + 1, 0, t.rows.length, w));
  range.values = t.rows as Cell[][];
  const formats = t.rows.map((r, i) => r.map((_, j) => (i === 0 ? "General" : t.formats[j] ?? "General")));
  range.numberFormat = formats;
  sheet.tables.add(a1(row + 1, 0, t.rows.length, w), true);
  return row + t.rows.length + 2;
}

export interface WriteOptions {
  live: boolean;
  method: string;
  /** Columns for the spaghetti plot (names in the data), or null for no chart. */
  chart: { time: string; group: string; factor: string | null } | null;
  onProgress?: (share: number) => void;
}

export interface Written {
  summarySheet: string;
  detailSheet: string;
  chartNote: string | null;
}

export async function writeResults(fit: FitResultWithRows, data: DataRead, opts: WriteOptions): Promise<Written> {
  return Excel.run(async (ctx) => {
    const sheets = ctx.workbook.worksheets;
    sheets.load("items/name");
    await ctx.sync();
    const names = sheets.items.map((s) => s.name);
    const summaryName = uniqueSheetName(names, "LMM");
    const detailName = uniqueSheetName([...names, summaryName], "LMM data");
    const summary = sheets.add(summaryName);
    const detail = sheets.add(detailName);
    const tables = summaryTables(fit, data.address);
    let row = writeTable(summary, 0, tables[0]);
    if (opts.live) {
      for (const f of liveFormulas(data.address, fit.spec, opts.method)) {
        const t = summary.getRange(a1(row, 0, 1, 1));
        t.values = [[f.title]];
        t.format.font.bold = true;
        summary.getRange(a1(row + 1, 0, 1, 1)).formulas = [[f.formula]];
        row += 2 + (f.title.startsWith("Fixed") ? fit.fixef.length + 8 + fit.messages.length : fit.varcomp.length + 2);
      }
    } else {
      row = writeTable(summary, row, tables[1]);
      writeTable(summary, row, tables[2]);
    }
    summary.getRange("A:A").format.autofitColumns();
    // Detail sheet: BLUPs side by side, then the per-row values in blocks.
    let col = 0;
    for (const t of blupTables(fit)) {
      const w = t.rows[0].length;
      const title = detail.getRange(a1(0, col, 1, 1));
      title.values = [[t.title]];
      title.format.font.bold = true;
      const r = detail.getRange(a1(1, col, t.rows.length, w));
      r.values = t.rows;
      r.numberFormat = t.rows.map((x, i) => x.map((_, j) => (i === 0 ? "General" : t.formats[j] ?? "General")));
      detail.tables.add(a1(1, col, t.rows.length, w), true);
      col += w + 1;
    }
    let chartNote: string | null = null;
    if (fit.fitted) {
      const rows = fittedRows(fit, data.headerRow + 1);
      const title = detail.getRange(a1(0, col, 1, 1));
      title.values = [["Fitted values and residuals"]];
      title.format.font.bold = true;
      const blocks = rowBlocks(rows.length, BLOCK_ROWS);
      for (let b = 0; b < blocks.length; b++) {
        const [s, e] = blocks[b];
        const r = detail.getRange(a1(1 + s, col, e - s, 4));
        r.values = rows.slice(s, e);
        r.numberFormat = rows.slice(s, e).map((x, i) => x.map((_, j) => (s + i === 0 || j === 0 ? "General" : "0.0000")));
        await ctx.sync();
        opts.onProgress?.((b + 1) / blocks.length);
      }
      detail.tables.add(a1(1, col, rows.length, 4), true);
      col += 5;
      if (opts.chart) chartNote = addSpaghetti(detail, col, fit, data, opts.chart);
    }
    summary.activate();
    await ctx.sync();
    return { summarySheet: summaryName, detailSheet: detailName, chartNote };
  });
}

/** A native XY chart: one line per group (a readable subset when there are many) plus the fitted population line(s). */
function addSpaghetti(sheet: Excel.Worksheet, col: number, fit: FitResultWithRows, data: DataRead, c: { time: string; group: string; factor: string | null }): string | null {
  const head = data.rows[0].map((h) => String(h));
  const iy = head.indexOf(fit.spec.split("~")[0].trim()), it = head.indexOf(c.time), ig = head.indexOf(c.group);
  const iF = c.factor ? head.indexOf(c.factor) : -1;
  if (iy < 0 || it < 0 || ig < 0) return "no chart: the response, time or group column is not a plain column of the data";
  const f = fit.fitted!;
  const used = f.rows;
  const time = used.map((r) => Number(data.rows[r + 1][it]));
  const y = used.map((r) => Number(data.rows[r + 1][iy]));
  const group = used.map((r) => String(data.rows[r + 1][ig]));
  const factor = iF >= 0 ? used.map((r) => String(data.rows[r + 1][iF])) : null;
  const sp = spaghetti(time, y, group, f.marginal, factor);
  // Chart data: two columns (x, y) per series, side by side.
  const title = sheet.getRange(a1(0, col, 1, 1));
  title.values = [["Chart data"]];
  title.format.font.bold = true;
  const chart = sheet.charts.add(Excel.ChartType.xyscatterLinesNoMarkers, sheet.getRange(a1(2, col, 1, 2)), Excel.ChartSeriesBy.columns);
  chart.title.text = `${head[iy]} by ${c.time}, one line per ${c.group}${sp.note ? ` (${sp.note})` : ""}`;
  chart.legend.visible = false;
  sp.series.forEach((s, k) => {
    const x0 = col + 2 * k;
    sheet.getRange(a1(1, x0, 1, 2)).values = [[s.name, ""]];
    const xs = sheet.getRange(a1(2, x0, s.x.length, 1));
    xs.values = s.x.map((v) => [v]);
    const ys = sheet.getRange(a1(2, x0 + 1, s.y.length, 1));
    ys.values = s.y.map((v) => [v]);
    const ser = k === 0 ? chart.series.getItemAt(0) : chart.series.add(s.name);
    ser.name = s.name;
    ser.setXAxisValues(xs);
    ser.setValues(ys);
    if (s.population) ser.format.line.weight = 3;
  });
  chart.setPosition(a1(0, col + 2 * sp.series.length + 1, 1, 1).split(":")[0]);
  return sp.note;
}

/** A new sheet with the model specs in cells and a live =LMM.LRT over them. */
export async function writeComparison(specs: string[], dataAddress: string, method: string): Promise<string> {
  return Excel.run(async (ctx) => {
    const sheets = ctx.workbook.worksheets;
    sheets.load("items/name");
    await ctx.sync();
    const name = uniqueSheetName(sheets.items.map((s) => s.name), "LMM compare");
    const sheet = sheets.add(name);
    const title = sheet.getRange("A1");
    title.values = [["Likelihood-ratio tests (chi-bar-square p where a variance is 0 under the null)"]];
    title.format.font.bold = true;
    sheet.getRange(a1(2, 0, specs.length, 1)).values = specs.map((s) => [s]);
    const specsAddr = a1(2, 0, specs.length, 1).replace(/(\D+)(\d+):(\D+)(\d+)/, "$$$1$$$2:$$$3$$$4");
    sheet.getRange(a1(3 + specs.length, 0, 1, 1)).formulas = [[`=LMM.LRT(${dataAddress},${specsAddr},"${method}")`]];
    sheet.activate();
    await ctx.sync();
    return name;
  });
}
