import { defineConfig } from '@playwright/test';
import { PASSWORD } from './tests/fixtures/accounts';

// The console under test runs on its own port with its own devdb (see serve.sh), so a
// `make run` console on 3000 is never touched.
const port = Number(process.env.E2E_PORT ?? 3100);

export default defineConfig({
  testDir: './tests',
  timeout: 60_000,
  expect: { timeout: 20_000 },
  fullyParallel: false,
  workers: 1,
  retries: 0,
  reporter: [['list']],
  use: {
    baseURL: `http://127.0.0.1:${port}`,
    trace: 'off',
    launchOptions: {
      // Debian's Chromium: Playwright cannot download a browser here.
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    },
  },
  webServer: {
    command: `bash serve.sh ${port}`,
    url: `http://127.0.0.1:${port}/api/v1/monitoring/health`,
    timeout: 180_000,
    reuseExistingServer: false,
    env: { E2E_PASSWORD: PASSWORD },
    stdout: 'pipe',
    stderr: 'pipe',
  },
});
