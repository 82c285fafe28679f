import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import pino from 'pino';
import { createHookRunner, readSecret, runCommand, signedJsonHeaders } from '../../src/adapters/hooks/index.js';
import type { HookAction } from '../../src/model/actuators.js';
import type { ProxyView } from '../../src/sim/index.js';
import { metric, scrape, startSim, view } from './sim-helpers.js';

interface HookReply extends Partial<ProxyView> {
  accepted: boolean;
  error?: string;
  field?: string;
}

const MINUTE_MS = 60_000;

function hookBody(action: HookAction, version: string, id = `demo-fra-1-${action}-${version}`, proxy = 'fra-1'): Record<string, string> {
  return { type: 'meridian.hook', id, rollout: 'default/demo', action, proxy, region: 'eu-central', version };
}

async function postHook(controlUrl: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; json: HookReply }> {
  const res = await fetch(`${controlUrl}/hooks/upgrade`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as HookReply };
}

test('upgrade hook: restarts the proxy as the version, which /metrics reports once it is up', async (t) => {
  const sim = await startSim(t);
  const before = await view(sim, 'fra-1');
  assert.ok(before.sessionsTotal > 0);
  const r = await postHook(sim.controlUrl, hookBody('upgrade', '17.4.8'));
  assert.equal(r.status, 200);
  assert.equal(r.json.accepted, true);
  assert.equal(r.json.version, '17.4.8');
  assert.equal(r.json.state, 'starting');
  assert.equal(r.json.sessionsCut, before.sessionsTotal, 'the restart cut the sessions left');
  sim.advance(MINUTE_MS);
  const page = await scrape(sim, 'fra-1');
  assert.equal(metric(page, 'teleport_build_info', { version: '17.4.8' }), 1);
  assert.equal(page.get('teleport_build_info')?.samples.length, 1);
  assert.equal(metric(await scrape(sim, 'fra-2'), 'teleport_build_info', { version: '17.4.2' }), 1, 'the other proxy is untouched');
});

test('upgrade hook: a build with an image and an artifact is accepted', async (t) => {
  const sim = await startSim(t);
  const r = await postHook(sim.controlUrl, { ...hookBody('upgrade', '17.4.8'), image: 'teleport:17.4.8', artifact: 'https://artifacts.example.com/teleport-17.4.8.tar.gz' });
  assert.equal(r.status, 200);
  assert.equal(r.json.accepted, true);
  assert.equal(r.json.version, '17.4.8');
});

test('upgrade hook: the same id again restarts nothing, nor does a proxy already on the version', async (t) => {
  const sim = await startSim(t);
  const body = hookBody('upgrade', '17.4.8');
  const [a, b] = await Promise.all([postHook(sim.controlUrl, body), postHook(sim.controlUrl, body)]);
  assert.equal(a.status, 200);
  assert.equal(b.status, 200, 'a repeat while the first is under way waits for it');
  sim.advance(MINUTE_MS);
  const upgraded = await view(sim, 'fra-1');
  assert.equal(upgraded.state, 'running');
  sim.advance(10 * MINUTE_MS);
  const later = await view(sim, 'fra-1');

  const again = await postHook(sim.controlUrl, body);
  assert.equal(again.status, 200);
  assert.equal(again.json.startedAt, upgraded.startedAt, 'no second restart');
  assert.equal(again.json.sessionsCut, later.sessionsCut);
  assert.equal(again.json.state, 'running');

  const otherId = await postHook(sim.controlUrl, hookBody('upgrade', '17.4.8', 'another-id'));
  assert.equal(otherId.status, 200);
  assert.equal(otherId.json.startedAt, upgraded.startedAt, 'already on 17.4.8: not restarted');

  const reused = await postHook(sim.controlUrl, { ...body, version: '17.5.0' });
  assert.equal(reused.status, 409);
  assert.match(reused.json.error ?? '', /id "demo-fra-1-upgrade-17.4.8" was already used to move proxy "fra-1" to 17.4.8/);

  const rollback = await postHook(sim.controlUrl, hookBody('rollback', '17.4.2'));
  assert.equal(rollback.status, 200);
  assert.equal(rollback.json.version, '17.4.2');
  assert.notEqual(rollback.json.startedAt, upgraded.startedAt);
});

