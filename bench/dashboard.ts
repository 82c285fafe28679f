/**
 * The dashboard's cost, on `meridian demo` (14 simulated proxies, observed every second):
 * - page weight: the requests the page makes to load and their bytes (its files, then the API);
 * - time to first full render in headless Chromium (every view filled from the API);
 * - the observe cycle (meridian_observation_cycle_seconds, mean over a window) without dashboards,
 *   with 50 open ones (a child process playing 50 pages: the event stream with its pushed views,
 *   and the requests the page makes on connecting), and without again,
 *   in interleaved rounds; each round's ratio against the mean of the windows without beside it.
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
const WINDOW_S = Number(process.env['BENCH_WINDOW_S'] ?? 20);
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 3);
/** What the page fetches after each (re)connection: the rest comes pushed in the stream (src/dashboard/assets/main.js). */
const ON_CONNECT = ['/api/v1/history'];

/** One page's worth of traffic: the stream (its pushed views read, nothing fetched for them), and what it fetches on (re)connecting. */
async function playDashboard(base: string, onHello: () => void, signal: AbortSignal): Promise<void> {
  const res = await fetch(`${base}/api/v1/events`, { headers: { accept: 'text/event-stream' }, signal });
  if (!res.body) throw new Error(`events: HTTP ${res.status}`);
  let buffer = '';
  const decoder = new TextDecoder();
  for await (const chunk of res.body) {
    traffic.streamBytes += (chunk as Uint8Array).length;
    buffer += decoder.decode(chunk as Uint8Array, { stream: true });
    let end;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      if (block.includes('event: hello')) {
        onHello();
        for (const path of ON_CONNECT)
          void fetch(`${base}${path}`, { signal })
            .then((r) => r.arrayBuffer())
            .catch(() => undefined);
      } else if (block.includes('data: ')) {
        // A pushed view (fleet, rollout, canary, peering): parsed, as the page does.
        JSON.parse(block.slice(block.indexOf('data: ') + 6));
      }
    }
  }
}

const traffic = { requests: 0, streamBytes: 0 };

if (process.argv[2] === '--dashboards') {
  const base = process.argv[3] ?? '';
  const stop = new AbortController();
  // Every request of the 50 pages listens to it.
  setMaxListeners(0, stop.signal);
  process.stdin.on('end', () => stop.abort()).resume();
  // What the pages ask of the controller once all are connected: requests (besides their streams) and stream bytes.
  const realFetch = globalThis.fetch;
  globalThis.fetch = (...args) => (traffic.requests++, realFetch(...args));
  let hellos = 0;
  const onHello = (): void => void (++hellos === DASHBOARDS && ((traffic.requests = 0), (traffic.streamBytes = 0), process.stdout.write('ready\n')));
  process.stdin.on('end', () => process.stdout.write(`${JSON.stringify(traffic)}\n`));
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
type Window = Awaited<ReturnType<typeof observeWindow>>;
/** 50 dashboards open for one window. */
async function withDashboardsWindow(): Promise<Window & { requestsPerS: number; streamKiBPerS: number }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/dashboard.ts', '--dashboards', base], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout });
  await new Promise<void>((resolve, reject) => {
    lines.once('line', () => resolve());
    child.once('exit', (code) => reject(new Error(`the dashboards exited ${code}`)));
  });
  const w = await observeWindow();
  const counted = new Promise<string>((resolve) => lines.once('line', resolve));
  child.stdin.end();
  const t = JSON.parse(await counted) as typeof traffic;
  await new Promise((r) => child.once('exit', r));
  await sleep(2000);
  return { ...w, requestsPerS: t.requests / WINDOW_S, streamKiBPerS: t.streamBytes / 1024 / WINDOW_S };
}
// Interleaved (without, with, without, ...): the machine's load drifts, so each round's "with" is
// compared with the windows without on either side of it, and the median round is reported.
const line = (name: string, w: Window): string => `${name.padEnd(26)} cycle ${w.meanMs.toFixed(1)} ms mean over ${w.cycles} cycles; controller CPU ${((w.cpuS / WINDOW_S) * 100).toFixed(1)} %`;
let before = await observeWindow();
console.log(line('without dashboards', before));
const ratios: number[] = [];
const cpuRatios: number[] = [];
for (let round = 1; round <= ROUNDS; round++) {
  const w = await withDashboardsWindow();
  const after = await observeWindow();
  console.log(`${line(`with ${DASHBOARDS} dashboards`, w)}; the pages made ${w.requestsPerS.toFixed(1)} requests/s and read ${w.streamKiBPerS.toFixed(1)} KiB/s of stream`);
  console.log(line('without', after));
  ratios.push(w.meanMs / ((before.meanMs + after.meanMs) / 2));
  cpuRatios.push(w.cpuS / ((before.cpuS + after.cpuS) / 2));
  before = after;
}
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
const ratio = median(ratios);
console.log(`each round's cycle ratio: ${ratios.map((r) => r.toFixed(3)).join(', ')}; controller CPU ratio: ${cpuRatios.map((r) => r.toFixed(2)).join(', ')}`);
console.log(`observe cycle with ${DASHBOARDS} dashboards / without (median of ${ROUNDS} rounds): ${ratio.toFixed(3)} (${((ratio - 1) * 100).toFixed(1)} %; target ≤ 5 %)${ratio <= 1.05 ? '' : '  OVER TARGET'}`);

io.stop();
await exit;
await rm(dir, { recursive: true, force: true });
