/**
 * Failover freshness of the login redirect, under steady load against 2,000 simulated proxies:
 * how long after a proxy stops (immediate shutdown) or is cordoned (`cordoned: true` written to
 * the ProxyFleet manifest) the last redirect is sent to it.
 * Targets (issue #3): under 5 s, and never more than two observation intervals.
 *
 * Three processes: the simulator (sim-fleet-child.ts), Meridian (this file with `--meridian`,
 * started through startMeridian on a temporary manifest directory, `sim: false`, trusting the
 * loopback as its load balancer), and this one, which sends the load (paced-load.ts) and reads
 * every answer's Location.
 *
 * Load: clients (client-pool.ts) whose /nearest answer is the busiest region, 2,000 req/s.
 * Before each event a short discovery run finds the proxies that region's clients are being
 * sent to; the measured run then sends most of its requests from the clients of the target
 * proxies, so each target gets hundreds of redirects a second and its last one is timed to a
 * few ms (the rest come from other clients of the region). Three proxies are stopped a third of an interval apart (each meets the observation
 * cycle at a different phase); then one is cordoned. The admin API's explain-redirect is polled
 * meanwhile, for when the routing table itself changed.
 */
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import pino from 'pino';
import { stringify } from 'yaml';
import { defaultGeoIpPaths, openGeoDatabase } from '../src/adapters/geoip/index.js';
import { buildConfig } from '../src/config.js';
import { startMeridian } from '../src/main.js';
import { drawClientPool, type PoolClient } from './client-pool.js';
import { pacedLoad, type PacedRequest } from './paced-load.js';

const PROXIES = Number(process.env['BENCH_PROXIES'] ?? 2000);
const INTERVAL_S = Number(process.env['BENCH_OBSERVE_INTERVAL_S'] ?? 2);
const TIMEOUT_S = INTERVAL_S / 2;
const RATE = 2000;
const STOPS = 3;
/** How long the load goes on after the last event: the target bound (2 intervals) and as much again to confirm. */
const WATCH_S = 4 * INTERVAL_S;
const REGIONS = [
  { name: 'tokyo', latitude: 35.6762, longitude: 139.6503, timeZone: 'Asia/Tokyo' },
  { name: 'sydney', latitude: -33.8688, longitude: 151.2093, timeZone: 'Australia/Sydney' },
  { name: 'london', latitude: 51.5074, longitude: -0.1278, timeZone: 'Europe/London', default: true },
  { name: 'chicago', latitude: 41.8781, longitude: -87.6298, timeZone: 'America/Chicago' },
  { name: 'new-york', latitude: 40.7128, longitude: -74.006, timeZone: 'America/New_York' },
  { name: 'sao-paulo', latitude: -23.5505, longitude: -46.6333, timeZone: 'America/Sao_Paulo' },
];

interface SimProxy {
  readonly name: string;
  readonly region: string;
  readonly diagnosticUrl: string;
}

// ---------------------------------------------------------------------------------------------
// The Meridian process

/** `--meridian DIR`: Meridian on DIR/manifests; prints {loginUrl, adminUrl}; closes when stdin does. */
async function runMeridian(dir: string): Promise<void> {
  const config = buildConfig([
    {
      source: 'bench',
      values: {
        manifestDir: join(dir, 'manifests'),
        stateDir: join(dir, 'state'),
        admin: '127.0.0.1:0',
        public: '127.0.0.1:0',
        sim: 'false',
        observeInterval: `${INTERVAL_S * 1000}ms`,
        observeTimeout: `${TIMEOUT_S * 1000}ms`,
        trustedProxies: '127.0.0.1/32',
        logLevel: 'error',
      },
    },
  ]);
  if (!config.ok) throw new Error(config.error.join('; '));
  const meridian = await startMeridian(config.value, pino({ level: config.value.logLevel }, pino.destination(2)));
  process.stdout.write(`${JSON.stringify({ loginUrl: meridian.loginUrl, adminUrl: meridian.adminUrl })}\n`);
  process.stdin.resume();
  process.stdin.on('end', () => void meridian.close().then(() => process.exit(0)));
}

