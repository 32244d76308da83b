import { expect, test } from '@playwright/test';
import { signIn } from './fixtures/accounts';
import { ROUTES } from './fixtures/routes';

// Every page at a laptop's and a phone's width: the page itself never scrolls sideways
// (a wide table scrolls inside its card), with the demo and with a table whose schema and
// name are 63 bytes long. Read as an admin, who sees every control.

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