test('rotation hooks: out of rotation no new sessions arrive and the old ones end; back in, they arrive again', async (t) => {
  const sim = await startSim(t, { sessionsPerProxy: 200 });
  const out = await postHook(sim.controlUrl, hookBody('out-of-rotation', '17.4.2'));
  assert.equal(out.status, 200);
  assert.equal(out.json.inRotation, false);
  assert.equal(out.json.state, 'running', 'the proxy keeps running');
  let last = await view(sim, 'fra-1');
  const first = last;
  for (let i = 0; i < 12; i++) {
    sim.advance(10 * MINUTE_MS);
    const now = await view(sim, 'fra-1');
    assert.ok(now.sessionsTotal <= last.sessionsTotal, `sessions rose from ${last.sessionsTotal} to ${now.sessionsTotal}`);
    assert.equal(now.connectAttempts, first.connectAttempts, 'no connection reached it');
    last = now;
  }
  assert.ok(last.sessionsTotal < first.sessionsTotal, 'sessions ended over two hours');
  const other = await view(sim, 'fra-2');
  assert.ok(other.connectAttempts > 0);

  // Held out across an upgrade: the controller puts it back when it is done.
  await postHook(sim.controlUrl, hookBody('upgrade', '17.4.8'));
  sim.advance(30 * MINUTE_MS);
  const upgraded = await view(sim, 'fra-1');
  assert.equal(upgraded.state, 'running');
  assert.equal(upgraded.inRotation, false);
  assert.equal(upgraded.sessionsTotal, 0);

  const back = await postHook(sim.controlUrl, hookBody('in-rotation', '17.4.8'));
  assert.equal(back.status, 200);
  assert.equal(back.json.inRotation, true);
  sim.advance(30 * MINUTE_MS);
  assert.ok((await view(sim, 'fra-1')).sessionsTotal > 0, 'arrivals resumed');
});

test('upgrade hook: bad input is a 400 naming the field; unknown proxies 404; other methods 405', async (t) => {
  const sim = await startSim(t);
  const good = hookBody('upgrade', '17.4.8');
  const { type: _type, ...noType } = good;
  const { id: _id, ...noId } = good;
  const cases: [unknown, string, RegExp][] = [
    ['{not json', 'body', /not valid JSON/],
    [[good], 'body', /must be a JSON object/],
    [noType, 'type', /type: is required/],
    [{ ...good, type: 'meridian.notice' }, 'type', /must be one of "meridian.hook"/],
    [noId, 'id', /id: is required/],
    [{ ...good, id: '' }, 'id', /non-empty string/],
    [{ ...good, action: 'reboot' }, 'action', /"out-of-rotation", "in-rotation", "upgrade", "rollback", got "reboot"/],
    [{ ...good, version: 'latest' }, 'version', /release version/],
    [{ ...good, image: 42 }, 'image', /got 42/],
    [{ ...good, artifact: 42 }, 'artifact', /got 42/],
    [{ ...good, artifact: '' }, 'artifact', /non-empty string/],
    [{ ...good, force: true }, 'force', /unknown field/],
    [{ ...good, region: 'us-east' }, 'region', /proxy "fra-1" is in region "eu-central", not "us-east"/],
  ];
  for (const [body, field, message] of cases) {
    const r = await postHook(sim.controlUrl, body);
    assert.equal(r.status, 400, JSON.stringify(body));
    assert.equal(r.json.accepted, false);
    assert.equal(r.json.field, field, JSON.stringify(body));
    assert.match(r.json.error ?? '', message);
  }
  const unknown = await postHook(sim.controlUrl, hookBody('upgrade', '17.4.8', 'x', 'nope'));
  assert.equal(unknown.status, 404);
  assert.match(unknown.json.error ?? '', /no proxy named "nope"/);
  const get = await fetch(`${sim.controlUrl}/hooks/upgrade`);
  assert.equal(get.status, 405);
  assert.equal(get.headers.get('allow'), 'POST');
  await get.body?.cancel();
  const v = await view(sim, 'fra-1');
  assert.equal(v.version, '17.4.2', 'bad requests changed nothing');
  assert.equal(v.inRotation, true);
});

