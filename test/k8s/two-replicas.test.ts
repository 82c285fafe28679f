import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import { parse } from 'yaml';
import { buildConfig } from '../../src/config.js';
import { compressedTimers, startMeridian, type MeridianHandle } from '../../src/main.js';
import type { ProxyFleet } from '../../src/model/fleet.js';
import type { ProxyRolloutStatus } from '../../src/model/rollout.js';
import { simOptionsFromFleet, startFleetSim, type FleetSim } from '../../src/sim/index.js';
import { startApiServer, type ApiServer } from '../kube/api-server.js';
import { asMergePatch, clientsFor, GROUP, NS, VERSION } from '../kube/client.js';
import { copyDemoFleet } from '../helpers/demo-fleet-copy.js';
import { waitFor } from '../helpers/wait.js';
import { chartAuthorizer } from './chart-rbac.js';
import { startForwarder, type Forwarder } from './forwarder.js';

/** Simulated ms per real ms: ten simulated minutes a real second. */
const TIME_FACTOR = 600;
const ROLLOUT = 'follow-the-sun';
const TARGET = '17.4.8';
const IDS = ['meridian-a', 'meridian-b'] as const;
const INJECTED = 'written by another writer between the controller’s read and its write';

interface Replica {
  readonly id: string;
  readonly handle: MeridianHandle;
}

/**
 * Kubernetes mode end to end: the demo fleet's ProxyFleet and its follow-the-sun ProxyRollout
 * (made to run now) in the test API server, the bundled simulator playing the proxies, and two
 * controller replicas with the kubernetes store electing a leader on a Lease.
 */
