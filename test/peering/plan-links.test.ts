import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { coverage, reaches } from '../../src/peering/core/coverage.js';
import { linkId, type PeerNode, type PeerProxy } from '../../src/peering/core/peering-input.js';
import { PeeringPlanner } from '../../src/peering/core/peering-planner.js';
import { AT_CAP, NO_TARGET, planLinks, type CurrentLink, type PeeringPlan, type PlanInput } from '../../src/peering/core/plan-links.js';
import { groupNodes, type TunnelGroup } from '../../src/peering/core/tunnel-groups.js';
import { Prng } from '../../src/sim/prng.js';
import { randomWorld, tunnelsFor, type PeeringWorld, type WorldShape } from '../helpers/random-peering.js';

const REGIONS = [
  { name: 'chicago', latitude: 41.88, longitude: -87.63 },
  { name: 'new-york', latitude: 40.71, longitude: -74.01 },
  { name: 'tokyo', latitude: 35.68, longitude: 139.69 },
];
const proxy = (name: string, region: string, over: Partial<PeerProxy> = {}): PeerProxy => ({ name, region, up: true, eligible: true, ...over });
const PROXIES = [proxy('chi-1', 'chicago'), proxy('chi-2', 'chicago'), proxy('nyc-1', 'new-york'), proxy('tyo-1', 'tokyo')];

function inputFor(proxies: readonly PeerProxy[], nodes: readonly PeerNode[], over: Partial<PlanInput> = {}): PlanInput {
  const { groups } = groupNodes(nodes, new Map(proxies.map((p, i) => [p.name, i])));
  return { proxies, regions: REGIONS, groups, current: [], now: 1_000_000, holdMs: 60_000, maxLinksPerProxy: 64, ...over };
}

const keys = (plan: PeeringPlan): string[] => plan.links.map(linkId);

describe('planLinks: examples', () => {
  it('a New York node tunnelled only to Chicago gets a link new-york->chi-x, and Tokyo one too', () => {
    const nodes = [{ id: 'a', hostname: 'ny-db', region: 'new-york', proxies: ['chi-2'] }];
    const plan = planLinks(inputFor(PROXIES, nodes));
    assert.deepEqual(keys(plan), ['new-york->chi-2', 'tokyo->chi-2']);
    assert.ok(plan.links.every((l) => l.added && l.needed && l.nodes === 1));
  });

  it('links to the nearest holder: New York reaches a node on Chicago and Tokyo through Chicago', () => {
    const nodes = [{ id: 'a', hostname: 'x', region: 'tokyo', proxies: ['tyo-1', 'chi-1'] }];
    const plan = planLinks(inputFor(PROXIES, nodes));
    assert.deepEqual(keys(plan), ['new-york->chi-1']);
  });

  it('one link covers every node that proxy holds (fewest links)', () => {
    const nodes = [
      { id: 'a', hostname: 'a', region: 'chicago', proxies: ['chi-1'] },
      { id: 'b', hostname: 'b', region: 'chicago', proxies: ['chi-1', 'chi-2'] },
      { id: 'c', hostname: 'c', region: 'chicago', proxies: ['chi-2', 'chi-1'] },
    ];
    const plan = planLinks(inputFor(PROXIES, nodes));
    assert.deepEqual(keys(plan), ['new-york->chi-1', 'tokyo->chi-1']);
    assert.equal(plan.links[0]?.nodes, 3);
  });

  it('never links to a draining or unready proxy; a node only there is reported with no target', () => {
    const proxies = [proxy('chi-1', 'chicago', { eligible: false }), proxy('chi-2', 'chicago'), proxy('nyc-1', 'new-york'), proxy('tyo-1', 'tokyo')];
    const nodes = [
      { id: 'a', hostname: 'a', region: 'chicago', proxies: ['chi-1', 'chi-2'] },
      { id: 'b', hostname: 'b', region: 'chicago', proxies: ['chi-1'] },
    ];
    const plan = planLinks(inputFor(proxies, nodes));
    assert.deepEqual(keys(plan), ['new-york->chi-2', 'tokyo->chi-2']);
    assert.equal(plan.reach.get('new-york')?.[1], NO_TARGET);
  });

  it('nodes with no live tunnel and Unknown nodes need no link', () => {
    const proxies = [proxy('chi-1', 'chicago', { up: false, eligible: false }), proxy('nyc-1', 'new-york')];
    const plan = planLinks(inputFor(proxies, [{ id: 'a', hostname: 'a', proxies: ['chi-1'] }, { id: 'b', hostname: 'b' }]));
    assert.deepEqual(keys(plan), []);
  });

  it('the cap per proxy holds; what it leaves open is reported', () => {
    const nodes = [{ id: 'a', hostname: 'a', region: 'chicago', proxies: ['chi-1'] }];
    const plan = planLinks(inputFor(PROXIES, nodes, { maxLinksPerProxy: 1 }));
    assert.deepEqual(keys(plan), ['new-york->chi-1']);
    assert.equal(plan.reach.get('tokyo')?.[0], AT_CAP);
  });

  it('the same input gives the same plan, and the plan is its own fixpoint', () => {
    const world = randomWorld(7, { regions: 5, proxiesPerRegion: 3, nodes: 400, tunnels: 2, remote: 0.2, down: 0.05, ineligible: 0.1, unknown: 0.02 });
    const input = worldInput(world, 64);
    const a = planLinks(input);
    assert.deepEqual(planLinks(input).links, a.links);
    const again = planLinks({ ...input, current: a.links });
    assert.deepEqual(keys(again), keys(a));
    assert.ok(again.links.every((l) => !l.added && l.needed));
    assert.equal(again.removed.length, 0);
  });
});

