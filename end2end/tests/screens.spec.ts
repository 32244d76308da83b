import { expect, test } from '@playwright/test';
import { signIn } from './fixtures/accounts';

// Every page at a laptop's and a phone's width: the page itself never scrolls sideways
// (a wide table scrolls inside its card). Read as an admin, who sees every control.
const ROUTES = [
  '/',
  '/hypertables',
  '/hypertables/factory_telemetry/metric_hist',
  '/hypertables/factory_telemetry/metric_hist/advisor',
  '/chunks',
  '/jobs',
  '/jobs/1000',
  '/alerts',
  '/storage',
  '/diagnostics',
  '/policies',
  '/policies/factory_telemetry/metric_hist',
  '/account',
  '/admin/users',
  '/admin/tokens',
  '/admin/audit',
  '/admin/bench',
];

for (const width of [1366, 390]) {
  test(`every page fits ${width} px without scrolling sideways`, async ({ page }) => {
    test.setTimeout(120_000);
    await page.setViewportSize({ width, height: 900 });
    await signIn(page, 'admin');
    const wide: string[] = [];
    for (const route of ROUTES) {
      await page.goto(route);
      await page.waitForLoadState('networkidle');
      const sizes = await page.evaluate(() => ({
        page: document.documentElement.scrollWidth,
        window: window.innerWidth,
      }));
      if (sizes.page > sizes.window) {
        wide.push(`${route}: ${sizes.page} px in ${sizes.window}`);
        await page.screenshot({ path: `test-results/wide-${width}${route.replace(/\W+/g, '_')}.png`, fullPage: true });
      }
    }
    expect(wide).toEqual([]);
  });
}
