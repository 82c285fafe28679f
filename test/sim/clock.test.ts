import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { ClockFollower } from '../../src/sim/clock-follower.js';
import { startFleetSim } from '../../src/sim/index.js';
import { control, ONE_REGION, startSim } from './sim-helpers.js';

const DAY_MS = 86_400_000;
/** Far from the real time, so a clock that fell back to it would show. */
const START = Date.UTC(2031, 5, 1, 12);

async function tempDir(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'meridian-sim-clock-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

test('the simulated clock is kept in its clock file and resumed from it: a restart does not send it back', async (t) => {
  const clockFile = join(await tempDir(t), 'state', 'sim-clock.json');
  const first = await startFleetSim({ proxies: ONE_REGION, tickMs: 0, controlPort: 0, startAt: START, clockFile });
  first.advance(5 * DAY_MS);
  await first.close();
  assert.deepEqual(JSON.parse(await readFile(clockFile, 'utf8')), { simulatedNow: new Date(START + 5 * DAY_MS).toISOString() });

  // No startAt: it would be the real time, years before the saved one.
  const second = await startFleetSim({ proxies: ONE_REGION, tickMs: 0, controlPort: 0, clockFile });
  t.after(() => second.close());
  assert.equal(second.clock.now(), START + 5 * DAY_MS);
});

test('a saved clock earlier than startAt gives way to it (the clock only moves forward)', async (t) => {
  const clockFile = join(await tempDir(t), 'sim-clock.json');
  await writeFile(clockFile, JSON.stringify({ simulatedNow: new Date(START).toISOString() }));
  const sim = await startSim(t, { controlPort: 0, startAt: START + DAY_MS, clockFile });
  assert.equal(sim.clock.now(), START + DAY_MS);
});

test('a clock file that holds no time stops the start, naming the file', async (t) => {
  const clockFile = join(await tempDir(t), 'sim-clock.json');
  await writeFile(clockFile, '{"simulatedNow": "yesterday"}');
  await assert.rejects(startFleetSim({ proxies: ONE_REGION, tickMs: 0, controlPort: 0, clockFile }), (e: Error) => e.message.startsWith(`${clockFile}: expected {"simulatedNow"`));
});

test('GET /clock serves the simulated time and its pace (0 when only advance() moves it)', async (t) => {
  const stepped = await startSim(t, { startAt: START });
  stepped.advance(90_000);
  assert.deepEqual((await control(stepped, 'GET', '/clock')).json, { now: START + 90_000, timeFactor: 0 });
  assert.equal((await control(stepped, 'POST', '/clock')).status, 405);

  const ticking = await startSim(t, { startAt: START, tickMs: 60_000, timeFactor: 3600 });
  const r = (await control(ticking, 'GET', '/clock')).json as { now: number; timeFactor: number };
  assert.equal(r.timeFactor, 3600);
  assert.ok(r.now >= START);
});

test('a followed clock extrapolates between readings with the time factor', () => {
  const f = new ClockFollower({ now: START, timeFactor: 60 }, 1_000);
  assert.equal(f.now(1_000), START);
  assert.equal(f.now(2_000), START + 60_000);
  assert.equal(f.observe({ now: START + 120_000, timeFactor: 60 }, 3_000), 0);
  assert.equal(f.now(3_500), START + 150_000);
});

test('a followed clock never goes backwards: a reading behind it is held until the simulator catches up', () => {
  const f = new ClockFollower({ now: START, timeFactor: 60 }, 0);
  assert.equal(f.now(10_000), START + 600_000);
  // The simulator restarted at an earlier time.
  assert.equal(f.observe({ now: START + 60_000, timeFactor: 60 }, 10_000), 540_000);
  assert.equal(f.now(10_000), START + 600_000);
  assert.equal(f.now(15_000), START + 600_000, 'held: the simulator is at +360 s');
  assert.equal(f.now(20_000), START + 660_000, 'moving again once the simulator passes it');
  // A real clock read out of order does not move it back either.
  assert.equal(f.now(19_000), START + 660_000);
});

test('a followed clock on a stepped simulator (time factor 0) moves only with its readings', () => {
  const f = new ClockFollower({ now: START, timeFactor: 0 }, 0);
  assert.equal(f.now(60_000), START);
  f.observe({ now: START + DAY_MS, timeFactor: 0 }, 61_000);
  assert.equal(f.now(120_000), START + DAY_MS);
  assert.equal(f.timeFactor, 0);
});
