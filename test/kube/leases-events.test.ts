import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { V1MicroTime, type V1Lease } from '@kubernetes/client-node';
import { startApiServer, type ApiServer } from './api-server.js';
import { parseMicroTime } from './builtin-types.js';
import { clientsFor, NS, rejection } from './client.js';

// client-node types MicroTime fields as V1MicroTime and sends whatever is there: a string goes as is.
const micro = (s: string): V1MicroTime => s as unknown as V1MicroTime;

describe('test API server: Leases and Events through client-node', () => {
  let server: ApiServer;
  let c: ReturnType<typeof clientsFor>;
  before(async () => {
    server = await startApiServer();
    c = clientsFor(server);
  });
  after(() => server.close());

  const lease = (name: string, spec: V1Lease['spec']): V1Lease => ({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name }, spec });

  it('takes MicroTime with six fraction digits (client-node V1MicroTime, or any offset) and returns it in UTC', async () => {
    const made = await c.coordination.createNamespacedLease({
      namespace: NS,
      body: lease('leader-a', { holderIdentity: 'pod-1-x1', leaseDurationSeconds: 15, acquireTime: new V1MicroTime('2026-12-06T10:00:00.123Z'), renewTime: micro('2026-12-06T12:00:01.123456+02:00'), leaseTransitions: 0 }),
    });
    assert.equal(made.spec?.acquireTime as unknown, '2026-12-06T10:00:00.123000Z');
    assert.equal(made.spec?.renewTime as unknown, '2026-12-06T10:00:01.123456Z');
    assert.equal(made.metadata?.generation, undefined);
    assert.equal((server.get('leases', NS, 'leader-a')?.spec as Record<string, unknown>).renewTime, '2026-12-06T10:00:01.123456Z');
  });

  it('rejects other time forms as the API server does: a decode error, 400 BadRequest', async () => {
    for (const bad of ['2026-12-06T10:00:00.123Z', '2026-12-06T10:00:00Z', '2026-12-06T10:00:00.123456789Z', '2026-12-06 10:00:00.123456Z', '2026-13-06T10:00:00.123456Z']) {
      const status = await rejection(c.coordination.createNamespacedLease({ namespace: NS, body: lease('bad-time', { renewTime: micro(bad) }) }));
      assert.deepEqual([status.code, status.reason], [400, 'BadRequest'], bad);
      assert.match(status.message ?? '', /^Lease in version "v1" cannot be handled as a Lease: parsing time/);
    }
    // A plain Date serialises with three digits: the mistake this guards against.
    const plainDate = await rejection(c.coordination.createNamespacedLease({ namespace: NS, body: lease('bad-time', { renewTime: new Date() }) }));
    assert.equal(plainDate.code, 400);
    assert.equal(server.get('leases', NS, 'bad-time'), undefined);
  });

  it('updates a Lease only with its current resourceVersion, and keeps what the writer sent', async () => {
    const made = await c.coordination.createNamespacedLease({ namespace: NS, body: lease('leader-b', { holderIdentity: 'a', leaseDurationSeconds: 15, leaseTransitions: 0 }) });
    const taken = await c.coordination.replaceNamespacedLease({
      name: 'leader-b',
      namespace: NS,
      body: { ...made, spec: { ...made.spec, holderIdentity: 'b', leaseTransitions: 1, renewTime: micro('2026-12-06T10:00:02.000001Z') } },
    });
    assert.deepEqual([taken.spec?.holderIdentity, taken.spec?.leaseTransitions], ['b', 1]);
    const stale = await rejection(c.coordination.replaceNamespacedLease({ name: 'leader-b', namespace: NS, body: { ...made, spec: { ...made.spec, holderIdentity: 'c' } } }));
    assert.deepEqual([stale.code, stale.reason], [409, 'Conflict']);
    const unconditional = await rejection(c.coordination.replaceNamespacedLease({ name: 'leader-b', namespace: NS, body: { ...taken, metadata: { name: 'leader-b' } } }));
    assert.equal(unconditional.code, 422);
    const invalid = await rejection(c.coordination.replaceNamespacedLease({ name: 'leader-b', namespace: NS, body: { ...taken, spec: { ...taken.spec, leaseDurationSeconds: 0 } } }));
    assert.deepEqual([invalid.code, invalid.details?.causes?.[0]?.field], [422, 'spec.leaseDurationSeconds']);
    assert.equal((server.get('leases', NS, 'leader-b')?.spec as Record<string, unknown>).holderIdentity, 'b');
  });

  it('creates a Lease with PUT when none exists, and deletes with a Success Status', async () => {
    await c.coordination.replaceNamespacedLease({ name: 'leader-c', namespace: NS, body: lease('leader-c', { holderIdentity: 'a' }) });
    assert.equal((server.get('leases', NS, 'leader-c')?.spec as Record<string, unknown>).holderIdentity, 'a');
    const status = (await c.coordination.deleteNamespacedLease({ name: 'leader-c', namespace: NS })) as { status?: string };
    assert.equal(status.status, 'Success');
    assert.equal(server.get('leases', NS, 'leader-c'), undefined);
  });

  it('stores Events, checks their involvedObject namespace, and lists them by involvedObject', async () => {
    const event = (name: string, involvedNamespace: string) => ({
      metadata: { name },
      involvedObject: { apiVersion: 'meridian.dev/v1alpha1', kind: 'ProxyRollout', name: 'r1', namespace: involvedNamespace },
      reason: 'ProxyTakenOut',
      message: 'Took proxy p1 out of rotation',
      type: 'Normal',
      firstTimestamp: new Date('2026-12-06T10:00:00.500Z'),
      lastTimestamp: new Date('2026-12-06T10:00:00.500Z'),
      count: 1,
      source: { component: 'meridian' },
    });
    await c.core.createNamespacedEvent({ namespace: NS, body: event('r1.1', NS) });
    const wrong = await rejection(c.core.createNamespacedEvent({ namespace: NS, body: event('r1.2', 'elsewhere') }));
    assert.deepEqual([wrong.code, wrong.details?.causes?.[0]?.field], [422, 'involvedObject.namespace']);
    const listed = await c.core.listNamespacedEvent({ namespace: NS, fieldSelector: 'involvedObject.kind=ProxyRollout,involvedObject.name=r1' });
    assert.deepEqual(listed.items.map((e) => [e.metadata?.name, e.reason]), [['r1.1', 'ProxyTakenOut']]);
    assert.equal(server.get('events', NS, 'r1.1')?.lastTimestamp, '2026-12-06T10:00:00Z');
  });

  it('parses MicroTime strictly (unit)', () => {
    assert.equal(parseMicroTime('2026-12-06T10:00:00.123456Z'), '2026-12-06T10:00:00.123456Z');
    assert.equal(parseMicroTime('2026-12-06T00:30:00.000001+01:00'), '2026-12-05T23:30:00.000001Z');
    for (const bad of ['2026-12-06T10:00:00.12345Z', '2026-02-30T10:00:00.123456Z', '2026-12-06T24:00:00.123456Z', '2026-12-06T10:00:00.123456z', '2026-12-06T10:00:00.123456+0100']) {
      assert.equal(parseMicroTime(bad), undefined, bad);
    }
  });
});
