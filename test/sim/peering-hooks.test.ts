import assert from 'node:assert/strict';
import { test } from 'node:test';
import { signedJsonHeaders } from '../../src/adapters/hooks/index.js';
import type { ProxyView } from '../../src/sim/index.js';
import { act, control, startSim, view } from './sim-helpers.js';
import { accepted, allowList, clusterNetworking, configureBody, postHook, TWO_SITES } from './peering-helpers.js';

interface PeeringAnswer {
  tunnelStrategy: Record<string, unknown>;
  allowList: { generation: number | null; generatedAt: string | null; port: number | null; rules: { from: string; to: string; toAddress: string }[] };
  listeners: Record<string, string>;
}

async function peering(sim: Parameters<typeof control>[0]): Promise<PeeringAnswer> {
  const r = await control(sim, 'GET', '/peering');
  assert.equal(r.status, 200);
  return r.json as PeeringAnswer;
}

test('peering hooks with a secret: unsigned or wrongly signed requests are 401, and change nothing', async (t) => {
  const sim = await startSim(t, { proxies: TWO_SITES, hookSecret: 'sim-key' });
  const now = Date.now();
  const cases: [string, unknown][] = [
    ['cluster-networking', clusterNetworking('proxy_peering', 2)],
    ['peer-allow-list', allowList(1, [['nyc-1', 'chi-1']])],
    ['upgrade', configureBody('nyc-1', 'new-york')],
  ];
  for (const [hook, body] of cases) {
    const text = JSON.stringify(body);
    for (const [headers, message] of [
      [{}, /X-Meridian-Timestamp is missing/],
      [signedJsonHeaders('a', text, now, undefined), /X-Meridian-Signature is missing/],
      [signedJsonHeaders('a', text, now, 'wrong-key'), /does not match/],
      [signedJsonHeaders('a', text, now - 6 * 60_000, 'sim-key'), /more than 5 minutes from now/],
    ] as const) {
      const r = await postHook(sim, hook, text, headers);
      assert.equal(r.status, 401, `${hook} ${JSON.stringify(headers)}`);
      assert.equal(r.json.accepted, false);
      assert.match(r.json.error ?? '', message);
    }
  }
  const untouched = await peering(sim);
  assert.deepEqual(untouched.tunnelStrategy, { type: 'agent_mesh' });
  assert.equal(untouched.allowList.generation, null);
  assert.deepEqual(untouched.listeners, {});

  for (const [hook, body] of cases) {
    const text = JSON.stringify(body);
    const r = await postHook(sim, hook, text, signedJsonHeaders('a', text, now, 'sim-key'));
    assert.equal(r.status, 200, `${hook}: ${JSON.stringify(r.json)}`);
    assert.equal(r.json.accepted, true);
  }
  // The signature is checked before the body: a signed bad body is a 400.
  const bad = JSON.stringify({ kind: 'cluster_networking_config' });
  const r = await postHook(sim, 'cluster-networking', bad, signedJsonHeaders('a', bad, now, 'sim-key'));
  assert.equal(r.status, 400);
});

