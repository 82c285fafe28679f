/**
 * The planner's flat, incremental code against a straightforward reference written from its
 * rules (sets and sorts, counts recomputed at every pick): the same groups and the same plan,
 * link for link, on random fleets, tunnel maps, caps and links in place.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compareLinks, linkId, type LinkKey, type PeerNode, type PeerProxy } from '../../src/peering/core/peering-input.js';
import { PeeringPlanner } from '../../src/peering/core/peering-planner.js';
import { AT_CAP, NO_TARGET, NOT_NEEDED, planLinks, type CurrentLink, type PeeringPlan, type PlanInput, type PlannedLink } from '../../src/peering/core/plan-links.js';
import { groupNodes } from '../../src/peering/core/tunnel-groups.js';
import { distanceKm } from '../../src/redirect/core/geo-distance.js';
import { Prng } from '../../src/sim/prng.js';
import { randomWorld, tunnelsFor, type PeeringWorld, type WorldShape } from '../helpers/random-peering.js';

interface RefGroup {
  readonly holders: number[];
  readonly nodes: number[];
}

/** Nodes by the set of fleet proxies holding their tunnels, groups in order of first node. */
function refGroups(nodes: readonly PeerNode[], proxies: readonly PeerProxy[]): RefGroup[] {
  const index = new Map(proxies.map((p, i) => [p.name, i]));
  const byKey = new Map<string, RefGroup>();
  nodes.forEach((n, i) => {
    const holders = [...new Set((n.proxies ?? []).flatMap((name) => (index.has(name) ? [index.get(name) as number] : [])))].sort((a, b) => a - b);
    if (!holders.length) return;
    const key = holders.join(',');
    const g = byKey.get(key) ?? { holders, nodes: [] };
    byKey.set(key, g);
    g.nodes.push(i);
  });
  return [...byKey.values()];
}

/** The plan from its rules: greedy cover per region, links in place first, hysteresis, the cap. */
function refPlan(input: PlanInput): PeeringPlan {
  const { proxies, groups, now, holdMs, maxLinksPerProxy: cap } = input;
  const points = new Map(input.regions.map((r) => [r.name, r]));
  const dist = (region: string, p: number): number => {
    const a = points.get(region);
    const b = points.get((proxies[p] as PeerProxy).region);
    return a && b ? distanceKm(a, b) : Number.MAX_SAFE_INTEGER;
  };
  const proxy = (p: number): PeerProxy => proxies[p] as PeerProxy;
  const index = new Map(proxies.map((p, i) => [p.name, i]));
  const incoming = proxies.map(() => 0);
  const sourceRegions = [...new Set(proxies.filter((p) => p.eligible).map((p) => p.region))].sort();
  const all = groups.map((_, gi) => gi);
  const live = (gi: number): boolean => (groups[gi]?.holders ?? []).some((h) => proxy(h).up);
  const local = (gi: number, region: string): boolean => (groups[gi]?.holders ?? []).some((h) => proxy(h).up && proxy(h).region === region);
  const open = new Map(sourceRegions.map((r) => [r, new Set(all.filter((gi) => live(gi) && !local(gi, r)))]));
  const reach = new Map(sourceRegions.map((r) => [r, new Int32Array(groups.length).fill(NOT_NEEDED)]));

  const cover = (region: string, allowed: (p: number) => boolean): Map<number, number> => {
    const o = open.get(region) as Set<number>;
    const r = reach.get(region) as Int32Array;
    const picked = new Map<number, number>();
    const full = new Set<number>();
    const km = proxies.map((_, p) => dist(region, p));
    for (;;) {
      const score = new Map<number, { p: number; groups: number; nodes: number }>();
      for (const gi of o) {
        for (const h of groups[gi]?.holders ?? []) {
          if (!proxy(h).eligible || !allowed(h) || full.has(h)) continue;
          const s = score.get(h) ?? { p: h, groups: 0, nodes: 0 };
          score.set(h, { p: h, groups: s.groups + 1, nodes: s.nodes + (groups[gi]?.nodes.length ?? 0) });
        }
      }
      const scored = [...score.values()].sort(
        (a, b) => b.groups - a.groups || b.nodes - a.nodes || (km[a.p] as number) - (km[b.p] as number) || (incoming[a.p] as number) - (incoming[b.p] as number) || (proxy(a.p).name < proxy(b.p).name ? -1 : 1),
      );
      const best = scored[0]?.p;
      if (best === undefined) return picked;
      if ((incoming[best] as number) >= cap) {
        full.add(best);
        continue;
      }
      incoming[best] = (incoming[best] as number) + 1;
      let nodes = 0;
      for (const gi of [...o]) {
        if (!groups[gi]?.holders.includes(best)) continue;
        o.delete(gi);
        r[gi] = best;
        nodes += groups[gi]?.nodes.length ?? 0;
      }
      picked.set(best, nodes);
    }
  };

  const current = [...new Map(input.current.map((l) => [linkId(l), l])).values()];
  const picks = new Map<string, Map<number, number>>();
  for (const region of sourceRegions) {
    const mine = new Set(current.filter((l) => l.from === region && index.has(l.to)).map((l) => index.get(l.to) as number));
    picks.set(region, mine.size ? cover(region, (p) => mine.has(p)) : new Map());
  }
  const links: PlannedLink[] = [];
  const removed: (LinkKey & { reason: string })[] = [];
  for (const l of current) {
    const to = index.get(l.to);
    if (to === undefined) {
      removed.push({ from: l.from, to: l.to, reason: `proxy ${l.to} is no longer in the fleet` });
      continue;
    }
    const nodes = picks.get(l.from)?.get(to);
    if (nodes !== undefined) {
      links.push({ from: l.from, to: l.to, nodes, needed: true, added: false });
      continue;
    }
    const since = l.unneededSince ?? now;
    if (now - since >= holdMs) {
      removed.push({ from: l.from, to: l.to, reason: `unneeded since ${new Date(since).toISOString()}, past the hold time` });
      continue;
    }
    incoming[to] = (incoming[to] as number) + 1;
    links.push({ from: l.from, to: l.to, nodes: 0, needed: false, unneededSince: since, added: false });
  }
  for (const region of sourceRegions) {
    for (const [to, nodes] of cover(region, () => true)) links.push({ from: region, to: proxy(to).name, nodes, needed: true, added: true });
    const r = reach.get(region) as Int32Array;
    for (const gi of open.get(region) ?? []) r[gi] = (groups[gi]?.holders ?? []).some((h) => proxy(h).eligible) ? AT_CAP : NO_TARGET;
  }
  links.sort(compareLinks);
  return { links, removed, sourceRegions, reach };
}

