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

test('GET /api/v1/events over a real socket: hello, then a notice when an action changes a rollout; a client that goes is unsubscribed', async (t) => {
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
  assert.equal(changes.size, 1);

  const pause = await fetch(`${base}/api/v1/rollouts/default/upgrade/pause`, { method: 'POST' });
  assert.equal(pause.status, 200);
  assert.deepEqual(JSON.parse((await events.next('change')).data), { topic: 'rollout', keys: ['default/upgrade'] });

  res.destroy();
  await waitFor('the closed client to be unsubscribed', async () => (changes.size === 0 ? true : undefined));
});

test('closing the app ends open streams rather than waiting for their clients', async () => {
  const { app, changes } = await dashboardApp();
  const base = await app.listen({ host: '127.0.0.1', port: 0 });
  const req = request(`${base}/api/v1/events`);
  req.end();
  const [res] = (await once(req, 'response')) as [IncomingMessage];
  res.resume();
  await waitFor('the stream to be open', async () => (changes.size === 1 ? true : undefined));
  // The server cuts the response short: the client sees it aborted.
  res.on('error', () => undefined);
  const ended = new Promise((resolve) => res.on('close', resolve));
  await app.close();
  await ended;
  assert.equal(changes.size, 0);
});