describe('two replicas on the API server', { timeout: 120_000 }, () => {
  const cleanups: (() => Promise<unknown>)[] = [];
  const cutOff = new Set<string>();
  /** Restarts the simulator made, by proxy: an upgrade is a restart as the new version. */
  const restarts = new Map<string, number>();
  /** Rollout status writes the API server refused as stale (409). */
  let conflicts = 0;
  let injected = false;
  const stuck: string[] = [];
  let server: ApiServer;
  let sim: FleetSim;
  let replicas: Replica[] = [];

  before(async () => {
    const dir = await mkdtemp(join(tmpdir(), 'meridian-k8s-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    // The demo fleet on ports free now; the simulator serves its proxies, its Auth and its upgrade hook.
    await copyDemoFleet(join(dir, 'fleet'));
    const fleet = parse(await readFile(join(dir, 'fleet', 'fleet.yaml'), 'utf8')) as ProxyFleet;
    const upgrade = fleet.spec.proxies[0]?.upgrade;
    const control = new URL(upgrade?.method === 'webhook' && upgrade.url ? upgrade.url : 'http://127.0.0.1:0');
    // The simulator's log says each time a proxy is restarted (an upgrade restarts it as the new version).
    const simLog = pino({ level: 'info' }, {
      write: (line: string) => {
        const e = JSON.parse(line) as { msg?: string; proxy?: string };
        if (e.msg === 'Proxy restarted' && e.proxy) restarts.set(e.proxy, (restarts.get(e.proxy) ?? 0) + 1);
      },
    });
    sim = await startFleetSim(
      simOptionsFromFleet(fleet.spec, { timeFactor: TIME_FACTOR, tickMs: 50, seed: 5, controlHost: '127.0.0.1', controlPort: Number(control.port), startAt: Date.UTC(2026, 0, 6, 12), sessionsPerProxy: 20, log: simLog }),
    );
    cleanups.push(() => sim.close());

    // A replica cut off from the API server: every request with its token is refused.
    const allowedByChart = chartAuthorizer({ leaseName: 'meridian-leader' });
    server = await startApiServer({
      // The replicas have exactly what the chart's RBAC grants (the test's own client, any other token, all).
      authorize: (info, token) => !cutOff.has(token ?? '') && (!token?.startsWith('token-') || allowedByChart(info)),
      onRequest: (info, status) => {
        if (info.method === 'PUT' && info.resource === 'proxyrollouts' && info.subresource === 'status' && status === 409) conflicts++;
      },
    });
    cleanups.push(() => server.close());
    const { custom } = clientsFor(server);
    // Before the first rollout status write goes through, another writer changes the status: the write is stale.
    const forwarder: Forwarder = await startForwarder(server.url, async (req) => {
      if (injected || req.method !== 'PUT' || !req.url?.includes(`/proxyrollouts/${ROLLOUT}/status`)) return;
      injected = true;
      await custom.patchNamespacedCustomObjectStatus({ group: GROUP, version: VERSION, namespace: NS, plural: 'proxyrollouts', name: ROLLOUT, body: { status: { message: INJECTED } } }, asMergePatch);
    });
    cleanups.push(() => forwarder.close());

    await custom.createNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: NS, plural: 'proxyfleets', body: { ...fleet, metadata: { name: fleet.metadata.name } } });
    // examples/rollouts/follow-the-sun.yaml, started, in windows open all week, with short notices and drains.
    const rollout = parse(await readFile('examples/rollouts/follow-the-sun.yaml', 'utf8')) as { spec: Record<string, unknown> };
    const always = [{ days: ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'], start: '00:00', duration: '24h' }];
    const spec = {
      ...rollout.spec,
      paused: false,
      maintenanceWindows: Object.fromEntries(fleet.spec.regions.map((r) => [r.name, always])),
      notice: { leadTimes: ['10m'] },
      drain: { deadline: '10m', meanSessionDuration: '5m' },
      verify: { consecutiveScrapes: 2, timeout: '30m' },
    };
    await custom.createNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: NS, plural: 'proxyrollouts', body: { apiVersion: `${GROUP}/${VERSION}`, kind: 'ProxyRollout', metadata: { name: ROLLOUT }, spec } });

    for (const id of IDS) {
      const kubeconfig = join(dir, `${id}.kubeconfig`);
      await writeFile(kubeconfig, server.kubeconfigYaml({ token: `token-${id}` }).replace(server.url, forwarder.url));
      const config = buildConfig([
        {
          source: 'test',
          values: {
            store: 'kubernetes',
            kubeconfig,
            namespace: NS,
            identity: id,
            leaseDuration: '3s',
            renewDeadline: '2s',
            retryPeriod: '300ms',
            stateDir: join(dir, id),
            admin: '127.0.0.1:0',
            public: '127.0.0.1:0',
            observeInterval: '150ms',
            observeTimeout: '120ms',
          },
        },
      ]);
      assert.ok(config.ok, config.ok ? '' : config.error.join('; '));
      const handle = await startMeridian(config.value, pino({ level: 'silent' }), { runtime: { clock: sim.clock, timers: compressedTimers(TIME_FACTOR) }, exit: () => stuck.push(id) });
      cleanups.push(() => handle.close());
      replicas.push({ id, handle });
    }
  });

  after(async () => {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
  });

  const holder = (): string | undefined => (server.get('leases', NS, 'meridian-leader')?.['spec'] as { holderIdentity?: string } | undefined)?.holderIdentity || undefined;
  const leading = async (r: Replica): Promise<number | undefined> => {
    const text = await (await fetch(new URL('/metrics', r.handle.adminUrl))).text();
    const m = new RegExp(`^meridian_leader\\{identity="${r.id}"\\} (\\d)$`, 'm').exec(text);
    return m ? Number(m[1]) : undefined;
  };
  const rolloutStatus = (): ProxyRolloutStatus => (server.get('proxyrollouts', NS, ROLLOUT)?.['status'] ?? {}) as ProxyRolloutStatus;

  it('elects one leader; both replicas answer the login URL and are ready', async () => {
    const leader = await waitFor('a leader', async () => {
      const h = holder();
      if (!h) return undefined;
      const flags = await Promise.all(replicas.map(leading));
      return flags.filter((f) => f === 1).length === 1 && flags[IDS.indexOf(h as (typeof IDS)[number])] === 1 ? h : undefined;
    }, 20_000);
    assert.ok(IDS.includes(leader as (typeof IDS)[number]));
    assert.deepEqual((await Promise.all(replicas.map(leading))).sort(), [0, 1]);
    for (const r of replicas) {
      assert.equal((await fetch(new URL('/readyz', r.handle.adminUrl))).status, 200, `${r.id} is ready, leader or not`);
      const nearest = await waitFor(`${r.id} to route`, async () => {
        const res = await fetch(new URL('/nearest?region=tokyo', r.handle.loginUrl));
        return res.status === 200 ? ((await res.json()) as { proxy?: string }) : undefined;
      });
      assert.match(nearest.proxy ?? '', /^tokyo-\d$/, `${r.id} answers the login URL`);
    }
  });

  it('the leader is cut off mid-rollout: the other takes over and the rollout completes, no proxy upgraded twice, none left out of rotation', async () => {
    await waitFor('the rollout under way', async () => {
      const s = rolloutStatus();
      return (s.proxies ?? []).filter((p) => p.step === 'Done').length >= 2 && s.phase !== 'Completed' ? true : undefined;
    }, 60_000);
    const first = holder();
    assert.ok(first);
    cutOff.add(`token-${first}`);
    const next = await waitFor('another leader', async () => {
      const h = holder();
      return h && h !== first ? h : undefined;
    }, 20_000);
    const cut = replicas.find((r) => r.id === first);
    assert.ok(cut);
    assert.equal(await leading(cut), 0, 'the cut-off replica no longer acts');

    const done = await waitFor('the rollout to finish', async () => {
      const s = rolloutStatus();
      return s.phase === 'Completed' || s.phase === 'Failed' ? s : undefined;
    }, 60_000, 100);
    assert.equal(done.phase, 'Completed', done.message);
    assert.equal(holder(), next);
    assert.ok(((server.get('leases', NS, 'meridian-leader')?.['spec'] as { leaseTransitions?: number }).leaseTransitions ?? 0) >= 1);
    const proxies = (await (await fetch(`${sim.controlUrl}/proxies`)).json()) as { name: string; version: string; inRotation: boolean }[];
    assert.equal(proxies.length, 14);
    for (const p of proxies) assert.deepEqual([p.name, p.version, p.inRotation], [p.name, TARGET, true]);
    assert.deepEqual(
      [...restarts.entries()].filter(([, n]) => n !== 1),
      [],
      'every proxy restarted exactly once',
    );
    assert.equal(restarts.size, 14);
    assert.deepEqual(stuck, [], 'every term stopped in time');
  });

  it('a stale status write was refused and done again from fresh state', () => {
    assert.ok(injected && conflicts >= 1, `another writer got in (${String(injected)}) and the controller's write was refused (${conflicts})`);
    const s = rolloutStatus();
    assert.notEqual(s.message, INJECTED, 'the controller wrote over the other write, having read it');
    assert.equal(s.phase, 'Completed');
  });
});
