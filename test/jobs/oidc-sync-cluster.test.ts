import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test, type TestContext } from 'node:test';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { KubeConfig } from '@kubernetes/client-node';
import pino from 'pino';
import { parseAllDocuments } from 'yaml';
import { KubernetesStore } from '../../src/adapters/kubernetes/kubernetes-store.js';
import { startObservedState } from '../../src/jobs/observed-state.js';
import { CONNECTOR_CONDITION, CONNECTOR_RECHECK_MS, syncClusterConnector } from '../../src/jobs/oidc-sync.js';
import type { Condition } from '../../src/model/conditions.js';
import type { ProxyFleet } from '../../src/model/fleet.js';
import { oidcRedirectUrls } from '../../src/oidc/core/redirect-urls.js';
import type { Leadership, TermWork } from '../../src/runtime/leadership.js';
import type { Timers } from '../../src/runtime/work-queue.js';
import { startTestCluster } from '../kube/cluster.js';
import { asMergePatch, clientsFor, GROUP, NS, VERSION } from '../kube/client.js';
import { waitFor } from '../helpers/wait.js';
import { connector, TELEPORT, TELEPORT_CRD } from '../oidc/teleport-operator.js';

const realTimers: Timers = { setTimeout, clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout) };
const FLEET = parseAllDocuments(await readFile(new URL('../../examples/fleet/fleet.yaml', import.meta.url), 'utf8'))
  .map((d) => d.toJSON() as ProxyFleet)
  .find((d) => d.kind === 'ProxyFleet') as ProxyFleet;

/** Timers the test fires: the re-check runs when the test says a minute has passed. */
class ManualTimers implements Timers {
  private readonly pending = new Map<number, { fn: () => void; ms: number }>();
  private next = 0;
  setTimeout(fn: () => void, ms: number): unknown {
    this.pending.set(++this.next, { fn, ms });
    return this.next;
  }
  clearTimeout(handle: unknown): void {
    this.pending.delete(handle as number);
  }
  scheduled(): number {
    return this.pending.size;
  }
  /** Runs the timers due after `ms`. */
  advance(ms: number): void {
    for (const [h, t] of [...this.pending]) {
      if (t.ms > ms) continue;
      this.pending.delete(h);
      t.fn();
    }
  }
}

/** Leadership the test hands out, as a Lease would be won. */
class ManualLeadership implements Leadership {
  private readonly works: TermWork[] = [];
  private readonly stops: (() => Promise<void>)[] = [];
  private readonly term = new AbortController();
  constructor(private leading: boolean) {}
  async run(work: TermWork): Promise<() => Promise<void>> {
    this.works.push(work);
    if (this.leading) this.stops.push(await work(this.term.signal));
    return async () => {
      this.term.abort();
      for (const s of this.stops) await s();
    };
  }
  async gain(): Promise<void> {
    this.leading = true;
    for (const w of this.works) this.stops.push(await w(this.term.signal));
  }
}

/** The test API server with the Teleport operator's CRD, a ProxyFleet naming the connector `okta`, the connector, and the sync job's cluster part over a real KubernetesStore. */
async function setup(t: TestContext, { leading = true, connectorName = 'okta' } = {}) {
  const cleanups: (() => Promise<unknown>)[] = [];
  t.after(async () => {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
  });
  const server = await startTestCluster({ extraCrds: [TELEPORT_CRD] });
  cleanups.push(() => server.close());
  const c = clientsFor(server);
  const spec = { ...FLEET.spec, oidcConnector: { name: connectorName } };
  await c.custom.createNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: NS, plural: 'proxyfleets', body: { ...FLEET, metadata: { name: 'edge' }, spec } });
  await c.custom.createNamespacedCustomObject({ ...TELEPORT, namespace: NS, body: connector('okta') });

  const lines: { level: number; msg: string; connector?: string }[] = [];
  const log = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as (typeof lines)[number]) });
  const kc = new KubeConfig();
  kc.loadFromOptions(server.kubeconfig({ namespace: NS }));
  const store = new KubernetesStore({ kubeConfig: kc, namespace: NS, timers: realTimers, log: pino({ level: 'silent' }) });
  await store.start();
  cleanups.push(() => store.close());
  const observed = await startObservedState(store, log);
  cleanups.push(async () => observed.close());
  const timers = new ManualTimers();
  const leadership = new ManualLeadership(leading);
  const close = await syncClusterConnector({ log, leadership, observed, timers, clock: { now: () => Date.now() }, store, cluster: { kubeConfig: kc, namespace: NS } });
  cleanups.push(close);

  const redirectUrls = async (name = 'okta') => ((await server.get(TELEPORT.plural, NS, name)) as ReturnType<typeof connector> | undefined)?.spec.redirect_url;
  const patchFleet = (patch: Record<string, unknown>) => c.custom.patchNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: NS, plural: 'proxyfleets', name: 'edge', body: { spec: patch } }, asMergePatch);
  const patchConnector = (patch: Record<string, unknown>) => c.custom.patchNamespacedCustomObject({ ...TELEPORT, namespace: NS, name: 'okta', body: { spec: patch } }, asMergePatch);
  /** Until the connector's list is the one the fleet with these proxies asks for. */
  const inStep = (proxies = FLEET.spec.proxies, name = 'okta') => {
    const expected = oidcRedirectUrls({ ...FLEET.spec, proxies });
    return waitFor(`${name} in step with the fleet`, async () => (JSON.stringify(await redirectUrls(name)) === JSON.stringify(expected) ? true : undefined));
  };
  /** Until the fleet's OIDCConnectorSynced condition has this status and reason. */
  const fleetCondition = (status: string, reason: string) =>
    waitFor(`${CONNECTOR_CONDITION}=${status} (${reason})`, async () => {
      const c = (((await server.get('proxyfleets', NS, 'edge'))?.['status'] as { conditions?: Condition[] } | undefined)?.conditions ?? []).find((x) => x.type === CONNECTOR_CONDITION);
      return c?.status === status && c.reason === reason ? c : undefined;
    });
  return { server, timers, leadership, observed, lines, redirectUrls, patchFleet, patchConnector, inStep, fleetCondition };
}