describe('planLinks: hysteresis', () => {
  const nodes = [{ id: 'a', hostname: 'a', region: 'new-york', proxies: ['nyc-1'] }];
  const current: CurrentLink[] = [{ from: 'new-york', to: 'chi-1' }];

  it('an unneeded link is held from the moment it is seen unneeded', () => {
    const plan = planLinks(inputFor(PROXIES, nodes, { current, now: 5_000 }));
    const held = plan.links.find((l) => l.to === 'chi-1');
    assert.deepEqual(held && { needed: held.needed, since: held.unneededSince }, { needed: false, since: 5_000 });
    assert.equal(plan.removed.length, 0);
  });

  it('it goes once the hold time has passed, not before', () => {
    const before = planLinks(inputFor(PROXIES, nodes, { current: [{ ...current[0]!, unneededSince: 0 }], now: 59_999 }));
    assert.ok(before.links.some((l) => l.to === 'chi-1'));
    const after = planLinks(inputFor(PROXIES, nodes, { current: [{ ...current[0]!, unneededSince: 0 }], now: 60_000 }));
    assert.ok(!after.links.some((l) => l.to === 'chi-1'));
    assert.match(after.removed[0]?.reason ?? '', /past the hold time/);
  });

  it('a held link needed again is kept and its hold cleared', () => {
    const needs = [{ id: 'b', hostname: 'b', region: 'chicago', proxies: ['chi-1'] }];
    const plan = planLinks(inputFor(PROXIES, needs, { current: [{ ...current[0]!, unneededSince: 0 }], now: 30_000 }));
    const l = plan.links.find((x) => x.from === 'new-york');
    assert.deepEqual(l && { to: l.to, needed: l.needed, added: l.added, since: l.unneededSince }, { to: 'chi-1', needed: true, added: false, since: undefined });
  });

  it('a link to a proxy that left the fleet goes at once', () => {
    const plan = planLinks(inputFor(PROXIES, nodes, { current: [{ from: 'new-york', to: 'gone-1' }] }));
    assert.match(plan.removed[0]?.reason ?? '', /no longer in the fleet/);
    assert.deepEqual(plan.removed.map(linkId), ['new-york->gone-1']);
    assert.ok(!plan.links.some((l) => l.to === 'gone-1'), 'not kept, not held');
  });
});

const SHAPES: WorldShape[] = [
  { regions: 3, proxiesPerRegion: 2, nodes: 60, tunnels: 1, remote: 0.3, down: 0.1, ineligible: 0.2, unknown: 0.05 },
  { regions: 6, proxiesPerRegion: 3, nodes: 300, tunnels: 2, remote: 0.15, down: 0.05, ineligible: 0.1, unknown: 0.02 },
  { regions: 10, proxiesPerRegion: 4, nodes: 800, tunnels: 3, remote: 0.4, down: 0.1, ineligible: 0.15, unknown: 0 },
];

