// A workbook for the Office.js unit tests, built on office-addin-mock: sheets, ranges and the
// workbook are OfficeMockObjects (so a property read before load() + sync() shows up as the
// mock's "not loaded" error instead of a value), seeded with the methods the pane calls.
// office-addin-mock does not mock collections, so the worksheet, table and chart collections
// and the settings are small fakes here. Every range handed out is kept for inspection, and
// every request for a range on a sheet that existed before is recorded.
import { OfficeMockObject } from "office-addin-mock";
import { quoteSheet, rangeAddress, columnIndex } from "../../src/taskpane/naming";
import type { Runner } from "../../src/taskpane/excel-io";

/* eslint-disable @typescript-eslint/no-explicit-any */
type Any = any;

export interface Box {
  row: number;
  col: number;
  rows: number;
  cols: number;
}

export interface HandedRange {
  sheet: string;
  box: Box;
  mock: Any;
  /** The values seeded for reading (null for ranges that are only written). */
  seeded: unknown[][] | null;
}

export interface FakeSeries {
  name: string;
  x: string | null;
  y: string | null;
  line: Record<string, unknown>;
  /** Marker and data-label settings (the means charts), as set. */
  marker?: Record<string, unknown>;
  dataLabels?: Record<string, unknown> | null;
}

export interface FakeChart {
  host: string;
  type: string;
  source: string;
  seriesBy: string;
  name: string;
  title: { text: string; format: { font: Record<string, unknown> } };
  legend: { visible: boolean; position?: string; hidden: Set<number>; legendEntries: { getItemAt(i: number): { visible: boolean } } };
  axes: { categoryAxis: Record<string, unknown> & { title: { text: string } }; valueAxis: Record<string, unknown> & { title: { text: string } } };
  displayBlanksAs: string;
  position: [string, string] | null;
  list: FakeSeries[];
  series: { getItemAt(i: number): Any; add(name: string): Any };
  setPosition(a: string, b: string): void;
}

export interface MockBook {
  ctx: Any;
  run: Runner;
  /** Cell values of each sheet ("r,c" -> value), including the sheets the pane adds. */
  data: Map<string, Map<string, unknown>>;
  existing: Set<string>;
  ranges: HandedRange[];
  /** getRange / getRangeByIndexes calls on sheets that existed before, by sheet. */
  touched: string[];
  byIndexes: { sheet: string; box: Box }[];
  tables: { sheet: string; address: string }[];
  charts: FakeChart[];
  settings: Map<string, unknown>;
  added: string[];
  syncs: number;
  /** Set false to refuse charts whose data sit on another sheet (as a stricter host might). */
  crossSheetCharts: boolean;
  /** Values written to a sheet, assembled from the range mocks (row-major, from A1). */
  written(sheet: string): unknown[][];
  /** Number formats written to a sheet ("r,c" -> format). */
  formats(sheet: string): Map<string, string>;
  formulas(sheet: string): { address: string; formula: string }[];
}

function parseA1(addr: string): Box {
  const cells = addr.split("!").pop()!.replace(/\$/g, "");
  const [a, b] = cells.split(":");
  const one = (s: string) => {
    const m = /^([A-Z]*)(\d*)$/.exec(s)!;
    return { c: m[1] ? columnIndex(m[1]) : 0, r: m[2] ? Number(m[2]) - 1 : 0, wholeCol: !m[2] };
  };
  const p = one(a), q = one(b ?? a);
  const r1 = q.wholeCol ? 1048575 : q.r;
  return { row: p.r, col: p.c, rows: r1 - p.r + 1, cols: q.c - p.c + 1 };
}

