import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { KubeConfig } from '@kubernetes/client-node';
import pino from 'pino';
import { parseAllDocuments } from 'yaml';
import { createEventRecorder, kubernetesEventSink, type EventRecorder } from '../../src/adapters/kubernetes/event-recorder.js';
import { KubernetesStore } from '../../src/adapters/kubernetes/kubernetes-store.js';
import { startSpecConditions } from '../../src/jobs/spec-problems.js';
import type { Condition } from '../../src/model/conditions.js';
import type { ProxyFleet } from '../../src/model/fleet.js';
import { startTestCluster, type TestCluster } from '../kube/cluster.js';
import { asMergePatch, clientsFor, GROUP, NS, VERSION } from '../kube/client.js';
import { waitFor } from '../helpers/wait.js';

const realTimers = { setTimeout, clearTimeout: (h: unknown) => clearTimeout(h as NodeJS.Timeout) };
const log = pino({ level: 'silent' });
const fleetDoc = parseAllDocuments(await readFile(new URL('../../examples/fleet/fleet.yaml', import.meta.url), 'utf8'))
  .map((d) => d.toJSON() as { kind?: string; metadata: Record<string, unknown> })
  .find((d) => d.kind === 'ProxyFleet') as unknown as ProxyFleet;
const onMars = (f: ProxyFleet) => f.spec.regions.map((r, i) => (i === 0 ? { ...r, timeZone: 'Mars/Olympus' } : r));

describe('spec problems: a refused object gets a SpecValid condition and a Warning Event, through the API server', () => {
  let server: TestCluster;
  let c: ReturnType<typeof clientsFor>;
  let store: KubernetesStore;
  let events: EventRecorder;
  const term = new AbortController();
  let job: { done: Promise<void> };
  const fleets = { group: GROUP, version: VERSION, namespace: NS, plural: 'proxyfleets' };

  before(async () => {
    server = await startTestCluster();
    c = clientsFor(server);
    await c.custom.createNamespacedCustomObject({ ...fleets, body: { ...fleetDoc, metadata: { name: 'demo' } } });
    const kc = new KubeConfig();
    kc.loadFromOptions(server.kubeconfig({ namespace: NS }));
    store = new KubernetesStore({ kubeConfig: kc, namespace: NS, timers: realTimers, log });
    await store.start();
    events = createEventRecorder({ sink: kubernetesEventSink(kc), identity: 'meridian-0', refOf: (k) => store.refOf(k), now: () => Date.now(), log });
    job = startSpecConditions({ store, recordEvent: events.record, clock: { now: () => Date.now() }, timers: realTimers, log }, term.signal);
  });
  after(async () => {
    term.abort();
    await job.done;
    await events.close();
    await store.close();
    await server.close();
  });

  const specValid = async (name: string): Promise<Condition | undefined> => (((await server.get('proxyfleets', NS, name))?.['status'] as { conditions?: Condition[] } | undefined)?.conditions ?? []).find((x) => x.type === 'SpecValid');
  const warnings = async (name: string) => {
    await events.flush();
    return (await server.list('events', NS)).filter((e) => (e['involvedObject'] as { name: string }).name === name && e['reason'] === 'InvalidSpec');
  };

  it('a valid object gets no condition', async () => {
    await store.updateStatus('ProxyFleet', NS, 'demo', { phase: 'Healthy', observedGeneration: 1 } as never);
    await waitFor('the status', async () => ((await store.get('ProxyFleet', NS, 'demo'))?.status?.phase === 'Healthy' ? true : undefined));
    assert.equal(await specValid('demo'), undefined);
  });

  it('a refused edit: condition False naming the field, at the refused generation, one Warning Event; the last valid spec and the status are kept', async () => {
    const valid = await store.get('ProxyFleet', NS, 'demo');
    await c.custom.patchNamespacedCustomObject({ ...fleets, name: 'demo', body: { spec: { regions: onMars(fleetDoc) } } }, asMergePatch);
    const cond = await waitFor('the condition', async () => {
      const c = await specValid('demo');
      return c?.status === 'False' ? c : undefined;
    });
    assert.deepEqual([cond?.reason, cond?.observedGeneration], ['InvalidSpec', 2]);
    assert.match(cond?.message ?? '', /^spec\.regions\[0\]\.timeZone: .*Mars\/Olympus/);
    assert.equal(((await server.get('proxyfleets', NS, 'demo'))?.['status'] as { phase?: string }).phase, 'Healthy');
    const [event, ...more] = await warnings('demo');
    assert.equal(more.length, 0);
    assert.deepEqual([event?.['type'], event?.['message'], (event?.['involvedObject'] as { uid?: string }).uid], ['Warning', cond?.message, ((await server.get('proxyfleets', NS, 'demo'))?.['metadata'] as { uid: string }).uid]);
    // The last valid spec stays in force, with the status as it is now.
    const held = await store.get('ProxyFleet', NS, 'demo');
    assert.equal(held?.spec.regions[0]?.timeZone, valid?.spec.regions[0]?.timeZone);
    assert.equal(held?.metadata.generation, 1);
    assert.equal(held?.status?.conditions?.find((x) => x.type === 'SpecValid')?.status, 'False');
  });

  it('a status write on a refused object is what readers see next (not the status of the last valid version)', async () => {
    await store.updateStatus('ProxyFleet', NS, 'demo', { ...(await store.get('ProxyFleet', NS, 'demo'))?.status, phase: 'Degraded' } as never);
    assert.equal((await store.get('ProxyFleet', NS, 'demo'))?.status?.phase, 'Degraded');
    assert.equal((await specValid('demo'))?.status, 'False');
  });

  it('fixed: the condition goes back to True at the new generation, and no other Warning is recorded', async () => {
    await c.custom.patchNamespacedCustomObject({ ...fleets, name: 'demo', body: { spec: { regions: fleetDoc.spec.regions } } }, asMergePatch);
    const cond = await waitFor('the condition', async () => {
      const c = await specValid('demo');
      return c?.status === 'True' ? c : undefined;
    });
    assert.deepEqual([cond?.reason, cond?.observedGeneration], ['Valid', 3]);
    assert.equal((await store.get('ProxyFleet', NS, 'demo'))?.metadata.generation, 3);
    assert.equal((await warnings('demo')).length, 1);
  });

  it('an object that was never valid is told too (readers still do not see it)', async () => {
    await c.custom.createNamespacedCustomObject({ ...fleets, body: { ...fleetDoc, metadata: { name: 'never' }, spec: { ...fleetDoc.spec, regions: onMars(fleetDoc) } } });
    const cond = await waitFor('the condition', async () => specValid('never'));
    assert.deepEqual([cond?.status, cond?.reason, cond?.observedGeneration], ['False', 'InvalidSpec', 1]);
    assert.equal(await store.get('ProxyFleet', NS, 'never'), undefined);
    assert.equal((await warnings('never')).length, 1);
  });
});
