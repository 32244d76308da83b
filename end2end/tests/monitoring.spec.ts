import { expect, test } from '@playwright/test';
import { watchErrors } from './fixtures/dashboard-page';
import { hydrated, signIn } from './fixtures/accounts';
import { LONG_SCHEMA, LONG_TABLE } from './fixtures/routes';

const DEMO_HYPERTABLES = [
  'factory_telemetry.metric_hist',
  'factory_telemetry.energy_consumption',
  'factory_telemetry.oee_calculations',
  'factory_telemetry.production_events',
  'factory_telemetry.fault_event',
  // The console's own storage history is a hypertable too.
  'console.storage_samples',
  // serve.sh adds a table with the longest names PostgreSQL allows.
  `${LONG_SCHEMA}.${LONG_TABLE}`,
];

/**
 * Waits for a chart container to hold ECharts' canvas (drawn after hydration) and for
 * ECharts to report the drawing finished, animations included (`data-drawn`).
 */
async function chartDrawn(page: import('@playwright/test').Page, id: string) {
  const container = page.getByTestId(id);
  const canvas = container.locator('canvas');
  await expect(canvas).toBeVisible();
  const box = await canvas.boundingBox();
  expect(box?.width ?? 0).toBeGreaterThan(300);
  await expect(container).toHaveAttribute('data-drawn', 'true');
}

test('the overview shows status, totals and the biggest hypertables', async ({ page }) => {
  const errors = watchErrors(page);
  await signIn(page, 'viewer');
  await expect(page.getByRole('heading', { name: 'Overview' })).toBeVisible();
  await expect(page.getByTestId('status')).toHaveText('ok');
  await expect(page.getByTestId('hypertable-count')).toHaveText(String(DEMO_HYPERTABLES.length));
  await expect(page.getByTestId('freshness')).toContainText('Figures from');
  await chartDrawn(page, 'chart-biggest');
  await page.screenshot({ path: 'test-results/overview.png', fullPage: true });
  expect(errors, errors.join('\n')).toEqual([]);
});

test('the hypertables page sorts and charts compression', async ({ page }) => {
  const errors = watchErrors(page);
  await signIn(page, 'viewer', '/hypertables');
  const rows = page.getByTestId('hypertable-row');
  await expect(rows).toHaveCount(DEMO_HYPERTABLES.length);
  for (const name of DEMO_HYPERTABLES) {
    await expect(page.locator(`[data-testid="hypertable-row"][data-name="${name}"]`)).toBeVisible();
  }
  await chartDrawn(page, 'chart-compression');
  // Sorting by name puts the console's own table first, then energy_consumption.
  await page.getByRole('columnheader', { name: /Hypertable/ }).click();
  await expect(rows.first()).toHaveAttribute('data-name', 'console.storage_samples');
  await expect(rows.nth(1)).toHaveAttribute('data-name', 'factory_telemetry.energy_consumption');
  await page.getByRole('columnheader', { name: /Hypertable/ }).click();
  await expect(rows.first()).toHaveAttribute('data-name', `${LONG_SCHEMA}.${LONG_TABLE}`);
  await expect(rows.nth(1)).toHaveAttribute('data-name', 'factory_telemetry.production_events');
  await chartDrawn(page, 'chart-compression');
  await page.screenshot({ path: 'test-results/hypertables.png', fullPage: true });
  expect(errors, errors.join('\n')).toEqual([]);
});

test('an operator compresses a chunk and the timeline shows it', async ({ page }) => {
  const errors = watchErrors(page);
  await signIn(page, 'operator', '/hypertables/factory_telemetry/metric_hist');
  await hydrated(page);
  await expect(page.getByTestId('hypertable-name')).toHaveText('factory_telemetry.metric_hist');
  await chartDrawn(page, 'chart-timeline');
  const uncompressed = page.getByTestId('uncompressed-chunks').locator('tbody tr');
  const before = await uncompressed.count();
  expect(before).toBeGreaterThan(0);
  const chunk = await uncompressed.first().getAttribute('data-chunk');
  await uncompressed.first().getByRole('button', { name: 'Compress now' }).click();
  await expect(page.getByText('Chunk compressed')).toBeVisible();
  // The refresher takes a new snapshot; the page reloads its data after the action.
  await expect(async () => {
    await page.reload();
    await expect(page.locator(`[data-chunk="${chunk}"]`)).toHaveCount(0, { timeout: 2000 });
  }).toPass({ timeout: 30_000 });
  await chartDrawn(page, 'chart-timeline');
  // Both states are drawn: the chart's series hold compressed and uncompressed bars.
  const series = await page.evaluate(() => {
    const element = document.getElementById('chart-timeline');
    // @ts-expect-error echarts is the page's global
    const chart = window.echarts.getInstanceByDom(element);
    const option = chart.getOption();
    return option.series.map((s: { name: string; data: number[] }) => ({
      name: s.name,
      bars: s.data.filter((v: number) => v > 0).length,
    }));
  });
  const bars = Object.fromEntries(series.map((s: { name: string; bars: number }) => [s.name, s.bars]));
  expect(bars['Compressed']).toBeGreaterThan(0);
  expect(bars['Uncompressed'] + bars['Uncompressed, past compress-after']).toBeGreaterThan(0);
  await page.screenshot({ path: 'test-results/hypertable.png', fullPage: true });
  expect(errors, errors.join('\n')).toEqual([]);
});

test('the chunks page filters, pages and counts', async ({ page }) => {
  const errors = watchErrors(page);
  await signIn(page, 'viewer', '/chunks?hypertable=factory_telemetry.metric_hist&compressed=true&limit=10');
  await expect(page.getByTestId('chunk-total')).toContainText('chunks match; showing 1–10.');
  await expect(page.getByTestId('chunk-row')).toHaveCount(10);
  await page.getByTestId('next-page').click();
  await expect(page.getByTestId('chunk-total')).toContainText('showing 11–');
  await page.screenshot({ path: 'test-results/chunks.png', fullPage: true });
  // A bad filter is explained, not a crash.
  await page.goto('/chunks?sort=size');
  await expect(page.getByTestId('error')).toContainText('sort "size": expected range_start');
  const unexpected = errors.filter((e) => !e.includes('400'));
  expect(unexpected, unexpected.join('\n')).toEqual([]);
});

test('the API is documented without a CDN', async ({ page }) => {
  const requests: string[] = [];
  page.on('request', (r) => requests.push(r.url()));
  await page.goto('/api/v1/docs');
  await expect(page.getByRole('heading', { name: 'MS5.0 TimescaleDB Console' })).toBeVisible();
  await expect(page.getByText('/api/v1/monitoring/metrics/chunks')).toBeVisible();
  expect(requests.every((url) => url.startsWith(new URL(page.url()).origin))).toBe(true);
});

test('the overview updates itself when a new snapshot is published', async ({ page }) => {
  const errors = watchErrors(page);
  await signIn(page, 'viewer');
  await hydrated(page);
  const freshness = page.getByTestId('freshness');
  const first = await freshness.textContent();
  // A marker on the window survives only if the page is not reloaded.
  await page.evaluate(() => ((window as unknown as { marker: number }).marker = 42));
  // serve.sh runs the refresher every 5 s; each pass is pushed to open pages.
  await expect(freshness).not.toHaveText(first ?? '', { timeout: 30_000 });
  expect(await page.evaluate(() => (window as unknown as { marker?: number }).marker)).toBe(42);
  expect(errors, errors.join('\n')).toEqual([]);
});
