import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { stringify } from 'yaml';
import type { FleetsResponse, ProxyView } from '../../src/admin/schemas.js';
import type { RolloutView } from '../../src/admin/rollout-schemas.js';
import { buildConfig } from '../../src/config.js';
import { startMeridian } from '../../src/main.js';
import type { Leadership, TermWork } from '../../src/runtime/leadership.js';
import { startFleetSim } from '../../src/sim/index.js';
import { simFleetManifest } from '../helpers/sim-fleet.js';
import { waitFor } from '../helpers/wait.js';

const REGIONS = [
  { name: 'tokyo', latitude: 35.68, longitude: 139.69, timeZone: 'Asia/Tokyo', default: true },
  { name: 'london', latitude: 51.51, longitude: -0.13, timeZone: 'Europe/London' },
];

/** A leadership the test hands out and takes back, as a lease would be won and lost. */
class ManualLeadership implements Leadership {
  private readonly works = new Set<TermWork>();
  private readonly terms = new Map<TermWork, { readonly term: AbortController; readonly stop: () => Promise<void> }>();
  private leading = false;

  async run(work: TermWork): Promise<() => Promise<void>> {
    this.works.add(work);
    if (this.leading) await this.begin(work);
    return async () => {
      this.works.delete(work);
      await this.end(work);
    };
  }

  async gain(): Promise<void> {
    this.leading = true;
    for (const w of this.works) await this.begin(w);
  }

  /** Resolves once every job's term work has stopped. */
  async lose(): Promise<void> {
    this.leading = false;
    for (const w of this.works) await this.end(w);
  }

  private async begin(work: TermWork): Promise<void> {
    const term = new AbortController();
    this.terms.set(work, { term, stop: await work(term.signal) });
  }

  private async end(work: TermWork): Promise<void> {
    const t = this.terms.get(work);
    if (!t) return;
    this.terms.delete(work);
    t.term.abort();
    await t.stop();
  }
}

/** Every object's stored status, from the state directory's records (kind/namespace/name.json). */
async function storedStatuses(stateDir: string): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const kind of await readdir(stateDir).catch(() => [])) {
    if (!/^Proxy[A-Z]/.test(kind)) continue;
    for (const ns of await readdir(join(stateDir, kind))) {
      for (const file of await readdir(join(stateDir, kind, ns))) {
        if (!file.endsWith('.json')) continue;
        const record = JSON.parse(await readFile(join(stateDir, kind, ns, file), 'utf8')) as { status?: unknown };
        if (record.status !== undefined) out[`${kind}/${ns}/${file}`] = record.status;
      }
    }
  }
  return out;
}

