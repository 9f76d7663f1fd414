// Draws the spaghetti plot as the scripted workbook recorded it, as SVG: each series' values read
// from its ranges on the data sheet, its colour, weight and dash, the axis bounds (Excel's own
// rule when none were set: from 0 when the minimum is below 5/6 of the maximum), the axis titles,
// the title and the legend entries left visible. Blank cells are joined over ("Interplotted").
export interface ChartInfo {
  /** Excel's chart type; "ColumnClustered" is drawn as bars (columnSvg), anything else as XY. */
  type?: string;
  title: string;
  position: { from: string; to?: string } | null;
  legend: boolean;
  legendShown: number[];
  axes: { x: string; y: string };
  bounds: { x: { min: number | null; max: number | null; major: number | null }; y: { min: number | null; max: number | null; major: number | null } };
  series: { name: string; x: string; y: string; line: { color?: string; weight?: number; lineStyle?: string }; marker?: { style?: string; size?: number; color?: string } | null; dataLabels?: { showSeriesName?: boolean; showValue?: boolean; position?: string | null } | null; fill?: string | null; gapWidth?: number | null }[];
  displayBlanksAs?: string;
  /** False when the x axis' numbers are hidden (tickLabelPosition "None"). */
  xTickLabels?: boolean;
  name?: string;
}

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

/** The cells of "'LMM 1 data'!E3:E7" (one column) from the data sheet's rows. */
function column(address: string, rows: unknown[][]): unknown[] {
  const cells = address.split("!").pop()!.replace(/\$/g, "");
  const [a, b] = cells.split(":");
  const parse = (s: string) => {
    const m = /([A-Z]+)(\d+)/.exec(s)!;
    let c = 0;
    for (const ch of m[1]) c = c * 26 + (ch.charCodeAt(0) - 64);
    return [Number(m[2]) - 1, c - 1];
  };
  const [r0, c0] = parse(a);
  const [r1] = parse(b ?? a);
  const out: unknown[] = [];
  for (let r = r0; r <= r1; r++) out.push(rows[r] ? rows[r][c0] : "");
  return out;
}

/** Excel's automatic bounds, roughly: the span of the data, from 0 when min < 5/6 max. */
function autoBounds(lo: number, hi: number): { min: number; max: number; major: number } {
  const min = lo >= 0 && lo < (5 / 6) * hi ? 0 : lo;
  const span = hi - min || 1;
  const mag = Math.pow(10, Math.floor(Math.log10(span / 5)));
  const major = [1, 2, 5, 10].map((k) => k * mag).find((s) => span / s <= 8)!;
  return { min: Math.floor(min / major) * major, max: Math.ceil(hi / major) * major, major };
}

const DASH: Record<string, string> = { Continuous: "", Dash: "9 5", RoundDot: "1.5 4", DashDot: "9 4 2 4", LongDash: "14 5", LongDashDot: "14 4 2 4" };

let clipIds = 0;

const tick = (x: number) => String(Math.abs(x) < 1e-12 ? 0 : Number(x.toPrecision(10)));

