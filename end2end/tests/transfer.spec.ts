import { expect, test } from '@playwright/test';
import { hydrated, signIn } from './fixtures/accounts';

// What the overview costs over the wire: the WASM, its glue and ECharts come in the best
// precompressed form the browser accepts (Chromium offers brotli over https only, so a
// plain-http console gets gzip), and the page still hydrates and draws its charts with
// them. Prints the bytes transferred.
test('the site files arrive compressed and still work', async ({ page }) => {
  const files = new Map<
    string,
    { accepted: string; encoding: string; bytes: number; cache: string }
  >();
  page.on('requestfinished', async (request) => {
    const url = new URL(request.url());
    if (!/^\/(pkg|vendor)\//.test(url.pathname)) return;
    const response = await request.response();
    // Later loads revalidate (304, no body): the first full answer is what counts.
    if (response?.status() !== 200 || files.has(url.pathname)) return;
    const sizes = await request.sizes();
    files.set(url.pathname, {
      accepted: (await request.allHeaders())['accept-encoding'] ?? '',
      encoding: (await response?.allHeaders())?.['content-encoding'] ?? 'identity',
      bytes: sizes.responseBodySize,
      cache: (await response?.allHeaders())?.['cache-control'] ?? '',
    });
  });
  await signIn(page, 'admin');
  await page.goto('/');
  await hydrated(page);
  await expect(page.locator('canvas').first()).toBeVisible();
  await page.waitForLoadState('networkidle');
  // The release build names its WASM, glue and CSS after their content: kept a year.
  const named = (pattern: RegExp) => [...files.keys()].find((path) => pattern.test(path)) ?? String(pattern);
  const wasm = named(/^\/pkg\/ms5-console\.[\w-]{8,}\.wasm$/);
  const glue = named(/^\/pkg\/ms5-console\.[\w-]{8,}\.js$/);
  for (const path of [wasm, glue, '/vendor/echarts.min.js']) {
    const file = files.get(path);
    expect(file, `${path} among ${[...files.keys()].join(', ')}`).toBeDefined();
    expect(file?.encoding, `${path} (accepted: ${file?.accepted})`).toBe(
      /\bbr\b/.test(file?.accepted ?? '') ? 'br' : 'gzip',
    );
  }
  for (const path of [wasm, glue]) {
    expect(files.get(path)?.cache, path).toBe('public, max-age=31536000, immutable');
  }
  expect(files.get('/vendor/echarts.min.js')?.cache).toBe('no-cache');
  console.log(
    'TRANSFER ' +
      [...files].map(([path, f]) => `${path} ${f.encoding} ${f.bytes} B`).join('; '),
  );
});

// The console serves ECharts built down to what its charts use (vendor/echarts.charts.js;
// app/src/charts/bundle.rs lists the parts). ECharts drops an option whose component was
// not bundled without a word, so each part is looked for in the served build itself.
test('the served ECharts build has every part the charts use', async ({ page }) => {
  await signIn(page, 'viewer');
  await page.goto('/');
  await hydrated(page);
  const found = await page.evaluate(() => {
    const echarts = (window as unknown as { echarts: any }).echarts;
    const element = document.createElement('div');
    element.style.cssText = 'width: 600px; height: 300px';
    document.body.appendChild(element);
    const chart = echarts.init(element);
    chart.setOption({
      legend: {},
      tooltip: { trigger: 'axis' },
      dataZoom: [{}],
      xAxis: { type: 'time' },
      yAxis: { type: 'value' },
      series: [
        { type: 'line', data: [[0, 1], [86_400_000, 2]], markLine: { data: [{ yAxis: 1.5 }] } },
        { type: 'bar', data: [[0, 1]] },
      ],
    });
    const model = chart.getModel();
    const parts = ['legend', 'tooltip', 'dataZoom', 'markLine', 'grid', 'xAxis', 'yAxis'];
    const counts = Object.fromEntries(
      parts.map((part) => [part, model.queryComponents({ mainType: part }).length]),
    );
    const series = model.getSeries().map((s: any) => s.subType);
    chart.dispose();
    element.remove();
    return { counts, series };
  });
  for (const [part, count] of Object.entries(found.counts)) {
    expect(count, `${part} is not in the served ECharts`).toBe(1);
  }
  expect(found.series).toEqual(['line', 'bar']);
});
