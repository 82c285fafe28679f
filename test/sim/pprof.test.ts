import assert from 'node:assert/strict';
import { test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { goroutineCount, renderGoroutineDump, renderGoroutineProfile, type PprofView } from '../../src/sim/pprof.js';
import { diagUrl, metric, scrape, startSim } from './sim-helpers.js';

const HOUR = 3_600_000;
const DEBUG = '17.5.0-debug.1';

function headers(n: string): number {
  return (n.match(/^goroutine \d+ \[[^\]]+\]:$/gm) ?? []).length;
}

test('pprof: only a debug build serves /debug/pprof/; a release build answers 404 as Go', async (t) => {
  const sim = await startSim(t, {
    proxies: [
      { name: 'fra-1', region: 'eu-central', version: DEBUG },
      { name: 'fra-2', region: 'eu-central', version: '17.4.2' },
      { name: 'fra-3', region: 'eu-central', version: '17.4.3' },
    ],
    // A behaviour without debug serves no pprof either.
    builds: { [DEBUG]: { debug: true }, '17.4.3': { connectFailureRatio: 0.02 } },
  });
  for (const name of ['fra-2', 'fra-3']) {
    for (const path of ['/debug/pprof/', '/debug/pprof/goroutine?debug=2', '/debug/pprof/heap']) {
      const res = await fetch(`${diagUrl(sim, name)}${path}`);
      assert.equal(res.status, 404, `${name} ${path}`);
      assert.equal(await res.text(), '404 page not found\n');
    }
  }
  const url = diagUrl(sim, 'fra-1');

  const index = await fetch(`${url}/debug/pprof/`);
  assert.equal(index.status, 200);
  assert.match(index.headers.get('content-type') ?? '', /^text\/html/);
  const html = await index.text();
  assert.match(html, /<title>\/debug\/pprof\/<\/title>/);
  assert.match(html, /<a href="goroutine\?debug=2">full goroutine stack dump<\/a>/);
  assert.match(html, /<a href='heap\?debug=1'>heap<\/a>/);

  const moved = await fetch(`${url}/debug/pprof`, { redirect: 'manual' });
  assert.equal(moved.status, 301);
  assert.equal(moved.headers.get('location'), '/debug/pprof/');
  await moved.body?.cancel();

  const unknown = await fetch(`${url}/debug/pprof/nope`);
  assert.equal(unknown.status, 404);
  assert.equal(await unknown.text(), 'Unknown profile\n');

  const heap = await fetch(`${url}/debug/pprof/heap`);
  assert.equal(heap.status, 200);
  assert.equal(heap.headers.get('content-type'), 'application/octet-stream');
  assert.equal(heap.headers.get('content-disposition'), 'attachment; filename="heap"');
  const body = Buffer.from(await heap.arrayBuffer());
  assert.ok(body.length > 20 && body.length < 64 * 1024, `small body, ${body.length} bytes`);
  assert.deepEqual([...body.subarray(0, 2)], [0x1f, 0x8b], 'gzip, as Go sends profiles');
  assert.match(gunzipSync(body).toString(), /^heap profile: \d+: \d+ \[\d+: \d+\] @ heap\/1048576\n/);

  // `seconds` is ignored: a 30 s CPU profile answers at once.
  const t0 = performance.now();
  const cpu = await fetch(`${url}/debug/pprof/profile?seconds=30`);
  assert.equal(cpu.status, 200);
  assert.equal(cpu.headers.get('content-type'), 'application/octet-stream');
  await cpu.arrayBuffer();
  assert.ok(performance.now() - t0 < 5_000);
  assert.equal((await fetch(`${url}/debug/pprof/heap?seconds=5&gc=1`)).status, 200);

  const cmdline = await (await fetch(`${url}/debug/pprof/cmdline`)).text();
  assert.deepEqual(cmdline.split('\0').slice(0, 2), ['teleport', 'start']);
});

test('pprof: the goroutine dump is in Go format and its count matches go_goroutines, leaks included', async (t) => {
  const sim = await startSim(t, {
    proxies: [{ name: 'fra-1', region: 'eu-central', version: DEBUG }],
    builds: { [DEBUG]: { debug: true, goroutineLeakPerHour: 250 } },
  });
  const url = diagUrl(sim, 'fra-1');
  let elapsed = 0;
  for (const hours of [0, 1, 3]) {
    sim.advance((hours - elapsed) * HOUR);
    elapsed = hours;
    const goroutines = metric(await scrape(sim, 'fra-1'), 'go_goroutines');
    const res = await fetch(`${url}/debug/pprof/goroutine?debug=2&seconds=10`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'text/plain; charset=utf-8');
    const dump = await res.text();
    assert.equal(headers(dump), goroutines, `dump count after ${hours} h`);
    const leaked = (dump.match(/^goroutine \d+ \[chan send[^\]]*\]:\n/gm) ?? []).length;
    assert.equal(leaked, 250 * hours, 'the leaked goroutines are in the dump');
    const grouped = await (await fetch(`${url}/debug/pprof/goroutine?debug=1`)).text();
    assert.match(grouped, new RegExp(`^goroutine profile: total ${goroutines}\\n`));
  }
});

test('pprof rendering: stanzas as Go prints them, ids unique, counts add up', () => {
  const v: PprofView = { load: { sessions: 7, tunnels: 3, leaked: 5 }, uptimeMs: 90 * 60_000, leakingMs: 30 * 60_000, heapAllocBytes: 40e6, version: DEBUG, pid: 4242 };
  const dump = renderGoroutineDump(v);
  assert.equal(goroutineCount(v.load), 160 + 7 * 9 + 3 * 4 + 5);
  const stanzas = dump.split('\n\n');
  assert.equal(stanzas.length, goroutineCount(v.load));
  const ids = new Set<number>();
  for (const s of stanzas) {
    const lines = s.trimEnd().split('\n');
    const m = /^goroutine (\d+) \[([A-Za-z ]+)(, \d+ minutes)?\]:$/.exec(lines[0] ?? '');
    assert.ok(m, `header: ${lines[0]}`);
    ids.add(Number(m[1]));
    // Then pairs: a call, and its file:line (+offset) indented by a tab.
    const rest = lines.slice(1);
    assert.equal(rest.length % 2, 0, s);
    for (let i = 0; i < rest.length; i += 2) {
      assert.match(rest[i] ?? '', /^(created by )?[\w./*()-]+[\w)](\(.*\))?( in goroutine \d+)?$/, s);
      assert.match(rest[i + 1] ?? '', /^\t\/\S+\.go:\d+( \+0x[0-9a-f]+)?$/, s);
    }
  }
  assert.equal(ids.size, stanzas.length);
  assert.match(dump, /^goroutine 1 \[select, 90 minutes\]:\n/);
  assert.match(dump, /goroutine \d+ \[chan send, 15 minutes\]:/);
  assert.doesNotMatch(stanzas[0] ?? '', /created by/, 'main has no creator');
  const grouped = renderGoroutineProfile(v);
  const counts = [...grouped.matchAll(/^(\d+) @( 0x[0-9a-f]+)+$/gm)].map((m) => Number(m[1]));
  assert.equal(counts.reduce((a, b) => a + b, 0), goroutineCount(v.load));
});
