import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FleetsResponse } from '../../src/admin/schemas.js';
import { cleanupStack, launchChromium } from '../helpers/browser.js';
import { waitFor } from '../helpers/wait.js';
import { dashboardApp } from './dashboard-fixture.js';

const SCREENSHOT_DIR = join(tmpdir(), 'meridian-e2e-screenshots');

test('the dashboard in Chromium: no console error, the API\'s regions and sessions, live, a confirmed pause pauses the rollout, the explain box answers', async (t) => {
  const defer = cleanupStack(t);
  const { app, store } = await dashboardApp();
  defer(() => app.close());
  const base = await app.listen({ host: '127.0.0.1', port: 0 });
  const browser = await launchChromium(defer);
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  const problems: string[] = [];
  page.on('console', (m) => void (m.type() === 'error' && problems.push(`console: ${m.text()}`)));
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));

  await page.goto(`${base}/`);
  await page.locator('#live', { hasText: 'Live' }).waitFor();
  await page.locator('#fleet .region').first().waitFor();

  const api = (await (await fetch(`${base}/api/v1/fleet`)).json()) as FleetsResponse;
  const expected = api.fleets.flatMap((f) => f.regions.map((r) => [r.name, `${r.sessions} sessions`]));
  const shown = await page.locator('#fleet .region').evaluateAll((cards) => cards.map((c) => [c.getAttribute('data-region'), c.querySelector('.sessions')?.textContent]));
  assert.deepEqual(shown, expected);
  assert.equal(await page.locator('#fleet tr[data-proxy="tokyo-2"] .state').nth(1).textContent(), 'out of rotation');

  // Abort names what it would do; cancelled, nothing happens.
  await page.locator('[data-action="rollouts/default/upgrade/abort"]').click();
  assert.match((await page.locator('#confirm-text').textContent()) ?? '', /Abort puts tokyo-2 back into rotation on 17\.4\.2/);
  await page.locator('#confirm button[value="cancel"]').click();
  assert.equal((await store.get('ProxyRollout', 'default', 'upgrade'))?.spec.aborted, undefined);

  // Pause, confirmed with the keyboard: the rollout is paused, and the page hears of it live.
  await page.locator('[data-action="rollouts/default/upgrade/pause"]').click();
  await page.locator('#confirm-go').focus();
  await page.keyboard.press('Enter');
  await waitFor('the rollout to be paused', async () => ((await store.get('ProxyRollout', 'default', 'upgrade'))?.spec.paused === true ? true : undefined));
  await page.locator('[data-action="rollouts/default/upgrade/resume"]').waitFor();

  await page.locator('#explain-ip').fill('203.0.113.7');
  await page.locator('#explain-form button[type="submit"]').click();
  assert.match((await page.locator('#explain-out .decision').textContent()) ?? '', /goes to london-1 in london/);

  await mkdir(SCREENSHOT_DIR, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOT_DIR, 'dashboard.png'), fullPage: true });
  assert.deepEqual(problems, []);
});
