import { expect, test } from '@playwright/test';
import { hydrated, signIn } from './fixtures/accounts';
import { watchErrors } from './fixtures/dashboard-page';

const TABLE = 'factory_telemetry.metric_hist';
const PAGE = '/policies/factory_telemetry/metric_hist';
const AGGREGATE_PAGE = '/policies/factory_telemetry/metric_hist_hourly';

/** The live retention as the policy page shows it, reloading until it equals `text`. */
async function liveRetention(page: import('@playwright/test').Page, text: string) {
  await expect(async () => {
    await page.goto(PAGE);
    await expect(page.getByTestId('live-retention')).toHaveText(text, { timeout: 2000 });
  }).toPass({ timeout: 30_000 });
}

test('an admin confirms a held retention, changes it after its dry-run, and reverts it with its own dry-run', async ({ page }) => {
  const errors = watchErrors(page);
  await signIn(page, 'admin', PAGE);
  // The demo holds 120 days: the start-up apply held the configured 90-day retention
  // (it drops chunks) until an admin confirms it.
  await liveRetention(page, 'none');
  await hydrated(page);
  await expect(page.getByTestId('drop-risk')).toContainText('retention 90 days drops');
  await page.screenshot({ path: 'test-results/policy-held.png', fullPage: true });
  await page.getByTestId('confirm-name').fill(TABLE);
  await page.getByTestId('apply-table').click();
  await expect(page.getByTestId('apply-report')).toContainText('Applied');
  await liveRetention(page, '90 days');
  await hydrated(page);

  // A bad value is refused next to its field; nothing is saved.
  await page.locator('input[name="retention"]').fill('100 dayz');
  await page.getByTestId('preview').click();
  await expect(page.getByTestId('error-retention')).toContainText('expected an interval');

  // Raising the retention drops only what 90 days drops anyway: the dry-run says so and
  // the change needs no typed name.
  await page.locator('input[name="retention"]').fill('100 days');
  await page.getByTestId('preview').click();
  const dryRun = page.getByTestId('retention-dry-run');
  await expect(dryRun).toContainText('The current retention (90 days) would drop');
  await expect(page.getByTestId('confirm-loss')).toHaveCount(0);
  await page.screenshot({ path: 'test-results/policy-dry-run.png', fullPage: true });
  await page.getByTestId('save').click();
  await expect(page.getByTestId('saved')).toContainText('Saved (audit entry');
  await page.getByTestId('apply').click();
  await expect(page.getByTestId('apply-report')).toContainText('Applied');
  await liveRetention(page, '100 days');

  // Revert from the audit trail: its page shows the way back and what it drops; the
  // revert runs only with the table's name typed.
  await page.goto('/admin/audit?action=policy.edit');
  await hydrated(page);
  await page.getByTestId('revert').first().click();
  await expect(page.getByTestId('revert-step')).toContainText('drop_after 100 days → 90 days');
  await expect(page.getByTestId('retention-dry-run')).toContainText('dropped only because of this revert');
  await hydrated(page);
  await page.screenshot({ path: 'test-results/policy-revert.png', fullPage: true });
  await page.getByTestId('confirm-revert').click();
  await expect(page.getByRole('alert')).toContainText('Nothing was applied');
  await page.getByTestId('confirm-name').fill(TABLE);
  await page.getByTestId('confirm-revert').click();
  await expect(page.getByTestId('apply-report')).toContainText('Applied');
  await expect(page.getByTestId('already-reverted')).toBeVisible();
  await liveRetention(page, '90 days');
  // The trail marks it as reverted; the button is gone from it.
  await page.goto('/admin/audit?action=policy.edit');
  await expect(page.getByTestId('reverted').first()).toContainText('reverted by #');
  expect(errors, errors.join('\n')).toEqual([]);
});

test("an admin takes a continuous aggregate under management and widens its refresh window", async ({ page }) => {
  const errors = watchErrors(page);
  await signIn(page, 'admin', AGGREGATE_PAGE);
  await hydrated(page);
  await expect(page.getByTestId('live-refresh')).toHaveText('3 days ago to 1 hour ago every 1 hour');
  await expect(page.getByTestId('adoption')).toContainText('keeps its live refresh');
  await page.locator('select[name="managed"]').selectOption('yes');
  await page.locator('input[name="refresh"]').fill('7 days to 1 hour every 1 hour');
  await page.getByTestId('preview').click();
  await expect(page.getByTestId('preview-result')).toContainText('change refresh policy');
  await page.screenshot({ path: 'test-results/policy-aggregate.png', fullPage: true });
  await page.getByTestId('save').click();
  await expect(page.getByTestId('saved')).toContainText('1 step(s) to apply');
  await page.getByTestId('apply').click();
  await expect(page.getByTestId('apply-report')).toContainText('Applied');
  await expect(async () => {
    await page.goto(AGGREGATE_PAGE);
    await expect(page.getByTestId('live-refresh')).toHaveText('7 days ago to 1 hour ago every 1 hour', { timeout: 2000 });
  }).toPass({ timeout: 30_000 });
  expect(errors, errors.join('\n')).toEqual([]);
});

for (const role of ['operator', 'viewer'] as const) {
  test(`a ${role} sees policies read-only and cannot save one`, async ({ page, baseURL }) => {
    await signIn(page, role, PAGE);
    await expect(page.getByTestId('policy-name')).toHaveText(TABLE);
    await expect(page.getByTestId('read-only')).toBeVisible();
    await expect(page.getByTestId('preview')).toHaveCount(0);
    await page.goto('/policies');
    // The five demo tables, the console's own storage history, the demo aggregate and
    // serve.sh's table with the longest names.
    await expect(page.getByTestId('policy-row')).toHaveCount(8);
    await expect(page.getByTestId('apply-plan')).toHaveCount(0);
    // Hiding the button is not the check: the server refuses the call itself.
    const response = await page.request.post('/api/fn/save-policy', {
      headers: { Origin: baseURL! },
      data: {
        schema: 'factory_telemetry',
        table: 'metric_hist',
        form: { retention: '1 day' },
        confirm: { typed_names: [TABLE], accept_aggregate_loss: true },
      },
    });
    expect(response.status()).toBe(403);
    const apply = await page.request.post('/api/fn/apply-policies', {
      headers: { Origin: baseURL! },
      data: { fingerprint: null, confirm: {} },
    });
    expect(apply.status()).toBe(403);
  });
}
