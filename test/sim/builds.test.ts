import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startFleetSim, type FleetSim, type FleetSimOptions } from '../../src/sim/index.js';
import { control, diagUrl, metric, parseExposition, readyz, scrape, startSim, view } from './sim-helpers.js';

const SEC = 1_000;
const MIN = 60 * SEC;
const HOUR = 60 * MIN;
const START_AT = Date.UTC(2026, 0, 5, 9);
const FAULTY = '17.5.0-debug.1';

/** fra-1 runs the faulty build, fra-2 the release. */
const CANARY: FleetSimOptions['proxies'] = [
  { name: 'fra-1', region: 'eu-central', version: FAULTY },
  { name: 'fra-2', region: 'eu-central', version: '17.4.2' },
];

async function page(sim: FleetSim, name: string): Promise<string> {
  const res = await fetch(`${diagUrl(sim, name)}/metrics`);
  assert.equal(res.status, 200);
  return res.text();
}

interface Counters {
  attempts: number;
  failures: number;
}

async function counters(sim: FleetSim, name: string): Promise<Counters> {
  const p = await scrape(sim, name);
  return { attempts: metric(p, 'teleport_connect_to_node_attempts_total'), failures: metric(p, 'failed_connect_to_node_attempts_total') };
}

test('default output: builds of other versions change nothing on a proxy, byte for byte', async (t) => {
  const plain = await startSim(t, { sessionsPerProxy: 100 });
  const withBuilds = await startSim(t, {
    sessionsPerProxy: 100,
    builds: { [FAULTY]: { connectFailureRatio: 0.5, flapProcessState: 30, memoryLeakBytesPerHour: 1e9, goroutineLeakPerHour: 1e3, restartEveryMs: 60_000, debug: true } },
  });
  for (let i = 0; i < 4; i++) {
    for (const name of ['fra-1', 'fra-2']) {
      const text = await page(withBuilds, name);
      assert.equal(text, await page(plain, name), `${name} after ${i * 20} min`);
      assert.doesNotMatch(text, /go_memstats_heap_alloc_bytes/, 'no Go heap family on a default page');
      assert.equal((await fetch(`${diagUrl(withBuilds, name)}/debug/pprof/`)).status, 404);
    }
    assert.deepEqual(await view(withBuilds, 'fra-1'), { ...(await view(plain, 'fra-1')), diagnosticUrl: diagUrl(withBuilds, 'fra-1') });
    plain.advance(20 * MIN);
    withBuilds.advance(20 * MIN);
  }
  assert.equal((await view(plain, 'fra-1')).build, undefined, 'no build field in the view of a default proxy');
});

test('connectFailureRatio: that share of node connection attempts fails while attempts grow with traffic as before', async (t) => {
  const sim = await startSim(t, { proxies: CANARY, sessionsPerProxy: 300, builds: { [FAULTY]: { connectFailureRatio: 0.3 } } });
  const before = { faulty: await counters(sim, 'fra-1'), release: await counters(sim, 'fra-2') };
  for (let i = 0; i < 8; i++) sim.advance(15 * MIN);
  const after = { faulty: await counters(sim, 'fra-1'), release: await counters(sim, 'fra-2') };
  const d = (k: 'faulty' | 'release'): Counters => ({
    attempts: after[k].attempts - before[k].attempts,
    failures: after[k].failures - before[k].failures,
  });
  const faulty = d('faulty');
  const release = d('release');
  assert.ok(faulty.attempts > 500 && release.attempts > 500, `traffic on both: ${faulty.attempts}, ${release.attempts}`);
  assert.ok(Math.abs(faulty.attempts - release.attempts) < 0.25 * release.attempts, `attempts grow alike: ${faulty.attempts} vs ${release.attempts}`);
  const ratio = faulty.failures / faulty.attempts;
  assert.ok(ratio > 0.25 && ratio < 0.35, `faulty failure ratio ${ratio}`);
  assert.ok(release.failures / release.attempts < 0.03, `release failure ratio ${release.failures / release.attempts}`);
});

test('flapProcessState: process_state alternates 0 and 2 every N sim seconds, and /readyz answers 503 while degraded', async (t) => {
  const sim = await startSim(t, { proxies: CANARY, builds: { [FAULTY]: { flapProcessState: 60 } } });
  const seen: [number, number, number][] = [];
  for (let i = 0; i < 6; i++) {
    const state = metric(await scrape(sim, 'fra-1'), 'process_state');
    const ready = await readyz(sim, 'fra-1');
    seen.push([i * 30, state, ready.status]);
    if (state === 2) assert.match(ready.body.status ?? '', /degraded/);
    assert.equal((await fetch(`${diagUrl(sim, 'fra-1')}/healthz`)).status, 200, 'a degraded process still runs');
    assert.equal(metric(await scrape(sim, 'fra-2'), 'process_state'), 0, 'the release build does not flap');
    sim.advance(30 * SEC);
  }
  assert.deepEqual(seen, [
    [0, 0, 200],
    [30, 0, 200],
    [60, 2, 503],
    [90, 2, 503],
    [120, 0, 200],
    [150, 0, 200],
  ]);
  assert.equal((await view(sim, 'fra-1')).processState, 'degraded', 'at 180 s the control API shows it too');
});

