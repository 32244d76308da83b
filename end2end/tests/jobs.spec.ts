import { expect, test, type Page } from '@playwright/test';
import { hydrated, signIn } from './fixtures/accounts';
import { watchErrors } from './fixtures/dashboard-page';

// The continuous aggregate's refresh job: running it on the demo data is harmless.
const KIND = 'policy_refresh_continuous_aggregate';

/** Opens the refresh job's page from the jobs list; returns its id. */
async function openRefreshJob(page: Page): Promise<string> {
  await page.goto('/jobs');
  // devdb has no scheduler: the page says jobs run only by hand.
  await expect(page.getByTestId('no-scheduler')).toContainText('jobs run only when started by hand');
  const row = page.locator('tr[data-job]', { hasText: KIND }).first();
  const id = (await row.getAttribute('data-job'))!;
  await row.getByRole('link', { name: `#${id}` }).click();
  await expect(page.getByTestId('job-title')).toHaveText(`Job #${id}: ${KIND}`);
  await hydrated(page);
  return id;
}

async function confirm(page: Page, button: string, question: string) {
  await page.getByTestId(button).click();
  await expect(page.getByTestId('confirm')).toContainText(question);
  await page.getByTestId('confirm-yes').click();
}

test('an operator runs a job now, sees the run in its history, pauses and resumes it', async ({ page }) => {
  const errors = watchErrors(page);
  await signIn(page, 'operator', '/jobs');
  await page.screenshot({ path: 'test-results/jobs.png', fullPage: true });
  const id = await openRefreshJob(page);

  // Run now asks first, then waits for the job and reports its outcome.
  await confirm(page, 'run-now', `Run job #${id} now?`);
  await expect(page.getByTestId('run-outcome')).toContainText('The job ran and succeeded');
  const consoleRuns = page.locator('[data-testid="runs"] tr[data-source="console"]');
  await expect(consoleRuns.first()).toContainText('e2e-operator');
  await expect(page.getByTestId('chart-job-runs')).toHaveAttribute('data-drawn', 'true');
  await page.screenshot({ path: 'test-results/job.png', fullPage: true });

  // Pause and resume change TimescaleDB's own job.
  await confirm(page, 'pause', `Pause job #${id}?`);
  await expect(page.getByTestId('job-scheduled')).toHaveText('no (paused)');
  await confirm(page, 'resume', `Resume job #${id}`);
  await expect(page.getByTestId('job-scheduled')).toHaveText('yes');
  // Rescheduling is for admins: no form here.
  await expect(page.getByTestId('schedule-form')).toHaveCount(0);
  expect(errors, errors.join('\n')).toEqual([]);
});

test('a viewer reads the history and chart, has no actions, and is refused by the server', async ({ page, baseURL }) => {
  await signIn(page, 'viewer', '/jobs');
  const id = await openRefreshJob(page);
  await expect(page.locator('[data-testid="runs"] tr[data-source="console"]').first()).toContainText('succeeded');
  await expect(page.getByTestId('chart-job-runs')).toHaveAttribute('data-drawn', 'true');
  await expect(page.getByTestId('read-only')).toBeVisible();
  await expect(page.getByTestId('run-now')).toHaveCount(0);
  await expect(page.getByTestId('pause')).toHaveCount(0);
  // Hiding the buttons is not the check: the server refuses the calls itself.
  for (const [path, form] of [
    ['/api/fn/run-job', { id }],
    ['/api/fn/set-job-scheduled', { id, scheduled: 'false' }],
    ['/api/fn/acknowledge-alert', { id: '1' }],
  ] as const) {
    const response = await page.request.post(path, { headers: { Origin: baseURL! }, form });
    expect(response.status(), path).toBe(403);
  }
  await page.goto('/alerts');
  await expect(page.getByTestId('no-open-alerts')).toBeVisible();
  await expect(page.getByTestId('webhook')).toContainText('No webhook is configured');
});