/** The tunnels move: each node with tunnels reconnects elsewhere with chance `share`. */
function moveSome(world: PeeringWorld, shape: WorldShape, rng: Prng, share: number): PeeringWorld {
  return { ...world, nodes: world.nodes.map((n) => (n.proxies && rng.chance(share) ? { ...n, proxies: tunnelsFor(rng, rng.int(shape.regions), shape, world.proxies) } : n)) };
}

function worldInput(world: PeeringWorld, cap: number, current: CurrentLink[] = [], now = 1_000_000): PlanInput {
  const { groups } = groupNodes(world.nodes, new Map(world.proxies.map((p, i) => [p.name, i])));
  return { proxies: world.proxies, regions: world.regions, groups, current, now, holdMs: 600_000, maxLinksPerProxy: cap };
}

/** The properties every plan must have; `full`: the cap is loose enough to cover everything. */
function checkPlan(world: PeeringWorld, groups: readonly TunnelGroup[], plan: PeeringPlan, cap: number, full: boolean): void {
  const incoming = new Map<string, number>();
  for (const l of plan.links) incoming.set(l.to, (incoming.get(l.to) ?? 0) + 1);
  for (const [to, n] of incoming) assert.ok(n <= cap, `${to} has ${n} links, cap ${cap}`);
  const byName = new Map(world.proxies.map((p) => [p.name, p]));
  for (const l of plan.links.filter((x) => x.added)) assert.ok(byName.get(l.to)?.eligible, `added link ${linkId(l)} targets an ineligible proxy`);
  const active = new Set(plan.links.map(linkId));
  for (const g of groups) {
    if (!g.nodes.length || !g.holders.some((h) => world.proxies[h]?.eligible)) continue;
    for (const region of plan.sourceRegions) {
      const ok = reaches(world.proxies, g.holders, region, active);
      if (full) assert.ok(ok, `group ${g.key} not reachable from ${region}`);
      else if (!ok) assert.equal(plan.reach.get(region)?.[groups.indexOf(g)], AT_CAP);
    }
  }
}