// ---------------------------------------------------------------------------------------------
// Harness

type Child = ChildProcessByStdio<Writable, Readable, null>;

function startChild(args: readonly string[]): { child: Child; firstLine: Promise<string>; exited: Promise<number | null> } {
  const child: Child = spawn(process.execPath, ['--import', 'tsx', ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
  const exited = new Promise<number | null>((r) => child.once('exit', r));
  const firstLine = new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout }).once('line', resolve);
    void exited.then((code) => reject(new Error(`${args.join(' ')} exited with ${code} before answering`)));
  });
  return { child, firstLine, exited };
}

async function waitFor<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const v = await probe().catch(() => undefined);
    if (v !== undefined) return v;
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

const LOCATION = /\r\nlocation: https:\/\/([^./]+)\./i;

/** Round robin over the groups, each group round robin over its clients. */
function interleave(groups: readonly (readonly PoolClient[])[]): PacedRequest[] {
  const live = groups.filter((g) => g.length > 0);
  const longest = Math.max(...live.map((g) => g.length));
  const out: PacedRequest[] = [];
  for (let i = 0; i < longest; i++) for (const g of live) out.push({ path: '/', headers: { 'x-forwarded-for': (g[i % g.length] as PoolClient).ip } });
  return out;
}

interface Sighting {
  readonly proxy: string;
  readonly ip: string;
  readonly at: number;
}

/** Runs paced load over `requests` until `during` (called once answers flow) resolves; every redirect's proxy and time. */
async function underLoad<T>(loginUrl: string, requests: readonly PacedRequest[], during: (seen: readonly Sighting[]) => Promise<T>): Promise<{ value: T; seen: Sighting[]; bad: Map<number, number> }> {
  const seen: Sighting[] = [];
  const stop = new AbortController();
  const run = pacedLoad({
    url: loginUrl,
    requests,
    rate: RATE,
    seconds: 120,
    signal: stop.signal,
    onResponse: (head, at, i) => {
      const m = LOCATION.exec(head);
      if (m?.[1]) seen.push({ proxy: m[1], ip: requests[i]?.headers['x-forwarded-for'] ?? '', at });
    },
  });
  try {
    await waitFor('the first redirect', 10_000, async () => (seen.length > 0 ? true : undefined));
    const value = await during(seen);
    return { value, seen, bad: new Map([...(await finish()).statusCounts].filter(([code]) => code !== 302)) };
  } catch (e) {
    await finish();
    throw e;
  }
  async function finish() {
    stop.abort();
    return run;
  }
}

/** The proxies that got the most redirects in the last `windowMs`, with the clients sent to each. */
function busiest(seen: readonly Sighting[], windowMs: number, exclude: ReadonlySet<string>): { proxy: string; clients: string[]; count: number }[] {
  const since = performance.now() - windowMs;
  const by = new Map<string, { count: number; clients: Set<string> }>();
  for (const s of seen) {
    if (s.at < since || exclude.has(s.proxy)) continue;
    const e = by.get(s.proxy) ?? { count: 0, clients: new Set<string>() };
    e.count++;
    e.clients.add(s.ip);
    by.set(s.proxy, e);
  }
  return [...by]
    .map(([proxy, e]) => ({ proxy, clients: [...e.clients], count: e.count }))
    .sort((a, b) => b.count - a.count);
}

interface Outcome {
  readonly proxy: string;
  /** performance.now() of the event. */
  readonly at: number;
  /** Redirects to it per second in the second before the event. */
  readonly rateBefore: number;
  /** Last redirect to it after the event, seconds after it (0: none after). */
  readonly lastAfterS: number;
  /** Redirects to it after the event. */
  readonly after: number;
  /** When explain-redirect first showed it out of rotation, seconds after the event. */
  readonly tableS?: number;
  readonly tableState?: string;
}

