import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pino from 'pino';
import { Registry } from 'prom-client';
import { buildAdminApp } from '../../src/admin/admin-app.js';
import { fleetView } from '../../src/admin/fleet-view.js';
import { renderStatus } from '../../src/cli/status-table.js';
import { computeFleetStatus } from '../../src/fleet/core/fleet-status.js';
import type { ProxyObservation } from '../../src/model/snapshot.js';
import { fleet } from '../helpers/fleet-fixture.js';
import { metrics, observation, snapshot } from '../helpers/snapshot-fixture.js';
import { NO_ROLLOUTS } from '../helpers/admin-deps.js';

const AT = '2026-01-01T00:00:00.000Z';
/** /readyz 200, but /metrics answered a load balancer's HTML page (never read). */
const unreadable: Partial<ProxyObservation> = {
  up: false,
  ready: true,
  readyzStatus: 200,
  metrics: undefined,
  sessionsTotal: 0,
  error: { reason: 'content_type', message: 'http://127.0.0.1:1/metrics: Content-Type "text/html", expected text/plain or application/openmetrics-text', at: AT },
};

const snap = snapshot([observation('tokyo-1', 'tokyo', unreadable), observation('tokyo-2', 'tokyo'), observation('london-1', 'london')]);

describe('fleet status and API: unknown load is shown as unknown, not 0', () => {
  it('the API view has no session counts for a ready proxy whose page was not read, and leaves it out of the region total', () => {
    const v = fleetView(fleet(), snap);
    const tokyo = v.regions[0];
    assert.equal(tokyo?.proxies[0]?.sessions, null);
    assert.deepEqual(tokyo?.proxies[1]?.sessions, metrics().sessions);
    assert.equal(tokyo?.sessions, 16);
  });

  it('stale counts of a ready proxy whose page stopped being readable are not shown either', () => {
    const stale = snapshot([observation('tokyo-1', 'tokyo', { ...unreadable, metrics: metrics(), sessionsTotal: 16 }), observation('tokyo-2', 'tokyo'), observation('london-1', 'london')]);
    assert.equal(fleetView(fleet(), stale).regions[0]?.proxies[0]?.sessions, null);
  });

  it('meridian status says "unknown" in the table and in the region line', () => {
    const text = renderStatus({ fleets: [fleetView(fleet(), snap)] });
    assert.match(text, /^ {2}tokyo-1 +- +yes \(metrics unread\) +unknown +0 +content_type: /m);
    assert.match(text, /^Tokyo \(tokyo, Asia\/Tokyo\)  2\/2 ready, 16 sessions \+ unknown on tokyo-1 \(metrics unread\)$/m);
  });

  it('the ProxyFleet status names the proxy of unknown load', () => {
    const s = computeFleetStatus(fleet(), snap, AT);
    assert.match(s.conditions?.find((c) => c.type === 'Observed')?.message ?? '', /load unknown \(ready, session counts unread\): tokyo-1$/);
  });
});

describe('fleet status and API: the Auth Service', () => {
  const withAuth = fleet({ ...fleet().spec, auth: { diagnosticUrls: ['http://auth-1:3000', 'http://auth-2:3000'] } });
  const observed = {
    ...snap,
    auth: {
      version: '17.4.8',
      observedAt: AT,
      servers: [
        { diagnosticUrl: 'http://auth-1:3000', version: '17.4.8', ready: true, readyzStatus: 200 },
        { diagnosticUrl: 'http://auth-2:3000', ready: false, error: { reason: 'connection_refused' as const, message: 'http://auth-2:3000/metrics: connection refused', at: AT } },
      ],
    },
  };

  it('the view carries its version and each instance; none without spec.auth', () => {
    const v = fleetView(withAuth, observed);
    assert.equal(v.auth?.version, '17.4.8');
    assert.deepEqual(v.auth?.servers.map((s) => [s.diagnosticUrl, s.version, s.ready, s.error?.reason ?? null]), [
      ['http://auth-1:3000', '17.4.8', true, null],
      ['http://auth-2:3000', null, false, 'connection_refused'],
    ]);
    assert.equal(fleetView(fleet(), observed).auth, null);
    assert.equal(fleetView(withAuth, snap).auth, null, 'not observed yet');
  });

  it('meridian status shows it', () => {
    assert.match(renderStatus({ fleets: [fleetView(withAuth, observed)] }), /^Auth Service 17\.4\.8  1\/2 ready$/m);
    const unknown = { ...observed, auth: { observedAt: AT, error: { reason: 'timeout' as const, message: 'no answer', at: AT }, servers: [] } };
    assert.match(renderStatus({ fleets: [fleetView(withAuth, unknown)] }), /^Auth Service version unknown \(timeout: no answer\)  0\/0 ready$/m);
  });
});

describe('fleet API: what the JSON answer carries', () => {
  it('GET /api/v1/fleet keeps the Auth Service and each proxy\'s loadKnown (the response schema drops what it does not name)', async (t) => {
    const withAuth = fleet({ ...fleet().spec, auth: { diagnosticUrls: ['http://auth-1:3000'] } });
    const observed = { ...snap, auth: { version: '17.4.8', observedAt: AT, servers: [{ diagnosticUrl: 'http://auth-1:3000', version: '17.4.8', ready: true, readyzStatus: 200 }] } };
    const app = await buildAdminApp({ log: pino({ level: 'silent' }), registry: new Registry(), notReadyReason: () => undefined, fleets: async () => ({ fleets: [fleetView(withAuth, observed)] }), problems: () => ({ problems: [] }), explain: () => undefined, ...NO_ROLLOUTS });
    t.after(() => app.close());
    const res = await app.inject({ method: 'GET', url: '/api/v1/fleet' });
    assert.equal(res.statusCode, 200);
    const body = res.json() as { fleets: { auth: { version: string } | null; regions: { proxies: { name: string; loadKnown: boolean; sessions: unknown }[] }[] }[] };
    assert.equal(body.fleets[0]?.auth?.version, '17.4.8');
    const tokyo = body.fleets[0]?.regions[0]?.proxies ?? [];
    assert.deepEqual(tokyo.map((p) => [p.name, p.loadKnown, p.sessions === null]), [
      ['tokyo-1', false, true],
      ['tokyo-2', true, false],
    ]);
  });
});
