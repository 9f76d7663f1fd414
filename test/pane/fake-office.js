// A scripted stand-in for Office.js (the subset the pane uses), holding a workbook in memory and
// recording every write. The browser end-to-end test serves it in place of the CDN's office.js;
// the Node tests require it. Sheets map "row,col" (0-based) to values.
(function (root) {
  "use strict";
  const log = [];
  let syncs = 0;

  function colOf(letters) {
    let c = 0;
    for (const ch of letters) c = c * 26 + (ch.charCodeAt(0) - 64);
    return c - 1;
  }
  function letters(c) {
    let s = "";
    for (let k = c + 1; k > 0; k = Math.floor((k - 1) / 26)) s = String.fromCharCode(65 + ((k - 1) % 26)) + s;
    return s;
  }
  function parse(addr) {
    const a = addr.replace(/\$/g, "").split("!").pop();
    const [p, q] = a.split(":");
    const one = (s) => {
      const m = /^([A-Z]+)(\d*)$/.exec(s);
      return { c: colOf(m[1]), r: m[2] ? Number(m[2]) - 1 : null };
    };
    const x = one(p), y = one(q || p);
    return { r0: x.r === null ? 0 : x.r, c0: x.c, r1: y.r === null ? 1048575 : y.r, c1: y.c };
  }

  class Sheet {
    constructor(wb, name) {
      this.wb = wb;
      this.name = name;
      this.cells = new Map();
      this.formulas = new Map();
      this.formats = new Map();
      this.tableList = [];
      this.chartList = [];
      const sheet = this;
      this.tables = {
        add(address, hasHeaders) {
          log.push({ op: "table", sheet: sheet.name, address, hasHeaders });
          sheet.tableList.push(address);
          return { name: `Table${sheet.tableList.length}` };
        },
      };
      this.charts = {
        add(type, range, by) {
          const chart = new Chart(sheet, type);
          log.push({ op: "chart", sheet: sheet.name, type, source: range.address, by });
          sheet.chartList.push(chart);
          return chart;
        },
      };
    }
    getRange(addr) {
      const b = parse(addr);
      return new Range(this, b.r0, b.c0, b.r1 - b.r0 + 1, b.c1 - b.c0 + 1);
    }
    getRangeByIndexes(r, c, nr, nc) {
      log.push({ op: "read-block", sheet: this.name, rows: nr });
      return new Range(this, r, c, nr, nc);
    }
    activate() {
      this.wb.active = this;
    }
    load() {}
    used() {
      if (this.grid) return { r1: this.grid.length - 1, c1: this.grid[0].length - 1 };
      let r1 = -1, c1 = -1;
      for (const k of this.cells.keys()) {
        const [r, c] = k.split(",").map(Number);
        r1 = Math.max(r1, r);
        c1 = Math.max(c1, c);
      }
      return { r1, c1 };
    }
  }

  class Chart {
    constructor(sheet, type) {
      this.sheet = sheet;
      this.type = type;
      this.title = { text: "" };
      this.legend = { visible: true };
      this.seriesList = [{ name: "", x: null, y: null, format: { line: {} } }];
      const chart = this;
      this.series = {
        getItemAt(i) {
          return chart.wrap(chart.seriesList[i]);
        },
        add(name) {
          const s = { name, x: null, y: null, format: { line: {} } };
          chart.seriesList.push(s);
          return chart.wrap(s);
        },
        get count() {
          return chart.seriesList.length;
        },
      };
    }
    wrap(s) {
      return {
        set name(v) { s.name = v; },
        get name() { return s.name; },
        setXAxisValues(r) { s.x = r.address; },
        setValues(r) { s.y = r.address; },
        format: s.format,
      };
    }
    setPosition(cell) {
      this.position = cell;
    }
  }

  class Range {
    constructor(sheet, r, c, nr, nc) {
      Object.assign(this, { sheet, rowIndex: r, columnIndex: c, rowCount: nr, columnCount: nc });
      this.worksheet = sheet;
      this.format = { font: {}, autofitColumns() {} };
    }
    get address() {
      return `${this.sheet.name}!${letters(this.columnIndex)}${this.rowIndex + 1}:${letters(this.columnIndex + this.columnCount - 1)}${this.rowIndex + this.rowCount}`;
    }
    load() {}
    get values() {
      const out = [];
      const grid = this.sheet.grid;
      for (let i = 0; i < this.rowCount; i++) {
        const row = [];
        const gr = grid && grid[this.rowIndex + i];
        for (let j = 0; j < this.columnCount; j++) {
          if (gr) {
            const g = gr[this.columnIndex + j];
            row.push(g === undefined ? "" : g);
            continue;
          }
          const v = this.sheet.cells.get(`${this.rowIndex + i},${this.columnIndex + j}`);
          row.push(v === undefined ? "" : v);
        }
        out.push(row);
      }
      return out;
    }
    set values(rows) {
      this.guard();
      log.push({ op: "write", sheet: this.sheet.name, address: this.address, rows: rows.length });
      rows.forEach((row, i) => row.forEach((v, j) => this.sheet.cells.set(`${this.rowIndex + i},${this.columnIndex + j}`, v)));
    }
    set formulas(rows) {
      this.guard();
      log.push({ op: "formula", sheet: this.sheet.name, address: this.address, formula: rows[0][0] });
      rows.forEach((row, i) => row.forEach((v, j) => {
        this.sheet.formulas.set(`${this.rowIndex + i},${this.columnIndex + j}`, v);
        this.sheet.cells.set(`${this.rowIndex + i},${this.columnIndex + j}`, v);
      }));
    }
    set numberFormat(rows) {
      rows.forEach((row, i) => row.forEach((v, j) => this.sheet.formats.set(`${this.rowIndex + i},${this.columnIndex + j}`, v)));
    }
    /** Writing to a sheet that held the user's data before this session is a bug: record it loudly. */
    guard() {
      if (this.sheet.protectedUserSheet) log.push({ op: "OVERWRITE", sheet: this.sheet.name, address: this.address });
    }
    getSurroundingRegion() {
      const u = this.sheet.used();
      return new Range(this.sheet, 0, 0, u.r1 + 1, u.c1 + 1);
    }
    getTables() {
      const range = this.getSurroundingRegion();
      return { getFirst: () => ({ getRange: () => range }) };
    }
  }

  const workbook = {
    sheets: [],
    active: null,
    selection: null,
    worksheets: {
      get items() {
        return workbook.sheets;
      },
      load() {},
      add(name) {
        if (workbook.sheets.some((s) => s.name.toLowerCase() === name.toLowerCase())) throw new Error(`A sheet named ${name} already exists`);
        const s = new Sheet(workbook, name);
        workbook.sheets.push(s);
        log.push({ op: "add-sheet", name });
        return s;
      },
      getItem(name) {
        return workbook.sheets.find((s) => s.name === name);
      },
    },
    getSelectedRange() {
      return workbook.selection;
    },
    getActiveCell() {
      const s = workbook.selection;
      return new Range(s.sheet, s.rowIndex, s.columnIndex, 1, 1);
    },
  };

  /** Put a 2-D array (header first) on a new user sheet and select it. */
  function seed(name, rows) {
    const s = new Sheet(workbook, name);
    workbook.sheets.push(s);
    rows.forEach((row, i) => row.forEach((v, j) => s.cells.set(`${i},${j}`, v)));
    s.protectedUserSheet = true;
    workbook.selection = new Range(s, 0, 0, rows.length, rows[0].length);
    workbook.active = s;
    return s;
  }

  /** A large user sheet held as an array of rows (the benchmark's million rows), selected. */
  function seedGrid(name, rows) {
    const s = new Sheet(workbook, name);
    workbook.sheets.push(s);
    s.grid = rows;
    s.protectedUserSheet = true;
    workbook.selection = new Range(s, 0, 0, rows.length, rows[0].length);
    workbook.active = s;
    return s;
  }

  /** A plain snapshot of a sheet's values (rows x cols) for assertions. */
  function snapshot(name) {
    const s = workbook.worksheets.getItem(name);
    if (!s) return null;
    const u = s.used();
    return new Range(s, 0, 0, u.r1 + 1, u.c1 + 1).values;
  }

  root.Excel = {
    run: async (cb) => cb({ workbook, sync: async () => { syncs++; } }),
    ChartType: { xyscatterLinesNoMarkers: "XYScatterLinesNoMarkers" },
    ChartSeriesBy: { columns: "Columns" },
  };
  // The shared runtime defines CustomFunctions for the functions bundle the page also loads.
  const associated = [];
  root.CustomFunctions = {
    associate: (id) => associated.push(id),
    Error: class extends Error { constructor(code, message) { super(message); this.code = code; } },
    ErrorCode: { invalidValue: "#VALUE!", notAvailable: "#N/A" },
  };
  root.Office = { onReady: (cb) => Promise.resolve().then(() => cb && cb({ host: "Excel" })), context: {} };
  root.__fakeExcel = { workbook, log, associated, seed, seedGrid, snapshot, syncs: () => syncs, charts: (name) => workbook.worksheets.getItem(name).chartList };
})(typeof window !== "undefined" ? window : globalThis);