test('cluster networking: sets the tunnel strategy, Teleport defaults filled; bad bodies are 400 naming the field', async (t) => {
  const sim = await startSim(t, { proxies: TWO_SITES });
  assert.deepEqual((await peering(sim)).tunnelStrategy, { type: 'agent_mesh' }, 'peering starts off');

  const on = await accepted(sim, 'cluster-networking', clusterNetworking('proxy_peering', 2));
  assert.deepEqual(on, { accepted: true, tunnelStrategy: { type: 'proxy_peering', agent_connection_count: 2 }, revision: 'rev-1' });
  assert.deepEqual((await peering(sim)).tunnelStrategy, { type: 'proxy_peering', agent_connection_count: 2 });
  const defaulted = await accepted(sim, 'cluster-networking', clusterNetworking('proxy_peering'));
  assert.deepEqual(defaulted.tunnelStrategy, { type: 'proxy_peering', agent_connection_count: 1 });
  const off = await accepted(sim, 'cluster-networking', clusterNetworking('agent_mesh'));
  assert.deepEqual(off.tunnelStrategy, { type: 'agent_mesh' });

  const good = clusterNetworking('proxy_peering', 2);
  const spec = { tunnel_strategy: { type: 'proxy_peering', agent_connection_count: 2 } };
  const cases: [unknown, string, RegExp][] = [
    ['{"kind":', 'body', /not valid JSON/],
    [[], 'body', /must be a JSON object/],
    [{ ...good, status: {} }, 'status', /unknown field/],
    [{ ...good, kind: 'cluster_auth_preference' }, 'kind', /one of "cluster_networking_config"/],
    [{ ...good, version: 'v3' }, 'version', /one of "v2"/],
    [{ ...good, metadata: undefined }, 'metadata', /is required/],
    [{ ...good, metadata: { name: 'cluster-networking-config', labels: { a: 1 } } }, 'metadata.labels.a', /must be a string/],
    [{ ...good, metadata: { name: 'cluster-networking-config', uid: 'x' } }, 'metadata.uid', /unknown field/],
    [{ ...good, metadata: { name: 'other' } }, 'metadata.name', /"cluster-networking-config"/],
    [{ ...good, spec: 'x' }, 'spec', /must be a JSON object/],
    [{ ...good, spec: { tunnel_strategy: { type: 'mesh' } } }, 'spec.tunnel_strategy.type', /one of "agent_mesh", "proxy_peering", got "mesh"/],
    [{ ...good, spec: { tunnel_strategy: { type: 'proxy_peering', agent_connection_count: 0 } } }, 'spec.tunnel_strategy.agent_connection_count', /whole number from 1/],
    [{ ...good, spec: { tunnel_strategy: { type: 'proxy_peering', agent_connection_count: '2' } } }, 'spec.tunnel_strategy.agent_connection_count', /got "2"/],
    [{ ...good, spec: { tunnel_strategy: { type: 'agent_mesh', agent_connection_count: 2 } } }, 'spec.tunnel_strategy.agent_connection_count', /only to type "proxy_peering"/],
    [{ ...good, spec: { tunnel_strategy: { type: 'proxy_peering', count: 2 } } }, 'spec.tunnel_strategy.count', /unknown field/],
  ];
  for (const [body, field, message] of cases) {
    const r = await postHook(sim, 'cluster-networking', body);
    assert.equal(r.status, 400, JSON.stringify(body));
    assert.equal(r.json.accepted, false);
    assert.equal(r.json.field, field, JSON.stringify(body));
    assert.match(r.json.error ?? '', message);
    assert.ok(r.json.error?.startsWith(`${field}:`), r.json.error);
  }
  assert.deepEqual((await peering(sim)).tunnelStrategy, { type: 'agent_mesh' }, 'refused bodies changed nothing');
  const wrongMethod = await control(sim, 'GET', '/hooks/cluster-networking');
  assert.equal(wrongMethod.status, 405);
});

test('cluster networking is one whole resource: the simulator keeps every field written and returns it on read, as tctl get does', async (t) => {
  const sim = await startSim(t, { proxies: TWO_SITES });
  const read = async (): Promise<Record<string, { [k: string]: unknown }>> => {
    const r = await control(sim, 'GET', '/cluster-networking');
    assert.equal(r.status, 200);
    const [only, ...rest] = r.json as Record<string, { [k: string]: unknown }>[];
    assert.equal(rest.length, 0);
    assert.ok(only);
    return only;
  };
  const fresh = await read();
  assert.deepEqual(fresh['metadata'], { name: 'cluster-networking-config', labels: { 'teleport.dev/origin': 'defaults' }, revision: 'rev-0' });
  assert.deepEqual(fresh['spec'], { keep_alive_interval: '5m0s', keep_alive_count_max: 3, tunnel_strategy: { type: 'agent_mesh' } });

  const full = { ...fresh, spec: { ...fresh['spec'], client_idle_timeout: '15m0s', proxy_listener_mode: 1, routing_strategy: 1, tunnel_strategy: { type: 'proxy_peering', agent_connection_count: 2 } } };
  await accepted(sim, 'cluster-networking', full);
  const after = await read();
  assert.deepEqual(after['spec'], full.spec, 'nothing dropped, nothing refused');
  assert.deepEqual(after['metadata'], { name: 'cluster-networking-config', labels: { 'teleport.dev/origin': 'dynamic' }, revision: 'rev-1' });

  // A write with the strategy only replaces the whole: the other fields are gone, as in Teleport.
  await accepted(sim, 'cluster-networking', clusterNetworking('proxy_peering', 2));
  assert.deepEqual((await read())['spec'], { tunnel_strategy: { type: 'proxy_peering', agent_connection_count: 2 } });
});

