import { expect, test } from '@playwright/test';
import { DashboardPage, watchErrors } from './fixtures/dashboard-page';

test('the start page greets a signed-in viewer with the overview', async ({ page }) => {
  const errors = watchErrors(page);
  const dashboard = new DashboardPage(page);
  await dashboard.open();
  await expect(page.getByRole('link', { name: 'Hypertables' })).toBeVisible();
  await expect(dashboard.status).toHaveText('ok');
  await dashboard.chartDrawn();
  expect(errors, `console errors: ${errors.join('\n')}`).toEqual([]);
});

test('an unknown address shows a clear not-found page', async ({ page }) => {
  await new DashboardPage(page).open();
  const errors = watchErrors(page);
  const response = await page.goto('/no/such/page');
  expect(response?.status()).toBe(404);
  await expect(page.getByRole('heading', { name: 'Page not found' })).toBeVisible();
  await page.getByRole('link', { name: 'Back to the dashboard' }).click();
  await expect(page.getByRole('heading', { name: 'Overview' })).toBeVisible();
  // The page's own 404 is expected; nothing else may fail.
  const unexpected = errors.filter(
    (e) => !e.includes('the server responded with a status of 404') && !e.endsWith('/no/such/page'),
  );
  expect(unexpected).toEqual([]);
});
