// Writes the Diagnostics sheet (diagnostics.ts plans it): a new sheet, its chart data, and one
// native XY chart per plan entry. Marker-only series are lines of style "None" with circle
// markers, so one chart type carries both the points and the reference lines; blank cells break
// the caterpillar's interval line into segments ("NotPlotted").
import type { DiagChart, DiagnosticsPlan } from "./diagnostics";
import { createSheets, supports, writeBlock } from "./excel-io";
import { addColumnChart } from "./cooks-io";
import { columnLetters } from "./naming";
import { chartLegend, chartSeries, seriesLine, seriesMarkers } from "./chart-series";

export async function writeDiagnosticsSheet(ctx: Excel.RequestContext, plan: DiagnosticsPlan, base = "Diagnostics"): Promise<string> {
  const [sheet] = await createSheets(ctx, base, [""]);
  sheet.load("name");
  for (const b of plan.blocks) writeBlock(sheet, b);
  for (const [c, w] of Object.entries(plan.widths ?? {})) {
    const L = columnLetters(Number(c));
    sheet.getRange(`${L}:${L}`).format.columnWidth = w;
  }
  await ctx.sync();
  if (supports("ExcelApi", "1.7")) for (const c of plan.charts) {
    if (c.kind === "column") addColumnChart(sheet, c);
    else addDiagChart(sheet, c);
  }
  sheet.activate();
  await ctx.sync();
  return sheet.name;
}

export function addDiagChart(sheet: Excel.Worksheet, plan: DiagChart): Excel.Chart {
  const chart = sheet.charts.add("XYScatterLinesNoMarkers", sheet.getRange(plan.series[0].y), "Columns");
  chart.name = plan.name;
  chart.title.text = plan.title;
  chart.title.format.font.size = 11;
  chart.axes.categoryAxis.title.text = plan.xTitle;
  chart.axes.valueAxis.title.text = plan.yTitle;
  for (const [axis, b] of [[chart.axes.categoryAxis, plan.x], [chart.axes.valueAxis, plan.y]] as const) {
    axis.minimum = b.min;
    axis.maximum = b.max;
    axis.majorUnit = b.major;
  }
  if (supports("ExcelApi", "1.8")) chart.displayBlanksAs = "NotPlotted";
  plan.series.forEach((s, k) => {
    const series = chartSeries(chart, k, s.name, sheet, s.x, s.y);
    seriesLine(series, s.color, s.line ? { weight: 1.5, style: s.dash } : null);
    seriesMarkers(series, s.color, s.markers ? 4 : null);
  });
  chartLegend(chart, plan.series.length, plan.legend, plan.legendEntries ? new Set(plan.legendEntries) : null);
  chart.setPosition(plan.anchor.from, plan.anchor.to);
  return chart;
}
