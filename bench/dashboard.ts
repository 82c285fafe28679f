/**
 * The dashboard's cost, on `meridian demo` (14 simulated proxies, observed every second):
 * - page weight: the requests the page makes to load and their bytes (its files, then the API);
 * - time to first full render in headless Chromium (every view filled from the API);
 * - the observe cycle (meridian_observation_cycle_seconds, mean over a window) without dashboards,
 *   with 50 open ones (a child process playing 50 pages: the event stream, and on each notice the
 *   refetches the page makes), and without again; the ratio against the mean of the two runs without.
 * Target (issue #17): 50 dashboards make the cycle at most 5 % slower.
 *
 *   npm run bench -- --only dashboard
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setMaxListeners } from 'node:events';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { chromium } from 'playwright-core';
import { runCli } from '../src/cli/main.js';
import type { CliIo } from '../src/cli/io.js';
import { copyDemoFleet } from '../test/helpers/demo-fleet-copy.js';

const DASHBOARDS = Number(process.env['BENCH_DASHBOARDS'] ?? 50);
const WINDOW_S = Number(process.env['BENCH_WINDOW_S'] ?? 30);
/** What the page refetches on a notice of each topic (src/dashboard/assets/main.js). */
const TOPIC_PARTS: Readonly<Record<string, readonly string[]>> = {
  fleet: ['/api/v1/fleet', '/api/v1/routing', '/api/v1/history', '/api/v1/clock'],
  rollout: ['/api/v1/rollouts', '/api/v1/routing', '/api/v1/clock'],
  canary: ['/api/v1/canaries', '/api/v1/routing', '/api/v1/clock'],
  peering: ['/api/v1/peerings'],
};
const ALL_PARTS = [...new Set(Object.values(TOPIC_PARTS).flat())];

/** One page's worth of traffic: the stream, and one request per part at a time, a notice during it asking for one more. */
async function playDashboard(base: string, onHello: () => void, signal: AbortSignal): Promise<void> {
  const inFlight = new Map<string, { again: boolean }>();
  const load = (path: string): void => {
    const running = inFlight.get(path);
    if (running) return void (running.again = true);
    const entry = { again: false };
    inFlight.set(path, entry);
    void (async () => {
      do {
        entry.again = false;
        await fetch(`${base}${path}`, { signal })
          .then((r) => r.arrayBuffer())
          .catch(() => undefined);
      } while (entry.again && !signal.aborted);
      inFlight.delete(path);
    })();
  };
  const res = await fetch(`${base}/api/v1/events`, { headers: { accept: 'text/event-stream' }, signal });
  if (!res.body) throw new Error(`events: HTTP ${res.status}`);
  let buffer = '';
  const decoder = new TextDecoder();
  for await (const chunk of res.body) {
    buffer += decoder.decode(chunk as Uint8Array, { stream: true });
    let end;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      if (block.includes('event: hello')) {
        onHello();
        ALL_PARTS.forEach(load);
      } else if (block.includes('event: change')) {
        const topic = /"topic":"(\w+)"/.exec(block)?.[1] ?? '';
        (TOPIC_PARTS[topic] ?? []).forEach(load);
      }
    }
  }
}

if (process.argv[2] === '--dashboards') {
  const base = process.argv[3] ?? '';
  const stop = new AbortController();
  // Every request of the 50 pages listens to it.
  setMaxListeners(0, stop.signal);
  process.stdin.on('end', () => stop.abort()).resume();
  let hellos = 0;
  const onHello = (): void => void (++hellos === DASHBOARDS && process.stdout.write('ready\n'));
  await Promise.allSettled(Array.from({ length: DASHBOARDS }, () => playDashboard(base, onHello, stop.signal)));
  process.exit(0);
}

const io: CliIo & { stdout: string; stop: () => void } = (() => {
  let stop = (): void => undefined;
  const stopped = new Promise<void>((resolve) => (stop = resolve));
  const o = { stdout: '', stderr: '', out: (s: string) => void (o.stdout += `${s}\n`), err: (s: string) => void (o.stderr += `${s}\n`), untilStopped: () => stopped, stop: () => stop() };
  return o as unknown as CliIo & { stdout: string; stop: () => void };
})();

