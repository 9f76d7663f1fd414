// Draws a sheet of the scripted workbook as Excel would show it, for the screenshots in docs/:
// each cell's value under its number format (numfmt.ts implements the codes the pane writes),
// the column widths, fonts, rules and alignment the pane set, text running over empty cells to
// its right as in Excel, and the sheet's chart drawn in place from what the fake recorded. The
// result is an HTML page; the browser test screenshots it in Chromium.
import { formatValue } from "../../src/taskpane/numfmt";
import { chartSvg, ChartInfo } from "./render-chart";

export interface SheetInfo {
  formats: Record<string, string>;
  widths: Record<string, number>;
  styles: { r: number; c: number; nr: number; nc: number; font: Record<string, unknown>; borders: Record<string, { style?: string }>; align: string | null; fill: string | null }[];
  charts: ChartInfo[];
}

/** Excel's default column width (8.43 characters of Calibri 11) and row height, in pixels. */
const DEFAULT_COL_PX = 64;
const ROW_PX = 20;
const HEAD_PX = 22;
const ROWNUM_PX = 36;
const ptToPx = (pt: number) => Math.round((pt * 4) / 3);

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

function letters(c: number): string {
  let s = "";
  for (let k = c + 1; k > 0; k = Math.floor((k - 1) / 26)) s = String.fromCharCode(65 + ((k - 1) % 26)) + s;
  return s;
}

/** "E16" -> [row, col] (0-based). */
export function cellIndex(a: string): [number, number] {
  const m = /([A-Z]+)(\d+)$/.exec(a.replace(/\$/g, "").split("!").pop()!)!;
  let c = 0;
  for (const ch of m[1]) c = c * 26 + (ch.charCodeAt(0) - 64);
  return [Number(m[2]) - 1, c - 1];
}

/**
 * The sheet as HTML: `values` (rows from the fake's snapshot), drawn over `ncols` x `nrows`
 * cells; `data` is the chart's data sheet (its series are read from it).
 */