test('upgrade hook with a secret: unsigned, wrongly signed or stale requests are 401', async (t) => {
  const sim = await startSim(t, { hookSecret: 'sim-key' });
  const body = JSON.stringify(hookBody('upgrade', '17.4.8'));
  const now = Date.now();
  const cases: [Record<string, string>, RegExp][] = [
    [{}, /X-Meridian-Timestamp is missing/],
    [signedJsonHeaders('a', body, now, undefined), /X-Meridian-Signature is missing/],
    [signedJsonHeaders('a', body, now, 'wrong-key'), /does not match/],
    [signedJsonHeaders('a', `${body} `, now, 'sim-key'), /does not match/],
    [signedJsonHeaders('a', body, now - 6 * MINUTE_MS, 'sim-key'), /more than 5 minutes from now/],
    [{ ...signedJsonHeaders('a', body, now, 'sim-key'), 'x-meridian-timestamp': 'yesterday' }, /unix seconds/],
  ];
  for (const [headers, message] of cases) {
    const r = await postHook(sim.controlUrl, body, headers);
    assert.equal(r.status, 401, JSON.stringify(headers));
    assert.match(r.json.error ?? '', message);
  }
  assert.equal((await view(sim, 'fra-1')).version, '17.4.2');
  const ok = await postHook(sim.controlUrl, body, signedJsonHeaders('a', body, now - 4 * MINUTE_MS, 'sim-key'));
  assert.equal(ok.status, 200);
  assert.equal(ok.json.version, '17.4.8');
});

test("Meridian's webhook hook runner drives the simulator: signed, upgraded, idempotent", async (t) => {
  const sim = await startSim(t, { hookSecret: 'sim-key' });
  const dir = await mkdtemp(join(tmpdir(), 'meridian-sim-hook-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const secretFile = join(dir, 'key');
  await writeFile(secretFile, 'sim-key\n');
  const run = createHookRunner({ log: pino({ level: 'silent' }), clock: { now: () => Date.now() }, runCommand, readSecret });
  const proxy = {
    name: 'fra-1',
    region: 'eu-central',
    publicUrl: 'https://fra-1.example.com',
    diagnosticUrl: sim.proxies[0]?.diagnosticUrl ?? '',
    version: '17.4.2',
    upgrade: { method: 'webhook' as const, url: `${sim.controlUrl}/hooks/upgrade`, secretFile, timeout: '5s' },
  };
  const signal = new AbortController().signal;
  for (const action of ['out-of-rotation', 'upgrade', 'upgrade', 'in-rotation'] as const) {
    const version = action === 'out-of-rotation' ? '17.4.2' : '17.4.8';
    const r = await run({ id: `demo-fra-1-${action}-${version}`, rollout: 'default/demo', action, proxy, version }, signal);
    assert.deepEqual(r, { ok: true, value: { attempts: 1 } }, action);
  }
  const v = await view(sim, 'fra-1');
  assert.equal(v.version, '17.4.8');
  assert.equal(v.inRotation, true);

  const wrong = createHookRunner({ log: pino({ level: 'silent' }), clock: { now: () => Date.now() }, runCommand, readSecret: async () => ({ ok: true, value: 'other' }) });
  const refused = await wrong({ id: 'x', rollout: 'default/demo', action: 'rollback', proxy, version: '17.4.2' }, signal);
  assert.equal(refused.ok, false);
  if (!refused.ok) assert.match(refused.error.error, /^rollback hook of proxy "fra-1": webhook at 127\.0\.0\.1:\d+: HTTP 401: .*does not match the body/);
});
