// The Cook's-distance chart as Excel draws it (cooks.ts plans it): a native clustered column
// chart, the categories (group labels, written as text) from the first series' x range, one
// colour, narrow gaps so eighty bars stay visible, the value axis from 0 to a round number above
// the largest distance. A column chart's category axis has no numeric bounds: only its title.
import type { DiagChart } from "./diagnostics";
import { supports } from "./excel-io";
import { chartSeries } from "./chart-series";

export function addColumnChart(sheet: Excel.Worksheet, plan: DiagChart): Excel.Chart {
  const s0 = plan.series[0];
  const chart = sheet.charts.add("ColumnClustered", sheet.getRange(s0.y), "Columns");
  chart.name = plan.name;
  chart.title.text = plan.title;
  chart.title.format.font.size = 11;
  chart.axes.categoryAxis.title.text = plan.xTitle;
  chart.axes.valueAxis.title.text = plan.yTitle;
  chart.axes.valueAxis.minimum = plan.y.min;
  chart.axes.valueAxis.maximum = plan.y.max;
  chart.axes.valueAxis.majorUnit = plan.y.major;
  plan.series.forEach((s, k) => {
    const series = chartSeries(chart, k, s.name, sheet, s.x, s.y);
    series.format.fill.setSolidColor(s.color);
    if (supports("ExcelApi", "1.8")) series.gapWidth = 30;
  });
  chart.legend.visible = plan.legend;
  chart.setPosition(plan.anchor.from, plan.anchor.to);
  return chart;
}
