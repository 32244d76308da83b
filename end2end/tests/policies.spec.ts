import { expect, test } from '@playwright/test';
import { hydrated, signIn } from './fixtures/accounts';
import { watchErrors } from './fixtures/dashboard-page';

const TABLE = 'factory_telemetry.metric_hist';
const PAGE = '/policies/factory_telemetry/metric_hist';

/** The live retention as the policy page shows it, reloading until it equals `text`. */
async function liveRetention(page: import('@playwright/test').Page, text: string) {
  await expect(async () => {
    await page.goto(PAGE);
    await expect(page.getByTestId('live-retention')).toHaveText(text, { timeout: 2000 });
  }).toPass({ timeout: 30_000 });
}

test('an admin changes a retention after its dry-run, applies it, and reverts it', async ({ page }) => {
  const errors = watchErrors(page);
  await signIn(page, 'admin', PAGE);
  // The start-up reconciler applied the configured 90 days to the demo tables.
  await liveRetention(page, '90 days');
  await hydrated(page);
  await page.screenshot({ path: 'test-results/policy.png', fullPage: true });

  // A bad value is refused next to its field; nothing is saved.
  await page.locator('input[name="retention"]').fill('100 dayz');
  await page.getByTestId('preview').click();
  await expect(page.getByTestId('error-retention')).toContainText('expected an interval');

  // The dry-run lists the chunks the new retention drops; saving needs the table's name.
  await page.locator('input[name="retention"]').fill('100 days');
  await page.getByTestId('preview').click();
  const dryRun = page.getByTestId('retention-dry-run');
  await expect(dryRun).toContainText('chunk(s) dropped at the next run');
  await page.screenshot({ path: 'test-results/policy-dry-run.png', fullPage: true });
  await page.getByTestId('save').click();
  await expect(page.getByTestId('needs-confirmation')).toContainText(`type the table's name (${TABLE})`);
  await page.getByTestId('confirm-name').fill(TABLE);
  await page.getByTestId('save').click();
  await expect(page.getByTestId('saved')).toContainText('Saved (audit entry');
  await page.getByTestId('apply').click();
  await expect(page.getByTestId('apply-report')).toContainText('Applied');
  await liveRetention(page, '100 days');

  // Revert from the audit trail: the configured 90 days come back.
  await page.goto('/admin/audit?action=policy.edit');
  await hydrated(page);
  await page.getByTestId('revert').first().click();
  await expect(page.getByTestId('apply-report')).toContainText('Applied');
  await liveRetention(page, '90 days');
  expect(errors, errors.join('\n')).toEqual([]);
});

for (const role of ['operator', 'viewer'] as const) {
  test(`a ${role} sees policies read-only and cannot save one`, async ({ page, baseURL }) => {
    await signIn(page, role, PAGE);
    await expect(page.getByTestId('policy-name')).toHaveText(TABLE);
    await expect(page.getByTestId('read-only')).toBeVisible();
    await expect(page.getByTestId('preview')).toHaveCount(0);
    await page.goto('/policies');
    // The five demo tables and the console's own storage history.
    await expect(page.getByTestId('policy-row')).toHaveCount(6);
    await expect(page.getByTestId('apply-plan')).toHaveCount(0);
    // Hiding the button is not the check: the server refuses the call itself.
    const response = await page.request.post('/api/fn/save-policy', {
      headers: { Origin: baseURL! },
      form: { schema: 'factory_telemetry', table: 'metric_hist', 'form[retention]': '1 day', confirm_name: TABLE },
    });
    expect(response.status()).toBe(403);
    const apply = await page.request.post('/api/fn/apply-policies', { headers: { Origin: baseURL! } });
    expect(apply.status()).toBe(403);
  });
}