export function mockBook(opts: { sheets: Record<string, unknown[][]>; selection: { sheet: string } & Box; tables?: Record<string, { sheet: string } & Box> }): MockBook {
  const all: Any[] = [];
  const data = new Map<string, Map<string, unknown>>();
  const existing = new Set(Object.keys(opts.sheets));
  const sheetMocks = new Map<string, Any>();
  const book: MockBook = {
    ctx: null,
    run: null as unknown as Runner,
    data,
    existing,
    ranges: [],
    touched: [],
    byIndexes: [],
    tables: [],
    charts: [],
    settings: new Map(),
    added: [],
    syncs: 0,
    crossSheetCharts: true,
    written(sheet) {
      const cells = data.get(sheet)!;
      let nr = 0, nc = 0;
      for (const k of cells.keys()) {
        const [r, c] = k.split(",").map(Number);
        nr = Math.max(nr, r + 1);
        nc = Math.max(nc, c + 1);
      }
      const out: unknown[][] = [];
      for (let r = 0; r < nr; r++) {
        const row: unknown[] = [];
        for (let c = 0; c < nc; c++) row.push(cells.get(`${r},${c}`) ?? "");
        out.push(row);
      }
      return out;
    },
    formats(sheet) {
      const out = new Map<string, string>();
      for (const h of book.ranges) {
        if (h.sheet !== sheet || !Array.isArray(h.mock.numberFormat)) continue;
        (h.mock.numberFormat as string[][]).forEach((row, i) => row.forEach((f, j) => out.set(`${h.box.row + i},${h.box.col + j}`, f)));
      }
      return out;
    },
    formulas(sheet) {
      return book.ranges.filter((h) => h.sheet === sheet && Array.isArray(h.mock.formulas)).map((h) => ({ address: rangeAddress(h.box.row, h.box.col, h.box.rows, h.box.cols), formula: String(h.mock.formulas[0][0]) }));
    },
  };
  const track = <T>(m: T): T => {
    all.push(m);
    return m;
  };
  const valuesOf = (sheet: string, b: Box) => {
    const cells = data.get(sheet)!;
    const out: unknown[][] = [];
    for (let i = 0; i < b.rows; i++) {
      const row: unknown[] = [];
      for (let j = 0; j < b.cols; j++) row.push(cells.get(`${b.row + i},${b.col + j}`) ?? "");
      out.push(row);
    }
    return out;
  };
  const usedBox = (sheet: string): Box | null => {
    let r0 = Infinity, c0 = Infinity, r1 = -1, c1 = -1;
    for (const [k, v] of data.get(sheet)!) {
      if (v === "" || v === null || v === undefined) continue;
      const [r, c] = k.split(",").map(Number);
      r0 = Math.min(r0, r);
      c0 = Math.min(c0, c);
      r1 = Math.max(r1, r);
      c1 = Math.max(c1, c);
    }
    return r1 < 0 ? null : { row: r0, col: c0, rows: r1 - r0 + 1, cols: c1 - c0 + 1 };
  };

  /** A range: readable ranges are seeded with their values and geometry. */
  function range(sheet: string, b: Box, readable: boolean): Any {
    const address = `${quoteSheet(sheet)}!${rangeAddress(b.row, b.col, b.rows, b.cols)}`;
    const seeded = readable ? valuesOf(sheet, b) : null;
    const seed: Record<string, unknown> = {
      address,
      rowIndex: b.row,
      columnIndex: b.col,
      rowCount: b.rows,
      columnCount: b.cols,
      cellCount: b.rows * b.cols,
      format: { font: {}, fill: {}, columnWidth: 0, horizontalAlignment: "General", borders: { getItem: function () { return { style: "" }; } } },
      getSurroundingRegion: function () {
        const u = usedBox(sheet)!;
        return range(sheet, u, true);
      },
      getIntersectionOrNullObject: function (other: Any) {
        const o: Box = other.__box;
        const r0 = Math.max(b.row, o.row), c0 = Math.max(b.col, o.col);
        const r1 = Math.min(b.row + b.rows, o.row + o.rows) - 1, c1 = Math.min(b.col + b.cols, o.col + o.cols) - 1;
        const none = other.__null || r1 < r0 || c1 < c0;
        const r = range(sheet, none ? { row: 0, col: 0, rows: 1, cols: 1 } : { row: r0, col: c0, rows: r1 - r0 + 1, cols: c1 - c0 + 1 }, true);
        r.__null = none;
        return r;
      },
    };
    if (seeded) seed.values = seeded;
    const m = track(new OfficeMockObject(seed)) as Any;
    m.__box = b;
    m.__sheet = sheet;
    m.__address = address;
    m.worksheet = sheetMocks.get(sheet);
    Object.defineProperty(m, "isNullObject", { get: () => !!m.__null });
    book.ranges.push({ sheet, box: b, mock: m, seeded });
    return m;
  }

  function addSheet(name: string): Any {
    data.set(name, data.get(name) ?? new Map());
    const sheet = track(
      new OfficeMockObject({
        name,
        getRange: function (addr: string) {
          if (existing.has(name)) book.touched.push(name);
          return range(name, parseA1(addr ?? "A1"), false);
        },
        getRangeByIndexes: function (r: number, c: number, nr: number, nc: number) {
          const box = { row: r, col: c, rows: nr, cols: nc };
          book.byIndexes.push({ sheet: name, box });
          return range(name, box, true);
        },
        getUsedRangeOrNullObject: function () {
          const u = usedBox(name);
          const r = range(name, u ?? { row: 0, col: 0, rows: 1, cols: 1 }, false);
          r.__null = !u;
          return r;
        },
        activate: function () {
          book.ctx.workbook.__active = name;
        },
        freezePanes: { freezeRows: function () {} },
      }),
    ) as Any;
    sheet.tables = {
      add: (r: Any, hasHeaders: boolean) => {
        book.tables.push({ sheet: name, address: r.__address });
        return { name: `Table${book.tables.length}`, hasHeaders };
      },
    };
    sheet.charts = {
      add: (type: string, source: Any, seriesBy: string) => {
        if (book.crossSheetCharts === false && source.__sheet !== name) throw Object.assign(new Error("The chart's source data must be on its sheet"), { code: "InvalidArgument" });
        const list: FakeSeries[] = [{ name: "Series1", x: null, y: source.__address, line: {} }];
        const api = (s: FakeSeries) => ({
          set name(v: string) {
            s.name = v;
          },
          get name() {
            return s.name;
          },
          setXAxisValues: (r: Any) => (s.x = r.__address),
          setValues: (r: Any) => (s.y = r.__address),
          format: { line: s.line },
          set markerStyle(v: string) {
            s.marker = { ...s.marker, style: v };
          },
          set markerSize(v: number) {
            s.marker = { ...s.marker, size: v };
          },
          set markerBackgroundColor(v: string) {
            s.marker = { ...s.marker, color: v };
          },
          set markerForegroundColor(v: string) {
            s.marker = { ...s.marker, border: v };
          },
          set hasDataLabels(v: boolean) {
            s.dataLabels = v ? (s.dataLabels ?? {}) : null;
          },
          get dataLabels() {
            return (s.dataLabels ??= {});
          },
        });
        const chart: FakeChart = {
          host: name,
          type,
          source: source.__address,
          seriesBy,
          name: "",
          title: { text: "", format: { font: {} } },
          legend: {
            visible: true,
            hidden: new Set<number>(),
            legendEntries: {
              getItemAt: (i: number) => ({
                set visible(v: boolean) {
                  if (v) chart.legend.hidden.delete(i);
                  else chart.legend.hidden.add(i);
                },
                get visible() {
                  return !chart.legend.hidden.has(i);
                },
              }),
            },
          },
          axes: { categoryAxis: { title: { text: "" } }, valueAxis: { title: { text: "" } } },
          displayBlanksAs: "NotPlotted",
          position: null,
          list,
          series: {
            getItemAt: (i: number) => api(list[i]),
            add: (n: string) => {
              const s: FakeSeries = { name: n, x: null, y: null, line: {} };
              list.push(s);
              return api(s);
            },
          },
          setPosition(a: string, b: string) {
            chart.position = [a, b];
          },
        };
        book.charts.push(chart);
        return chart;
      },
    };
    sheetMocks.set(name, sheet);
    return sheet;
  }

  // getRangeByIndexes is how the reader reads the user's sheet: only getRange counts as a touch.
  for (const [name, rows] of Object.entries(opts.sheets)) {
    addSheet(name);
    const cells = data.get(name)!;
    rows.forEach((row, i) => row.forEach((v, j) => cells.set(`${i},${j}`, v)));
  }

  const workbook = track(
    new OfficeMockObject({
      getSelectedRange: function () {
        const s = opts.selection;
        return range(s.sheet, s, true);
      },
      getActiveCell: function () {
        const s = opts.selection;
        return range(s.sheet, { row: s.row, col: s.col, rows: 1, cols: 1 }, true);
      },
    }),
  ) as Any;
  const names = () => Array.from(sheetMocks.keys());
  workbook.worksheets = {
    load: () => {
      for (const s of sheetMocks.values()) s.load("name");
    },
    get items() {
      return Array.from(sheetMocks.values());
    },
    add: (name: string) => {
      if (names().some((n) => n.toLowerCase() === name.toLowerCase())) throw Object.assign(new Error(`A sheet named ${name} already exists`), { code: "ItemAlreadyExists" });
      book.added.push(name);
      return addSheet(name);
    },
    getItemOrNullObject: (name: string) => sheetMocks.get(name),
  };
  const tableMocks = new Map<string, Any>();
  for (const [tname, t] of Object.entries(opts.tables ?? {})) {
    const tm = track(new OfficeMockObject({ name: tname, showTotals: false, getRange: function () { return range(t.sheet, t, true); } })) as Any;
    Object.defineProperty(tm, "isNullObject", { value: false });
    tableMocks.set(tname, tm);
  }
  workbook.tables = {
    load: () => undefined,
    get items() {
      return Array.from(tableMocks.keys()).map((n) => ({ name: n }));
    },
    getItemOrNullObject: (name: string) => tableMocks.get(name),
  };
  workbook.settings = {
    getItemOrNullObject: (key: string) => {
      const s = track(new OfficeMockObject({ value: book.settings.get(key) ?? "" })) as Any;
      Object.defineProperty(s, "isNullObject", { value: !book.settings.has(key) });
      return s;
    },
    add: (key: string, value: unknown) => {
      book.settings.set(key, value);
      return {};
    },
  };
  book.ctx = {
    workbook,
    sync: async () => {
      book.syncs++;
      for (const m of all) await m.sync();
      // office-addin-mock settles loaded properties a tick later
      await new Promise((r) => setTimeout(r, 0));
      // what was written so far lands in the sheets
      for (const h of book.ranges) {
        const v = h.mock.formulas ?? h.mock.values;
        if (!Array.isArray(v) || v === h.seeded || h.mock.__landed === v) continue;
        h.mock.__landed = v;
        const cells = data.get(h.sheet)!;
        (v as unknown[][]).forEach((row, i) => row.forEach((x, j) => cells.set(`${h.box.row + i},${h.box.col + j}`, x)));
      }
    },
  };
  book.run = async <T>(batch: (ctx: Excel.RequestContext) => Promise<T>) => {
    const out = await batch(book.ctx as Excel.RequestContext);
    await book.ctx.sync();
    return out;
  };
  return book;
}
