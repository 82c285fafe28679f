/**
 * Canary analysis at fleet scale (issue #5): one interval's verdict for 50 canary proxies against
 * 2,000 baseline proxies in 20 regions: choosing the baselines and judging every check (per
 * interval), and adding a scrape to each proxy's window (per snapshot). Target: under 50 ms per interval. Printed with the memory
 * the windows hold, and against the same judgement with one shared baseline for all (no per-region
 * grouping), measured in the same run.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { baselineProxies } from '../src/canary/core/baseline.js';
import { resolveChecks } from '../src/canary/core/canary-checks.js';
import { judgeInterval } from '../src/canary/core/judge-canary.js';
import { addObservation, emptyWindow, type ProxyWindow } from '../src/canary/core/proxy-window.js';
import type { ProxyFleetSpec } from '../src/model/fleet.js';
import { metrics, observation } from '../test/helpers/snapshot-fixture.js';

const REGIONS = 20;
const BASELINE = 2000;
const CANARY = 50;
const RUNS = 30;

const regions = Array.from({ length: REGIONS }, (_, i) => ({ name: `r${i}`, latitude: -60 + i * 6, longitude: -170 + i * 17, timeZone: 'UTC' }));
const proxies = Array.from({ length: BASELINE + CANARY }, (_, i) => {
  const region = `r${i % REGIONS}`;
  return { name: `p${i}`, region, publicUrl: `https://p${i}.example.com`, diagnosticUrl: `http://127.0.0.1:${1000 + (i % 60000)}`, version: i < CANARY ? '17.4.9-debug.1' : '17.4.2' };
});
const fleet: ProxyFleetSpec = { regions, proxies };
const canaries = new Set(proxies.slice(0, CANARY).map((p) => p.name));
const checks = resolveChecks();

/** Two scrapes per proxy: an interval's base page and its end page (built once, outside the timings). */
const scrapes = [0, 30].map((s) =>
  proxies.map((p, i) => {
    const attempts = 10_000 + i + s * 30;
    const m = metrics({ connectAttempts: attempts, connectFailures: Math.floor(attempts / 200), startTimeSeconds: 1000, residentMemoryBytes: 6e8 + i, goroutines: 3000 + (i % 50) });
    return observation(p.name, p.region, { metrics: m, lastScrapeAt: new Date(Date.UTC(2026, 0, 1, 0, 0, s)).toISOString() });
  }),
);

/** What each snapshot costs: every proxy's window takes the new scrape. */
function accumulate(): { ms: number; windows: Map<string, ProxyWindow> } {
  const t0 = performance.now();
  const out = new Map(proxies.map((p) => [p.name, emptyWindow(p.name, p.region)]));
  for (const snapshot of scrapes) for (const o of snapshot) out.set(o.name, addObservation(out.get(o.name) ?? emptyWindow(o.name, o.region), o));
  return { ms: (performance.now() - t0) / scrapes.length, windows: out };
}

/** What each interval costs: baselines chosen, every check of every canary proxy judged. */
function judge(w: Map<string, ProxyWindow>, perRegion: boolean): number {
  const t0 = performance.now();
  const all = [...w.values()].filter((x) => !canaries.has(x.proxy));
  const cache = new Map<string, ProxyWindow[]>();
  const baselineOf = (proxy: string): ProxyWindow[] => {
    if (!perRegion) return all;
    const region = fleet.proxies.find((p) => p.name === proxy)?.region ?? '';
    let b = cache.get(region);
    if (!b) cache.set(region, (b = baselineProxies(fleet, proxy, canaries, () => true).flatMap((n) => w.get(n) ?? [])));
    return b;
  };
  const verdict = judgeInterval({ from: 'a', to: 'b', canary: [...canaries].flatMap((n) => w.get(n) ?? []), baselineOf, checks });
  if (verdict.outcomes.length !== CANARY * checks.length) throw new Error(`expected ${CANARY * checks.length} outcomes, got ${verdict.outcomes.length}`);
  return performance.now() - t0;
}

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))] ?? 0;
// A collection on demand, so the heap figure is what is held, not garbage.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
for (let i = 0; i < 5; i++) judge(accumulate().windows, true);
const { windows: held } = accumulate();
gc();
const heapHeld = process.memoryUsage().heapUsed;
const snapshotMs = Array.from({ length: RUNS }, () => accumulate().ms);
const perRegion = Array.from({ length: RUNS }, () => judge(held, true));
const shared = Array.from({ length: RUNS }, () => judge(held, false));
console.log(`canary analysis: ${CANARY} canary proxies against ${BASELINE} baseline proxies in ${REGIONS} regions, ${checks.length} checks, ${RUNS} intervals`);
console.log(`  per interval  p50 ${pct(perRegion, 50).toFixed(1)} ms  max ${Math.max(...perRegion).toFixed(1)} ms  (target < 50 ms: ${Math.max(...perRegion) < 50 ? 'ok' : 'MISSED'})   baseline (one shared baseline) p50 ${pct(shared, 50).toFixed(1)} ms   ratio ${(pct(perRegion, 50) / pct(shared, 50)).toFixed(2)}x`);
console.log(`  per snapshot  p50 ${pct(snapshotMs, 50).toFixed(1)} ms  max ${Math.max(...snapshotMs).toFixed(1)} ms  (each of ${proxies.length} windows takes the new scrape)`);
console.log(`  memory        heap in use holding ${held.size} windows (and the test scrapes) ${(heapHeld / 1e6).toFixed(1)} MB; RSS ${(process.memoryUsage().rss / 1e6).toFixed(0)} MB`);
