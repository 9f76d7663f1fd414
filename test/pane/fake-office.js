// A scripted stand-in for Office.js: the part of the Excel object model the task pane uses, over
// a workbook held in memory. The browser test serves it in place of the CDN's office.js; Node
// tests require it. It keeps Office's rules where bugs hide: a property must be loaded and
// synced before it is read, sheet names are unique without regard to case, tables may not
// overlap, and a request past the payload limit fails with Office's error code. Every write is
// logged; a write to a sheet that held the user's data, or onto a cell that already has a value,
// is logged as OVERWRITE.
(function (root) {
  "use strict";
  const MAX_ROWS = 1048576, MAX_COLS = 16384;
  const log = [];
  const limits = { cellsPerSync: 5000000 };
  let syncs = 0;
  let pending = []; // [object, property] loads waiting for sync
  let syncCells = 0; // cells carried by the current request

  function officeError(code, message) {
    const e = new Error(message);
    e.name = "RichApi.Error";
    e.code = code;
    return e;
  }
  function colOf(letters) {
    let c = 0;
    for (const ch of letters.toUpperCase()) c = c * 26 + (ch.charCodeAt(0) - 64);
    return c - 1;
  }
  function letters(c) {
    let s = "";
    for (let k = c + 1; k > 0; k = Math.floor((k - 1) / 26)) s = String.fromCharCode(65 + ((k - 1) % 26)) + s;
    return s;
  }
  function quote(name) {
    return /^[A-Za-z_][A-Za-z0-9_.]*$/.test(name) && !/^[A-Za-z]{1,3}[0-9]+$/.test(name) ? name : `'${name.replace(/'/g, "''")}'`;
  }
  /** "A1", "A1:D9", "A:A", "3:5" -> 0-based box. */
  function parseCells(a) {
    const [p, q] = a.replace(/\$/g, "").split(":");
    const one = (s) => {
      const m = /^([A-Za-z]*)(\d*)$/.exec(s);
      if (!m) throw officeError("InvalidArgument", `bad address ${a}`);
      return { c: m[1] ? colOf(m[1]) : null, r: m[2] ? Number(m[2]) - 1 : null };
    };
    const x = one(p), y = one(q || p);
    return {
      r0: x.r === null ? 0 : x.r,
      c0: x.c === null ? 0 : x.c,
      r1: y.r === null ? MAX_ROWS - 1 : y.r,
      c1: y.c === null ? MAX_COLS - 1 : y.c,
    };
  }
  const blank = (v) => v === undefined || v === null || v === "";
  /** Cells are keyed by one number (row * 16384 + column): cheaper than "r,c" strings for large writes. */
  const key = (r, c) => r * MAX_COLS + c;
  const unkey = (k) => `${Math.floor(k / MAX_COLS)},${k % MAX_COLS}`;

  /**
   * Cells of a sheet by column: numbers in a Float64Array, texts (interned) and other values by
   * reference. A million written rows are then a few typed arrays, as they are in Excel's own
   * process, not millions of JS objects on the page's heap: a Map of seven million keys stalled
   * the page rehashing, and dense row arrays made the page's garbage collector pause for long
   * stretches that the real pane, whose cells live in Excel, would not have.
   */
  class Grid {
    constructor() {
      this.cols = new Map(); // column -> { cap, kind: Uint8Array (0 unset, 1 number, 2 other), num, ref }
      this.others = [];
      this.textIndex = new Map();
      this.lastText = null;
      this.lastIndex = -1;
    }
    get(r, c) {
      const col = this.cols.get(c);
      if (col === undefined || r >= col.cap) return undefined;
      const k = col.kind[r];
      return k === 0 ? undefined : k === 1 ? col.num[r] : this.others[col.ref[r]];
    }
    set(r, c, v) {
      this.put(this.column(c, r), r, v);
    }
    /** Rows written as a block: column by column, each column looked up and grown once. */
    setBlock(r0, c0, rows) {
      const nr = rows.length, nc = nr ? rows[0].length : 0;
      for (let j = 0; j < nc; j++) {
        const col = this.column(c0 + j, r0 + nr - 1);
        for (let i = 0; i < nr; i++) this.put(col, r0 + i, rows[i][j]);
      }
    }
    /** Does any cell of the box hold a value other than ""? */
    anyFilled(r0, c0, nr, nc) {
      for (let j = 0; j < nc; j++) {
        const col = this.cols.get(c0 + j);
        if (col === undefined) continue;
        for (let r = r0; r < Math.min(r0 + nr, col.cap); r++) {
          const k = col.kind[r];
          if (k === 1 || (k === 2 && !blank(this.others[col.ref[r]]))) return true;
        }
      }
      return false;
    }
    /** Column c, grown to hold row r. */
    column(c, r) {
      let col = this.cols.get(c);
      if (col === undefined) this.cols.set(c, (col = { cap: 0, kind: new Uint8Array(0), num: new Float64Array(0), ref: new Int32Array(0) }));
      if (r >= col.cap) {
        let cap = Math.max(1024, col.cap * 2);
        while (cap <= r) cap *= 2;
        const kind = new Uint8Array(cap), num = new Float64Array(cap), ref = new Int32Array(cap);
        kind.set(col.kind);
        num.set(col.num);
        ref.set(col.ref);
        Object.assign(col, { cap, kind, num, ref });
      }
      return col;
    }
    put(col, r, v) {
      if (typeof v === "number") {
        col.kind[r] = 1;
        col.num[r] = v;
        return;
      }
      // Texts repeat (a format per column, a group per row): the last one is remembered.
      let k = v === this.lastText ? this.lastIndex : typeof v === "string" ? this.textIndex.get(v) : undefined;
      if (k === undefined) {
        k = this.others.push(v) - 1;
        if (typeof v === "string") this.textIndex.set(v, k);
      }
      if (typeof v === "string") (this.lastText = v), (this.lastIndex = k);
      col.kind[r] = 2;
      col.ref[r] = k;
    }
    /** Calls fn(r, c, v) for every cell set. */
    forEach(fn) {
      for (const [c, col] of this.cols) for (let r = 0; r < col.cap; r++) if (col.kind[r] !== 0) fn(r, c, this.get(r, c));
    }
  }

  /** Loadable properties: reading one before load() + sync() throws as Office.js does. */
  class Loadable {
    constructor() {
      this._loaded = new Set();
    }
    load(props) {
      let list = [];
      if (props === undefined) list = ["*"];
      else if (typeof props === "string") list = props.split(",");
      else if (Array.isArray(props)) list = props;
      else list = Object.keys(props);
      for (const p of list) pending.push([this, p.trim()]);
      return this;
    }
    _need(prop) {
      if (!this._loaded.has(prop) && !this._loaded.has("*")) {
        throw officeError("PropertyNotLoaded", `The property '${prop}' is not available. Before reading the property's value, call the load method on the containing object and call "context.sync()" on the associated request context.`);
      }
    }
    get isNullObject() {
      if (!this._synced) throw officeError("PropertyNotLoaded", "isNullObject is not available before context.sync()");
      return !!this._null;
    }
  }

  class Sheet extends Loadable {
    constructor(wb, name, user) {
      super();
      this.wb = wb;
      this._name = name;
      this.user = !!user;
      this.cells = new Grid();
      this.formulaCells = new Map();
      this.formats = new Grid();
      this.fonts = new Map();
      this.styles = []; // every range's format object, for the tests' sheet renderer
      this.widths = new Map();
      this.grid = null; // { rows, cols } of a large user sheet seeded with seedGrid
      this.tableList = [];
      this.chartList = [];
      this.frozenRows = 0;
      const sheet = this;
      this.tables = {
        add(source, hasHeaders) {
          const r = typeof source === "string" ? sheet.getRange(source.split("!").pop()) : source;
          if (r.sheet !== sheet) throw officeError("InvalidArgument", "the table's range is on another sheet");
          return wb.addTable(r, hasHeaders);
        },
      };
      this.charts = {
        add(type, source, seriesBy) {
          const chart = new Chart(sheet, type, source, seriesBy);
          sheet.chartList.push(chart);
          log.push({ op: "chart", sheet: sheet._name, type, source: source._address, seriesBy });
          return chart;
        },
      };
      this.freezePanes = {
        freezeRows(n) {
          sheet.frozenRows = n;
        },
      };
    }
    get name() {
      this._need("name");
      return this._name;
    }
    get worksheet() {
      return this;
    }
    get(r, c) {
      const v = this.cells.get(r, c);
      return v === undefined ? "" : v;
    }
    /** Bounding box of the non-blank cells, or null. */
    usedBox() {
      if (this.grid) return this.grid.rows ? { r0: 0, c0: 0, r1: this.grid.rows - 1, c1: this.grid.cols - 1 } : null;
      let b = null;
      this.cells.forEach((r, c, v) => {
        if (blank(v)) return;
        if (!b) b = { r0: r, c0: c, r1: r, c1: c };
        else {
          b.r0 = Math.min(b.r0, r);
          b.c0 = Math.min(b.c0, c);
          b.r1 = Math.max(b.r1, r);
          b.c1 = Math.max(b.c1, c);
        }
      });
      return b;
    }
    getRange(address) {
      const b = parseCells(address === undefined ? "A1" : address);
      return new Range(this, b.r0, b.c0, b.r1 - b.r0 + 1, b.c1 - b.c0 + 1);
    }
    getRangeByIndexes(r, c, nr, nc) {
      log.push({ op: "range-by-indexes", sheet: this._name, row: r, rows: nr, cols: nc });
      return new Range(this, r, c, nr, nc);
    }
    getUsedRangeOrNullObject() {
      const b = this.usedBox();
      const r = b ? new Range(this, b.r0, b.c0, b.r1 - b.r0 + 1, b.c1 - b.c0 + 1) : new Range(this, 0, 0, 1, 1);
      r._null = !b;
      return r;
    }
    activate() {
      this.wb.active = this;
      log.push({ op: "activate", sheet: this._name });
    }
  }

  class Chart {
    constructor(sheet, type, source, seriesBy) {
      this.sheet = sheet;
      this.type = type;
      this.source = source._address;
      this.seriesBy = seriesBy;
      this.name = "";
      this.title = { text: "", format: { font: {} } };
      const chart0 = this;
      this.legendHidden = new Set();
      this.legend = {
        visible: true,
        position: "Right",
        legendEntries: {
          getItemAt(i) {
            return {
              set visible(v) {
                if (v) chart0.legendHidden.delete(i);
                else chart0.legendHidden.add(i);
              },
              get visible() {
                return !chart0.legendHidden.has(i);
              },
            };
          },
        },
      };
      // Excel's automatic bounds: null until set (Excel then starts at 0 when min < 5/6 max).
      const axis = () => ({ title: { text: "" }, minimum: null, maximum: null, majorUnit: null, tickLabelPosition: "NextToAxis" });
      this.axes = { categoryAxis: axis(), valueAxis: axis() };
      this.displayBlanksAs = "NotPlotted";
      this.position = null;
      this.seriesList = [this.newSeries("Series1", null, source._address)];
      const chart = this;
      this.series = {
        getItemAt(i) {
          return chart.seriesList[i].api;
        },
        add(name) {
          const s = chart.newSeries(name, null, null);
          chart.seriesList.push(s);
          return s.api;
        },
      };
    }
    newSeries(name, x, y) {
      const s = { name, x, y, line: {} };
      s.api = {
        set name(v) {
          s.name = v;
        },
        get name() {
          return s.name;
        },
        setXAxisValues(r) {
          s.x = r._address;
          s.xSheet = r.sheet._name;
        },
        setValues(r) {
          s.y = r._address;
          s.ySheet = r.sheet._name;
        },
        format: {
          line: s.line,
          // Bars (the Cook's-distance column chart): their colour, for the renderer.
          fill: {
            setSolidColor(c) {
              s.fill = c;
            },
          },
        },
        set gapWidth(v) {
          s.gapWidth = v;
        },
        // Markers (the Diagnostics sheet's points): recorded for the renderer.
        set markerStyle(v) {
          s.marker = Object.assign(s.marker || {}, { style: v });
        },
        set markerSize(v) {
          s.marker = Object.assign(s.marker || {}, { size: v });
        },
        set markerBackgroundColor(v) {
          s.marker = Object.assign(s.marker || {}, { color: v });
        },
        set markerForegroundColor(v) {
          s.marker = Object.assign(s.marker || {}, { border: v });
        },
        // Data labels (the means charts name each level's point): recorded for the renderer.
        set hasDataLabels(v) {
          s.dataLabels = v ? s.dataLabels || { showSeriesName: false, showValue: true, position: null } : null;
        },
        get dataLabels() {
          if (!s.dataLabels) s.dataLabels = { showSeriesName: false, showValue: true, position: null };
          return s.dataLabels;
        },
      };
      return s;
    }
    setPosition(from, to) {
      this.position = { from: typeof from === "string" ? from : from._address, to: typeof to === "string" ? to : to && to._address };
      log.push({ op: "chart-position", sheet: this.sheet._name, from: this.position.from, to: this.position.to });
    }
  }

  class Range extends Loadable {
    constructor(sheet, r, c, nr, nc) {
      super();
      if (nr < 1 || nc < 1 || r < 0 || c < 0 || r + nr > MAX_ROWS || c + nc > MAX_COLS) throw officeError("InvalidArgument", `range out of the sheet: ${r},${c} ${nr}x${nc}`);
      this.sheet = sheet;
      this._r = r;
      this._c = c;
      this._nr = nr;
      this._nc = nc;
      const range = this;
      const font = {};
      const borders = {};
      this.format = {
        font,
        fill: {},
        borders: {
          getItem(edge) {
            return (borders[edge] = borders[edge] || {});
          },
        },
        autofitColumns() {},
        set columnWidth(w) {
          for (let j = 0; j < range._nc; j++) sheet.widths.set(range._c + j, w);
        },
        get columnWidth() {
          return sheet.widths.get(range._c);
        },
      };
      sheet.fonts.set(`${r},${c},${nr},${nc}`, font);
      sheet.styles.push({ r, c, nr, nc, font, borders, format: this.format });
    }
    get worksheet() {
      return this.sheet;
    }
    get _address() {
      const a = `${letters(this._c)}${this._r + 1}`;
      const b = `${letters(this._c + this._nc - 1)}${this._r + this._nr}`;
      return `${quote(this.sheet._name)}!${a === b ? a : `${a}:${b}`}`;
    }
    get address() {
      this._need("address");
      return this._address;
    }
    get rowIndex() {
      this._need("rowIndex");
      return this._r;
    }
    get columnIndex() {
      this._need("columnIndex");
      return this._c;
    }
    get rowCount() {
      this._need("rowCount");
      return this._nr;
    }
    get columnCount() {
      this._need("columnCount");
      return this._nc;
    }
    get cellCount() {
      this._need("cellCount");
      return this._nr * this._nc;
    }
    get values() {
      this._need("values");
      return this._snapshot;
    }
    _read() {
      const out = [];
      for (let i = 0; i < this._nr; i++) {
        const row = new Array(this._nc);
        for (let j = 0; j < this._nc; j++) row[j] = this.sheet.get(this._r + i, this._c + j);
        out.push(row);
      }
      return out;
    }
    _write(rows, kind) {
      if (!Array.isArray(rows) || rows.length !== this._nr || rows.some((r) => !Array.isArray(r) || r.length !== this._nc)) {
        throw officeError("InvalidArgument", `The number of rows or columns in the input array doesn't match the size or dimensions of the range (${this._address}).`);
      }
      syncCells += this._nr * this._nc;
      if (kind === "format") {
        this.sheet.formats.setBlock(this._r, this._c, rows);
        return;
      }
      const overwrite = this.sheet.user || this.sheet.cells.anyFilled(this._r, this._c, this._nr, this._nc);
      if (overwrite) log.push({ op: "OVERWRITE", sheet: this.sheet._name, address: this._address });
      log.push({ op: kind, sheet: this.sheet._name, address: this._address, rows: this._nr, first: rows[0][0] });
      if (kind === "formulas") rows.forEach((row, i) => row.forEach((v, j) => this.sheet.formulaCells.set(key(this._r + i, this._c + j), v)));
      this.sheet.cells.setBlock(this._r, this._c, rows);
    }
    set values(rows) {
      this._write(rows, "values");
    }
    set formulas(rows) {
      this._write(rows, "formulas");
    }
    set numberFormat(rows) {
      this._write(rows, "format");
    }
    get numberFormat() {
      this._need("numberFormat");
      const out = [];
      for (let i = 0; i < this._nr; i++) {
        const row = [];
        for (let j = 0; j < this._nc; j++) {
          const f = this.sheet.formats.get(this._r + i, this._c + j);
          row.push(f === undefined ? "General" : f);
        }
        out.push(row);
      }
      return out;
    }
    getSurroundingRegion() {
      const s = this.sheet;
      if (s.grid) return s.getUsedRangeOrNullObject();
      let b = { r0: this._r, c0: this._c, r1: this._r, c1: this._c };
      const any = (r0, c0, r1, c1) => {
        for (let r = Math.max(0, r0); r <= r1; r++) for (let c = Math.max(0, c0); c <= c1; c++) if (!blank(s.get(r, c))) return true;
        return false;
      };
      for (let grew = true; grew; ) {
        grew = false;
        if (b.r0 > 0 && any(b.r0 - 1, b.c0 - 1, b.r0 - 1, b.c1 + 1)) (b.r0--, (grew = true));
        if (any(b.r1 + 1, b.c0 - 1, b.r1 + 1, b.c1 + 1)) (b.r1++, (grew = true));
        if (b.c0 > 0 && any(b.r0 - 1, b.c0 - 1, b.r1 + 1, b.c0 - 1)) (b.c0--, (grew = true));
        if (any(b.r0 - 1, b.c1 + 1, b.r1 + 1, b.c1 + 1)) (b.c1++, (grew = true));
      }
      return new Range(s, b.r0, b.c0, b.r1 - b.r0 + 1, b.c1 - b.c0 + 1);
    }
    getIntersectionOrNullObject(other) {
      const o = typeof other === "string" ? this.sheet.getRange(other) : other;
      const r0 = Math.max(this._r, o._r), c0 = Math.max(this._c, o._c);
      const r1 = Math.min(this._r + this._nr, o._r + o._nr) - 1, c1 = Math.min(this._c + this._nc, o._c + o._nc) - 1;
      const none = o._null || r1 < r0 || c1 < c0;
      const r = none ? new Range(this.sheet, 0, 0, 1, 1) : new Range(this.sheet, r0, c0, r1 - r0 + 1, c1 - c0 + 1);
      r._null = none;
      return r;
    }
    getTables() {
      const mine = this.sheet.wb.tableList.filter((t) => t.sheet === this.sheet);
      return { getFirstOrNullObject: () => mine[0] || Object.assign(new Table(null, "", null), { _null: true }) };
    }
  }

  class Table extends Loadable {
    constructor(sheet, name, box) {
      super();
      this.sheet = sheet;
      this._name = name;
      this.box = box;
      this._showTotals = false;
    }
    get name() {
      this._need("name");
      return this._name;
    }
    set name(v) {
      this._name = v;
    }
    get showTotals() {
      this._need("showTotals");
      return this._showTotals;
    }
    getRange() {
      const b = this.box;
      return new Range(this.sheet, b.r0, b.c0, b.r1 - b.r0 + 1, b.c1 - b.c0 + 1);
    }
  }

  class Collection extends Loadable {
    constructor(list) {
      super();
      this._list = list;
    }
    get items() {
      this._need("items");
      return this._list();
    }
  }

  const workbook = {
    sheets: [],
    tableList: [],
    settingsMap: new Map(),
    active: null,
    selection: null,
    addTable(r, hasHeaders) {
      const box = { r0: r._r, c0: r._c, r1: r._r + r._nr - 1, c1: r._c + r._nc - 1 };
      for (const t of workbook.tableList) {
        if (t.sheet !== r.sheet) continue;
        const o = t.box;
        if (box.r0 <= o.r1 && o.r0 <= box.r1 && box.c0 <= o.c1 && o.c0 <= box.c1) throw officeError("InvalidArgument", "A table can't overlap another table.");
      }
      const t = new Table(r.sheet, `Table${workbook.tableList.length + 1}`, box);
      workbook.tableList.push(t);
      log.push({ op: "table", sheet: r.sheet._name, address: r._address, hasHeaders, rows: r._nr });
      return t;
    },
  };
  workbook.worksheets = Object.assign(new Collection(() => workbook.sheets), {
    add(name) {
      if (workbook.sheets.some((s) => s._name.toLowerCase() === String(name).toLowerCase())) {
        throw officeError("ItemAlreadyExists", `A sheet named ${name} already exists.`);
      }
      const s = new Sheet(workbook, name, false);
      workbook.sheets.push(s);
      log.push({ op: "add-sheet", name });
      return s;
    },
    getItem(name) {
      const s = workbook.sheets.find((x) => x._name.toLowerCase() === name.toLowerCase());
      if (!s) throw officeError("ItemNotFound", `no sheet ${name}`);
      return s;
    },
    getItemOrNullObject(name) {
      const s = workbook.sheets.find((x) => x._name.toLowerCase() === String(name).toLowerCase());
      return s || Object.assign(new Sheet(workbook, name, false), { _null: true });
    },
    getActiveWorksheet() {
      return workbook.active;
    },
  });
  workbook.tables = Object.assign(new Collection(() => workbook.tableList), {
    getItem(name) {
      const t = workbook.tableList.find((x) => x._name.toLowerCase() === name.toLowerCase());
      if (!t) throw officeError("ItemNotFound", `no table ${name}`);
      return t;
    },
    getItemOrNullObject(name) {
      return workbook.tableList.find((x) => x._name.toLowerCase() === String(name).toLowerCase()) || Object.assign(new Table(null, name, null), { _null: true });
    },
  });
  class Setting extends Loadable {
    constructor(key) {
      super();
      this.key = key;
    }
    get value() {
      this._need("value");
      return workbook.settingsMap.get(this.key);
    }
  }
  workbook.settings = {
    getItemOrNullObject(key) {
      const s = new Setting(key);
      s._null = !workbook.settingsMap.has(key);
      return s;
    },
    add(key, value) {
      workbook.settingsMap.set(key, value);
      log.push({ op: "setting", key });
      return new Setting(key);
    },
  };
  workbook.getSelectedRange = () => {
    const s = workbook.selection;
    return new Range(s.sheet, s._r, s._c, s._nr, s._nc);
  };
  workbook.getActiveCell = () => {
    const s = workbook.selection;
    return new Range(s.sheet, s._r, s._c, 1, 1);
  };

  const context = {
    workbook,
    async sync() {
      syncs++;
      const todo = pending;
      pending = [];
      let cells = syncCells;
      for (const [obj, prop] of todo) if (obj instanceof Range && (prop === "values" || prop === "*")) cells += obj._nr * obj._nc;
      syncCells = 0;
      if (cells > limits.cellsPerSync) throw officeError("ResponsePayloadSizeLimitExceeded", `The response payload size has exceeded the limit (${cells} cells).`);
      for (const [obj, prop] of todo) {
        obj._loaded.add(prop.split("/")[0]);
        // "items/name" loads the name of every item, as Office.js does.
        if (obj instanceof Collection && prop.startsWith("items/")) for (const it of obj._list()) if (it instanceof Loadable) it._loaded.add(prop.slice(6));
        if (obj instanceof Range && (prop === "values" || prop === "*")) obj._snapshot = obj._read();
        obj._synced = true;
      }
      await new Promise((r) => setTimeout(r, 0));
    },
  };

  /** Put rows (header first) on a new user sheet at `at` ("A1") and select them. */
  function seed(name, rows, at) {
    const s = new Sheet(workbook, name, true);
    workbook.sheets.push(s);
    const b = parseCells(at || "A1");
    rows.forEach((row, i) => row.forEach((v, j) => s.cells.set(b.r0 + i, b.c0 + j, v)));
    workbook.selection = new Range(s, b.r0, b.c0, rows.length, rows[0].length);
    workbook.active = s;
    return s;
  }
  /** A large user sheet (the benchmark's million rows), selected; its size is kept, so the used range needs no scan. */
  function seedGrid(name, rows) {
    const s = new Sheet(workbook, name, true);
    // Held by column like every sheet (the page's heap should hold the pane's data, not Excel's).
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i];
      for (let j = 0; j < row.length; j++) if (row[j] !== undefined) s.cells.set(i, j, row[j]);
    }
    s.grid = { rows: rows.length, cols: rows.length ? rows[0].length : 0 };
    workbook.sheets.push(s);
    workbook.selection = new Range(s, 0, 0, rows.length, rows[0].length);
    workbook.active = s;
    return s;
  }
  function seedTable(sheetName, tableName, address) {
    const s = workbook.worksheets.getItem(sheetName);
    const r = s.getRange(address);
    const t = workbook.addTable(r, true);
    t._name = tableName;
    return t;
  }
  function select(sheetName, address) {
    const s = workbook.worksheets.getItem(sheetName);
    workbook.selection = s.getRange(address);
    workbook.active = s;
  }
  function snapshot(name) {
    const s = workbook.sheets.find((x) => x._name === name);
    if (!s) return null;
    const b = s.usedBox();
    if (!b) return [];
    const out = [];
    for (let r = 0; r <= b.r1; r++) {
      const row = [];
      for (let c = 0; c <= b.c1; c++) row.push(s.get(r, c));
      out.push(row);
    }
    return out;
  }
  function sheetInfo(name) {
    const s = workbook.sheets.find((x) => x._name === name);
    if (!s) return null;
    return {
      formats: (() => {
        const out = {};
        s.formats.forEach((r, c, v) => (out[`${r},${c}`] = v));
        return out;
      })(),
      formulas: Object.fromEntries(Array.from(s.formulaCells, ([k, v]) => [unkey(k), v])),
      tables: workbook.tableList.filter((t) => t.sheet === s).map((t) => ({ name: t._name, box: t.box })),
      charts: s.chartList.map((c) => ({
        type: c.type,
        title: c.title.text,
        position: c.position,
        displayBlanksAs: c.displayBlanksAs,
        legend: c.legend.visible,
        legendPosition: c.legend.position,
        /** Series indices whose legend entry shows (all when the legend is visible and none are hidden). */
        legendShown: c.legend.visible ? c.seriesList.map((_, i) => i).filter((i) => !c.legendHidden.has(i)) : [],
        axes: { x: c.axes.categoryAxis.title.text, y: c.axes.valueAxis.title.text },
        bounds: {
          x: { min: c.axes.categoryAxis.minimum, max: c.axes.categoryAxis.maximum, major: c.axes.categoryAxis.majorUnit },
          y: { min: c.axes.valueAxis.minimum, max: c.axes.valueAxis.maximum, major: c.axes.valueAxis.majorUnit },
        },
        titleSize: c.title.format.font.size,
        name: c.name,
        xTickLabels: c.axes.categoryAxis.tickLabelPosition !== "None",
        series: c.seriesList.map((x) => ({ name: x.name, x: x.x, y: x.y, xSheet: x.xSheet, ySheet: x.ySheet, line: Object.assign({}, x.line), marker: x.marker ? Object.assign({}, x.marker) : null, dataLabels: x.dataLabels ? Object.assign({}, x.dataLabels) : null, fill: x.fill || null, gapWidth: x.gapWidth ?? null })),
      })),
      frozenRows: s.frozenRows,
      widths: Object.fromEntries(s.widths),
      /** Fonts, borders and alignment set on ranges, in the order set (for the sheet renderer). */
      styles: s.styles
        .filter((x) => Object.keys(x.font).length || Object.keys(x.borders).length || x.format.horizontalAlignment || x.format.fill.color)
        .map((x) => ({ r: x.r, c: x.c, nr: x.nr, nc: x.nc, font: Object.assign({}, x.font), borders: JSON.parse(JSON.stringify(x.borders)), align: x.format.horizontalAlignment || null, fill: x.format.fill.color || null })),
    };
  }
  function reset() {
    workbook.sheets.length = 0;
    workbook.tableList.length = 0;
    workbook.settingsMap.clear();
    workbook.selection = null;
    workbook.active = null;
    log.length = 0;
    pending = [];
    syncCells = 0;
    limits.cellsPerSync = 5000000;
  }

  root.Excel = {
    run: async (batch) => {
      const result = await batch(context);
      await context.sync();
      return result;
    },
    ChartType: { xyscatterLinesNoMarkers: "XYScatterLinesNoMarkers" },
    ChartSeriesBy: { columns: "Columns" },
  };
  const associated = [];
  root.CustomFunctions = {
    associate: (id) => associated.push(id),
    Error: class extends Error {
      constructor(code, message) {
        super(message);
        this.code = code;
      }
    },
    ErrorCode: { invalidValue: "#VALUE!", notAvailable: "#N/A", invalidNumber: "#NUM!" },
  };
  root.Office = {
    onReady: (cb) => Promise.resolve({ host: "Excel", platform: "OfficeOnline" }).then((info) => (cb ? cb(info) : info)),
    context: { requirements: { isSetSupported: (set, v) => set === "ExcelApi" && Number(String(v).split(".")[1] || 0) <= 12 } },
    HostType: { Excel: "Excel" },
  };
  root.__fakeExcel = { workbook, log, limits, associated, seed, seedGrid, seedTable, select, snapshot, sheetInfo, reset, syncs: () => syncs, sheetNames: () => workbook.sheets.map((s) => s._name) };
})(typeof window !== "undefined" ? window : globalThis);
