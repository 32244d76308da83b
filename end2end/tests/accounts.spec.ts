import { expect, test } from '@playwright/test';
import { watchErrors } from './fixtures/dashboard-page';
import { account, hydrated, PASSWORD, sessionCookie, signIn, type Role } from './fixtures/accounts';

for (const role of ['viewer', 'operator', 'admin'] as Role[]) {
  test(`${role} signs in, sees what the role may see, and signs out`, async ({ page }) => {
    const errors = watchErrors(page);
    // Signed out, every page leads to the login page and back afterwards.
    await page.goto('/account');
    await expect(page).toHaveURL(/\/login\?next=\/account$/);
    await signIn(page, role, '/account');
    await expect(page).toHaveURL(/\/account$/);
    await expect(page.getByRole('heading', { name: 'My account' })).toBeVisible();
    await expect(page.locator('.who .badge')).toHaveText(role);
    const adminLinks = page.getByRole('link', { name: 'Users' });
    await expect(adminLinks).toHaveCount(role === 'admin' ? 1 : 0);
    await expect(page.getByTestId('sessions').getByText('this session')).toBeVisible();
    await page.screenshot({ path: `test-results/account-${role}.png`, fullPage: true });

    await page.getByTestId('sign-out').click();
    await expect(page).toHaveURL(/\/login$/);
    await page.goto('/');
    await expect(page).toHaveURL(/\/login\?next=\/$/);
    expect(errors).toEqual([]);
  });
}

test('wrong passwords get one message that names no account', async ({ page }) => {
  await page.goto('/login');
  await hydrated(page);
  for (const name of [account('admin'), 'no-such-user']) {
    await page.getByLabel('Username').fill(name);
    await page.getByLabel('Password').fill('not the password at all');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page.getByTestId('form-error')).toHaveText('Wrong username or password.');
  }
  await page.screenshot({ path: 'test-results/login-error.png', fullPage: true });
});

test('a viewer who types an admin address is told it is not allowed', async ({ page }) => {
  await signIn(page, 'viewer');
  for (const path of ['/admin/users', '/admin/tokens', '/admin/audit', '/admin/bench']) {
    const response = await page.goto(path);
    expect(response?.status()).toBe(403);
    await expect(page.getByTestId('not-allowed')).toContainText('This page is for the admin role');
  }
  await page.screenshot({ path: 'test-results/not-allowed.png', fullPage: true });
});

test('the session cookie is HttpOnly and SameSite, and its id changes at sign-in', async ({ page }) => {
  await signIn(page, 'operator');
  const first = await sessionCookie(page);
  expect(first?.httpOnly).toBe(true);
  expect(first?.sameSite).toBe('Lax');
  // serve.sh runs the development profile over plain HTTP; outside development the
  // cookie is also Secure (checked by the server's HTTP tests).
  expect(first?.secure).toBe(false);
  await signIn(page, 'operator');
  const second = await sessionCookie(page);
  expect(second?.value).toBeTruthy();
  expect(second?.value).not.toBe(first?.value);
  // The old id is worthless now.
  const old = await page.request.get('/api/v1/me', {
    headers: { cookie: `ms5_session=${first?.value}` },
  });
  expect(old.status()).toBe(401);
});

test('an admin creates a token, uses it, revokes it, and finds it all in the audit trail', async ({
  page,
  playwright,
}) => {
  const errors = watchErrors(page);
  await signIn(page, 'admin', '/admin/tokens');
  await hydrated(page);
  const name = `scraper-${Date.now()}`;
  const form = page.getByTestId('create-token');
  await form.getByLabel('Name').fill(name);
  await form.getByLabel('Role').selectOption('viewer');
  await form.getByRole('button', { name: 'Create token' }).click();
  const secret = (await page.getByTestId('token-secret').textContent()) ?? '';
  expect(secret).toMatch(/^ms5_/);
  await page.screenshot({ path: 'test-results/tokens.png', fullPage: true });

  // A machine client, without the browser's cookies.
  const api = await playwright.request.newContext({ baseURL: page.url() });
  const me = await api.get('/api/v1/me', { headers: { authorization: `Bearer ${secret}` } });
  expect(me.status()).toBe(200);
  expect(await me.json()).toEqual({ name, role: 'viewer', is_token: true });

  const row = page.locator(`tr[data-token="${name}"]`);
  await row.getByRole('button', { name: 'Revoke' }).click();
  await expect(row.getByText('revoked')).toBeVisible();
  const refused = await api.get('/api/v1/me', { headers: { authorization: `Bearer ${secret}` } });
  expect(refused.status()).toBe(401);
  expect((await refused.json()).error.code).toBe('invalid_token');
  await api.dispose();

  await page.goto('/admin/audit?action=token.');
  const trail = page.getByTestId('audit');
  await expect(trail.locator('tr', { hasText: 'token.revoke' }).first()).toContainText(account('admin'));
  await expect(trail.locator('tr', { hasText: 'token.create' }).first()).toContainText(account('admin'));
  await page.goto('/admin/audit?action=login');
  await expect(page.getByTestId('audit').locator('tr', { hasText: account('admin') }).first()).toBeVisible();
  await page.screenshot({ path: 'test-results/audit.png', fullPage: true });
  expect(errors).toEqual([]);
});

test('an admin creates a user who can then sign in', async ({ page, browser }) => {
  await signIn(page, 'admin', '/admin/users');
  await hydrated(page);
  const name = `new-${Date.now()}`;
  const form = page.getByTestId('create-user');
  await form.getByLabel('Username').fill(name);
  await form.getByLabel('Role').selectOption('operator');
  await form.getByLabel('Initial password').fill(PASSWORD);
  await form.getByRole('button', { name: 'Create user' }).click();
  await expect(page.locator(`tr[data-user="${name}"]`)).toBeVisible();
  await page.screenshot({ path: 'test-results/users.png', fullPage: true });

  const other = await browser.newPage();
  await other.goto('/login');
  await hydrated(other);
  await other.getByLabel('Username').fill(name);
  await other.getByLabel('Password').fill(PASSWORD);
  await other.getByRole('button', { name: 'Sign in' }).click();
  await expect(other.getByTestId('whoami')).toHaveText(name);
  await other.close();
});

test('the benchmark page explains why it cannot run here and where runs come from', async ({ page }) => {
  // The e2e console runs on devdb, which serves one connection: the console holds it.
  await signIn(page, 'admin', '/admin/bench');
  await hydrated(page);
  await expect(page.getByRole('heading', { name: 'Benchmark' })).toBeVisible();
  await expect(page.getByTestId('bench-blocked')).toContainText('one connection at a time');
  await expect(page.getByTestId('bench-blocked')).toContainText('ms5-console bench');
  await expect(page.getByTestId('start-bench')).toHaveCount(0);
  await expect(page.getByTestId('bench-empty')).toContainText('No runs yet');
  await page.screenshot({ path: 'test-results/bench-blocked.png', fullPage: true });
});
