import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { registerFleetMetrics } from '../../src/fleet/fleet-metrics.js';
import type { FleetSnapshot } from '../../src/model/snapshot.js';
import { metrics, observation, snapshot } from '../helpers/snapshot-fixture.js';

const DB = 'teleport_proxy_db_active_connections_total';

/** tokyo-1 known; tokyo-2 ready but its page unreadable (load unknown); london-1 read, with a NaN db sample. */
function oddFleet(): FleetSnapshot {
  return snapshot([
    observation('tokyo-1', 'tokyo'),
    observation('tokyo-2', 'tokyo', {
      up: false,
      ready: true,
      readyzStatus: 200,
      error: { reason: 'content_type', message: 'http://tokyo-2:3000/metrics: Content-Type "text/html"', at: '2026-01-01T00:00:00.000Z' },
    }),
    observation('london-1', 'london', {
      metrics: metrics({
        sessions: { ssh: 7, kube_exec: 0, kube_portforward: 0, kube_join: 0, db: 0 },
        skippedSamples: [{ metric: DB, labels: {}, value: 'NaN', why: 'expected a whole number >= 0' }],
        sessionKindsSkipped: ['db'],
      }),
    }),
  ]);
}

const series = (text: string, name: string): string[] => text.split('\n').filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `));

describe('fleet metrics: unknown load is not exported as 0', () => {
  it('omits the session series of a proxy whose page was not read, and of a sample that was skipped', async () => {
    const registry = new Registry();
    const snap = oddFleet();
    registerFleetMetrics(registry, () => [snap]);
    const text = await registry.metrics();
    const sessions = series(text, 'meridian_proxy_sessions');
    assert.equal(sessions.filter((l) => l.includes('proxy="tokyo-2"')).length, 0, 'unknown load: no series at all');
    assert.equal(sessions.filter((l) => l.includes('proxy="tokyo-1"')).length, 5);
    assert.ok(sessions.includes('meridian_proxy_sessions{proxy="london-1",region="london",kind="ssh"} 7'), 'the SSH sessions of a page with a NaN db sample are kept');
    assert.equal(sessions.filter((l) => l.includes('proxy="london-1"') && l.includes('kind="db"')).length, 0, 'the NaN sample is not exported as 0');
    // A region with a ready proxy of unknown load has no total: a part of it would read as a fall.
    assert.deepEqual(series(text, 'meridian_region_sessions'), []);
    assert.deepEqual(series(text, 'meridian_proxy_load_known').sort(), [
      'meridian_proxy_load_known{proxy="london-1",region="london"} 0',
      'meridian_proxy_load_known{proxy="tokyo-1",region="tokyo"} 1',
      'meridian_proxy_load_known{proxy="tokyo-2",region="tokyo"} 0',
    ]);
  });

  it('a region whose proxies all have a known load exports its total', async () => {
    const registry = new Registry();
    const snap = snapshot([observation('tokyo-1', 'tokyo'), observation('tokyo-2', 'tokyo', { up: false, ready: false, sessionsTotal: 0 })]);
    registerFleetMetrics(registry, () => [snap]);
    assert.deepEqual(series(await registry.metrics(), 'meridian_region_sessions'), ['meridian_region_sessions{region="tokyo"} 16']);
  });

  it('counts skipped samples per region and metric, from 0 for the session gauges', async () => {
    const registry = new Registry();
    const snap = oddFleet();
    const m = registerFleetMetrics(registry, () => [snap]);
    m.recordCycle(snap, 0.1);
    m.recordCycle(snap, 0.1);
    const skipped = series(await registry.metrics(), 'meridian_scrape_samples_skipped_total');
    assert.ok(skipped.includes(`meridian_scrape_samples_skipped_total{region="london",metric="${DB}"} 2`), skipped.join('\n'));
    assert.ok(skipped.includes('meridian_scrape_samples_skipped_total{region="tokyo",metric="proxy_ssh_sessions_total"} 0'));
    assert.ok(skipped.includes(`meridian_scrape_samples_skipped_total{region="tokyo",metric="${DB}"} 0`));
  });
});