/** The fleet with its last proxy moved to a new public address. */
function movedLastProxy(): ProxyFleet['spec']['proxies'] {
  return FLEET.spec.proxies.map((p, i, all) => (i === all.length - 1 ? { ...p, publicUrl: 'https://moved.proxy.example.com' } : p));
}

test('the connector follows the fleet: at start and after a change of the proxies, keeping its other fields', async (t) => {
  const { server, redirectUrls, patchFleet, inStep, fleetCondition } = await setup(t);
  await inStep();
  const synced = await fleetCondition('True', 'Synced');
  assert.equal(synced.message, `${NS}/okta: redirect_url holds the ${oidcRedirectUrls(FLEET.spec).length} proxy callback URL(s)`);
  assert.deepEqual(await redirectUrls(), oidcRedirectUrls(FLEET.spec));
  await patchFleet({ proxies: movedLastProxy() });
  await inStep(movedLastProxy());
  assert.equal((await redirectUrls())?.at(-1), 'https://moved.proxy.example.com/v1/webapi/oidc/callback');
  const { spec, metadata } = (await server.get(TELEPORT.plural, NS, 'okta')) as ReturnType<typeof connector>;
  assert.deepEqual({ ...spec, redirect_url: [] }, { ...connector('okta').spec, redirect_url: [] });
  assert.deepEqual(metadata.labels, { team: 'access' });
});

test("someone else's edit of redirect_url is put back at the next re-check; their other edits stay", async (t) => {
  const { server, timers, lines, redirectUrls, patchConnector, inStep } = await setup(t);
  await inStep();
  await patchConnector({ redirect_url: ['https://stale.example.com/v1/webapi/oidc/callback'], display: 'Okta SSO' });
  timers.advance(CONNECTOR_RECHECK_MS);
  await inStep();
  assert.deepEqual(await redirectUrls(), oidcRedirectUrls(FLEET.spec));
  assert.equal(((await server.get(TELEPORT.plural, NS, 'okta'))?.['spec'] as { display?: string }).display, 'Okta SSO');
  assert.ok(lines.some((l) => l.msg === 'Put TeleportOIDCConnector redirect_url back in step with the fleet' && l.connector === `${NS}/okta`));
  // The re-check goes on: a second drift is put back too.
  await patchConnector({ redirect_url: [] });
  timers.advance(CONNECTOR_RECHECK_MS);
  await inStep();
});

test('a missing connector is a clear error; naming an existing one then syncs it', async (t) => {
  const { lines, redirectUrls, patchFleet, inStep, fleetCondition } = await setup(t, { connectorName: 'absent' });
  const error = await waitFor('the error', async () => lines.find((l) => l.level === 50));
  // Told on the fleet too, where `kubectl describe proxyfleet` shows it.
  const failed = await fleetCondition('False', 'SyncFailed');
  assert.equal(failed.message, `TeleportOIDCConnector ${NS}/absent: not found (create it, or name another connector in spec.oidcConnector)`);
  assert.equal(error.msg, `TeleportOIDCConnector not synced: TeleportOIDCConnector ${NS}/absent: not found (create it, or name another connector in spec.oidcConnector)`);
  assert.equal(error.connector, `${NS}/absent`);
  assert.equal(await redirectUrls('absent'), undefined);
  assert.deepEqual(await redirectUrls(), connector('okta').spec.redirect_url);
  await patchFleet({ oidcConnector: { name: 'okta' } });
  await inStep();
  await fleetCondition('True', 'Synced');
});

test('a replica that does not lead writes nothing; once it leads it syncs', async (t) => {
  const { timers, leadership, observed, redirectUrls, patchFleet, inStep } = await setup(t, { leading: false });
  await patchFleet({ proxies: movedLastProxy() });
  await waitFor('the fleet change observed', async () => (observed.fleet()?.spec.proxies.at(-1)?.publicUrl === 'https://moved.proxy.example.com' ? true : undefined));
  timers.advance(CONNECTOR_RECHECK_MS);
  for (let i = 0; i < 20; i++) await nextTurn();
  assert.deepEqual(await redirectUrls(), connector('okta').spec.redirect_url);
  await leadership.gain();
  await inStep(movedLastProxy());
});

test('with the file store (no cluster) a fleet naming a connector is warned about once, and nothing is scheduled', async () => {
  const lines: { level: number; msg: string }[] = [];
  const log = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as (typeof lines)[number]) });
  const fleet = { ...FLEET, metadata: { name: 'edge', namespace: NS }, spec: { ...FLEET.spec, oidcConnector: { name: 'okta' } } };
  const changes: (() => void)[] = [];
  const timers = new ManualTimers();
  const close = await syncClusterConnector({ log, leadership: new ManualLeadership(true), observed: { fleet: () => fleet, onFleet: (fn) => void changes.push(fn) }, timers, clock: { now: () => Date.now() } });
  for (const change of changes) change();
  await close();
  assert.deepEqual(
    lines.map((l) => [l.level, l.msg]),
    [[40, 'spec.oidcConnector names a TeleportOIDCConnector, but only the kubernetes store reaches one: not synced (use --oidc-connector FILE)']],
  );
  assert.equal(timers.scheduled(), 0);
});