test('peer allow-list: replaced whole by a newer generation; an older one is 409, the same one idempotent', async (t) => {
  const sim = await startSim(t, { proxies: TWO_SITES });
  const seven = allowList(7, [['nyc-1', 'chi-1'], ['chi-1', 'nyc-1']]);
  assert.deepEqual(await accepted(sim, 'peer-allow-list', seven), { accepted: true, generation: 7, rules: 2 });
  const shown = await peering(sim);
  assert.equal(shown.allowList.generation, 7);
  assert.equal(shown.allowList.port, 3021);
  assert.equal(shown.allowList.generatedAt, '2026-01-05T09:00:00Z');
  assert.deepEqual(shown.allowList.rules, [
    { from: 'nyc-1', to: 'chi-1', toAddress: 'chi-1.example.com:3021' },
    { from: 'chi-1', to: 'nyc-1', toAddress: 'nyc-1.example.com:3021' },
  ]);

  // A retry, even with its rules in another order, is the same list.
  const retry = await postHook(sim, 'peer-allow-list', { ...seven, rules: [...(seven['rules'] as unknown[])].reverse() });
  assert.equal(retry.status, 200);
  assert.deepEqual(retry.json, { accepted: true, generation: 7, rules: 2 });

  const stale = await postHook(sim, 'peer-allow-list', allowList(6, []));
  assert.equal(stale.status, 409);
  assert.equal(stale.json.accepted, false);
  assert.match(stale.json.error ?? '', /generation 6 is older than the applied generation 7/);
  const clash = await postHook(sim, 'peer-allow-list', allowList(7, [['nyc-2', 'chi-2']]));
  assert.equal(clash.status, 409);
  assert.match(clash.json.error ?? '', /generation 7 was already applied with other rules/);
  assert.equal((await peering(sim)).allowList.rules.length, 2, 'refused lists changed nothing');

  // Meridian's informational fields (the ProxyPeering's name, each rule's region link) are known.
  const annotated: Record<string, unknown> = { ...allowList(8, [['nyc-2', 'chi-2']]), peering: 'default/peering' };
  annotated['rules'] = [{ from: 'nyc-2', to: 'chi-2', toAddress: '127.0.0.1:3021', link: 'new-york->chi-2' }];
  assert.deepEqual(await accepted(sim, 'peer-allow-list', annotated), { accepted: true, generation: 8, rules: 1 });
  assert.deepEqual((await peering(sim)).allowList.rules, [{ from: 'nyc-2', to: 'chi-2', toAddress: '127.0.0.1:3021', link: 'new-york->chi-2' }]);

  assert.deepEqual(await accepted(sim, 'peer-allow-list', allowList(9, [])), { accepted: true, generation: 9, rules: 0 });
  const emptied = await peering(sim);
  assert.equal(emptied.allowList.generation, 9);
  assert.deepEqual(emptied.allowList.rules, []);
});

