// Screenshots of a running console (not part of the suite): [WIDTH=px] node shots.mjs BASE USER PASSWORD OUTDIR PATH...
import { chromium } from '@playwright/test';
const [base, user, password, out, ...paths] = process.argv.slice(2);
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu'] });
const page = await browser.newPage({ viewport: { width: Number(process.env.WIDTH ?? 1400), height: 900 } });
await page.goto(`${base}/login`);
await page.locator('body[data-hydrated="true"]').waitFor({ state: 'attached' });
await page.getByLabel('Username').fill(user);
await page.getByLabel('Password').fill(password);
await page.getByRole('button', { name: 'Sign in' }).click();
await page.waitForURL((url) => url.pathname !== '/login');
for (const path of paths) {
  await page.goto(`${base}${path}`);
  await page.locator('body[data-hydrated="true"]').waitFor({ state: 'attached' });
  await page.waitForTimeout(1500);
  const name = path.replace(/[^a-z0-9]+/gi, '_') || 'root';
  await page.screenshot({ path: `${out}/${name}.png`, fullPage: true });
}
await browser.close();