test('memory and goroutine leaks grow resident memory, the Go heap and go_goroutines from the start', async (t) => {
  const opts = { proxies: CANARY, sessionsPerProxy: 60 };
  const twin = await startSim(t, opts);
  const sim = await startSim(t, { ...opts, builds: { [FAULTY]: { memoryLeakBytesPerHour: 50e6, goroutineLeakPerHour: 120 } } });
  const first = await scrape(sim, 'fra-1');
  const heap = first.get('go_memstats_heap_alloc_bytes');
  assert.equal(heap?.type, 'gauge');
  assert.equal(heap?.help, 'Number of heap bytes allocated and still in use.');
  const heapAtStart = metric(first, 'go_memstats_heap_alloc_bytes');
  const resident = metric(first, 'process_resident_memory_bytes');
  assert.ok(heapAtStart > 30e6 && heapAtStart < resident, `a steady heap below resident memory: ${heapAtStart} of ${resident}`);
  for (const hours of [1, 2, 3]) {
    sim.advance(HOUR);
    twin.advance(HOUR);
    // Same seed, same traffic: the twin without the build shows what the leak added.
    const leaky = await scrape(sim, 'fra-1');
    const base = await scrape(twin, 'fra-1');
    assert.equal(metric(leaky, 'process_resident_memory_bytes') - metric(base, 'process_resident_memory_bytes'), 50e6 * hours);
    assert.equal(metric(leaky, 'go_goroutines') - metric(base, 'go_goroutines'), 120 * hours);
    assert.ok(metric(leaky, 'go_memstats_heap_alloc_bytes') >= heapAtStart + 50e6 * hours - 10e6, `heap grows after ${hours} h`);
    const release = await scrape(sim, 'fra-2');
    assert.equal(metric(release, 'process_resident_memory_bytes'), metric(await scrape(twin, 'fra-2'), 'process_resident_memory_bytes'));
    assert.equal(release.get('go_memstats_heap_alloc_bytes'), undefined);
  }
  // A restart starts a fresh process: the leak starts again from nothing.
  await control(sim, 'POST', '/proxies/fra-1/restart', {});
  sim.advance(MIN);
  const fresh = await scrape(sim, 'fra-1');
  assert.ok(metric(fresh, 'go_goroutines') < 160 + 10 * 12 + 120, `goroutines after restart ${metric(fresh, 'go_goroutines')}`);
  assert.ok(metric(fresh, 'process_resident_memory_bytes') < 100e6 + 50e6, 'memory after restart');
});

test('restartEveryMs: the process restarts itself, so process_start_time_seconds changes and sessions are cut', async (t) => {
  const sim = await startSim(t, { proxies: CANARY, startupMs: 20_000, builds: { [FAULTY]: { restartEveryMs: 10 * MIN } } });
  const bootStart = metric(await scrape(sim, 'fra-1'), 'process_start_time_seconds');
  assert.ok(bootStart < START_AT / 1000 - 86_400, 'up for days at boot');
  const otherStart = metric(await scrape(sim, 'fra-2'), 'process_start_time_seconds');
  const before = await view(sim, 'fra-1');
  assert.ok(before.sessionsTotal > 0);

  sim.advance(10 * MIN + 5 * SEC);
  let p = await scrape(sim, 'fra-1');
  assert.equal(metric(p, 'process_start_time_seconds'), (START_AT + 10 * MIN) / 1000);
  assert.equal(metric(p, 'process_state'), 3, 'starting again');
  assert.equal((await readyz(sim, 'fra-1')).status, 400);
  const restarted = await view(sim, 'fra-1');
  assert.equal(restarted.state, 'starting');
  assert.ok(restarted.sessionsCut > before.sessionsCut, 'the crash cut the sessions');
  assert.equal(restarted.sessionsTotal, 0);
  assert.notEqual(restarted.startedAt, before.startedAt);

  sim.advance(MIN);
  assert.equal((await readyz(sim, 'fra-1')).status, 200);
  assert.equal(metric(await scrape(sim, 'fra-1'), 'process_state'), 0);

  // Two more periods in one step: both restarts happen, the last one shows.
  sim.advance(20 * MIN);
  p = await scrape(sim, 'fra-1');
  assert.equal(metric(p, 'process_start_time_seconds'), (START_AT + 30 * MIN) / 1000);
  assert.equal(metric(await scrape(sim, 'fra-2'), 'process_start_time_seconds'), otherStart, 'the release build stays up');
});

