import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request, type IncomingMessage } from 'node:http';
import { once } from 'node:events';
import { waitFor } from '../helpers/wait.js';
import { dashboardApp } from './dashboard-fixture.js';

/** Reads a Server-Sent Events response event by event (comments skipped). */
function eventReader(res: IncomingMessage) {
  let buffer = '';
  const events: { event: string; data: string }[] = [];
  res.setEncoding('utf8');
  res.on('data', (chunk: string) => {
    buffer += chunk;
    let end: number;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const fields = Object.fromEntries(block.split('\n').filter((l) => !l.startsWith(':')).map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 2)]));
      if (fields['event']) events.push({ event: fields['event'], data: fields['data'] ?? '' });
    }
  });
  return { next: (event: string) => waitFor(`a ${event} event`, async () => events.find((e, i) => e.event === event && events.splice(i, 1))) };
}

test('GET /api/v1/events over a real socket: hello, the fleet, rollouts, canaries and peerings pushed as the API answers them, again when they change; a client may go', async (t) => {
  const { app, changes } = await dashboardApp();
  t.after(() => app.close());
  const base = await app.listen({ host: '127.0.0.1', port: 0 });
  const req = request(`${base}/api/v1/events`, { headers: { accept: 'text/event-stream' } });
  req.end();
  const [res] = (await once(req, 'response')) as [IncomingMessage];
  assert.equal(res.statusCode, 200);
  assert.match(String(res.headers['content-type']), /^text\/event-stream/);
  assert.equal(res.headers['cache-control'], 'no-store');
  const events = eventReader(res);
  assert.deepEqual(JSON.parse((await events.next('hello')).data), { heartbeatMs: 15_000 });
  // What the page would otherwise fetch: the same answers as the API's.
  const frame = JSON.parse((await events.next('fleet')).data) as Record<string, unknown>;
  assert.deepEqual(frame['fleets'], ((await (await fetch(`${base}/api/v1/fleet`)).json()) as { fleets: unknown }).fleets);
  assert.deepEqual(frame['routing'], await (await fetch(`${base}/api/v1/routing`)).json());
  assert.match(String((frame['clock'] as { now: string }).now), /^\d{4}-\d\d-\d\dT/);

  // The rollouts, canaries and peerings are pushed too, as GET /api/v1/rollouts, /canaries and /peerings answer them.
  assert.deepEqual(JSON.parse((await events.next('rollout')).data), await (await fetch(`${base}/api/v1/rollouts`)).json());
  assert.deepEqual(JSON.parse((await events.next('canary')).data), await (await fetch(`${base}/api/v1/canaries`)).json());
  assert.deepEqual(JSON.parse((await events.next('peering')).data), await (await fetch(`${base}/api/v1/peerings`)).json());

  const pause = await fetch(`${base}/api/v1/rollouts/default/upgrade/pause`, { method: 'POST' });
  assert.equal(pause.status, 200);
  const rollouts = JSON.parse((await events.next('rollout')).data) as { rollouts: { name: string; paused: boolean }[] };
  assert.deepEqual(rollouts.rollouts.map((r) => [r.name, r.paused]), [['upgrade', true]]);
  // A run's change may move proxies in or out of rotation: the fleet frame comes again.
  await events.next('fleet');

  // A new snapshot: the clock in it has moved on.
  changes.publish({ topic: 'fleet' });
  await events.next('fleet');
  res.destroy();
});

test('closing the app ends open streams rather than waiting for their clients', async () => {
  const { app, changes } = await dashboardApp();
  const base = await app.listen({ host: '127.0.0.1', port: 0 });
  const req = request(`${base}/api/v1/events`);
  req.end();
  const [res] = (await once(req, 'response')) as [IncomingMessage];
  await eventReader(res).next('hello');
  // The server cuts the response short: the client sees it aborted.
  res.on('error', () => undefined);
  const ended = new Promise((resolve) => res.on('close', resolve));
  await app.close();
  await ended;
  assert.equal(changes.size, 0, 'the route no longer listens for changes');
});