/** The controller, not leading, on a simulated fleet with a paused rollout and a paused canary. */
async function setup(t: TestContext) {
  const cleanups: (() => Promise<unknown>)[] = [];
  t.after(async () => {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
  });
  const proxies = REGIONS.flatMap((r) => [1, 2].map((i) => ({ name: `${r.name}-${i}`, region: r.name, version: '17.4.2', port: 0 })));
  const sim = await startFleetSim({ proxies, tickMs: 0, seed: 3, controlPort: 0 });
  cleanups.push(() => sim.close());
  const dir = await mkdtemp(join(tmpdir(), 'meridian-leadership-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const manifests = join(dir, 'manifests');
  await mkdir(manifests);
  const always = [{ days: ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'], start: '00:00', duration: '24h' }];
  const rollout = { apiVersion: 'meridian.dev/v1alpha1', kind: 'ProxyRollout', metadata: { name: 'to-17-5' }, spec: { version: '17.5.0', maintenanceWindows: Object.fromEntries(REGIONS.map((r) => [r.name, always])), paused: true } };
  const canary = { apiVersion: 'meridian.dev/v1alpha1', kind: 'ProxyCanary', metadata: { name: 'debug' }, spec: { build: { version: '17.4.9-debug.1' }, subset: { proxies: ['london-1'] }, paused: true } };
  await writeFile(join(manifests, 'fleet.yaml'), stringify(simFleetManifest(sim, REGIONS)));
  await writeFile(join(manifests, 'canary.yaml'), stringify(canary));
  const rolloutFile = join(manifests, 'rollout.yaml');
  await writeFile(rolloutFile, stringify(rollout));
  const stateDir = join(dir, 'state');
  const config = buildConfig([
    { source: 'test', values: { manifestDir: manifests, stateDir, admin: '127.0.0.1:0', public: '127.0.0.1:0', observeInterval: '200ms', observeTimeout: '150ms' } },
  ]);
  assert.ok(config.ok, config.ok ? '' : config.error.join('; '));
  const leadership = new ManualLeadership();
  const meridian = await startMeridian(config.value, pino({ level: 'silent' }), { leadership });
  cleanups.push(() => meridian.close());

  const api = async <T>(path: string): Promise<T> => (await fetch(new URL(path, meridian.adminUrl))).json() as Promise<T>;
  const proxy = async (name: string): Promise<ProxyView | undefined> => (await api<FleetsResponse>('/api/v1/fleet')).fleets[0]?.regions.flatMap((r) => r.proxies).find((p) => p.name === name);
  /** Waits for two more observation cycles than have been seen now (each scrapes london-2 again). */
  const twoMoreCycles = async (): Promise<void> => {
    for (let i = 0; i < 2; i++) {
      const before = (await proxy('london-2'))?.lastScrapeAt;
      await waitFor('london-2 to be scraped again', async () => ((await proxy('london-2'))?.lastScrapeAt !== before ? true : undefined));
    }
  };
  const nearest = async (region: string): Promise<string | undefined> => ((await (await fetch(new URL(`/nearest?region=${region}`, meridian.loginUrl))).json()) as { proxy?: string }).proxy;
  const ready = async (): Promise<number> => (await fetch(new URL('/readyz', meridian.adminUrl))).status;
  return { sim, meridian, leadership, stateDir, rolloutFile, rollout, api, proxy, twoMoreCycles, nearest, ready };
}

test('an instance that does not lead serves the login redirect and the admin API, and writes no status until it leads and none after', { timeout: 60_000 }, async (t) => {
  const { sim, meridian, leadership, stateDir, rolloutFile, rollout, api, proxy, twoMoreCycles, nearest, ready } = await setup(t);

  // Not leading: observed, routed and served all the same.
  await waitFor('readiness without leadership', async () => ((await ready()) === 200 ? true : undefined));
  await twoMoreCycles();
  assert.equal((await proxy('tokyo-1'))?.up, true);
  assert.match((await nearest('tokyo')) ?? '', /^tokyo-[12]$/);
  const login = await fetch(meridian.loginUrl, { redirect: 'manual' });
  assert.equal(login.status, 302);
  assert.match(login.headers.get('location') ?? '', /^https:\/\/(tokyo|london)-[12]\.example\.com\//);
  assert.equal((await api<RolloutView>('/api/v1/rollouts/default/to-17-5')).phase, undefined, 'the rollout shows no status');
  assert.deepEqual(await storedStatuses(stateDir), {}, 'no status was stored');

  // Leading: the fleet's, the rollout's and the canary's status appear.
  await leadership.gain();
  const led = await waitFor('every status to be stored', async () => {
    const s = await storedStatuses(stateDir);
    const fleet = s['ProxyFleet/default/e2e.json'] as { phase?: string } | undefined;
    return fleet?.phase === 'Healthy' && s['ProxyRollout/default/to-17-5.json'] && s['ProxyCanary/default/debug.json'] ? s : undefined;
  });
  const rolloutStatus = led['ProxyRollout/default/to-17-5.json'] as { phase?: string; message?: string };
  assert.equal(rolloutStatus.phase, 'Pending', rolloutStatus.message);

  // Leadership lost: work stops. A proxy going down and the rollout resumed would both be written by a leader.
  await leadership.lose();
  const before = await storedStatuses(stateDir);
  const shutdown = await fetch(`${sim.controlUrl}/proxies/tokyo-2/shutdown`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ mode: 'immediate' }) });
  assert.equal(shutdown.status, 200);
  await writeFile(rolloutFile, stringify({ ...rollout, spec: { ...rollout.spec, paused: false } }));
  await waitFor('the resumed rollout to be read', async () => ((await api<RolloutView>('/api/v1/rollouts/default/to-17-5')).paused === false ? true : undefined));
  await waitFor('tokyo-2 to be seen down', async () => ((await proxy('tokyo-2'))?.up === false ? true : undefined));
  await twoMoreCycles();
  // Every instance still routes on what it observes: tokyo-2 is no longer a choice.
  assert.equal(await nearest('tokyo'), 'tokyo-1');
  assert.equal(await ready(), 200);
  assert.deepEqual(await storedStatuses(stateDir), before, 'no status was written after leadership was lost');
});
