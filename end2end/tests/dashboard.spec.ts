import { expect, test } from '@playwright/test';
import { DashboardPage, watchErrors } from './fixtures/dashboard-page';

const DEMO_HYPERTABLES = [
  'factory_telemetry.metric_hist',
  'factory_telemetry.energy_consumption',
  'factory_telemetry.oee_calculations',
  'factory_telemetry.production_events',
  'factory_telemetry.fault_event',
];

test('the dashboard lists the demo hypertables and draws the bytes chart', async ({ page }) => {
  const errors = watchErrors(page);
  const dashboard = new DashboardPage(page);
  await dashboard.open();

  await expect(dashboard.rows).toHaveCount(DEMO_HYPERTABLES.length);
  for (const name of DEMO_HYPERTABLES) {
    await expect(dashboard.row(name)).toBeVisible();
  }
  // The demo compresses old metric chunks: the table shows it.
  const metric = dashboard.row('factory_telemetry.metric_hist');
  await expect(metric.getByText('on', { exact: true })).toBeVisible();
  await expect(dashboard.row('factory_telemetry.fault_event').getByText('off', { exact: true })).toBeVisible();

  // The canvas only exists once the WASM bundle has hydrated the page and charming has
  // drawn into it: this is the hydration check.
  await expect(dashboard.chartCanvas).toBeVisible();
  const box = await dashboard.chartCanvas.boundingBox();
  expect(box?.width ?? 0).toBeGreaterThan(300);

  // ECharts animates the bars for about a second; capture the settled chart.
  await page.waitForTimeout(1500);
  await page.screenshot({ path: 'test-results/dashboard.png', fullPage: true });
  expect(errors, `console errors: ${errors.join('\n')}`).toEqual([]);
});

test('an unknown address shows a clear not-found page', async ({ page }) => {
  await new DashboardPage(page).open();
  const errors = watchErrors(page);
  const response = await page.goto('/no/such/page');
  expect(response?.status()).toBe(404);
  await expect(page.getByRole('heading', { name: 'Page not found' })).toBeVisible();
  await page.getByRole('link', { name: 'Back to the dashboard' }).click();
  await expect(page.getByRole('heading', { name: 'Hypertables' })).toBeVisible();
  // The page's own 404 is expected; nothing else may fail.
  const unexpected = errors.filter(
    (e) => !e.includes('the server responded with a status of 404') && !e.endsWith('/no/such/page'),
  );
  expect(unexpected).toEqual([]);
});
