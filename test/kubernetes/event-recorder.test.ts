import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { KubeConfig } from '@kubernetes/client-node';
import pino from 'pino';
import { createEventRecorder, kubernetesEventSink, type EventRecorder, type EventRecorderDeps, type EventSink } from '../../src/adapters/kubernetes/event-recorder.js';
import type { ResourceKey } from '../../src/model/resource.js';
import { startTestCluster, type TestCluster } from '../kube/cluster.js';
import { clientsFor, NS } from '../kube/client.js';

const T0 = Date.parse('2026-12-06T10:00:00.000Z');
const log = pino({ level: 'silent' });

describe('Event recorder: core/v1 Events through client-node against the test API server', () => {
  let server: TestCluster;
  let c: ReturnType<typeof clientsFor>;
  let sink: EventSink;
  let now: number;
  let recorder: EventRecorder;
  const rollout = (name: string): ResourceKey => ({ kind: 'ProxyRollout', namespace: NS, name });

  before(async () => {
    server = await startTestCluster();
    c = clientsFor(server);
    const kc = new KubeConfig();
    kc.loadFromOptions(server.kubeconfig({ namespace: NS }));
    sink = kubernetesEventSink(kc);
  });
  after(() => server.close());
  beforeEach(async () => {
    await recorder?.close();
    now = T0;
  });

  const make = (overrides: Partial<EventRecorderDeps> = {}): EventRecorder =>
    (recorder = createEventRecorder({ sink, identity: 'meridian-0-ab12', refOf: (k) => ({ uid: `uid-${k.name}`, resourceVersion: '42' }), now: () => now, log, ...overrides }));
  const eventsOf = async (name: string) => (await server.list('events', NS)).filter((e) => (e['involvedObject'] as { name?: string }).name === name) as Record<string, unknown>[];

  it('creates an Event named <object>.<suffix> naming the object, the reason, the type and Meridian as its source', async () => {
    const r = make();
    r.record(rollout('r1'), { type: 'Normal', reason: 'ProxyOutOfRotation', message: 'Took p1 out of rotation' });
    await r.flush();
    const [e, ...more] = await eventsOf('r1');
    assert.equal(more.length, 0);
    assert.match(String((e?.['metadata'] as { name: string }).name), /^r1\.[0-9a-f]+$/);
    assert.deepEqual(e?.['involvedObject'], { apiVersion: 'meridian.dev/v1alpha1', kind: 'ProxyRollout', namespace: NS, name: 'r1', uid: 'uid-r1', resourceVersion: '42' });
    assert.deepEqual([e?.['type'], e?.['reason'], e?.['message'], e?.['count']], ['Normal', 'ProxyOutOfRotation', 'Took p1 out of rotation', 1]);
    assert.deepEqual(e?.['source'], { component: 'meridian' });
    assert.deepEqual([e?.['reportingComponent'], e?.['reportingInstance']], ['meridian', 'meridian-0-ab12']);
    assert.deepEqual([e?.['firstTimestamp'], e?.['lastTimestamp']], ['2026-12-06T10:00:00Z', '2026-12-06T10:00:00Z']);
  });

  it('leaves out what the store does not know of the object', async () => {
    const r = make({ refOf: () => undefined });
    r.record(rollout('unknown'), { type: 'Warning', reason: 'InvalidSpec', message: 'bad' });
    await r.flush();
    assert.deepEqual((await eventsOf('unknown'))[0]?.['involvedObject'], { apiVersion: 'meridian.dev/v1alpha1', kind: 'ProxyRollout', namespace: NS, name: 'unknown' });
  });

  it('patches count and lastTimestamp of an identical event within 10 minutes; later, or different, is a new Event', async () => {
    const r = make();
    const same = { type: 'Warning', reason: 'ProxyUpgradeFailed', message: 'p1 failed verify' } as const;
    r.record(rollout('r2'), same);
    now = T0 + 60_000;
    r.record(rollout('r2'), same);
    now = T0 + 120_000;
    r.record(rollout('r2'), same);
    r.record(rollout('r2'), { ...same, message: 'p2 failed verify' });
    await r.flush();
    const byMessage = async (m: string) => (await eventsOf('r2')).filter((e) => e['message'] === m);
    assert.deepEqual(
      (await byMessage('p1 failed verify')).map((e) => [e['count'], e['firstTimestamp'], e['lastTimestamp']]),
      [[3, '2026-12-06T10:00:00Z', '2026-12-06T10:02:00Z']],
    );
    assert.equal((await byMessage('p2 failed verify')).length, 1);
    now = T0 + 120_000 + 10 * 60_000 + 1;
    r.record(rollout('r2'), same);
    await r.flush();
    assert.deepEqual((await byMessage('p1 failed verify')).map((e) => e['count']).sort(), [1, 3]);
  });

  it('makes the Event again when the one to patch is gone (expired)', async () => {
    const r = make();
    const same = { type: 'Normal', reason: 'NoticeGiven', message: 'Maintenance at 02:00' } as const;
    r.record(rollout('r3'), same);
    await r.flush();
    const first = String(((await eventsOf('r3'))[0]?.['metadata'] as { name: string }).name);
    await c.core.deleteNamespacedEvent({ namespace: NS, name: first });
    now += 1000;
    r.record(rollout('r3'), same);
    await r.flush();
    assert.deepEqual((await eventsOf('r3')).map((e) => e['count']), [1]);
  });

  it('limits a flood per object and type (25, then one per 5 minutes); other objects are not held back', async () => {
    const r = make();
    for (let i = 0; i < 200; i++) r.record(rollout('loop'), { type: 'Normal', reason: 'Looping', message: `pass ${i}` });
    r.record(rollout('loop'), { type: 'Warning', reason: 'Looping', message: 'a warning' });
    r.record(rollout('quiet'), { type: 'Normal', reason: 'Looping', message: 'once' });
    await r.flush();
    const normal = (await eventsOf('loop')).filter((e) => e['type'] === 'Normal');
    assert.equal(normal.length, 25);
    assert.equal((await eventsOf('loop')).filter((e) => e['type'] === 'Warning').length, 1);
    assert.equal((await eventsOf('quiet')).length, 1);
    now += 5 * 60_000;
    for (let i = 200; i < 210; i++) r.record(rollout('loop'), { type: 'Normal', reason: 'Looping', message: `pass ${i}` });
    await r.flush();
    assert.equal((await eventsOf('loop')).filter((e) => e['type'] === 'Normal').length, 26);
  });

  it('never throws into the caller: API errors and a throwing store are logged and dropped, and the next Event goes through', async () => {
    const r = make();
    server.faults.failNext(1, 500);
    assert.doesNotThrow(() => r.record(rollout('r4'), { type: 'Normal', reason: 'First', message: 'lost' }));
    await r.flush();
    assert.equal((await eventsOf('r4')).length, 0);
    const broken = make({
      refOf: () => {
        throw new Error('store gone');
      },
    });
    assert.doesNotThrow(() => broken.record(rollout('r4'), { type: 'Normal', reason: 'Second', message: 'lost too' }));
    await broken.flush();
    const fine = make();
    fine.record(rollout('r4'), { type: 'Normal', reason: 'Third', message: 'kept' });
    await fine.flush();
    assert.deepEqual((await eventsOf('r4')).map((e) => e['reason']), ['Third']);
  });

  it('does not wait on the API server: a bounded queue, the rest dropped', async () => {
    let release = (): void => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    const made: string[] = [];
    const slow: EventSink = {
      async create(_ns, e) {
        await held;
        made.push(e.message ?? '');
      },
      patch: () => Promise.resolve(),
    };
    const r = make({ sink: slow, limits: { queue: 3 } });
    for (let i = 0; i < 10; i++) r.record(rollout(`q${i}`), { type: 'Normal', reason: 'Queued', message: `e${i}` });
    release();
    await r.flush();
    // The first is in flight when the others arrive: it and three queued ones are sent.
    assert.deepEqual(made, ['e0', 'e1', 'e2', 'e3']);
  });
});
