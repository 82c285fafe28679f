import { test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import type { ProxyFleetSpec } from '../../src/model/fleet.js';
import type { ProxyPeering, ProxyPeeringSpec } from '../../src/model/peering.js';
import { API_VERSION } from '../../src/model/resource.js';
import { createPeeringReconciler } from '../../src/peering/peering-reconciler.js';
import { Prng } from '../../src/sim/prng.js';
import { fleet } from '../helpers/fleet-fixture.js';
import { ManualClock } from '../helpers/manual-clock.js';
import { Crash, CrashingStore, CrashPoints } from './helpers/crash-points.js';
import { PeeringWorld, type WorldState } from './helpers/peering-world.js';

interface Scenario {
  readonly fleet: ProxyFleetSpec;
  readonly spec: ProxyPeeringSpec;
  readonly outOfRotation: ReadonlySet<string>;
  readonly nodes: ReadonlyMap<string, { region: string; proxies: string[] }>;
  /** Nodes whose tunnels move later in the run (links added, then held and removed). */
  readonly moved: ReadonlyMap<string, { region: string; proxies: string[] }>;
}

/** A random fleet, inventory and ProxyPeering (shapes after test/helpers/random-peering.ts, as fleet specs). */
function randomScenario(seed: number): Scenario {
  const rng = new Prng(seed);
  const regions = Array.from({ length: 2 + rng.int(3) }, (_, i) => ({ name: `r${i}`, latitude: rng.between(-60, 70), longitude: rng.between(-180, 180), timeZone: 'UTC', ...(i === 0 ? { default: true } : {}) }));
  const proxies = regions.flatMap((r, i) =>
    Array.from({ length: 1 + rng.int(3) }, (_, j) => ({ name: `${r.name}-p${j}`, region: r.name, publicUrl: `https://${r.name}-p${j}.example.com`, diagnosticUrl: `http://10.0.${i}.${j + 1}:3000`, version: '17.4.2' })),
  );
  const outOfRotation = new Set(proxies.filter(() => rng.chance(0.15)).map((p) => p.name));
  // The first tunnel on a proxy in rotation: every node can be covered.
  const inRotation = proxies.filter((p) => !outOfRotation.has(p.name));
  const tunnels = (region: string): string[] => {
    const out = new Set<string>();
    for (let t = 0; t < 1 + rng.int(2); t++) {
      const r = rng.chance(0.35) ? (rng.pick(regions)?.name ?? region) : region;
      out.add(rng.pick((t ? proxies : inRotation).filter((p) => p.region === r))?.name ?? rng.pick(inRotation)?.name ?? '');
    }
    return [...out];
  };
  const nodes = new Map<string, { region: string; proxies: string[] }>();
  for (let i = 0; i < 6 + rng.int(30); i++) {
    const region = rng.pick(regions)?.name ?? 'r0';
    nodes.set(`node-${i}`, { region, proxies: tunnels(region) });
  }
  const moved = new Map([...nodes].filter(() => rng.chance(0.3)).map(([name, n]) => [name, { region: n.region, proxies: tunnels(n.region) }]));
  const spec: ProxyPeeringSpec = {
    inventory: { nodes: { url: 'http://inv/nodes' }, proxies: { url: 'http://inv/proxies' }, interval: '1m' },
    holdTime: '4m',
    verifyTimeout: '2m',
    agentConnectionCount: 1 + rng.int(3),
    apply: {
      ...(rng.chance(0.7) ? { clusterNetworking: { url: 'http://automation/cnc', read: { url: 'http://inv/cnc' } } } : {}),
      // Half the firewalls cannot say what they hold: an interrupted publish is then sent again as it was.
      allowList: { url: 'http://firewall/allow-list', ...(rng.chance(0.5) ? { readUrl: 'http://firewall/generation' } : {}) },
      configureProxies: rng.chance(0.8),
    },
  };
  return { fleet: { regions, proxies }, spec, outOfRotation, nodes, moved };
}

/** The passes of a run: how far the clock moves before each; the moved nodes move before pass 14. */
const SCHEDULE = [...Array<number>(14).fill(15_000), ...Array<number>(10).fill(60_000)];
const MOVE_AT = 14;

/** The state of a run at a point a crash could be made: the clean run's, from where a crashed run goes on. */
interface Checkpoint {
  readonly now: number;
  readonly objects: ReturnType<CrashingStore['saveObjects']>;
  readonly world: WorldState;
  readonly count: number;
  readonly pass: number;
}

/**
 * The scenario pass by pass over a crash-point-counting store and world; a crash kills the reconciler and a fresh one (nothing in memory) takes the next pass.
 * `record` keeps the state at every crash point (by `${point} ${after}`); `from` starts at one, the crash just made (the run is deterministic,
 * so up to its crash a crashed run is the clean run: the same as starting over with that crash, the quick way).
 */
async function run(s: Scenario, crash?: { at: number; after: boolean }, o: { readonly record?: Map<string, Checkpoint>; readonly from?: Checkpoint } = {}) {
  const { from } = o;
  const points = new CrashPoints(crash?.at, crash?.after);
  const clock = new ManualClock(from?.now ?? Date.UTC(2026, 0, 2));
  const store = new CrashingStore(points);
  const world = new PeeringWorld(s.fleet, points);
  let pass = from ? from.pass + 1 : 0;
  if (from) {
    points.count = from.count;
    points.crashes = 1;
    store.loadObjects(from.objects);
    world.restore(from.world);
  } else {
    for (const [name, n] of s.nodes) world.nodes.set(name, { ...n });
    // Without clusterNetworking in the spec, the operator switched the cluster on.
    if (!s.spec.apply?.clusterNetworking) world.strategy = { type: 'proxy_peering', agentConnectionCount: 2 };
    // Without configureProxies, the operator gave every proxy its peer listener.
    if (s.spec.apply?.configureProxies === false) for (const p of s.fleet.proxies) world.listeners.add(p.name);
    store.put(fleet(s.fleet));
    const peering: ProxyPeering = { apiVersion: API_VERSION, kind: 'ProxyPeering', metadata: { name: 'edge', namespace: 'default', generation: 1 }, spec: s.spec };
    store.put(peering);
  }
  const record = o.record;
  if (record) points.atCrashPoint = (after) => void record.set(`${points.count} ${after}`, { now: clock.now(), objects: store.saveObjects(), world: world.saveState(), count: points.count, pass });
  const fresh = () =>
    createPeeringReconciler({ store, clock, log: pino({ level: 'silent' }), snapshotOf: () => world.snapshot(), outOfRotation: () => s.outOfRotation, readInventory: world.read, actions: world.actions, configureProxy: world.configure });
  let reconciler = fresh();
  for (; pass < SCHEDULE.length; pass++) {
    if (pass === MOVE_AT) for (const [name, n] of s.moved) world.nodes.set(name, { ...n });
    clock.advance(SCHEDULE[pass] ?? 0);
    try {
      await reconciler.reconcile({ kind: 'ProxyPeering', namespace: 'default', name: 'edge' }, new AbortController().signal);
    } catch (e) {
      if (!(e instanceof Crash)) throw e;
      reconciler = fresh();
    }
  }
  const p = (await store.get('ProxyPeering', 'default', 'edge')) as ProxyPeering;
  return {
    points: points.count,
    crashes: points.crashes,
    world,
    end: {
      phase: p.status?.phase,
      message: p.status?.message,
      links: (p.status?.links ?? []).map((l) => `${l.from}->${l.to}:${l.state}`),
      strategy: world.strategy,
      rules: world.allowList?.rules.map((r) => `${r.from}->${r.to}@${r.toAddress}`),
      recordedGeneration: p.status?.allowList?.generation === world.allowList?.generation,
      listeners: [...world.listeners].sort(),
      inFlight: p.status?.inFlight,
    },
  };
}

/** Each change once, counted where it landed: no tctl create repeated, no allow-list re-sent under a new generation with the same rules, no configure request twice. */
function changesOnce(world: PeeringWorld, label: string): void {
  assert.equal(new Set(world.tctlCalls).size, world.tctlCalls.length, `${label}: tctl calls ${world.tctlCalls.join(', ')}`);
  world.generations.forEach((g, i) => {
    const before = world.generations[i - 1];
    assert.ok(!before || JSON.stringify(before.rules) !== JSON.stringify(g.rules), `${label}: generation ${g.generation} repeats ${before?.generation}`);
  });
  assert.equal(new Set(world.configureIds).size, world.configureIds.length, `${label}: configure ids`);
}

test('random peerings: a crash before or after any status write or outside change resumes to the same links, strategy and allow-list, with no change made twice', async () => {
  // Seeds with and without cluster networking, proxy configuration and a readable firewall.
  for (const seed of [7, 12, 19]) {
    const s = randomScenario(seed);
    const recorded = new Map<string, Checkpoint>();
    const clean = await run(s, undefined, { record: recorded });
    assert.equal(clean.end.phase, 'Covered', `seed ${seed}: the uncrashed run converges: ${clean.end.message}`);
    assert.ok(clean.world.generations.length > 0, `seed ${seed}: something was published`);
    changesOnce(clean.world, `seed ${seed}`);
    for (let at = 1; at <= clean.points; at++)
      for (const after of [false, true]) {
        const label = `seed ${seed}: crash ${after ? 'after' : 'before'} point ${at}`;
        const from = recorded.get(`${at} ${after}`);
        assert.ok(from, `${label}: the clean run has this point`);
        const crashed = await run(s, undefined, { from });
        // The quick way is the run from the start: the slow way agrees, at the first and last point.
        if ((at === 1 && !after) || (at === clean.points && after)) {
          const slow = await run(s, { at, after });
          assert.deepEqual([slow.crashes, slow.end, slow.world.saveState()], [crashed.crashes, crashed.end, crashed.world.saveState()], `${label}: the slow way`);
        }
        assert.equal(crashed.crashes, 1, `${label}: the crash happened`);
        assert.deepEqual(crashed.end, clean.end, label);
        changesOnce(crashed.world, label);
        assert.equal(crashed.world.tctlCalls.length, clean.world.tctlCalls.length, `${label}: tctl calls`);
        assert.deepEqual(crashed.world.generations.map((g) => g.rules), clean.world.generations.map((g) => g.rules), `${label}: the allow-lists published`);
        assert.deepEqual([...crashed.world.configureIds].sort(), [...clean.world.configureIds].sort(), `${label}: configure requests`);
      }
  }
});
