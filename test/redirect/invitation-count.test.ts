import { test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { Registry } from 'prom-client';
import { openGeoDatabase } from '../../src/adapters/geoip/index.js';
import { signInvite } from '../../src/canary/core/invite-token.js';
import type { CanaryRoute, RoutingTable } from '../../src/redirect/core/routing-table.js';
import { parseTrustedProxies } from '../../src/redirect/core/trusted-proxies.js';
import { createInvitationCounter, invitationsByCanary, registerInvitationMetrics } from '../../src/redirect/invitation-count.js';
import { buildPublicApp } from '../../src/redirect/public-app.js';
import { registerRedirectMetrics } from '../../src/redirect/redirect-metrics.js';
import { createRedirectService } from '../../src/redirect/redirect-service.js';
import { bakingCanary, dashboardApp } from '../dashboard/dashboard-fixture.js';
import { table } from './core/redirect-fixture.js';

const KEY = 'canary-invite-test-key';
const NOW = 1_900_000_000;
const DAY = 24 * 3600;
const CANARY = 'debug';
const DEBUG: CanaryRoute = { name: CANARY, proxies: ['tokyo-1', 'london-2'], optInOnly: true };
const invite = (expiresAt: number, canary = CANARY): string => signInvite({ canary, expiresAt }, KEY);

test('the counter counts invitations, not joins: one invitation joined twice is one; expired ones and ended canaries are forgotten', () => {
  const counter = createInvitationCounter();
  const running = new Set([CANARY, 'other']);
  const isRunning = (c: string): boolean => running.has(c);
  counter.seen(CANARY, invite(NOW + DAY), NOW + DAY, NOW);
  counter.seen(CANARY, invite(NOW + DAY), NOW + DAY, NOW);
  counter.seen(CANARY, invite(NOW + 2 * DAY), NOW + 2 * DAY, NOW);
  counter.seen('other', invite(NOW + DAY, 'other'), NOW + DAY, NOW);
  assert.deepEqual(counter.active(NOW, isRunning), [{ canary: CANARY, active: 2 }, { canary: 'other', active: 1 }]);
  // A day later the first invitation has expired.
  assert.deepEqual(counter.active(NOW + DAY, isRunning), [{ canary: CANARY, active: 1 }]);
  running.delete(CANARY);
  assert.deepEqual(counter.active(NOW + DAY, isRunning), []);
});

test('the counter is bounded per canary: past its size it counts no more, and makes room only from expired invitations', () => {
  const counter = createInvitationCounter(100);
  for (let i = 0; i < 1_000; i++) counter.seen(CANARY, invite(NOW + 1 + (i % 2) * DAY), NOW + 1 + (i % 2) * DAY, NOW);
  // Two distinct invitations only (the token is all an invitation is): nowhere near the bound.
  assert.deepEqual(counter.active(NOW, () => true), [{ canary: CANARY, active: 2 }]);
  for (let i = 0; i < 1_000; i++) counter.seen(CANARY, `${invite(NOW + 10)}-${i}`, NOW + 10, NOW);
  assert.deepEqual(counter.active(NOW, () => true), [{ canary: CANARY, active: 100 }]);
  // Once they have expired, new ones are counted again.
  counter.seen(CANARY, invite(NOW + DAY + 5), NOW + DAY + 5, NOW + 11);
  assert.deepEqual(counter.active(NOW + 11, () => true), [{ canary: CANARY, active: 2 }]);
});

test('joins through the login listener\'s invitation page (and a login carrying an invitation cookie) are counted, and the dashboard\'s canary view shows the count', async (t) => {
  const geo = await openGeoDatabase(['test/fixtures/geoip/geoip2-city-test.mmdb']);
  assert.ok(geo.ok);
  const trusted = parseTrustedProxies(['127.0.0.1/32']);
  assert.ok(trusted.ok);
  const registry = new Registry();
  const routing: RoutingTable = table({ canaries: [DEBUG] });
  const invitations = createInvitationCounter();
  registerInvitationMetrics(registry, () => invitations.active(NOW, (c) => routing.canaries[c] !== undefined));
  const redirects = createRedirectService({
    routing: () => routing,
    geo: () => geo.value,
    trusted: trusted.value,
    metrics: registerRedirectMetrics(registry, () => geo.value.info.buildEpochSeconds),
    now: () => performance.now(),
    cacheSize: 1_000,
    canaryKey: KEY,
    nowSeconds: () => NOW,
    invitations,
  });
  const login = await buildPublicApp({ log: pino({ level: 'silent' }), redirects });
  t.after(() => login.close());
  const [a, b, c] = [invite(NOW + DAY), invite(NOW + 2 * DAY), invite(NOW + 3 * DAY)];
  const get = (url: string, ip: string, cookie?: string) => login.inject({ url, headers: { 'x-forwarded-for': ip, ...(cookie ? { cookie: `meridian_canary=${cookie}` } : {}) } });
  // Invitation a joined from two places, b once, c never joined here but its cookie comes with a login; a forged one is refused.
  assert.equal((await get(`/canary/join?t=${a}`, '133.11.0.7')).statusCode, 302);
  assert.equal((await get(`/canary/join?t=${a}`, '81.2.69.10')).statusCode, 302);
  assert.equal((await get(`/canary/join?t=${b}`, '81.2.69.10')).statusCode, 302);
  assert.equal((await get('/', '133.11.0.7', c)).statusCode, 302);
  assert.equal((await get(`/canary/join?t=${signInvite({ canary: CANARY, expiresAt: NOW + DAY }, 'another-key')}`, '81.2.69.10')).statusCode, 403);
  assert.match(await registry.metrics(), /^meridian_canary_active_invitations\{canary="debug"\} 3$/m);

  const canary = bakingCanary();
  assert.equal(canary.metadata.name, CANARY);
  const { app } = await dashboardApp({ invitations: async () => invitationsByCanary(invitations.active(NOW, () => true)) });
  t.after(() => app.close());
  const { canaries } = (await app.inject('/api/v1/canaries')).json() as { canaries: { name: string; optIn?: unknown }[] };
  assert.deepEqual(canaries.find((x) => x.name === CANARY)?.optIn, { activeInvitations: 3, atLeast: false });
});

test('invitations off: the canary view has no count', async (t) => {
  const { app } = await dashboardApp({ invitations: async () => undefined });
  t.after(() => app.close());
  const { canaries } = (await app.inject('/api/v1/canaries')).json() as { canaries: { optIn?: unknown }[] };
  assert.equal(canaries[0]?.optIn, undefined);
});