test('peer allow-list: bad bodies are 400 naming the field, unknown proxies by rule index', async (t) => {
  const sim = await startSim(t, { proxies: TWO_SITES });
  const good = allowList(1, [['nyc-1', 'chi-1']]);
  const rule = { from: 'nyc-1', to: 'chi-1', toAddress: 'chi-1.example.com:3021' };
  const cases: [unknown, string, RegExp][] = [
    ['', 'body', /must be a JSON object/],
    [{ ...good, extra: 1 }, 'extra', /unknown field/],
    [{ ...good, kind: 'AllowList' }, 'kind', /one of "PeerAllowList"/],
    [{ ...good, generation: -1 }, 'generation', /whole number from 0/],
    [{ ...good, generation: 1.5 }, 'generation', /whole number/],
    [{ ...good, generatedAt: 'yesterday' }, 'generatedAt', /ISO 8601/],
    [{ ...good, generatedAt: undefined }, 'generatedAt', /is required/],
    [{ ...good, port: 0 }, 'port', /from 1 to 65535/],
    [{ ...good, rules: undefined }, 'rules', /is required/],
    [{ ...good, rules: {} }, 'rules', /must be a list/],
    [{ ...good, rules: [rule, { ...rule, from: 'mars-1' }] }, 'rules[1].from', /no proxy named "mars-1"/],
    [{ ...good, rules: [rule, rule, { ...rule, to: 'mars-2' }] }, 'rules[2].to', /no proxy named "mars-2"/],
    [{ ...good, rules: [{ ...rule, to: 'nyc-1' }] }, 'rules[0].to', /same proxy as from/],
    [{ ...good, rules: [{ ...rule, port: 3021 }] }, 'rules[0].port', /unknown field/],
    [{ ...good, rules: [{ ...rule, toAddress: 'chi-1.example.com' }] }, 'rules[0].toAddress', /host:port/],
    [{ ...good, rules: [{ ...rule, toAddress: '0.0.0.0:3021' }] }, 'rules[0].toAddress', /wildcard/],
    [{ ...good, rules: ['nyc-1'] }, 'rules[0]', /must be a JSON object/],
    [{ ...good, rules: [{ ...rule, link: '' }] }, 'rules[0].link', /non-empty string/],
    [{ ...good, peering: 7 }, 'peering', /non-empty string/],
  ];
  for (const [body, field, message] of cases) {
    const r = await postHook(sim, 'peer-allow-list', body);
    assert.equal(r.status, 400, JSON.stringify(body));
    assert.equal(r.json.accepted, false);
    assert.equal(r.json.field, field, JSON.stringify(body));
    assert.match(r.json.error ?? '', message, JSON.stringify(body));
  }
  assert.equal((await peering(sim)).allowList.generation, null);
});