describe('planLinks: properties over random fleets and tunnel maps', () => {
  it('every node with a live tunnel on an eligible proxy is reachable from every region; no ineligible target; the cap holds', () => {
    for (let seed = 1; seed <= 60; seed++) {
      const world = randomWorld(seed, SHAPES[seed % SHAPES.length] as WorldShape);
      for (const cap of [1, 3, 1_000]) {
        const input = worldInput(world, cap);
        checkPlan(world, input.groups, planLinks(input), cap, cap >= 1_000);
      }
    }
  });

  it('hysteresis never removes a needed link, and removes one only after the hold time', () => {
    let removedSomewhere = 0;
    for (let seed = 1; seed <= 40; seed++) {
      const shape = SHAPES[seed % SHAPES.length] as WorldShape;
      const world = randomWorld(seed, shape);
      const first = planLinks(worldInput(world, 1_000));
      // The tunnels move: a fifth of the nodes reconnect elsewhere.
      const moved = moveSome(world, shape, new Prng(seed * 31), 0.2);
      const current = first.links.map((l) => ({ from: l.from, to: l.to }));
      const input = worldInput(moved, 1_000, current, 2_000_000);
      const second = planLinks(input);
      checkPlan(moved, input.groups, second, 1_000, true);
      assert.equal(second.removed.length, 0, 'nothing goes before the hold time');
      const later = planLinks({ ...input, current: second.links, now: 2_000_000 + 600_000 });
      // Exactly the links unneeded for the whole hold time go; none still needed.
      const unneeded = second.links.filter((l) => !l.needed).map(linkId).sort();
      assert.deepEqual(later.removed.map(linkId).sort(), unneeded, `seed ${seed}`);
      assert.ok(later.links.every((l) => l.needed), `seed ${seed}: a link past its hold time stayed`);
      checkPlan(moved, input.groups, later, 1_000, true);
      removedSomewhere += later.removed.length;
    }
    assert.ok(removedSomewhere > 0, 'some seed must remove a link');
  });

  it('links held for the hold time count against the cap: new links never push a proxy past it', () => {
    let held = 0;
    for (let seed = 1; seed <= 40; seed++) {
      const shape = SHAPES[seed % SHAPES.length] as WorldShape;
      const world = randomWorld(seed, shape);
      const first = planLinks(worldInput(world, 3));
      const moved = moveSome(world, shape, new Prng(seed * 13), 0.3);
      const input = worldInput(moved, 3, first.links.map((l) => ({ from: l.from, to: l.to })), 2_000_000);
      const second = planLinks(input);
      held += second.links.filter((l) => !l.needed).length;
      checkPlan(moved, input.groups, second, 3, false);
    }
    assert.ok(held > 0, 'some seed must hold links');
  });

  it('one node moving changes at most one link per region, and keeps every link in place', () => {
    for (let seed = 1; seed <= 40; seed++) {
      const shape = SHAPES[seed % SHAPES.length] as WorldShape;
      const world = randomWorld(seed, shape);
      const before = planLinks(worldInput(world, 1_000));
      const rng = new Prng(seed * 7);
      const i = rng.int(world.nodes.length);
      const moved = { ...world, nodes: world.nodes.map((n, j) => (j === i ? { ...n, proxies: tunnelsFor(rng, rng.int(shape.regions), shape, world.proxies) } : n)) };
      const after = planLinks(worldInput(moved, 1_000, before.links.map((l) => ({ from: l.from, to: l.to }))));
      const old = new Set(before.links.map(linkId));
      assert.ok(after.links.filter((l) => !old.has(linkId(l))).length <= after.sourceRegions.length, `seed ${seed}: too many new links`);
      assert.equal(after.removed.length, 0);
      assert.ok(before.links.every((l) => after.links.some((x) => linkId(x) === linkId(l) && !x.added)), `seed ${seed}: a link in place went or was planned anew`);
      assert.equal(new Set(after.links.map(linkId)).size, after.links.length, `seed ${seed}: a link twice`);
    }
  });

  it('incremental updates keep every node reachable, the cap, and the count of nodes each link serves', () => {
    for (let seed = 1; seed <= 20; seed++) {
      for (const cap of [1_000, 3]) {
        const shape = SHAPES[seed % SHAPES.length] as WorldShape;
        const world = randomWorld(seed, shape);
        const planner = new PeeringPlanner({ proxies: world.proxies, regions: world.regions, holdMs: 600_000, maxLinksPerProxy: cap });
        planner.plan(world.nodes, [], 0);
        const rng = new Prng(seed);
        for (let step = 0; step < 80; step++) {
          const n = world.nodes[rng.int(world.nodes.length)] as PeerNode;
          const region = Math.max(0, world.regions.findIndex((r) => r.name === n.region));
          const change = planner.updateNode({ ...n, proxies: tunnelsFor(rng, region, shape, world.proxies) }, step * 1000);
          for (const l of change.added) assert.ok(world.proxies.find((p) => p.name === l.to)?.eligible);
        }
        const now = planner.current();
        checkPlan(world, planner.tunnelGroups, now, cap, cap >= 1_000);
        for (const l of now.links) {
          const target = world.proxies.findIndex((p) => p.name === l.to);
          const reach = now.reach.get(l.from);
          const expected = planner.tunnelGroups.reduce((n, g) => n + (reach?.[g.index] === target ? g.nodes.length : 0), 0);
          assert.equal(l.nodes, expected, `seed ${seed}, cap ${cap}: ${linkId(l)}`);
        }
        if (cap < 1_000) continue;
        // A full plan from where the increments left off adds nothing.
        const full = planLinks({ proxies: world.proxies, regions: world.regions, groups: planner.tunnelGroups, current: now.links, now: 60_000, holdMs: 600_000, maxLinksPerProxy: cap });
        assert.equal(full.links.filter((l) => l.added).length, 0);
      }
    }
  });
});

describe('coverage', () => {
  it('counts nodes with a live tunnel per region served, direct or through an active link', () => {
    const nodes = [
      { id: 'a', hostname: 'a', region: 'new-york', proxies: ['chi-1'] },
      { id: 'b', hostname: 'b', region: 'new-york', proxies: ['nyc-1'] },
    ];
    const { groups } = groupNodes(nodes, new Map(PROXIES.map((p, i) => [p.name, i])));
    assert.deepEqual(coverage(PROXIES, groups, []), [
      { region: 'chicago', nodes: 2, reachable: 1, ratio: 0.5 },
      { region: 'new-york', nodes: 2, reachable: 1, ratio: 0.5 },
      { region: 'tokyo', nodes: 2, reachable: 0, ratio: 0 },
    ]);
    assert.deepEqual(coverage(PROXIES, groups, [{ from: 'new-york', to: 'chi-1' }])[1], { region: 'new-york', nodes: 2, reachable: 2, ratio: 1 });
  });
});