export function chartSvg(ch: ChartInfo, data: unknown[][], width: number, height: number): string {
  if (ch.type === "ColumnClustered") return columnSvg(ch, data, width, height);
  const series = ch.series.map((s) => {
    const xs = column(s.x, data), ys = column(s.y, data);
    const pts: [number, number][] = [];
    // "NotPlotted": a blank breaks the line (a new segment starts after it); else joined over.
    const breaks: number[] = [];
    xs.forEach((x, i) => {
      const y = ys[i];
      if (typeof x === "number" && typeof y === "number" && Number.isFinite(x) && Number.isFinite(y)) pts.push([x, y]);
      else if (ch.displayBlanksAs === "NotPlotted") breaks.push(pts.length);
    });
    return { ...s, pts, breaks: new Set(breaks) };
  });
  const all = series.flatMap((s) => s.pts);
  const ext = (k: 0 | 1) => [Math.min(...all.map((p) => p[k])), Math.max(...all.map((p) => p[k]))];
  const bx = ch.bounds.x.min !== null && ch.bounds.x.max !== null ? { min: ch.bounds.x.min, max: ch.bounds.x.max, major: ch.bounds.x.major ?? (ch.bounds.x.max - ch.bounds.x.min) / 5 } : autoBounds(ext(0)[0], ext(0)[1]);
  const by = ch.bounds.y.min !== null && ch.bounds.y.max !== null ? { min: ch.bounds.y.min, max: ch.bounds.y.max, major: ch.bounds.y.major ?? (ch.bounds.y.max - ch.bounds.y.min) / 5 } : autoBounds(ext(1)[0], ext(1)[1]);
  const shown = ch.legend ? ch.legendShown : [];
  const legendH = shown.length ? 26 : 0;
  const pad = { l: 56, r: 16, t: 34, b: 44 + legendH };
  const W = width - pad.l - pad.r, H = height - pad.t - pad.b;
  const sx = (x: number) => pad.l + ((x - bx.min) / (bx.max - bx.min)) * W;
  const sy = (y: number) => pad.t + H - ((y - by.min) / (by.max - by.min)) * H;
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="Calibri, Carlito, 'Segoe UI', Arial, sans-serif">`);
  out.push(`<rect width="${width}" height="${height}" fill="#fff"/>`);
  out.push(`<text x="${width / 2}" y="22" font-size="16" text-anchor="middle" fill="#404040">${esc(ch.title)}</text>`);
  // grid and ticks
  for (let v = by.min; v <= by.max + 1e-9 * (by.max - by.min); v += by.major) {
    out.push(`<line x1="${pad.l}" x2="${pad.l + W}" y1="${sy(v)}" y2="${sy(v)}" stroke="#d9d9d9"/>`);
    out.push(`<text x="${pad.l - 6}" y="${sy(v) + 4}" font-size="12" text-anchor="end" fill="#595959">${tick(v)}</text>`);
  }
  for (let v = bx.min; v <= bx.max + 1e-9 * (bx.max - bx.min); v += bx.major) {
    out.push(`<line x1="${sx(v)}" x2="${sx(v)}" y1="${pad.t + H}" y2="${pad.t + H + 4}" stroke="#bfbfbf"/>`);
    if (ch.xTickLabels !== false) out.push(`<text x="${sx(v)}" y="${pad.t + H + 17}" font-size="12" text-anchor="middle" fill="#595959">${tick(v)}</text>`);
  }
  out.push(`<line x1="${pad.l}" x2="${pad.l + W}" y1="${pad.t + H}" y2="${pad.t + H}" stroke="#bfbfbf"/>`);
  out.push(`<text x="${pad.l + W / 2}" y="${pad.t + H + 34}" font-size="13" text-anchor="middle" fill="#595959">${esc(ch.axes.x)}</text>`);
  out.push(`<text transform="translate(16 ${pad.t + H / 2}) rotate(-90)" font-size="13" text-anchor="middle" fill="#595959">${esc(ch.axes.y)}</text>`);
  // lines: thin ones first, as Excel draws in series order
  // One id per chart: several charts on one page (a sheet with two) must not share a clip path.
  const clip = `plot${++clipIds}`;
  out.push(`<clipPath id="${clip}"><rect x="${pad.l}" y="${pad.t}" width="${W}" height="${H}"/></clipPath><g clip-path="url(#${clip})">`);
  for (const s of series) {
    if (s.marker && s.marker.style && s.marker.style !== "None") {
      const r = ((s.marker.size ?? 5) * 2) / 3;
      for (const p of s.pts) out.push(`<circle cx="${sx(p[0]).toFixed(1)}" cy="${sy(p[1]).toFixed(1)}" r="${r}" fill="${s.marker.color ?? "#4472C4"}" fill-opacity="0.75"/>`);
    }
    if (s.pts.length < 2 || s.line.lineStyle === "None") continue;
    const d = s.pts.map((p, i) => `${i && !s.breaks.has(i) ? "L" : "M"}${sx(p[0]).toFixed(1)},${sy(p[1]).toFixed(1)}`).join("");
    const w = ((s.line.weight ?? 1.5) * 4) / 3;
    const dash = DASH[s.line.lineStyle ?? "Continuous"] ?? "";
    out.push(`<path d="${d}" fill="none" stroke="${s.line.color ?? "#4472C4"}" stroke-width="${w}" stroke-linejoin="round"${dash ? ` stroke-dasharray="${dash}"` : ""}/>`);
  }
  out.push(`</g>`);
  // data labels: the series name and/or the value, right of (or above) each point
  for (const s of series) {
    const dl = s.dataLabels;
    if (!dl) continue;
    for (const p of s.pts) {
      const text = [dl.showSeriesName ? s.name : "", dl.showValue ? tick(Number(p[1].toPrecision(4))) : ""].filter(Boolean).join(", ");
      const right = dl.position !== "Top";
      out.push(`<text x="${(sx(p[0]) + (right ? 8 : 0)).toFixed(1)}" y="${(sy(p[1]) + (right ? 4 : -8)).toFixed(1)}" font-size="12" text-anchor="${right ? "start" : "middle"}" fill="#404040">${esc(text)}</text>`);
    }
  }
  // legend at the bottom
  if (shown.length) {
    const items = shown.map((i) => series[i]);
    // Each entry as wide as its text (about 7 px a character at 13 px), centred.
    const widths = items.map((s) => Math.min(width / items.length, 60 + 6.5 * s.name.length));
    const total = widths.reduce((a, b) => a + b, 0);
    let x = width / 2 - total / 2;
    items.forEach((s, k) => {
      const y = height - 14;
      if (k > 0) x += widths[k - 1];
      const dash = DASH[s.line.lineStyle ?? "Continuous"] ?? "";
      if (s.line.lineStyle === "None" && s.marker) out.push(`<circle cx="${x + 15}" cy="${y - 4}" r="4" fill="${s.marker.color}"/>`);
      else out.push(`<line x1="${x}" x2="${x + 30}" y1="${y - 4}" y2="${y - 4}" stroke="${s.line.color}" stroke-width="${((s.line.weight ?? 1.5) * 4) / 3}"${dash ? ` stroke-dasharray="${dash}"` : ""}/>`);
      out.push(`<text x="${x + 36}" y="${y}" font-size="13" fill="#404040">${esc(s.name)}</text>`);
    });
  }
  out.push(`</svg>`);
  return out.join("");
}