function outcomeOf(seen: readonly Sighting[], proxy: string, at: number, table: ReadonlyMap<string, { at: number; state: string }>): Outcome {
  let last = -Infinity;
  let after = 0;
  let before = 0;
  for (const s of seen) {
    if (s.proxy !== proxy) continue;
    if (s.at >= at) {
      after++;
      last = Math.max(last, s.at);
    } else if (s.at >= at - 1000) before++;
  }
  const t = table.get(proxy);
  return {
    proxy,
    at,
    rateBefore: before,
    lastAfterS: after ? (last - at) / 1000 : 0,
    after,
    ...(t ? { tableS: (t.at - at) / 1000, tableState: t.state } : {}),
  };
}

interface ExplainBody {
  explanation: { observedAt: string; regions: { region: string; proxies: { name: string; state: string }[] }[] };
}

/** Polls explain-redirect until stopped; records when each watched proxy first left the eligible state. */
function watchTable(adminUrl: string, ip: string, region: string, watched: () => readonly string[]): { changes: Map<string, { at: number; state: string }>; stop: () => Promise<void> } {
  const changes = new Map<string, { at: number; state: string }>();
  let running = true;
  const loop = (async () => {
    while (running) {
      try {
        const body = (await (await fetch(new URL(`/api/v1/explain-redirect?ip=${encodeURIComponent(ip)}`, adminUrl))).json()) as ExplainBody;
        const at = performance.now();
        const proxies = body.explanation.regions.find((r) => r.region === region)?.proxies ?? [];
        for (const name of watched()) {
          const p = proxies.find((x) => x.name === name);
          if (p && p.state !== 'eligible' && p.state !== 'full' && !changes.has(name)) changes.set(name, { at, state: p.state });
        }
      } catch {
        // A missed poll only makes the table figure coarser.
      }
      await sleep(100);
    }
  })();
  return {
    changes,
    stop: async () => {
      running = false;
      await loop;
    },
  };
}