test('configure through the upgrade hook: sets the peer listener live, once per id, only on the running version', async (t) => {
  const sim = await startSim(t, { proxies: TWO_SITES });
  const body = configureBody('nyc-1', 'new-york');
  const before = await view(sim, 'nyc-1');
  assert.equal(before.peerAddr, null);

  const r = await postHook(sim, 'upgrade', body);
  assert.equal(r.status, 200, JSON.stringify(r.json));
  assert.equal(r.json.accepted, true);
  assert.equal(r.json['name'], 'nyc-1');
  assert.equal(r.json['startedAt'], before.startedAt, 'applied live, no restart');
  assert.equal(r.json['peerAddr'], null, 'under agent_mesh no peer listener opens');
  await accepted(sim, 'cluster-networking', clusterNetworking('proxy_peering', 2));
  // The automation applies it with a restart, which reads the strategy: the listener opens.
  assert.equal((await postHook(sim, 'upgrade', body)).status, 200);
  const again = await postHook(sim, 'upgrade', { ...body, id: 'peer-nyc-1-again' });
  assert.equal(again.json['peerAddr'], 'nyc-1.example.com:3021');
  assert.equal((await view(sim, 'nyc-1')).peerAddr, 'nyc-1.example.com:3021');
  assert.deepEqual((await peering(sim)).listeners, { 'nyc-1': 'nyc-1.example.com:3021' });

  assert.equal((await postHook(sim, 'upgrade', body)).status, 200, 'a repeat is accepted');
  const reused = await postHook(sim, 'upgrade', { ...body, peer: { listenAddr: '0.0.0.0:3021', publicAddr: 'nyc-1.example.net:3021' } });
  assert.equal(reused.status, 409);
  assert.match(reused.json.error ?? '', /id "peer-nyc-1" was already used to configure proxy "nyc-1"/);

  const otherVersion = await postHook(sim, 'upgrade', configureBody('nyc-2', 'new-york', 'peer-nyc-2', '17.4.8'));
  assert.equal(otherVersion.status, 409);
  assert.match(otherVersion.json.error ?? '', /proxy "nyc-2" runs 17\.4\.2, not 17\.4\.8/);
  assert.equal((await view(sim, 'nyc-2')).peerAddr, null);

  // Simulated proxies share one loopback host, so a shared peer address is accepted (and logged).
  const shared = await postHook(sim, 'upgrade', { ...configureBody('nyc-2', 'new-york'), peer: { publicAddr: 'nyc-1.example.com:3021' } });
  assert.equal(shared.status, 200);
  assert.equal(shared.json['peerAddr'], 'nyc-1.example.com:3021');

  const upgradeIdReused = await postHook(sim, 'upgrade', { ...body, action: 'upgrade', peer: undefined, version: '17.4.8' });
  assert.equal(upgradeIdReused.status, 409, 'an id used to configure cannot move the proxy');

  // The listener is configuration: it outlives a restart.
  await act(sim, 'nyc-1', 'restart', {});
  assert.equal((await view(sim, 'nyc-1')).peerAddr, 'nyc-1.example.com:3021');
});

test('configure: bad requests are 400 naming the field, 404 for an unknown proxy', async (t) => {
  const sim = await startSim(t, { proxies: TWO_SITES });
  const good = configureBody('chi-1', 'chicago');
  const cases: [unknown, number, string | undefined, RegExp][] = [
    [{ ...good, image: 'teleport:17' }, 400, 'image', /unknown field/],
    [{ ...good, peer: undefined }, 400, 'peer', /is required/],
    [{ ...good, peer: { publicAddr: 'chi-1.example.com:3021', tls: true } }, 400, 'peer.tls', /unknown field/],
    [{ ...good, peer: { publicAddr: '0.0.0.0:3021' } }, 400, 'peer.publicAddr', /wildcard/],
    [{ ...good, peer: { publicAddr: 'chi-1.example.com:99999' } }, 400, 'peer.publicAddr', /host:port/],
    [{ ...good, peer: { listenAddr: ':3021', publicAddr: 'chi-1.example.com:3021' } }, 400, 'peer.listenAddr', /host:port/],
    [{ ...good, version: 'latest' }, 400, 'version', /release version/],
    [{ ...good, id: '' }, 400, 'id', /non-empty/],
    [{ ...good, region: 'new-york' }, 400, 'region', /is in region "chicago"/],
    [{ ...good, proxy: 'mars-1' }, 404, undefined, /no proxy named "mars-1"/],
    [{ ...good, action: 'reconfigure' }, 400, 'action', /one of "configure", "out-of-rotation", "in-rotation", "upgrade", "rollback", got "reconfigure"/],
  ];
  for (const [body, status, field, message] of cases) {
    const r = await postHook(sim, 'upgrade', body);
    assert.equal(r.status, status, JSON.stringify(body));
    assert.equal(r.json.accepted, false);
    assert.equal(r.json.field, field, JSON.stringify(body));
    assert.match(r.json.error ?? '', message, JSON.stringify(body));
  }
  await accepted(sim, 'cluster-networking', clusterNetworking('proxy_peering', 2));
  const listenDefault = await postHook(sim, 'upgrade', { ...good, peer: { publicAddr: 'chi-1.example.com:3021' } });
  assert.equal(listenDefault.status, 200, 'peer.listenAddr defaults to 0.0.0.0:3021');
  assert.equal((listenDefault.json as unknown as ProxyView).peerAddr, 'chi-1.example.com:3021');
});