/**
 * A clustered column chart of one series: a bar per category (the x range's cells, as text), the
 * value axis as set, category labels turned upright and thinned from the first one on when
 * they would overlap (as Excel does).
 */
export function columnSvg(ch: ChartInfo, data: unknown[][], width: number, height: number): string {
  const s = ch.series[0];
  const cats = column(s.x, data).map((c) => String(c));
  const vals = column(s.y, data).map((v) => (typeof v === "number" && Number.isFinite(v) ? v : null));
  const finite = vals.filter((v): v is number => v !== null);
  const by = ch.bounds.y.min !== null && ch.bounds.y.max !== null ? { min: ch.bounds.y.min, max: ch.bounds.y.max, major: ch.bounds.y.major ?? (ch.bounds.y.max - ch.bounds.y.min) / 5 } : autoBounds(Math.min(0, ...finite), Math.max(...finite));
  const longest = Math.max(1, ...cats.map((c) => c.length));
  const pad = { l: 56, r: 16, t: 34, b: 30 + 7 * longest + 20 };
  const W = width - pad.l - pad.r, H = height - pad.t - pad.b;
  const n = cats.length;
  const slot = W / Math.max(1, n);
  const gap = (s.gapWidth ?? 150) / 100;
  const barW = slot / (1 + gap);
  const sy = (y: number) => pad.t + H - ((y - by.min) / (by.max - by.min)) * H;
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="Calibri, Carlito, 'Segoe UI', Arial, sans-serif">`);
  out.push(`<rect width="${width}" height="${height}" fill="#fff"/>`);
  out.push(`<text x="${width / 2}" y="22" font-size="16" text-anchor="middle" fill="#404040">${esc(ch.title)}</text>`);
  for (let v = by.min; v <= by.max + 1e-9 * (by.max - by.min); v += by.major) {
    out.push(`<line x1="${pad.l}" x2="${pad.l + W}" y1="${sy(v)}" y2="${sy(v)}" stroke="#d9d9d9"/>`);
    out.push(`<text x="${pad.l - 6}" y="${sy(v) + 4}" font-size="12" text-anchor="end" fill="#595959">${tick(v)}</text>`);
  }
  const every = Math.max(1, Math.ceil(14 / slot));
  vals.forEach((v, i) => {
    const x = pad.l + i * slot + (slot - barW) / 2;
    if (v !== null) out.push(`<rect x="${x.toFixed(1)}" y="${sy(Math.max(v, by.min)).toFixed(1)}" width="${barW.toFixed(1)}" height="${(sy(by.min) - sy(Math.min(Math.max(v, by.min), by.max))).toFixed(1)}" fill="${s.fill ?? "#4472C4"}"/>`);
    if (i % every === 0) {
      const cx = pad.l + (i + 0.5) * slot, cy = pad.t + H + 6;
      out.push(`<text transform="translate(${cx.toFixed(1)} ${cy}) rotate(-90)" font-size="11" text-anchor="end" dominant-baseline="middle" fill="#595959">${esc(cats[i])}</text>`);
    }
  });
  out.push(`<line x1="${pad.l}" x2="${pad.l + W}" y1="${pad.t + H}" y2="${pad.t + H}" stroke="#bfbfbf"/>`);
  out.push(`<text x="${pad.l + W / 2}" y="${height - 10}" font-size="13" text-anchor="middle" fill="#595959">${esc(ch.axes.x)}</text>`);
  out.push(`<text transform="translate(16 ${pad.t + H / 2}) rotate(-90)" font-size="13" text-anchor="middle" fill="#595959">${esc(ch.axes.y)}</text>`);
  out.push(`</svg>`);
  return out.join("");
}

/** The chart alone, as a page. */
export function chartHtml(ch: ChartInfo, data: unknown[][], width = 640, height = 420): string {
  return `<!doctype html><html><head><meta charset="utf-8"><style>body{margin:0;background:#fff}</style></head><body>${chartSvg(ch, data, width, height)}</body></html>`;
}
