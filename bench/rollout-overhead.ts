/**
 * The rolling upgrade's own overhead (issue #4): a time-compressed rollout of 500 proxies in 20
 * regions (4 follow-the-sun waves, weekend windows in each region's time zone, notices 24h/1h/10m
 * ahead, drains up to 30 min, 3-scrape verification), run by the real reconciler over the real
 * file store (status written with fsync) against a simulated world (sessions that end, an upgrade
 * hook that restarts a proxy, a notice channel).
 *
 * Discrete-event time: the clock stands still while the controller works and then moves by the
 * real time the pass took; between passes it jumps to the next thing the spec makes it wait for
 * (the next observation, window, notice or deadline). So the total is the controller's busy time
 * plus the imposed waits, and the overhead is busy / total. Target: under 1%.
 *
 * Baseline in the same run: the same rollout over an in-memory store (no disk), which shows what
 * persisting every step costs.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { stringify } from 'yaml';
import { writeFile } from 'node:fs/promises';
import { FileStore } from '../src/adapters/file-store/index.js';
import type { ProxyFleetSpec, Weekday } from '../src/model/fleet.js';
import { OUT_OF_ROTATION_STEPS, type ProxyRolloutSpec, type ProxyRolloutStatus } from '../src/model/rollout.js';
import type { Store } from '../src/model/store.js';
import { createRolloutReconciler } from '../src/rollout/rollout-reconciler.js';
import { fleet } from '../test/helpers/fleet-fixture.js';
import { ManualClock } from '../test/helpers/manual-clock.js';
import { MemoryStore } from '../test/helpers/memory-store.js';
import { RolloutWorld } from '../test/rollout/helpers/rollout-world.js';

const REGIONS = 20;
const PER_REGION = 25;
const SCRAPE_MS = 15_000;
const ZONES = ['Asia/Tokyo', 'Asia/Seoul', 'Asia/Singapore', 'Australia/Sydney', 'Asia/Kolkata', 'Asia/Dubai', 'Europe/Moscow', 'Europe/Berlin', 'Europe/London', 'Europe/Paris', 'Africa/Lagos', 'Africa/Johannesburg', 'America/Sao_Paulo', 'America/Argentina/Buenos_Aires', 'America/New_York', 'America/Toronto', 'America/Chicago', 'America/Denver', 'America/Los_Angeles', 'Pacific/Honolulu'];

function scenario(): { fleet: ProxyFleetSpec; rollout: ProxyRolloutSpec } {
  const weekend: Weekday[] = ['Sat', 'Sun'];
  const regions = ZONES.slice(0, REGIONS).map((timeZone, i) => ({ name: `r${String(i).padStart(2, '0')}`, latitude: 0, longitude: 0, timeZone, maintenanceWindows: [{ days: weekend, start: '01:00', duration: '5h' }] }));
  const proxies = regions.flatMap((r) =>
    Array.from({ length: PER_REGION }, (_, j) => ({
      name: `${r.name}-p${String(j).padStart(2, '0')}`,
      region: r.name,
      publicUrl: `https://${r.name}-p${j}.example.com`,
      diagnosticUrl: `http://127.0.0.1:${2000 + j}`,
      version: '17.4.2',
      upgrade: { method: 'webhook' as const, url: 'https://automation.example.com/upgrade' },
    })),
  );
  const waveSize = REGIONS / 4;
  return {
    fleet: { regions, proxies },
    rollout: {
      version: '17.5.0',
      waves: [0, 1, 2, 3].map((w) => ({ name: `wave-${w}`, regions: regions.slice(w * waveSize, (w + 1) * waveSize).map((r) => r.name) })),
      maxUnavailable: '25%',
      notice: { leadTimes: ['24h', '1h', '10m'], channels: [{ name: 'ops', type: 'webhook', url: 'https://notify.example.com' }] },
      drain: { deadline: '30m' },
      verify: { consecutiveScrapes: 3, timeout: '10m' },
    },
  };
}

interface Run {
  readonly busyMs: number;
  readonly waitMs: number;
  readonly passes: number;
  readonly passMs: number[];
  readonly phase: string | undefined;
  readonly cpuMs: number;
}

async function run(label: string, makeStore: (f: ProxyFleetSpec, r: ProxyRolloutSpec) => Promise<{ store: Store; close: () => Promise<void> }>): Promise<Run> {
  const { fleet: spec, rollout } = scenario();
  const clock = new ManualClock(Date.UTC(2026, 0, 1));
  const world = new RolloutWorld(spec, clock, (n) => 50 + (n.length * 37) % 300, { sessionHalfLifeMs: 600_000 });
  const { store, close } = await makeStore(spec, rollout);
  const reconciler = createRolloutReconciler({ store, clock, log: pino({ level: 'silent' }), snapshotOf: () => world.snapshot(), sendNotice: world.sendNotice, runHook: world.runHook });
  const key = { kind: 'ProxyRollout', namespace: 'default', name: 'upgrade' };
  const signal = new AbortController().signal;
  const passMs: number[] = [];
  let busyMs = 0;
  let waitMs = 0;
  let status: ProxyRolloutStatus = {};
  const cpu0 = process.cpuUsage();
  for (;;) {
    const t0 = performance.now();
    const { requeueAfterMs } = await reconciler.reconcile(key, signal);
    status = (await store.get('ProxyRollout', 'default', 'upgrade'))?.status ?? {};
    const dt = performance.now() - t0;
    passMs.push(dt);
    busyMs += dt;
    clock.advance(Math.round(dt));
    if (status.phase === 'Completed' || status.phase === 'Failed' || status.phase === 'Invalid') break;
    if (requeueAfterMs === 0) continue;
    const held = new Set((status.proxies ?? []).filter((p) => OUT_OF_ROTATION_STEPS.has(p.step)).map((p) => p.name));
    const wait = Math.max(1, held.size ? Math.min(requeueAfterMs ?? SCRAPE_MS, SCRAPE_MS) : (requeueAfterMs ?? 3_600_000));
    clock.advance(wait);
    world.tick(wait, held);
    waitMs += wait;
  }
  const cpu = process.cpuUsage(cpu0);
  await close();
  if (status.phase !== 'Completed') throw new Error(`${label}: the rollout ended ${status.phase ?? '?'}: ${status.message ?? ''}`);
  return { busyMs, waitMs, passes: passMs.length, passMs, phase: status.phase, cpuMs: (cpu.user + cpu.system) / 1000 };
}

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? 0;
}

function report(label: string, r: Run): void {
  const total = r.busyMs + r.waitMs;
  console.log(
    `${label.padEnd(12)} overhead ${((100 * r.busyMs) / total).toFixed(4)}% (busy ${(r.busyMs / 1000).toFixed(2)} s of ${(total / 3_600_000).toFixed(1)} h)  passes ${r.passes}  pass p50 ${pct(r.passMs, 50).toFixed(2)} ms p99 ${pct(r.passMs, 99).toFixed(2)} ms max ${Math.max(...r.passMs).toFixed(1)} ms  CPU ${(r.cpuMs / 1000).toFixed(2)} s`,
  );
}

const dir = await mkdtemp(join(tmpdir(), 'meridian-bench-rollout-'));
try {
  const memory = await run('memory', async (f, r) => {
    const store = new MemoryStore();
    store.put(fleet(f));
    store.put({ apiVersion: 'meridian.dev/v1alpha1', kind: 'ProxyRollout', metadata: { name: 'upgrade', namespace: 'default', generation: 1 }, spec: r });
    return { store, close: async () => undefined };
  });
  const rssBefore = process.memoryUsage().rss;
  const file = await run('file store', async (f, r) => {
    const manifests = join(dir, 'manifests');
    await import('node:fs/promises').then((fs) => fs.mkdir(manifests, { recursive: true }));
    await writeFile(join(manifests, 'fleet.yaml'), `${stringify({ apiVersion: 'meridian.dev/v1alpha1', kind: 'ProxyFleet', metadata: { name: 'demo' }, spec: f })}---\n${stringify({ apiVersion: 'meridian.dev/v1alpha1', kind: 'ProxyRollout', metadata: { name: 'upgrade' }, spec: r })}`);
    const store = new FileStore({ manifestDir: manifests, stateDir: join(dir, 'state'), log: pino({ level: 'silent' }), clock: { now: () => Date.now() }, watchFiles: false });
    await store.start();
    return { store, close: () => store.close() };
  });
  console.log(`rollout of ${REGIONS * PER_REGION} proxies in ${REGIONS} regions, 4 waves, weekend windows (time-compressed, discrete-event clock)`);
  report('file store', file);
  report('memory', memory);
  console.log(`persistence cost: file-store busy time ${(file.busyMs / memory.busyMs).toFixed(2)}x the in-memory baseline; target overhead < 1%`);
  const mem = process.memoryUsage();
  console.log(`memory: RSS ${(mem.rss / 1e6).toFixed(0)} MB (before the file-store run ${(rssBefore / 1e6).toFixed(0)} MB), heap used ${(mem.heapUsed / 1e6).toFixed(0)} MB`);
} finally {
  await rm(dir, { recursive: true, force: true });
}
