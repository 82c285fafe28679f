import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Proxy } from '../../src/model/fleet.js';
import { parseNodes, parsePeerAddrs, parseProxies } from '../../src/peering/core/parse-inventory.js';

const FLEET: Proxy[] = [
  { name: 'nyc-1', region: 'new-york', publicUrl: 'https://nyc-1.example.com', diagnosticUrl: 'http://10.0.0.1:3000', version: '17.4.2' },
  { name: 'chi-1', region: 'chicago', publicUrl: 'https://teleport-chi.example.com:443', diagnosticUrl: 'http://10.0.1.1:3000', version: '17.4.2' },
];
// As `tctl get proxies --format=json` prints them: the host id is metadata.name.
const PROXIES = JSON.stringify([
  { kind: 'proxy', version: 'v2', metadata: { name: 'a1b2' }, spec: { hostname: 'nyc-1', public_addr: 'nyc-1.example.com:443' } },
  { kind: 'proxy', version: 'v2', metadata: { name: 'c3d4' }, spec: { hostname: 'ip-10-0-1-1', public_addr: 'teleport-chi.example.com:443' } },
  { kind: 'proxy', version: 'v2', metadata: { name: 'e5f6' }, spec: { hostname: 'lab-proxy', public_addr: 'lab.example.com:443' } },
]);

describe('parseProxies', () => {
  it('maps host ids by hostname, else by public address; proxies outside the fleet map to nothing', () => {
    const r = parseProxies(PROXIES, 'tctl get proxies', FLEET);
    assert.deepEqual(r.ok && [...r.value], [['a1b2', 'nyc-1'], ['c3d4', 'chi-1'], ['e5f6', undefined]]);
  });

  it('matches by a host of spec.public_addrs, the list that replaced public_addr in ServerSpecV2', () => {
    const today = JSON.stringify([
      { kind: 'proxy', version: 'v2', metadata: { name: 'c3d4' }, spec: { hostname: 'ip-10-0-1-1', public_addrs: ['teleport-lb.example.com:443', 'teleport-chi.example.com:443'] } },
      { kind: 'proxy', version: 'v2', metadata: { name: 'g7h8' }, spec: { hostname: 'ip-10-0-9-9', public_addrs: [] } },
    ]);
    const r = parseProxies(today, 'tctl get proxies', FLEET);
    assert.deepEqual(r.ok && [...r.value], [['c3d4', 'chi-1'], ['g7h8', undefined]]);
  });

  it('reads the peer address each heartbeating fleet proxy advertises; none is an empty string', () => {
    const body = JSON.stringify([
      { kind: 'proxy', metadata: { name: 'a1b2' }, spec: { hostname: 'nyc-1', peer_addr: '10.0.0.1:3021' } },
      { kind: 'proxy', metadata: { name: 'c3d4' }, spec: { hostname: 'ip-10-0-1-1', public_addrs: ['teleport-chi.example.com:443'] } },
    ]);
    const hosts = parseProxies(body, 'x', FLEET);
    const r = hosts.ok ? parsePeerAddrs(body, 'x', hosts.value) : hosts;
    assert.deepEqual(r.ok && [...r.value], [['nyc-1', '10.0.0.1:3021'], ['chi-1', '']]);
  });

  it('refuses what is not a list of proxies, naming the source', () => {
    assert.deepEqual(parseProxies('<html>', 'http://inv/proxies', FLEET), { ok: false, error: 'http://inv/proxies: not JSON (Unexpected token \'<\', "<html>" is not valid JSON)' });
    assert.match((parseProxies('[{"spec":{}}]', 'x', FLEET) as { error: string }).error, /item 0 has no metadata.name/);
    assert.match((parseProxies('42', 'x', FLEET) as { error: string }).error, /expected a JSON list of resources, got number/);
  });
});

describe('parseNodes', () => {
  const proxyOf = new Map<string, string | undefined>([['a1b2', 'nyc-1'], ['c3d4', 'chi-1'], ['e5f6', undefined]]);
  const node = (name: string, spec: Record<string, unknown>, labels: Record<string, string> = { region: 'new-york' }) => ({ kind: 'node', version: 'v2', metadata: { name, labels }, spec: { hostname: `host-${name}`, ...spec } });

  it('maps tunnels to fleet proxies; a node without proxy_ids is Unknown; tunnels outside the fleet are left out and listed', () => {
    const body = JSON.stringify([node('n1', { proxy_ids: ['c3d4', 'a1b2'] }), node('n2', {}), node('n3', { proxy_ids: [] }), node('n4', { proxy_ids: ['e5f6'] }, {})]);
    const r = parseNodes(body, 'tctl get nodes', proxyOf, 'region');
    assert.deepEqual(r.ok && r.value, {
      nodes: [
        { id: 'n1', hostname: 'host-n1', region: 'new-york', proxies: ['chi-1', 'nyc-1'] },
        { id: 'n2', hostname: 'host-n2', region: 'new-york' },
        { id: 'n3', hostname: 'host-n3', region: 'new-york' },
        { id: 'n4', hostname: 'host-n4', proxies: [] },
      ],
      outsideFleet: ['e5f6'],
    });
  });

  it('reads the region from the configured label', () => {
    const r = parseNodes(JSON.stringify([node('n1', {}, { 'teleport.example.com/site': 'chicago' })]), 'x', proxyOf, 'teleport.example.com/site');
    assert.equal(r.ok && r.value.nodes[0]?.region, 'chicago');
  });

  it('refuses the whole read for a proxy id the proxies inventory does not know, a repeated node, or proxy_ids of the wrong shape', () => {
    const cases: [unknown[], RegExp][] = [
      [[node('n1', { proxy_ids: ['zz99'] })], /node n1 \(host-n1\) has a tunnel to proxy id zz99, which the proxies inventory does not list/],
      [[node('n1', {}), node('n1', {})], /node n1 appears twice/],
      [[node('n1', { proxy_ids: 'a1b2' })], /node n1 \(host-n1\): spec.proxy_ids is not a list of strings/],
      [[42], /item 0 is not an object/],
    ];
    for (const [items, why] of cases) {
      const r = parseNodes(JSON.stringify(items), 'tctl get nodes', proxyOf, 'region');
      assert.equal(r.ok, false);
      assert.match(r.ok ? '' : r.error, why);
      assert.match(r.ok ? '' : r.error, /^tctl get nodes: /);
    }
  });
});
