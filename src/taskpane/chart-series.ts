// The series verbs every native chart of the pane shares (excel-io, diagnostics-io, means-io,
// cooks-io): a chart is created with its first series, so series k > 0 are added; lines and
// markers are set the same way; the legend shows only the series asked for.

/** Series k of the chart, named, reading x and y from the sheet's ranges. */
export function chartSeries(chart: Excel.Chart, k: number, name: string, sheet: Excel.Worksheet, x: string, y: string): Excel.ChartSeries {
  const series = k === 0 ? chart.series.getItemAt(0) : chart.series.add(name);
  series.name = name;
  series.setXAxisValues(sheet.getRange(x));
  series.setValues(sheet.getRange(y));
  return series;
}

/** A line of the colour, weight and style, or none (a marker-only series). */
export function seriesLine(series: Excel.ChartSeries, color: string, line: { weight: number; style: string } | null): void {
  const f = series.format.line;
  if (!line) {
    f.lineStyle = "None";
    return;
  }
  f.color = color;
  f.weight = line.weight;
  f.lineStyle = line.style as Excel.ChartLineStyle;
}

/** Filled circles of the size in the colour, or none. */
export function seriesMarkers(series: Excel.ChartSeries, color: string, size: number | null): void {
  if (size === null) {
    series.markerStyle = "None";
    return;
  }
  series.markerStyle = "Circle";
  series.markerSize = size;
  series.markerBackgroundColor = color;
  series.markerForegroundColor = color;
}

/** The legend at the bottom with the entries of `shown` only (all when null), or no legend. */
export function chartLegend(chart: Excel.Chart, nSeries: number, visible: boolean, shown: ReadonlySet<number> | null = null): void {
  chart.legend.visible = visible;
  if (!visible) return;
  chart.legend.position = "Bottom";
  if (shown) for (let k = 0; k < nSeries; k++) if (!shown.has(k)) chart.legend.legendEntries.getItemAt(k).visible = false;
}
