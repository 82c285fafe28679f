import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import type { RolloutView } from '../../src/admin/rollout-schemas.js';
import type { FleetsResponse } from '../../src/admin/schemas.js';
import { runCli } from '../../src/cli/main.js';
import { cleanupStack, launchChromium } from '../helpers/browser.js';
import { stoppable } from '../helpers/capture-io.js';
import { copyDemoFleet } from '../helpers/demo-fleet-copy.js';
import { waitFor } from '../helpers/wait.js';

/** Committed screenshots (README) when MERIDIAN_UPDATE_SCREENSHOTS=1; else a temp dir, as test artifacts. */
const SCREENSHOTS = process.env['MERIDIAN_UPDATE_SCREENSHOTS'] === '1' ? join(process.cwd(), 'docs/screenshots') : join(tmpdir(), 'meridian-e2e-screenshots');
const ALWAYS = [{ days: ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'], start: '00:00', duration: '24h' }];
const ROLLOUT = 'default/follow-the-sun';

const words = (step: string): string => step.replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase();

/**
 * The demo's manifests with windows open all day and the example rollout in it (still paused,
 * its notices 10 minutes ahead at most), so that it runs as soon as it is started; and a second
 * rollout, never started, whose plan the page shows. Returns where the simulator's control API must listen.
 */
async function demoManifests(dir: string): Promise<string> {
  await copyDemoFleet(dir);
  const fleetFile = join(dir, 'fleet.yaml');
  const text = await readFile(fleetFile, 'utf8');
  // The simulator's control API takes the upgrade hooks: it must listen where the copy moved them.
  const simControl = /url: (http:\/\/127\.0\.0\.1:\d+)\/hooks\/upgrade/.exec(text)?.[1];
  assert.ok(simControl, 'the demo fleet upgrades through the simulator\'s hook');
  const fleet = parse(text) as { spec: { regions: { maintenanceWindows?: unknown }[] } };
  for (const r of fleet.spec.regions) r.maintenanceWindows = ALWAYS;
  await writeFile(fleetFile, stringify(fleet));
  const rollout = parse(await readFile('examples/rollouts/follow-the-sun.yaml', 'utf8')) as { metadata: { name: string }; spec: { version: string; notice: { leadTimes: string[] } } };
  rollout.spec.notice.leadTimes = ['10m'];
  await writeFile(join(dir, 'follow-the-sun.yaml'), stringify(rollout));
  await writeFile(join(dir, 'next.yaml'), stringify({ ...rollout, metadata: { name: 'next' }, spec: { ...rollout.spec, version: '17.4.9' } }));
  await writeFile(join(dir, 'debug-build.yaml'), await readFile('examples/canaries/debug-build.yaml', 'utf8'));
  return simControl.replace('http://', '');
}

test('the dashboard against meridian demo: six regions as the API counts them, a running rollout followed live, paused from the page; a screenshot of each view', { timeout: 180_000 }, async (t) => {
  const defer = cleanupStack(t);
  const dir = await mkdtemp(join(tmpdir(), 'meridian-dash-demo-'));
  defer(() => rm(dir, { recursive: true, force: true }));
  const manifests = join(dir, 'manifests');
  const simControl = await demoManifests(manifests);

  const io = stoppable();
  // 600x: an hour's drain deadline is six real seconds.
  const args = ['demo', '--manifests', manifests, '--state', join(dir, 'state'), '--admin', '127.0.0.1:0', '--public', '127.0.0.1:0', '--sim-control', simControl, '--time-factor', '600', '--log-level', 'fatal'];
  const exit = runCli(args, io);
  defer(async () => {
    io.stop();
    await exit;
  });
  const banner = await Promise.race([waitFor('the banner', async () => (io.stdout.includes('Dashboard ') ? io.stdout : undefined), 60_000), exit.then((code) => assert.fail(`demo exited ${code}: ${io.stderr}`))]);
  const base = /Dashboard +(http:\/\/\S+?)\/? /.exec(banner)?.[1];
  assert.ok(base, banner);
  const api = async <T>(path: string, init?: RequestInit): Promise<T> => {
    const res = await fetch(`${base}${path}`, init);
    assert.ok(res.ok, `${path}: ${res.status}`);
    return (await res.json()) as T;
  };
  const rolloutNow = async (): Promise<RolloutView> => api<RolloutView>(`/api/v1/rollouts/${ROLLOUT}`);

  const browser = await launchChromium(defer);
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  const problems: string[] = [];
  page.on('console', (m) => void (m.type() === 'error' && problems.push(`console: ${m.text()}`)));
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  await page.goto(`${base}/`);
  await page.locator('#live', { hasText: 'Live' }).waitFor();

  // The simulator's sessions move all the time and the page refreshes on a throttled notice: it
  // must show, for every region, a count the API gave within the last few seconds.
  const recent = new Map<string, string[]>();
  const agreed = await waitFor(
    'the page to show the API\'s sessions per region',
    async () => {
      const fleet = await api<FleetsResponse>('/api/v1/fleet');
      const expected = fleet.fleets.flatMap((f) => f.regions.map((r) => [r.name, `${r.sessions} sessions`] as const));
      for (const [region, sessions] of expected) recent.set(region, [...(recent.get(region) ?? []), sessions].slice(-25));
      const shown = await page.locator('#fleet .region').evaluateAll((cards) => cards.map((c) => [c.getAttribute('data-region') ?? '', c.querySelector('.sessions')?.textContent ?? '']));
      const sameRegions = JSON.stringify(shown.map(([r]) => r)) === JSON.stringify(expected.map(([r]) => r));
      return sameRegions && shown.every(([r, text]) => text !== '0 sessions' && (recent.get(r) ?? []).includes(text)) ? expected : undefined;
    },
    20_000,
    200,
  );
  assert.deepEqual(agreed.map(([r]) => r), ['tokyo', 'sydney', 'london', 'chicago', 'new-york', 'sao-paulo']);
  assert.equal(await page.locator('#fleet .map [data-region]').count(), 6);
  await page.locator('#fleet .region svg.spark').first().waitFor();
  await page.locator('#rollouts [data-plan="default/next"] .timeline').waitFor();
  await mkdir(SCREENSHOTS, { recursive: true });
  await page.locator('#fleet').screenshot({ path: join(SCREENSHOTS, 'fleet.png') });

  // Started through the API; the page follows each proxy's step within 3 s of the API showing it.
  await api(`/api/v1/rollouts/${ROLLOUT}/start`, { method: 'POST' });
  const seen = new Map<string, string>();
  let followed = 0;
  while (followed < 3) {
    const change = await waitFor(
      'a proxy\'s step to change in the API',
      async () => {
        const r = await rolloutNow();
        const moved = r.proxies.find((p) => seen.get(p.name) !== p.step);
        for (const p of r.proxies) seen.set(p.name, p.step);
        return moved && moved.step !== 'Pending' ? moved : undefined;
      },
      60_000,
      100,
    );
    const cell = page.locator(`#rollouts [data-rollout="${ROLLOUT}"] tr[data-proxy="${change.name}"] td.step`);
    // The page may be past this step already (the API moved on): what matters is that it does not lag.
    await waitFor(`the page to show ${change.name} ${change.step}`, async () => {
      const shown = await cell.textContent();
      const now = (await rolloutNow()).proxies.find((p) => p.name === change.name)?.step ?? '';
      return shown === words(change.step) || shown === words(now) ? true : undefined;
    }, 3_000, 50);
    followed++;
  }
  await page.locator(`#rollouts [data-rollout="${ROLLOUT}"] .timeline`).waitFor();
  await page.locator('#rollouts').screenshot({ path: join(SCREENSHOTS, 'rollout.png') });

  // Pause from the page, confirmed: the API says paused.
  await page.locator(`[data-action="rollouts/${ROLLOUT}/pause"]`).click();
  assert.match((await page.locator('#confirm-text').textContent()) ?? '', /No further proxy is taken out of rotation/);
  await page.locator('#confirm-go').click();
  await waitFor('the rollout to be paused', async () => ((await rolloutNow()).paused ? true : undefined));
  await page.locator(`[data-action="rollouts/${ROLLOUT}/resume"]`).waitFor();

  await page.locator('#canaries').screenshot({ path: join(SCREENSHOTS, 'canary.png') });
  await page.locator('#peering .card').first().waitFor();
  await page.locator('#peering').screenshot({ path: join(SCREENSHOTS, 'peering.png') });
  await page.locator('#explain-ip').fill('203.0.113.7');
  await page.locator('#explain-form button[type="submit"]').click();
  await page.locator('#explain-out .decision').waitFor();
  await page.locator('#explain').screenshot({ path: join(SCREENSHOTS, 'explain.png') });
  assert.deepEqual(problems, []);
});