async function main(): Promise<void> {
  const load0 = loadavg();
  const dir = await mkdtemp(join(tmpdir(), 'meridian-failover-'));
  const sim = startChild(['bench/sim-fleet-child.ts', String(PROXIES), '--with-control']);
  let meridian: ReturnType<typeof startChild> | undefined;
  let stopTable: (() => Promise<void>) | undefined;
  try {
    const { controlUrl, proxies } = JSON.parse(await sim.firstLine) as { controlUrl: string; proxies: SimProxy[] };
    const fleetDoc = {
      apiVersion: 'meridian.dev/v1alpha1',
      kind: 'ProxyFleet',
      metadata: { name: 'bench' },
      spec: {
        regions: REGIONS,
        proxies: proxies.map((p) => ({ name: p.name, region: p.region, publicUrl: `https://${p.name}.example.com`, diagnosticUrl: p.diagnosticUrl, version: '17.4.2' })) as Record<string, unknown>[],
      },
    };
    const manifests = join(dir, 'manifests');
    const fleetFile = join(manifests, 'fleet.yaml');
    await mkdir(manifests);
    await writeFile(fleetFile, stringify(fleetDoc));

    const started = performance.now();
    meridian = startChild(['bench/failover-freshness.ts', '--meridian', dir]);
    const { loginUrl, adminUrl } = JSON.parse(await meridian.firstLine) as { loginUrl: string; adminUrl: string };
    await waitFor('Meridian to be ready (first observation)', 30_000, async () => ((await fetch(new URL('/readyz', adminUrl))).status === 200 ? true : undefined));
    const readyS = (performance.now() - started) / 1000;

    // Which region each client is sent to; the load comes from the busiest one.
    const paths = defaultGeoIpPaths();
    const db = await openGeoDatabase(paths);
    if (!db.ok) throw new Error(db.error);
    const pool = drawClientPool(db.value, { size: 3000, v6File: paths[1] ?? '' });
    const byRegion = new Map<string, PoolClient[]>();
    let next = 0;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (next < pool.length) {
          const c = pool[next++] as PoolClient;
          const r = await fetch(new URL('/nearest', loginUrl), { headers: { 'x-forwarded-for': c.ip } });
          const { region } = (await r.json()) as { region: string };
          byRegion.set(region, [...(byRegion.get(region) ?? []), c]);
        }
      }),
    );
    const [region, regionClients] = [...byRegion].sort((a, b) => b[1].length - a[1].length)[0] ?? ['', []];
    const asClients = (ips: readonly string[]): PoolClient[] => ips.map((ip) => ({ ip, continent: '', country: '' }));
    let cordon: { proxy: string } | undefined;
    const stops: { proxy: string; at: number }[] = [];
    const table = watchTable(adminUrl, regionClients[0]?.ip ?? '', region, () => [...stops.map((s) => s.proxy), ...(cordon ? [cordon.proxy] : [])]);
    stopTable = table.stop;

    // 1. Stops: discover, then load with three quarters of the requests from the targets' clients, stop them a third of an interval apart.
    const found = await underLoad(loginUrl, interleave([regionClients]), async () => {
      await sleep(2000);
      return [];
    });
    const targets = busiest(found.seen, 1000, new Set()).slice(0, STOPS);
    const stopRun = await underLoad(loginUrl, interleave([...targets.map((t) => asClients(t.clients)), regionClients.slice(0, 200)]), async () => {
      await sleep(1000);
      for (const t of targets) {
        const at = performance.now();
        const r = await fetch(`${controlUrl}/proxies/${t.proxy}/shutdown`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ mode: 'immediate' }) });
        if (r.status !== 200) throw new Error(`shutdown ${t.proxy}: ${r.status} ${await r.text()}`);
        stops.push({ proxy: t.proxy, at });
        await sleep((INTERVAL_S * 1000) / STOPS);
      }
      await sleep(WATCH_S * 1000);
    });

    // 2. Cordon: discover again (the stopped ones excluded), then write cordoned: true into the manifest.
    const found2 = await underLoad(loginUrl, interleave([regionClients]), async () => {
      await sleep(1500);
    });
    const [cordonTarget] = busiest(found2.seen, 1000, new Set(stops.map((s) => s.proxy)));
    if (!cordonTarget) throw new Error('no proxy received redirects in the discovery run');
    cordon = { proxy: cordonTarget.proxy };
    let cordonAt = 0;
    const cordonRun = await underLoad(loginUrl, interleave([asClients(cordonTarget.clients), regionClients.slice(0, 200)]), async () => {
      await sleep(1000);
      const spec = fleetDoc.spec.proxies.find((p) => p['name'] === cordonTarget.proxy);
      if (!spec) throw new Error(`${cordonTarget.proxy} is not in the manifest`);
      spec['cordoned'] = true;
      const text = stringify(fleetDoc);
      cordonAt = performance.now();
      // As an editor or a git checkout would: a new file renamed over the old (hidden names are ignored by the store).
      await writeFile(join(manifests, '.fleet.yaml.tmp'), text);
      await rename(join(manifests, '.fleet.yaml.tmp'), fleetFile);
      await sleep(WATCH_S * 1000);
    });
    await table.stop();

    const metrics = await (await fetch(new URL('/metrics', adminUrl))).text();
    const metric = (name: string): number => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(metrics)?.[1] ?? NaN);
    const cycles = metric('meridian_observation_cycle_seconds_count');
    const meanCycleS = metric('meridian_observation_cycle_seconds_sum') / cycles;

    // Figures.
    const stopOutcomes = stops.map((s) => outcomeOf(stopRun.seen, s.proxy, s.at, table.changes));
    const cordonOutcome = outcomeOf(cordonRun.seen, cordonTarget.proxy, cordonAt, table.changes);
    const bound = Math.min(5, 2 * INTERVAL_S);
    const verdict = (ok: boolean): string => (ok ? 'ok' : 'MISSED');
    // The later of the last redirect seen and the table's change: a proxy can drop out of its region's
    // candidates through load alone before it is seen down, which would flatter the redirect figure.
    const worstOf = (o: Outcome): number => Math.max(o.lastAfterS, o.tableS ?? Infinity);
    const describe = (o: Outcome): string =>
      `${o.proxy.padEnd(7)} last redirect to it ${o.lastAfterS.toFixed(2)} s after (${String(o.after).padStart(4)} after, ${String(o.rateBefore).padStart(3)}/s before); routing table: ${o.tableState ?? '?'} at +${o.tableS?.toFixed(2) ?? '?'} s`;
    const stillSent = (o: Outcome): boolean => o.lastAfterS > WATCH_S - INTERVAL_S;
    const worstStop = Math.max(...stopOutcomes.map(worstOf));
    const bad = [...stopRun.bad, ...cordonRun.bad, ...found.bad, ...found2.bad];

    console.log(`failover freshness, ${PROXIES} proxies in ${REGIONS.length} regions, observation interval ${INTERVAL_S} s (scrape timeout ${TIMEOUT_S} s), ${RATE} req/s from clients sent to ${region} (${regionClients.length} of ${pool.length})`);
    console.log(`  machine     ${cpus().length} CPUs, load average ${load0.map((x) => x.toFixed(2)).join(' ')} at start, ${loadavg().map((x) => x.toFixed(2)).join(' ')} at end`);
    console.log(`  Meridian    ready ${readyS.toFixed(1)} s after start; observation cycle mean ${meanCycleS.toFixed(2)} s over ${cycles} cycles (worst case to notice a stop: interval + cycle = ${(INTERVAL_S + meanCycleS).toFixed(2)} s)`);
    console.log(`  stop        (POST /proxies/NAME/shutdown {"mode":"immediate"}, ${STOPS} proxies ${(INTERVAL_S / STOPS).toFixed(2)} s apart)`);
    for (const o of stopOutcomes) console.log(`              ${describe(o)}`);
    console.log(`    time until no redirect goes to a stopped proxy: worst ${worstStop.toFixed(2)} s   (target < 5 s and <= 2 intervals = ${bound} s: ${verdict(worstStop < 5 && worstStop <= 2 * INTERVAL_S && !stopOutcomes.some(stillSent))})   [each: ${stopOutcomes.map((o) => worstOf(o).toFixed(2)).join(' ')} s]`);
    console.log(`  cordon      (cordoned: true written to the manifest: a new file renamed over fleet.yaml)`);
    console.log(`              ${describe(cordonOutcome)}`);
    console.log(`    time until no redirect goes to the cordoned proxy: ${worstOf(cordonOutcome).toFixed(2)} s   (target < 5 s and <= 2 intervals = ${bound} s: ${verdict(worstOf(cordonOutcome) < 5 && worstOf(cordonOutcome) <= 2 * INTERVAL_S && !stillSent(cordonOutcome))})`);
    console.log(`  (each time is the later of the last redirect seen and the routing table's change: a proxy can leave its region's candidates through load before it is seen down)`);
    for (const o of [...stopOutcomes, cordonOutcome]) if (o.rateBefore === 0) console.log(`  NOTE ${o.proxy} received no redirects in the second before the event: its figure says little`);
    if (bad.length) {
      console.log(`  UNEXPECTED answers: ${bad.map(([code, n]) => `${n}x ${code}`).join(', ')}`);
      process.exitCode = 1;
    }
  } finally {
    await stopTable?.();
    if (meridian) {
      meridian.child.stdin.end();
      await meridian.exited;
    }
    sim.child.stdin.end();
    await sim.exited;
    await rm(dir, { recursive: true, force: true });
  }
}

const at = process.argv.indexOf('--meridian');
if (at >= 0) await runMeridian(process.argv[at + 1] ?? '');
else await main();