const SHAPES: WorldShape[] = [
  { regions: 3, proxiesPerRegion: 2, nodes: 60, tunnels: 1, remote: 0.3, down: 0.1, ineligible: 0.2, unknown: 0.05 },
  { regions: 6, proxiesPerRegion: 3, nodes: 300, tunnels: 2, remote: 0.15, down: 0.05, ineligible: 0.1, unknown: 0.02 },
  { regions: 10, proxiesPerRegion: 4, nodes: 500, tunnels: 3, remote: 0.4, down: 0.1, ineligible: 0.15, unknown: 0 },
  // Five tunnels: holder sets beyond three proxies.
  { regions: 5, proxiesPerRegion: 4, nodes: 300, tunnels: 5, remote: 0.5, down: 0.1, ineligible: 0.1, unknown: 0.02 },
  // More proxies than the flat pair table takes.
  { regions: 6, proxiesPerRegion: 180, nodes: 400, tunnels: 2, remote: 0.3, down: 0.05, ineligible: 0.05, unknown: 0.02 },
];

/** What inventories also hold: tunnels to proxies outside the fleet, a name twice, an empty list, a region without a point. */
function roughen(world: PeeringWorld, rng: Prng): PeeringWorld {
  const nodes = world.nodes.map((n): PeerNode => {
    if (!n.proxies || !rng.chance(0.1)) return n;
    const pick = rng.int(4);
    if (pick === 0) return { ...n, proxies: [...n.proxies, 'outside-1'] };
    if (pick === 1) return { ...n, proxies: [...n.proxies, ...n.proxies].reverse() };
    if (pick === 2) return { ...n, proxies: [] };
    return { ...n, proxies: ['outside-2'] };
  });
  return { ...world, nodes, regions: world.regions.slice(1) };
}

