// Draws the means charts that means.ts planned, on the summary sheet beside their tables: native
// XY charts whose series read the chart data on the same sheet. Marker-only series have line
// style "None"; the interval series are lines broken at blank cells ("NotPlotted"); a factor's
// one-point series carry their level's name as a data label, and the x axis' numbers (the level
// positions) are hidden. Office.js cannot set custom error-bar values (office-js issue #3311),
// hence the segments.
import type { MeansChart } from "./means";
import { supports } from "./excel-io";
import { chartLegend, chartSeries, seriesLine, seriesMarkers } from "./chart-series";

export function addMeansChart(sheet: Excel.Worksheet, plan: MeansChart): Excel.Chart {
  const chart = sheet.charts.add("XYScatterLinesNoMarkers", sheet.getRange(plan.series[0].y), "Columns");
  chart.name = plan.name;
  chart.title.text = plan.title;
  chart.title.format.font.size = 12;
  const xAxis = chart.axes.categoryAxis, yAxis = chart.axes.valueAxis;
  xAxis.title.text = plan.xTitle;
  yAxis.title.text = plan.yTitle;
  for (const [axis, b] of [[xAxis, plan.x], [yAxis, plan.y]] as const) {
    axis.minimum = b.min;
    axis.maximum = b.max;
    axis.majorUnit = b.major;
  }
  const v18 = supports("ExcelApi", "1.8");
  if (v18) {
    chart.displayBlanksAs = "NotPlotted";
    if (!plan.xLabels) xAxis.tickLabelPosition = "None";
  }
  plan.series.forEach((s, k) => {
    const series = chartSeries(chart, k, s.name, sheet, s.x, s.y);
    seriesLine(series, s.color, s.line ? { weight: s.marker ? 2 : 1.5, style: "Continuous" } : null);
    seriesMarkers(series, s.color, s.marker ? 7 : null);
    if (s.label && v18) {
      series.hasDataLabels = true;
      const dl = series.dataLabels;
      dl.showSeriesName = true;
      dl.showValue = false;
      dl.position = "Right";
    }
  });
  const named = plan.series.map((s, k) => (s.legend ? k : -1)).filter((k) => k >= 0);
  chartLegend(chart, plan.series.length, named.length > 0, new Set(named));
  chart.setPosition(plan.anchor.from, plan.anchor.to);
  return chart;
}

/** All of a summary's means charts; a host that refuses one gets the tables only (the caller says so). */
export function addMeansCharts(sheet: Excel.Worksheet, charts: MeansChart[] | undefined): void {
  if (!charts || charts.length === 0 || !supports("ExcelApi", "1.7")) return;
  for (const c of charts) addMeansChart(sheet, c);
}
