import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { PeerAllowList } from '../../src/sim/allow-list-input.js';
import { peerConnections, reachNode, type PeerRules, type PeerSide } from '../../src/sim/peer-reach.js';
import { PeeringState } from '../../src/sim/peering-state.js';

function proxy(name: string, region: string, extra: Partial<PeerSide> = {}): PeerSide {
  return { name, region, hostId: `id-${name}`, up: true, peerAddr: `${name}:3021`, peerClient: true, ...extra };
}

function rules(peering: boolean, pairs: readonly string[] = []): PeerRules {
  return { peering, allows: (from, to) => pairs.includes(`${from}>${to}`) };
}

const NYC1 = proxy('nyc-1', 'ny');
const NYC2 = proxy('nyc-2', 'ny');
const CHI1 = proxy('chi-1', 'chi');
const CHI2 = proxy('chi-2', 'chi');

test('reachNode: tunnel first, then a reachable holder (own region first), else the error type Teleport reports', () => {
  const cases: [string, PeerSide, readonly PeerSide[], PeerRules, unknown][] = [
    ['own tunnel', NYC1, [CHI1, NYC1], rules(false), { reachable: true, via: 'tunnel' }],
    ['peering off', NYC1, [CHI1], rules(false, ['nyc-1>chi-1']), { via: null, error: undefined }],
    ['no tunnel at all', NYC1, [], rules(true), { via: null, error: 'TUNNEL_NOT_FOUND' }],
    ['same region, no rule needed', NYC1, [NYC2], rules(true), { reachable: true, via: 'peer', peer: 'nyc-2' }],
    ['cross region, allowed', NYC1, [CHI1], rules(true, ['nyc-1>chi-1']), { reachable: true, via: 'peer', peer: 'chi-1' }],
    ['cross region, only the reverse allowed', NYC1, [CHI1], rules(true, ['chi-1>nyc-1']), { via: null, error: 'PROXIES_UNREACHABLE' }],
    ['holder without a listener', NYC1, [proxy('chi-1', 'chi', { peerAddr: undefined })], rules(true, ['nyc-1>chi-1']), { via: null, error: 'PROXIES_UNREACHABLE' }],
    ['holder down', NYC1, [proxy('chi-1', 'chi', { up: false })], rules(true, ['nyc-1>chi-1']), { via: null, error: 'PROXIES_UNREACHABLE' }],
    ['own region preferred', NYC1, [CHI1, NYC2], rules(true, ['nyc-1>chi-1']), { reachable: true, via: 'peer', peer: 'nyc-2' }],
    ['second holder reachable', NYC1, [CHI1, CHI2], rules(true, ['nyc-1>chi-2']), { reachable: true, via: 'peer', peer: 'chi-2' }],
    ['dialling proxy down', proxy('nyc-1', 'ny', { up: false }), [NYC1], rules(true), { via: null, error: undefined }],
    ['dialling proxy started before the switch: no peer client', proxy('nyc-1', 'ny', { peerClient: false }), [NYC2], rules(true), { via: null, error: undefined }],
  ];
  for (const [name, from, holders, r, want] of cases) {
    const got = reachNode(from, 'node-1', holders, r);
    const shown = got.reachable ? got : { via: got.via, error: got.dialError };
    assert.deepEqual(shown, want, name);
    if (!got.reachable) assert.ok(got.reason.length > 10, name);
  }
});

test('peerConnections: one series per other up proxy, READY when reachable; none without a peer client', () => {
  const fleet = [NYC1, proxy('nyc-2', 'ny', { peerAddr: undefined }), CHI1, CHI2, proxy('chi-3', 'chi', { up: false })];
  assert.deepEqual(peerConnections(proxy('nyc-1', 'ny', { peerClient: false }), fleet, rules(true, ['nyc-1>chi-1'])), []);
  assert.deepEqual(peerConnections(NYC1, fleet, rules(true, ['nyc-1>chi-1'])), [
    { localId: 'id-nyc-1', remoteId: 'id-nyc-2', state: 'TRANSIENT_FAILURE' },
    { localId: 'id-nyc-1', remoteId: 'id-chi-1', state: 'READY' },
    { localId: 'id-nyc-1', remoteId: 'id-chi-2', state: 'TRANSIENT_FAILURE' },
  ]);
});

test('PeeringState: starts off; the allow-list moves only forward by generation, and applies as a whole', () => {
  const s = new PeeringState();
  assert.equal(s.peering, false);
  assert.deepEqual(s.allowListView(), { generation: null, generatedAt: null, port: null, rules: [] });
  const list = (generation: number, pairs: readonly [string, string][]): PeerAllowList => ({
    generation,
    generatedAt: '2026-01-05T09:00:00Z',
    port: 3021,
    rules: pairs.map(([from, to]) => ({ from, to, toAddress: `${to}:3021` })),
  });
  assert.equal(s.applyAllowList(list(3, [['a', 'b']])).ok, true);
  assert.equal(s.allows('a', 'b'), true);
  assert.equal(s.allows('b', 'a'), false, 'a rule is one-way');
  assert.equal(s.applyAllowList(list(2, [])).ok, false);
  assert.equal(s.applyAllowList(list(3, [['a', 'c']])).ok, false);
  assert.equal(s.applyAllowList(list(3, [['a', 'b']])).ok, true);
  assert.equal(s.applyAllowList(list(4, [['b', 'a']])).ok, true);
  assert.equal(s.allows('a', 'b'), false, 'replaced, not merged');
  assert.equal(s.allows('b', 'a'), true);
  const stored = s.setClusterNetworking({ strategy: { type: 'proxy_peering', agent_connection_count: 2 }, spec: { tunnel_strategy: { type: 'proxy_peering', agent_connection_count: 2 }, proxy_listener_mode: 1 }, labels: {} });
  assert.equal(s.peering, true);
  assert.deepEqual(stored.metadata.labels, { 'teleport.dev/origin': 'dynamic' }, 'written through the API');
  assert.equal(s.clusterNetworking.spec['proxy_listener_mode'], 1, 'other fields kept as written');
});