/** Links in place: from an earlier plan of another tunnel map, with hold times started, plus stale ones. */
function linksInPlace(world: PeeringWorld, shape: WorldShape, rng: Prng, cap: number): CurrentLink[] {
  const earlier = randomWorld(rng.int(1_000_000), shape);
  const { groups } = groupNodes(earlier.nodes, new Map(world.proxies.map((p, i) => [p.name, i])));
  const plan = planLinks({ proxies: world.proxies, regions: world.regions, groups, current: [], now: 0, holdMs: 1, maxLinksPerProxy: cap });
  const out: CurrentLink[] = plan.links.map((l) => (rng.chance(0.3) ? { from: l.from, to: l.to, unneededSince: rng.int(2_000_000) } : { from: l.from, to: l.to }));
  out.push({ from: 'nowhere', to: (world.proxies[0] as PeerProxy).name }, { from: out[0]?.from ?? 'x', to: 'gone-1' });
  const again = out[rng.int(out.length)] as CurrentLink;
  out.push({ from: again.from, to: again.to, unneededSince: 1_500_000 });
  return out;
}

describe('planLinks and groupNodes against a straightforward reference', () => {
  it('give the same groups and the same plan, link for link, on random inventories', () => {
    let checked = 0;
    const seen = { held: 0, removed: 0, atCap: 0, noTarget: 0 };
    for (let seed = 1; seed <= 30; seed++) {
      const shape = SHAPES[seed % SHAPES.length] as WorldShape;
      const rng = new Prng(seed * 101);
      const world = roughen(randomWorld(seed, shape), rng);
      const index = new Map(world.proxies.map((p, i) => [p.name, i]));
      const grouped = groupNodes(world.nodes, index);
      assert.deepEqual(
        grouped.groups.map((g) => ({ holders: [...g.holders], nodes: [...g.nodes] })),
        refGroups(world.nodes, world.proxies),
        `seed ${seed}: groups`,
      );
      grouped.groups.forEach((g, gi) => assert.equal(g.index, gi));
      for (const cap of [1, 3, 1_000]) {
        for (const current of [[], linksInPlace(world, shape, rng, cap)]) {
          const input: PlanInput = { proxies: world.proxies, regions: world.regions, groups: grouped.groups, current, now: 2_000_000, holdMs: 600_000, maxLinksPerProxy: cap };
          const plan = planLinks(input);
          assert.deepEqual(plan, refPlan(input), `seed ${seed}, cap ${cap}, ${current.length} links in place`);
          checked++;
          seen.held += plan.links.filter((l) => !l.needed).length;
          seen.removed += plan.removed.length;
          for (const r of plan.reach.values()) for (const t of r) if (t === AT_CAP) seen.atCap++;
          for (const r of plan.reach.values()) for (const t of r) if (t === NO_TARGET) seen.noTarget++;
        }
      }
    }
    assert.equal(checked, 180);
    // Every path of the plan was taken somewhere.
    for (const [what, n] of Object.entries(seen)) assert.ok(n > 0, `no ${what} in any plan`);
  });

  it('the planner plans what planLinks plans, and tunnel changes land in the right groups', () => {
    for (let seed = 1; seed <= 10; seed++) {
      const shape = SHAPES[seed % SHAPES.length] as WorldShape;
      const rng = new Prng(seed);
      const world = roughen(randomWorld(seed, shape), rng);
      const planner = new PeeringPlanner({ proxies: world.proxies, regions: world.regions, holdMs: 600_000, maxLinksPerProxy: 1_000 });
      const plan = planner.plan(world.nodes, [], 0);
      const groups = groupNodes(world.nodes, new Map(world.proxies.map((p, i) => [p.name, i]))).groups;
      assert.deepEqual(plan, refPlan({ proxies: world.proxies, regions: world.regions, groups, current: [], now: 0, holdMs: 600_000, maxLinksPerProxy: 1_000 }));
      const nodes = [...world.nodes];
      for (let step = 0; step < 40; step++) {
        const i = rng.int(nodes.length + 3);
        const node = i < nodes.length ? { ...(nodes[i] as PeerNode), proxies: tunnelsFor(rng, rng.int(shape.regions), shape, world.proxies) } : { id: `new-${step}`, hostname: `new-${step}`, proxies: tunnelsFor(rng, 0, shape, world.proxies) };
        planner.updateNode(node, step);
        if (i < nodes.length) nodes[i] = node;
        else nodes.push(node);
      }
      const byHolders = (gs: readonly { holders: readonly number[]; nodes: readonly number[] }[]): Map<string, number[]> =>
        new Map(gs.filter((g) => g.nodes.length).map((g) => [g.holders.join(','), [...g.nodes].sort((a, b) => a - b)]));
      assert.deepEqual(byHolders(planner.tunnelGroups), byHolders(refGroups(planner.nodeList, world.proxies)), `seed ${seed}`);
    }
  });
});
