import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { parse } from 'yaml';
import type { ProxyFleet } from '../../src/model/fleet.js';
import { simOptionsFromFleet, startFleetSim, type FleetSim } from '../../src/sim/index.js';
import { copyDemoFleet } from '../helpers/demo-fleet-copy.js';
import { startNoticeReceiver, type ReceivedNotice } from './notice-receiver.js';

/** Simulated ms per real ms: ten simulated minutes a real second. */
export const TIME_FACTOR = 600;
/** How often every controller observes the fleet, and how long a scrape may take (real time; the CI machine is busy). */
export const OBSERVE = { observeInterval: '250ms', observeTimeout: '200ms' } as const;
/** Every day, all day: the demo's weekend windows made open now. */
const ALWAYS = [{ days: ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'], start: '00:00', duration: '24h' }];

/** A manifest as both stores take it: the API server's object body, or a document in the manifest directory. */
export interface Manifest {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: { readonly name: string };
  readonly spec: Record<string, unknown>;
}

/** One line of the simulator's log: what the fleet saw happen (a restart, an allow-list applied, …). */
export interface SimEntry {
  readonly msg: string;
  readonly proxy?: string;
  readonly action?: string;
  readonly generation?: number;
  readonly tunnelStrategy?: { readonly type?: string };
}

/** The demo fleet served by the bundled simulator, on ports free now, in a directory of its own. */
export interface DemoWorld {
  readonly dir: string;
  readonly fleet: ProxyFleet;
  readonly sim: FleetSim;
  /** Everything the simulator logged, in order. */
  readonly seen: readonly SimEntry[];
  /** The rollout's notices as its webhook channel delivered them, in order (a resend included). */
  readonly notices: readonly ReceivedNotice[];
  /** The demo's manifests, made to run now (see demoManifests). */
  readonly manifests: DemoManifests;
  /** Restarts the simulator made, by proxy (an upgrade is a restart as the new version). */
  restarts(): Map<string, number>;
  /** What the simulator's control API answers for `path`. */
  control<T>(path: string): Promise<T>;
  close(): Promise<void>;
}

export interface DemoManifests {
  readonly fleet: Manifest;
  /** examples/rollouts/follow-the-sun.yaml, started, its notices posted to the world's receiver. */
  readonly rollout: Manifest;
  /** examples/canaries/debug-build.yaml, started. */
  readonly canary: Manifest;
  /** examples/fleet/peering.yaml, its allow-list file in the world's directory. */
  readonly peering: Manifest;
}

/**
 * Starts the simulator for a copy of examples/fleet (the same seed and start time in every world:
 * two worlds start alike, though their agents' reconnects part ways as real time goes) and reads
 * the demo's manifests, made to run now: windows open all week, short notices and drains, a bake of an hour in two analysis intervals.
 */
export async function startDemoWorld(): Promise<DemoWorld> {
  const dir = await mkdtemp(join(tmpdir(), 'meridian-k8s-'));
  try {
    return await worldIn(dir);
  } catch (e) {
    await rm(dir, { recursive: true, force: true });
    throw e;
  }
}

async function worldIn(dir: string): Promise<DemoWorld> {
  await copyDemoFleet(join(dir, 'fleet'));
  const fleet = parse(await readFile(join(dir, 'fleet', 'fleet.yaml'), 'utf8')) as ProxyFleet;
  const upgrade = fleet.spec.proxies[0]?.upgrade;
  const control = new URL(upgrade?.method === 'webhook' && upgrade.url ? upgrade.url : 'http://127.0.0.1:0');
  const seen: SimEntry[] = [];
  const log = pino({ level: 'info' }, { write: (line: string) => void seen.push(JSON.parse(line) as SimEntry) });
  const sim = await startFleetSim(
    simOptionsFromFleet(fleet.spec, { timeFactor: TIME_FACTOR, tickMs: 50, seed: 5, controlHost: '127.0.0.1', controlPort: Number(control.port), startAt: Date.UTC(2026, 0, 6, 12), sessionsPerProxy: 20, log }),
  );
  const receiver = await startNoticeReceiver();
  const manifests = await demoManifests(dir, fleet, receiver.url);
  return {
    dir,
    fleet,
    sim,
    seen,
    notices: receiver.received,
    manifests,
    restarts: () => {
      const n = new Map<string, number>();
      for (const e of seen) if (e.msg === 'Proxy restarted' && e.proxy) n.set(e.proxy, (n.get(e.proxy) ?? 0) + 1);
      return n;
    },
    control: async <T>(path: string) => (await (await fetch(`${sim.controlUrl}${path}`)).json()) as T,
    close: async () => {
      await sim.close();
      await receiver.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function demoManifests(dir: string, fleet: ProxyFleet, noticeUrl: string): Promise<DemoManifests> {
  const windows = Object.fromEntries(fleet.spec.regions.map((r) => [r.name, ALWAYS]));
  const read = async (file: string): Promise<Manifest> => parse(await readFile(file, 'utf8')) as Manifest;
  const rollout = await read('examples/rollouts/follow-the-sun.yaml');
  const canary = await read('examples/canaries/debug-build.yaml');
  const peering = await read(join(dir, 'fleet', 'peering.yaml'));
  const apply = peering.spec['apply'] as { allowList: Record<string, unknown> };
  return {
    fleet: { ...fleet, metadata: { name: fleet.metadata.name } } as unknown as Manifest,
    rollout: {
      ...rollout,
      spec: {
        ...rollout.spec,
        paused: false,
        maintenanceWindows: windows,
        notice: { leadTimes: ['10m'], channels: [{ name: 'users', type: 'webhook', url: noticeUrl }] },
        drain: { deadline: '10m', meanSessionDuration: '5m' },
        // Longer than a leader hand-over: the replicas' 3 s Lease is 30 simulated minutes.
        verify: { consecutiveScrapes: 2, timeout: '2h' },
      },
    },
    canary: {
      ...canary,
      // verify as the rollout's: longer than a hand-over, and than a busy machine's slow scrapes. A busy
      // machine misses scrapes too (canary and baseline alike): what is proven here is the hand-over, not the judging.
      spec: {
        ...canary.spec,
        paused: false,
        bakeTime: '1h',
        analysisInterval: '30m',
        analysis: { checks: [...((canary.spec['analysis'] as { checks?: unknown[] } | undefined)?.checks ?? []), { name: 'readyz-failures', max: 0.9 }] },
        maintenanceWindows: { tokyo: ALWAYS, london: ALWAYS },
        notice: { leadTimes: ['10m'], rollbackLeadTime: '5m' },
        drain: { deadline: '10m' },
        verify: { consecutiveScrapes: 2, timeout: '2h' },
      },
    },
    // The example's allow-list file is relative to the working directory: kept in the world's own.
    peering: { ...peering, spec: { ...peering.spec, apply: { ...apply, allowList: { ...apply.allowList, file: join(dir, 'peer-allow-list.json') } } } },
  };
}
