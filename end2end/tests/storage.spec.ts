import { expect, test } from '@playwright/test';
import { readFile } from 'node:fs/promises';
import { hydrated, signIn } from './fixtures/accounts';
import { watchErrors } from './fixtures/dashboard-page';

test('a viewer reads the storage trends, switches ranges, reads the forecast and downloads the CSV', async ({ page }) => {
  const errors = watchErrors(page);
  await signIn(page, 'viewer', '/storage');
  await hydrated(page);
  // The demo's history was back-filled from its chunks, and says so.
  await expect(page.getByTestId('generated-note')).toBeVisible();
  await expect(page.locator('#storage-trend[data-drawn="true"]')).toBeAttached();
  await expect(page.getByTestId('growth-row').first()).toContainText('factory_telemetry.');
  await expect(page.getByTestId('database-growth')).toContainText('storage target');

  // Ranges live in the address; each redraws the chart.
  await page.getByTestId('range-7d').click();
  await expect(page).toHaveURL(/range=7d/);
  await expect(page.getByTestId('range-7d')).toHaveClass(/active/);
  await expect(page.locator('#storage-trend[data-drawn="true"]')).toBeAttached();
  await page.getByTestId('view-compression').click();
  await expect(page).toHaveURL(/view=compression/);
  await expect(page.locator('#storage-trend[data-drawn="true"]')).toBeAttached();
  // The chart was replaced, not merged into: no series of the tables view is left.
  const series = await page.evaluate(() => {
    const echarts = (window as unknown as { echarts: any }).echarts;
    const chart = echarts.getInstanceByDom(document.getElementById('storage-trend'));
    return chart.getOption().series.map((s: { name: string }) => s.name);
  });
  expect(series.slice(0, 2)).toEqual(['uncompressed', 'compressed']);
  expect(series.join(' ')).not.toContain('factory_telemetry');

  // The forecast: the budget (1 GB in serve.sh) in one sentence, the chart, the tables.
  const headline = page.getByTestId('budget-headline');
  await expect(headline).toContainText('storage budget of 953.7 MiB');
  await expect(page.locator('#storage-forecast-chart[data-drawn="true"]')).toBeAttached();
  await expect(page.getByTestId('forecast-row').first()).toContainText('factory_telemetry.');
  await expect(page.getByTestId('what-if').first()).toContainText('at 90 days');
  await page.screenshot({ path: 'test-results/storage.png', fullPage: true });

  // The CSV holds what the chart shows: a time column, one per series, the database.
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByTestId('csv').click(),
  ]);
  expect(download.suggestedFilename()).toBe('storage-compression-7d.csv');
  const csv = await readFile(await download.path(), 'utf8');
  const lines = csv.trim().split('\n');
  expect(lines[0]).toBe('sampled_at,uncompressed_bytes,compressed_bytes,database_bytes');
  expect(lines.length).toBeGreaterThan(20);
  expect(lines[1]).toMatch(/^\d{4}-\d\d-\d\dT[^,]+,\d+,\d+,\d*$/);
  expect(errors, errors.join('\n')).toEqual([]);
});

test('a drill-down into an unknown table is a clear error, not an empty chart', async ({ page }) => {
  await signIn(page, 'viewer', '/storage?table=nowhere.nothing');
  await expect(page.getByTestId('error')).toContainText('no storage samples for "nowhere.nothing"');
});

test('diagnostics name what is wrong with the demo and the fix', async ({ page }) => {
  const errors = watchErrors(page);
  await signIn(page, 'viewer', '/diagnostics');
  await hydrated(page);
  // devdb has no job scheduler: the most urgent finding says so.
  await expect(page.getByTestId('finding').first()).toContainText('No job scheduler runs the jobs');
  await expect(page.getByTestId('check')).toHaveCount(10);
  await page.screenshot({ path: 'test-results/diagnostics.png', fullPage: true });
  expect(errors, errors.join('\n')).toEqual([]);
});

test('an admin takes an advisor suggestion into the policy and applies the plan', async ({ page }) => {
  const errors = watchErrors(page);
  await signIn(page, 'admin', '/hypertables/factory_telemetry/production_events/advisor');
  await hydrated(page);
  const segment = page.getByTestId('suggest-segment-by').getByTestId('suggested-items');
  await expect(segment).toHaveText('equipment_id');

  // The trial compresses a chunk's copy and reports a real ratio.
  await page.getByTestId('run-trial').click();
  await expect(page.getByTestId('trial-ratio').first()).toHaveText(/\d+\.\d×/);
  await page.screenshot({ path: 'test-results/advisor.png', fullPage: true });

  await page.getByTestId('use-in-policy').click();
  await expect(page).toHaveURL(/\/policies\/factory_telemetry\/production_events\?segment_by=equipment_id/);
  await hydrated(page);
  await expect(page.getByTestId('from-advisor')).toBeVisible();
  await expect(page.locator('input[name="segment_by"]')).toHaveValue('equipment_id');
  await expect(page.locator('input[name="order_by"]')).toHaveValue('event_time DESC');
  await page.getByTestId('preview').click();
  await expect(page.getByTestId('preview-result')).toContainText('change compression settings');
  // The demo holds 120 days and the start-up apply held the 90-day retention: saving a
  // policy whose steps drop data asks for the table's name, as every such change does.
  await page.getByTestId('save').click();
  await expect(page.getByTestId('needs-confirmation')).toContainText('Type the name (factory_telemetry.production_events)');
  await page.getByTestId('preview-result').getByTestId('confirm-name').fill('factory_telemetry.production_events');
  await page.getByTestId('save').click();
  await expect(page.getByTestId('saved')).toContainText('Saved (audit entry');
  await page.getByTestId('apply').click();
  await expect(page.getByTestId('apply-report')).toContainText('Applied');
  expect(errors, errors.join('\n')).toEqual([]);
});
