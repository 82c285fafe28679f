import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Registry } from 'prom-client';
import type { RoutingTable } from '../../src/redirect/core/routing-table.js';
import { registerRoutingMetrics } from '../../src/redirect/routing-metrics.js';
import { regionsDown, table } from './core/redirect-fixture.js';

test('routing metrics: each proxy and region in its state, capacities, nothing before the first table', async () => {
  const registry = new Registry();
  let routing: RoutingTable | undefined;
  registerRoutingMetrics(registry, () => routing);
  assert.doesNotMatch(await registry.metrics(), /^meridian_proxy_routing_state\{/m, 'no table, no series');

  routing = table({
    outOfRotation: ['london-1'],
    patch: { ...regionsDown('sydney'), 'tokyo-1': { sessionsTotal: 500 }, 'tokyo-2': { sessionsTotal: 500 }, 'tokyo-3': { sessionsTotal: 500 }, 'chicago-2': { ready: false } },
  });
  const text = await registry.metrics();
  const line = (name: string, labels: string, value: number): void => assert.match(text, new RegExp(`^${name}\\{${labels}\\} ${value}$`, 'm'), `${name}{${labels}} ${value}`);
  line('meridian_proxy_routing_state', 'proxy="london-1",region="london",state="out_of_rotation"', 1);
  line('meridian_proxy_routing_state', 'proxy="london-1",region="london",state="eligible"', 0);
  line('meridian_proxy_routing_state', 'proxy="london-2",region="london",state="eligible"', 1);
  line('meridian_proxy_routing_state', 'proxy="sydney-1",region="sydney",state="down"', 1);
  line('meridian_proxy_routing_state', 'proxy="tokyo-2",region="tokyo",state="full"', 1);
  line('meridian_proxy_routing_state', 'proxy="chicago-2",region="chicago",state="not_ready"', 1);
  line('meridian_region_routing_state', 'region="sydney",state="no_ready_proxy"', 1);
  line('meridian_region_routing_state', 'region="tokyo",state="saturated"', 1);
  line('meridian_region_routing_state', 'region="london",state="open"', 1);
  line('meridian_region_routing_state', 'region="london",state="saturated"', 0);
  line('meridian_proxy_capacity_sessions', 'proxy="tokyo-1",region="tokyo"', 500);
  // One state at 1 per proxy: 14 proxies in the fixture fleet.
  const ones = text.split('\n').filter((l) => l.startsWith('meridian_proxy_routing_state{') && l.endsWith(' 1'));
  assert.equal(ones.length, 14);
});
