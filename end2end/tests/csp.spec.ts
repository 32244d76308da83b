import { expect, test } from '@playwright/test';
import { hydrated, signIn } from './fixtures/accounts';
import { ROUTES } from './fixtures/routes';

// Every page, as the role that sees the most, under the console's Content-Security-Policy:
// the page hydrates (its WASM and inline scripts ran), charts draw, and the browser
// reports no violation at all.

test('no page breaks the Content-Security-Policy', async ({ page }) => {
  const violations: string[] = [];
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (event) => {
      console.error(`CSP violation: ${event.violatedDirective} ${event.blockedURI}`);
    });
  });
  page.on('console', (message) => {
    const text = message.text();
    if (message.type() === 'error' && /Content Security Policy|CSP violation/.test(text)) {
      violations.push(`${page.url()}: ${text}`);
    }
  });
  await signIn(page, 'admin');
  for (const path of ROUTES) {
    const response = await page.goto(path);
    const policy = response?.headers()['content-security-policy'] ?? '';
    expect(policy, path).toMatch(/script-src 'self' 'nonce-[A-Za-z0-9_-]+' 'wasm-unsafe-eval'/);
    await hydrated(page);
    // Let streamed fragments and charts settle.
    await page.waitForLoadState('networkidle');
  }
  await page.goto('/storage');
  await hydrated(page);
  await expect(page.locator('canvas').first()).toBeVisible();
  expect(violations).toEqual([]);
});