test('restartEveryMs: a draining or stopped process does not restart itself', async (t) => {
  const sim = await startSim(t, { proxies: CANARY, builds: { [FAULTY]: { restartEveryMs: 5 * MIN } } });
  await control(sim, 'POST', '/proxies/fra-1/shutdown', { mode: 'immediate' });
  sim.advance(30 * MIN);
  const v = await view(sim, 'fra-1');
  assert.equal(v.state, 'stopped');
  await control(sim, 'POST', '/proxies/fra-1/restart', {});
  const restartedAt = (await view(sim, 'fra-1')).startedAt;
  sim.advance(4 * MIN);
  assert.equal((await view(sim, 'fra-1')).startedAt, restartedAt);
  sim.advance(MIN);
  assert.notEqual((await view(sim, 'fra-1')).startedAt, restartedAt, 'the schedule restarts from the manual start');
});

test('control API: PUT /builds/:version sets a behaviour that running proxies of the version show; GET lists; DELETE clears', async (t) => {
  const sim = await startSim(t, { proxies: CANARY });
  assert.deepEqual((await control(sim, 'GET', '/builds')).json, {});

  const put = await control(sim, 'PUT', `/builds/${FAULTY}`, { flapProcessState: 10, connectFailureRatio: 0.2, debug: true });
  assert.equal(put.status, 200);
  assert.deepEqual(put.json, { connectFailureRatio: 0.2, flapProcessState: 10, debug: true });
  await control(sim, 'PUT', '/builds/17.6.0', {});
  assert.deepEqual((await control(sim, 'GET', '/builds')).json, { [FAULTY]: { connectFailureRatio: 0.2, flapProcessState: 10, debug: true }, '17.6.0': {} });
  assert.deepEqual((await control(sim, 'GET', `/builds/${FAULTY}`)).json, { connectFailureRatio: 0.2, flapProcessState: 10, debug: true });
  assert.deepEqual((await view(sim, 'fra-1')).build, { connectFailureRatio: 0.2, flapProcessState: 10, debug: true });

  // Set at run time: the flap starts from now.
  assert.equal(metric(await scrape(sim, 'fra-1'), 'process_state'), 0);
  assert.equal((await fetch(`${diagUrl(sim, 'fra-1')}/debug/pprof/`)).status, 200, 'debug from now on');
  sim.advance(10 * SEC);
  assert.equal(metric(await scrape(sim, 'fra-1'), 'process_state'), 2);
  assert.equal((await readyz(sim, 'fra-1')).status, 503);

  // Replaced: the new behaviour decides.
  assert.equal((await control(sim, 'PUT', `/builds/${FAULTY}`, { memoryLeakBytesPerHour: 1e6 })).status, 200);
  assert.equal(metric(await scrape(sim, 'fra-1'), 'process_state'), 0);
  assert.equal((await fetch(`${diagUrl(sim, 'fra-1')}/debug/pprof/`)).status, 404);

  const del = await control(sim, 'DELETE', `/builds/${FAULTY}`);
  assert.equal(del.status, 200);
  assert.deepEqual(del.json, { version: FAULTY, deleted: true });
  assert.equal((await control(sim, 'DELETE', `/builds/${FAULTY}`)).status, 404);
  assert.equal((await control(sim, 'GET', `/builds/${FAULTY}`)).status, 404);
  assert.equal((await view(sim, 'fra-1')).build, undefined);
  assert.equal((await scrape(sim, 'fra-1')).get('go_memstats_heap_alloc_bytes'), undefined, 'back to a default page');
});