const dir = await mkdtemp(join(tmpdir(), 'meridian-bench-dashboard-'));
// The demo fleet on free ports (a demo already running keeps its own); the simulator's control API where its copy says.
await copyDemoFleet(join(dir, 'manifests'));
const simControl = /(127\.0\.0\.1:\d+)\/hooks\/upgrade/.exec(await readFile(join(dir, 'manifests/fleet.yaml'), 'utf8'))?.[1] ?? '127.0.0.1:0';
const exit = runCli(['demo', '--manifests', join(dir, 'manifests'), '--state', join(dir, 'state'), '--admin', '127.0.0.1:0', '--public', '127.0.0.1:0', '--sim-control', simControl, '--observe-interval', '1s', '--observe-timeout', '800ms', '--log-level', 'fatal'], io);
let base = '';
for (let i = 0; i < 600 && !base; i++) {
  base = /Dashboard +(http:\/\/\S+?)\/? /.exec(io.stdout)?.[1] ?? '';
  if (!base) await sleep(100);
}
if (!base) throw new Error(`the demo did not start: ${io.stdout}`);

async function cycleTotals(): Promise<{ sum: number; count: number }> {
  const text = await (await fetch(`${base}/metrics`)).text();
  const value = (name: string): number => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
  return { sum: value('meridian_observation_cycle_seconds_sum'), count: value('meridian_observation_cycle_seconds_count') };
}

/** Mean cycle time (ms) and the controller's CPU (this process) over WINDOW_S seconds. */
async function observeWindow(): Promise<{ meanMs: number; cycles: number; cpuS: number }> {
  const a = await cycleTotals();
  const cpu0 = process.cpuUsage();
  await sleep(WINDOW_S * 1000);
  const cpu = process.cpuUsage(cpu0);
  const b = await cycleTotals();
  return { meanMs: ((b.sum - a.sum) / (b.count - a.count)) * 1000, cycles: b.count - a.count, cpuS: (cpu.user + cpu.system) / 1e6 };
}

// The page in Chromium: what it loads, and when every view is filled.
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'], headless: true });
const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
const loads: { url: string; bytes: number }[] = [];
page.on('requestfinished', (req) => {
  void req
    .response()
    .then((r) => r?.body())
    .then((b) => loads.push({ url: req.url(), bytes: b?.length ?? 0 }))
    .catch(() => undefined);
});
await page.goto(`${base}/`);
// Through locators: the page's CSP forbids the eval a string predicate would need.
await page.locator('#fleet .region').first().waitFor();
await page.locator('#fleet svg.spark').first().waitFor();
while ((await page.locator('main .body', { hasText: 'Loading…' }).count()) > 0) await sleep(20);
const renderMs = await page.evaluate(() => performance.now());
await sleep(500);
await browser.close();
const files = loads.filter((l) => !l.url.includes('/api/v1/'));
const apis = loads.filter((l) => l.url.includes('/api/v1/') && !l.url.includes('/events'));
const kb = (n: number): string => `${(n / 1024).toFixed(1)} KiB`;
console.log(`page: ${files.length} requests, ${kb(files.reduce((n, l) => n + l.bytes, 0))} (${files.map((l) => `${l.url.split('/').pop() || 'index'} ${kb(l.bytes)}`).join(', ')})`);
console.log(`data at load: ${apis.length} API requests, ${kb(apis.reduce((n, l) => n + l.bytes, 0))}, and one event stream`);
console.log(`first full render in Chromium: ${renderMs.toFixed(0)} ms from navigation (every view filled, sparklines drawn)`);

await sleep(3000); // a few cycles of history; the browser gone
const before = await observeWindow();
const child = spawn(process.execPath, ['--import', 'tsx', 'bench/dashboard.ts', '--dashboards', base], { stdio: ['pipe', 'pipe', 'inherit'] });
await new Promise<void>((resolve, reject) => {
  createInterface({ input: child.stdout }).once('line', () => resolve());
  child.once('exit', (code) => reject(new Error(`the dashboards exited ${code}`)));
});
const withDashboards = await observeWindow();
child.stdin.end();
await new Promise((r) => child.once('exit', r));
await sleep(2000);
const after = await observeWindow();

const line = (name: string, w: { meanMs: number; cycles: number; cpuS: number }): string => `${name.padEnd(26)} cycle ${w.meanMs.toFixed(1)} ms mean over ${w.cycles} cycles; controller CPU ${((w.cpuS / WINDOW_S) * 100).toFixed(1)} %`;
console.log(line('without dashboards', before));
console.log(line(`with ${DASHBOARDS} dashboards`, withDashboards));
console.log(line('without, again', after));
const baseline = (before.meanMs + after.meanMs) / 2;
const ratio = withDashboards.meanMs / baseline;
console.log(`observe cycle with ${DASHBOARDS} dashboards / without: ${ratio.toFixed(3)} (${((ratio - 1) * 100).toFixed(1)} %; target ≤ 5 %)${ratio <= 1.05 ? '' : '  OVER TARGET'}`);

io.stop();
await exit;
await rm(dir, { recursive: true, force: true });
