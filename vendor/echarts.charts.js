// The ECharts the console serves as /vendor/echarts.min.js: only the parts its charts use
// (app/src/charts/bundle.rs lists them, and every chart's tests check against that list),
// bundled by esbuild from the npm package (`make public/vendor/echarts.min.js`).
// A chart needing another series type or component adds it here and in bundle.rs.
import * as echarts from 'echarts/core';
import { BarChart, LineChart } from 'echarts/charts';
import {
  DataZoomSliderComponent,
  GridComponent,
  LegendComponent,
  MarkLineComponent,
  TooltipComponent,
} from 'echarts/components';
import { CanvasRenderer } from 'echarts/renderers';

echarts.use([
  CanvasRenderer,
  BarChart,
  LineChart,
  DataZoomSliderComponent,
  GridComponent,
  LegendComponent,
  MarkLineComponent,
  TooltipComponent,
]);

export * from 'echarts/core';
