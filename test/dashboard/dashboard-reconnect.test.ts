import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cleanupStack, launchChromium } from '../helpers/browser.js';
import { dashboardApp } from './dashboard-fixture.js';

test('the page says it is stale while the controller is down, and after a restart on the same port reconnects by itself and shows fresh data', async (t) => {
  const defer = cleanupStack(t);
  const first = await dashboardApp();
  const base = await first.app.listen({ host: '127.0.0.1', port: 0 });
  const browser = await launchChromium(defer);
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));

  await page.goto(`${base}/`);
  await page.locator('#live', { hasText: 'Live' }).waitFor();
  await page.locator('[data-action="rollouts/default/upgrade/pause"]').waitFor();
  assert.equal(await page.locator('#main.stale').count(), 0);

  // The controller stops: its streams are closed, and the page says since when it has been stale.
  await first.app.close();
  await page.locator('#live', { hasText: /^Stale since/ }).waitFor();
  await page.locator('#main.stale').waitFor();

  // Another controller on the same address, whose rollout was paused meanwhile.
  const second = await dashboardApp();
  defer(() => second.app.close());
  await second.store.patchSpec('ProxyRollout', 'default', 'upgrade', { paused: true });
  await second.app.listen({ host: '127.0.0.1', port: Number(new URL(base).port) });

  await page.locator('#live', { hasText: /^Live$/ }).waitFor({ timeout: 20_000 });
  await page.locator('[data-action="rollouts/default/upgrade/resume"]').waitFor();
  assert.equal(await page.locator('#main.stale').count(), 0, 'no longer greyed out');
  await page.locator('#fleet .region').first().waitFor();
  assert.deepEqual(problems, []);
});
