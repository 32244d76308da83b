// Time to interactive of the overview page in Chromium (issue #14), cold (a new browser
// profile: nothing cached) and warm (the same profile, a second visit: the hashed WASM,
// glue and CSS come from the cache without asking). "Interactive" is the moment the WASM
// has hydrated the page (body[data-hydrated]); the anchor, measured in the same visit, is
// the first byte of the page from the server. Prints min / median / max over RUNS visits.
// Usage: node end2end/tti.js BASE_URL SESSION_COOKIE [RUNS]
const { chromium } = require('playwright');

const [base, cookie, runsArg] = process.argv.slice(2);
const runs = Number(runsArg ?? 5);
if (!base || !cookie || !Number.isInteger(runs) || runs < 1 || runs > 50) {
  console.error('usage: node end2end/tti.js BASE_URL SESSION_COOKIE [RUNS 1-50]');
  process.exit(2);
}

const summary = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length / 2;
  const median = sorted.length % 2 ? sorted[Math.floor(middle)] : (sorted[middle - 1] + sorted[middle]) / 2;
  return `${sorted[0].toFixed(0)} / ${median.toFixed(0)} / ${sorted[sorted.length - 1].toFixed(0)} ms`;
};

async function visit(page) {
  const started = Date.now();
  await page.goto(`${base}/`);
  await page.waitForSelector('body[data-hydrated="true"]', { timeout: 60000 });
  const interactive = Date.now() - started;
  const firstByte = await page.evaluate(() => {
    const [nav] = performance.getEntriesByType('navigation');
    return nav.responseStart - nav.startTime;
  });
  const transferred = await page.evaluate(() =>
    performance.getEntriesByType('resource').reduce((sum, r) => sum + (r.transferSize || 0), 0),
  );
  return { interactive, firstByte, transferred };
}

(async () => {
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium' });
  const url = new URL(base);
  const cold = [];
  const warm = [];
  for (let i = 0; i < runs; i++) {
    const context = await browser.newContext();
    await context.addCookies([{ name: 'ms5_session', value: cookie, domain: url.hostname, path: '/' }]);
    const page = await context.newPage();
    cold.push(await visit(page));
    warm.push(await visit(page));
    await context.close();
  }
  await browser.close();
  for (const [label, visits] of [['cold (empty cache)', cold], ['warm (second visit)', warm]]) {
    console.log(
      `overview ${label}: interactive ${summary(visits.map((v) => v.interactive))}; ` +
        `anchor, first byte of the page ${summary(visits.map((v) => v.firstByte))}; ` +
        `subresources transferred ${summary(visits.map((v) => v.transferred / 1024)).replace(/ ms/g, ' KiB')}`,
    );
  }
})().catch((error) => {
  console.error(error);
  process.exit(1);
});
