import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import Fastify from 'fastify';
import { historyLatest, historyRoutes, type HistoryLatest, type HistoryResponse } from '../../src/admin/routes/history.js';
import { createSessionHistory } from '../../src/dashboard/session-history.js';
import type { FleetSnapshot } from '../../src/model/snapshot.js';
import { metrics, observation, snapshot } from '../helpers/snapshot-fixture.js';

/** The page's merge (a browser module, plain JS: loaded by path, typed here). */
const { mergeHistory } = (await import(pathToFileURL(join(process.cwd(), 'src/dashboard/assets/history.js')).href)) as {
  mergeHistory: (history: HistoryResponse, latest: HistoryLatest) => HistoryResponse;
};

const T0 = Date.parse('2026-01-01T00:00:00.000Z');
const withSsh = (n: number) => metrics({ sessions: { ssh: n, kube_exec: 0, kube_portforward: 0, kube_join: 0, db: 0 } });
function cycle(i: number): FleetSnapshot {
  // london-2 only for a while: a series that ends, and is forgotten an hour later.
  const proxies = [observation('tokyo-1', 'tokyo', { metrics: withSsh(i % 7) }), observation('london-1', 'london', { metrics: i % 5 === 0 ? undefined : withSsh(i) })];
  if (i < 40) proxies.push(observation('london-2', 'london', { metrics: withSsh(3) }));
  return { ...snapshot(proxies), observedAt: new Date(T0 + i * 7_000).toISOString() };
}

test('the page, adding each pushed frame\'s newest points to the history it fetched once, holds what the controller would answer', async () => {
  const history = createSessionHistory({ windowMs: 600_000, capacity: 20 });
  const app = Fastify();
  await app.register(historyRoutes, { history: history.view });
  const fetched = async (): Promise<HistoryResponse> => (await app.inject('/history')).json();
  for (let i = 0; i < 10; i++) history.record(cycle(i));
  let page = await fetched();
  // Two hours of 7-second cycles, each frame merged; an observation frame (no new point) now and then.
  for (let i = 10; i < 1_000; i++) {
    history.record(cycle(i));
    const latest = historyLatest(history.view());
    assert.ok(latest);
    page = mergeHistory(page, latest);
    if (i % 3 === 0) page = mergeHistory(page, latest);
    if (i % 97 === 0) assert.deepEqual(page, await fetched(), `after cycle ${i}`);
  }
  assert.deepEqual(page, await fetched());
  assert.deepEqual(page.proxies.map((p) => p.name), ['london-1', 'tokyo-1']);
});