export function sheetHtml(name: string, values: unknown[][], info: SheetInfo, data: unknown[][] | null, view: { nrows: number; ncols: number }): string {
  const widthPx = (c: number) => (info.widths[c] !== undefined ? ptToPx(info.widths[c]) : DEFAULT_COL_PX);
  const left: number[] = [0];
  for (let c = 0; c < view.ncols; c++) left.push(left[c] + widthPx(c));
  const style = (r: number, c: number) => {
    const out: { bold?: boolean; italic?: boolean; size?: number; color?: string; name?: string; bottom?: boolean; align?: string; fill?: string } = {};
    for (const s of info.styles) {
      if (r < s.r || r >= s.r + s.nr || c < s.c || c >= s.c + s.nc) continue;
      if (s.font.bold !== undefined) out.bold = !!s.font.bold;
      if (s.font.italic !== undefined) out.italic = !!s.font.italic;
      if (typeof s.font.size === "number") out.size = s.font.size;
      if (typeof s.font.color === "string") out.color = s.font.color;
      if (typeof s.font.name === "string") out.name = s.font.name;
      if (s.borders.EdgeBottom?.style && s.borders.EdgeBottom.style !== "None" && r === s.r + s.nr - 1) out.bottom = true;
      if (s.align) out.align = s.align;
      if (s.fill) out.fill = s.fill;
    }
    return out;
  };
  const val = (r: number, c: number) => (values[r] && values[r][c] !== undefined ? values[r][c] : "");
  const cells: string[] = [];
  for (let r = 0; r < view.nrows; r++) {
    for (let c = 0; c < view.ncols; c++) {
      const v = val(r, c);
      const st = style(r, c);
      const text = formatValue(v, info.formats[`${r},${c}`] ?? "General");
      const isNum = typeof v === "number";
      const align = st.align === "Right" ? "right" : st.align === "Center" ? "center" : st.align === "Left" ? "left" : isNum ? "right" : "left";
      // Text runs over the empty cells to its right, as in Excel.
      let w = widthPx(c);
      if (!isNum && align === "left" && text !== "") for (let k = c + 1; k < view.ncols && val(r, k) === ""; k++) w += widthPx(k);
      const css = [
        `left:${ROWNUM_PX + left[c]}px`,
        `top:${HEAD_PX + r * ROW_PX}px`,
        `width:${w - 4}px`,
        `text-align:${align}`,
        st.bold ? "font-weight:700" : "",
        st.italic ? "font-style:italic" : "",
        st.size ? `font-size:${Math.round((st.size * 4) / 3)}px` : "",
        st.color ? `color:${st.color}` : "",
        st.name ? `font-family:${st.name === "Consolas" ? "Consolas, 'DejaVu Sans Mono', monospace" : st.name}` : "",
      ].filter(Boolean).join(";");
      if (st.bottom) cells.push(`<div class="rule" style="left:${ROWNUM_PX + left[c]}px;top:${HEAD_PX + (r + 1) * ROW_PX - 1}px;width:${widthPx(c)}px"></div>`);
      if (st.fill) cells.push(`<div class="fill" style="left:${ROWNUM_PX + left[c]}px;top:${HEAD_PX + r * ROW_PX}px;width:${widthPx(c)}px;background:${st.fill}"></div>`);
      if (text !== "") cells.push(`<div class="cell" style="${css}">${esc(text)}</div>`);
    }
  }
  const vlines = Array.from({ length: view.ncols }, (_, c) => `<div class="vline" style="left:${ROWNUM_PX + left[c + 1] - 1}px"></div>`).join("");
  const heads = Array.from({ length: view.ncols }, (_, c) => `<div class="colhead" style="left:${ROWNUM_PX + left[c]}px;width:${widthPx(c)}px">${letters(c)}</div>`).join("");
  const rowNums = Array.from({ length: view.nrows }, (_, r) => `<div class="rownum" style="top:${HEAD_PX + r * ROW_PX}px">${r + 1}</div>`).join("");
  const charts = info.charts
    .filter((ch) => ch.position)
    .map((ch) => {
      const [r0, c0] = cellIndex(ch.position!.from);
      const [r1, c1] = cellIndex(ch.position!.to ?? ch.position!.from);
      const x = ROWNUM_PX + left[c0], y = HEAD_PX + r0 * ROW_PX;
      const w = left[Math.min(c1 + 1, view.ncols)] - left[c0], h = (r1 - r0 + 1) * ROW_PX;
      // A chart whose data sit on this sheet (the means plots) reads them here; the spaghetti plot reads the data sheet.
      const own = (ch.series[0] as { ySheet?: string } | undefined)?.ySheet === name;
      const src = own ? values : data;
      return `<div class="chart" style="left:${x}px;top:${y}px;width:${w}px;height:${h}px">${src ? chartSvg(ch, src, w, h) : ""}</div>`;
    })
    .join("");
  const W = ROWNUM_PX + left[view.ncols], H = HEAD_PX + view.nrows * ROW_PX;
  return `<!doctype html><html><head><meta charset="utf-8"><title>${esc(name)}</title><style>
    body { margin: 0; font: 15px Calibri, Carlito, "Segoe UI", Arial, sans-serif; color: #000; background: #fff; }
    .sheet { position: relative; width: ${W}px; height: ${H}px; overflow: hidden;
      background-image: linear-gradient(#e1e1e1 1px, transparent 1px); background-size: 100% ${ROW_PX}px; background-position: 0 ${HEAD_PX - 1}px; }
    .cell { position: absolute; height: ${ROW_PX}px; line-height: ${ROW_PX}px; padding: 0 2px; white-space: pre; overflow: hidden; }
    .rule { position: absolute; height: 1px; background: #000; }
    .vline { position: absolute; top: ${HEAD_PX}px; bottom: 0; width: 1px; background: #e1e1e1; }
    .fill { position: absolute; height: ${ROW_PX}px; }
    .colhead { position: absolute; top: 0; height: ${HEAD_PX}px; line-height: ${HEAD_PX}px; text-align: center; background: #f3f3f3; border-right: 1px solid #d4d4d4; border-bottom: 1px solid #bdbdbd; font-size: 13px; color: #444; box-sizing: border-box; }
    .rownum { position: absolute; left: 0; width: ${ROWNUM_PX}px; height: ${ROW_PX}px; line-height: ${ROW_PX}px; text-align: center; background: #f3f3f3; border-right: 1px solid #bdbdbd; border-bottom: 1px solid #d4d4d4; font-size: 12px; color: #444; box-sizing: border-box; }
    .corner { position: absolute; left: 0; top: 0; width: ${ROWNUM_PX}px; height: ${HEAD_PX}px; background: #e8e8e8; border-right: 1px solid #bdbdbd; border-bottom: 1px solid #bdbdbd; box-sizing: border-box; }
    .chart { position: absolute; background: #fff; border: 1px solid #bdbdbd; box-sizing: border-box; }
    .tab { font: 13px "Segoe UI", sans-serif; padding: 4px 12px; border-top: 1px solid #bdbdbd; background: #f3f3f3; }
    .tab b { background: #fff; padding: 3px 10px; border-bottom: 2px solid #107c41; }
  </style></head><body><div class="sheet">${vlines}<div class="corner"></div>${heads}${rowNums}${cells.join("")}${charts}</div><div class="tab"><b>${esc(name)}</b></div></body></html>`;
}