test('control API: bad build behaviours are a 400 naming the field; nothing changes', async (t) => {
  const sim = await startSim(t);
  const cases: [string, unknown, string, RegExp][] = [
    [FAULTY, { connectFailureRatio: 1.5 }, 'connectFailureRatio', /must be a number from 0 to 1, got 1.5/],
    [FAULTY, { connectFailureRatio: -0.1 }, 'connectFailureRatio', /from 0 to 1/],
    [FAULTY, { connectFailureRatio: '0.3' }, 'connectFailureRatio', /got "0.3"/],
    [FAULTY, { flapProcessState: 0 }, 'flapProcessState', /must be a number above 0/],
    [FAULTY, { flapProcessState: true }, 'flapProcessState', /got true/],
    [FAULTY, { memoryLeakBytesPerHour: -1 }, 'memoryLeakBytesPerHour', /from 0 to/],
    [FAULTY, { goroutineLeakPerHour: 'lots' }, 'goroutineLeakPerHour', /got "lots"/],
    [FAULTY, { restartEveryMs: 10 }, 'restartEveryMs', /whole number from 1000 to/],
    [FAULTY, { restartEveryMs: 1500.5 }, 'restartEveryMs', /whole number/],
    [FAULTY, { debug: 'yes' }, 'debug', /must be true or false, got "yes"/],
    [FAULTY, { leak: true }, 'leak', /unknown field \(allowed: "connectFailureRatio", "flapProcessState"/],
    [FAULTY, 'not json', 'body', /not valid JSON/],
    [FAULTY, [], 'body', /must be a JSON object/],
    [FAULTY, undefined, 'body', /must be a JSON object/],
    ['latest', {}, 'version', /version: must be a release version/],
  ];
  for (const [version, body, field, message] of cases) {
    const r = await control(sim, 'PUT', `/builds/${version}`, body);
    assert.equal(r.status, 400, `${version} ${JSON.stringify(body)}`);
    const e = r.json as { error: string; field: string };
    assert.equal(e.field, field, JSON.stringify(body));
    assert.match(e.error, message);
    assert.ok(e.error.startsWith(`${field}:`), e.error);
  }
  assert.deepEqual((await control(sim, 'GET', '/builds')).json, {}, 'bad requests changed nothing');
  const post = await control(sim, 'POST', '/builds');
  assert.equal(post.status, 405);
  assert.match((post.json as { error: string }).error, /use GET/);
  const patch = await control(sim, 'PATCH', `/builds/${FAULTY}`, {});
  assert.equal(patch.status, 405);
  assert.match((patch.json as { error: string }).error, /use GET, PUT, DELETE/);
  assert.equal((await control(sim, 'GET', `/builds/${FAULTY}/x`)).status, 404);
});

test('FleetSimOptions.builds is checked at start, naming the version and field', async () => {
  const proxies = CANARY;
  await assert.rejects(
    startFleetSim({ proxies, tickMs: 0, builds: { [FAULTY]: { connectFailureRatio: 2 } } }),
    (e: unknown) => e instanceof RangeError && /^FleetSimOptions\.builds\["17\.5\.0-debug\.1"\]\.connectFailureRatio: must be a number from 0 to 1, got 2$/.test(e.message),
  );
  await assert.rejects(
    startFleetSim({ proxies, tickMs: 0, builds: { [FAULTY]: null as never } }),
    /FleetSimOptions\.builds\["17\.5\.0-debug\.1"\] must be an object, got null/,
  );
  await assert.rejects(startFleetSim({ proxies, tickMs: 0, builds: { [FAULTY]: { debug: 1 as never } } }), /\.debug: must be true or false/);
});

test('upgrading a proxy through POST /hooks/upgrade to a faulty version makes the fault appear; a rollback takes it away', async (t) => {
  const sim = await startSim(t, { sessionsPerProxy: 300, startupMs: 20_000, builds: { [FAULTY]: { connectFailureRatio: 0.5, debug: true } } });
  const hook = async (action: 'upgrade' | 'rollback', version: string): Promise<void> => {
    const res = await fetch(`${sim.controlUrl}/hooks/upgrade`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'meridian.hook', id: `canary-fra-1-${action}-${version}`, rollout: 'default/canary', action, proxy: 'fra-1', region: 'eu-central', version }),
    });
    assert.equal(res.status, 200, await res.text());
  };
  assert.equal((await fetch(`${diagUrl(sim, 'fra-1')}/debug/pprof/`)).status, 404, 'a release build has no pprof');

  await hook('upgrade', FAULTY);
  sim.advance(MIN);
  const start = await counters(sim, 'fra-1');
  sim.advance(2 * HOUR);
  const end = await counters(sim, 'fra-1');
  const ratio = (end.failures - start.failures) / (end.attempts - start.attempts);
  assert.ok(ratio > 0.42 && ratio < 0.58, `failure ratio after the upgrade ${ratio}`);
  assert.equal((await fetch(`${diagUrl(sim, 'fra-1')}/debug/pprof/goroutine?debug=2`)).status, 200);
  assert.equal(metric(await scrape(sim, 'fra-1'), 'teleport_build_info', { version: FAULTY }), 1);
  assert.deepEqual((await view(sim, 'fra-1')).build, { connectFailureRatio: 0.5, debug: true });

  await hook('rollback', '17.4.2');
  sim.advance(MIN);
  const back = await counters(sim, 'fra-1');
  sim.advance(2 * HOUR);
  const later = await counters(sim, 'fra-1');
  assert.ok((later.failures - back.failures) / (later.attempts - back.attempts) < 0.04, 'healthy again');
  assert.equal((await fetch(`${diagUrl(sim, 'fra-1')}/debug/pprof/`)).status, 404);
  assert.equal((await scrape(sim, 'fra-1')).get('go_memstats_heap_alloc_bytes'), undefined);
  const text = await page(sim, 'fra-1');
  assert.doesNotThrow(() => parseExposition(text));
});
