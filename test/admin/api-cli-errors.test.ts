import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { FileStore } from '../../src/adapters/file-store/index.js';
import { FleetsResponse } from '../../src/admin/schemas.js';
import { getJson } from '../../src/cli/admin-client.js';
import { runCli } from '../../src/cli/main.js';
import type { ProxyCanary } from '../../src/model/canary.js';
import type { ProxyRollout } from '../../src/model/rollout.js';
import { capture } from '../helpers/capture-io.js';
import { ManualClock } from '../helpers/manual-clock.js';
import { adminAppOver } from '../helpers/admin-deps.js';
import { MemoryStore } from '../helpers/memory-store.js';

type Hooks = { after: (fn: () => Promise<void> | void) => void };
type ErrorBody = { statusCode: number; error: string; message: string };

const STACK = /\n\s+at .+:\d+:\d+/;

/** A silent logger whose output (the admin child logger ignores "silent", see the logging test) goes nowhere. */
const quietLog = () => pino({ level: 'silent' }, { write: () => undefined });

function rollout(name: string, spec: Record<string, unknown>, status?: Record<string, unknown>): ProxyRollout {
  return { apiVersion: 'meridian.dev/v1alpha1', kind: 'ProxyRollout', metadata: { name, namespace: 'default', generation: 1 }, spec: { version: '17.4.8', ...spec }, ...(status ? { status } : {}) } as unknown as ProxyRollout;
}

function canary(name: string, status: Record<string, unknown>): ProxyCanary {
  return {
    apiVersion: 'meridian.dev/v1alpha1',
    kind: 'ProxyCanary',
    metadata: { name, namespace: 'default', generation: 1 },
    spec: { build: { version: '17.4.9-debug.1', debug: true }, subset: { perRegion: 1 } },
    status,
  } as unknown as ProxyCanary;
}

/** An admin app over an in-memory store: a running, a completed and a paused rollout, a baking canary. */
async function memoryApp(t: Hooks, log = quietLog()) {
  const store = new MemoryStore();
  store.put(rollout('run', {}, { phase: 'Progressing', startedAt: '2026-01-01T00:00:00Z' }));
  store.put(rollout('done', {}, { phase: 'Completed', startedAt: '2026-01-01T00:00:00Z', finishedAt: '2026-01-02T00:00:00Z' }));
  store.put(rollout('held', { paused: true }, { phase: 'Paused', startedAt: '2026-01-01T00:00:00Z' }));
  store.put(canary('bake', { phase: 'Baking', startedAt: '2026-01-01T00:00:00Z' }));
  const app = await adminAppOver(store, log);
  t.after(() => app.close());
  return { app, store };
}

const ROLLOUT = (name: string) => `apiVersion: meridian.dev/v1alpha1\nkind: ProxyRollout\nmetadata:\n  name: ${name}\nspec:\n  version: 17.4.8\n  paused: true\n`;

/** An admin app over the real file store, one manifest file r.yaml; no watching, no periodic rescan during the test. */
async function fileApp(t: Hooks, text: string) {
  const dir = await mkdtemp(join(tmpdir(), 'meridian-admin-'));
  const file = join(dir, 'r.yaml');
  await writeFile(file, text);
  const store = new FileStore({ manifestDir: dir, stateDir: join(dir, '.state'), log: pino({ level: 'silent' }), clock: new ManualClock(), watchFiles: false, rescanIntervalMs: 600_000 });
  await store.start();
  const app = await adminAppOver(store, quietLog());
  t.after(async () => {
    await app.close();
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });
  return { app, store, file };
}

/** A plain HTTP server for the CLI to talk to; closed after the test. */
async function serve(t: Hooks, handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<string> {
  const server = createServer(handler).listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function cli(argv: string[]) {
  const io = capture();
  const code = await runCli(argv, io);
  return { code, out: io.stdout, err: io.stderr };
}

// ---------------------------------------------------------------- admin API

test('admin: unknown routes and methods are a JSON 404 naming method and path', async (t) => {
  const { app } = await memoryApp(t);
  for (const [method, url] of [
    ['GET', '/nope'],
    ['DELETE', '/api/v1/rollouts'],
    ['PUT', '/api/v1/rollouts/default/run/pause'],
    ['GET', '/api/v1/rollouts/default/run/pause'],
    ['POST', '/healthz'],
    ['GET', '/api/v1/ROLLOUTS'],
  ] as const) {
    const res = await app.inject({ method, url });
    assert.equal(res.statusCode, 404, `${method} ${url}`);
    assert.equal(res.json<ErrorBody>().message, `Route ${method}:${url} not found`);
  }
  const verb = await app.inject({ method: 'POST', url: '/api/v1/rollouts/default/run/explode' });
  assert.equal(verb.statusCode, 400);
  assert.match(verb.json<ErrorBody>().message, /^params\/verb /);
});

test('admin: odd path parameters are named back decoded or refused, never a 500', async (t) => {
  const { app } = await memoryApp(t);
  const traversal = await app.inject({ method: 'GET', url: '/api/v1/rollouts/..%2F..%2Fetc/run' });
  assert.equal(traversal.statusCode, 404);
  assert.equal(traversal.json<ErrorBody>().message, 'no ProxyRollout ../../etc/run');
  const unicode = await app.inject({ method: 'POST', url: `/api/v1/rollouts/default/${encodeURIComponent('ü🚀')}/pause` });
  assert.equal(unicode.statusCode, 404);
  assert.equal(unicode.json<ErrorBody>().message, 'no ProxyRollout default/ü🚀');
  const badEscape = await app.inject({ method: 'GET', url: '/api/v1/rollouts/default/%ZZ' });
  assert.equal(badEscape.statusCode, 400);
  assert.match(badEscape.json<ErrorBody>().message, /%ZZ' is not a valid url component/);
  const long = await app.inject({ method: 'GET', url: `/api/v1/canaries/default/${'a'.repeat(300)}` });
  assert.equal(long.statusCode, 414);
  assert.equal(long.json<{ code: string }>().code, 'FST_ERR_MAX_PARAM_LENGTH');
  const missing = await app.inject({ method: 'POST', url: '/api/v1/rollouts/default/nope/pause' });
  assert.equal(missing.statusCode, 404);
  assert.equal(missing.json<ErrorBody>().message, 'no ProxyRollout default/nope');
});

test('admin: wrong, repeated or missing query parameters are a 400 naming the parameter', async (t) => {
  const { app } = await memoryApp(t);
  const cases: [string, string][] = [
    ['/api/v1/peerings/default/p/coverage?limit=abc', 'querystring/limit must be integer'],
    ['/api/v1/peerings/default/p/plan?limit=1&limit=2', 'querystring/limit must be integer'],
    ['/api/v1/peerings/default/p/coverage?limit=-1', 'querystring/limit must be >= 0'],
    ['/api/v1/explain-redirect', "querystring must have required property 'ip'"],
    ['/api/v1/explain-redirect?ip=1.2.3.4&ip=5.6.7.8', 'querystring/ip must be string'],
    ['/api/v1/explain-redirect?ip=1.2.3.4&region=a&region=b', 'querystring/region must be string'],
    [`/api/v1/explain-redirect?ip=${'9'.repeat(65)}`, 'querystring/ip must NOT have more than 64 characters'],
    ['/api/v1/explain-redirect?ip=banana', 'ip: not an IPv4 or IPv6 address'],
  ];
  for (const [url, message] of cases) {
    const res = await app.inject({ method: 'GET', url });
    assert.equal(res.statusCode, 400, url);
    assert.equal(res.json<ErrorBody>().message, message, url);
    // The HTTP reason, as the routes' own answers give it, not fastify's internal code.
    assert.equal(res.json<ErrorBody>().error, 'Bad Request', url);
  }
});

test('admin: bad bodies on a command (invalid JSON, wrong type, too big) are refused and change nothing; arrays and extra fields are ignored', async (t) => {
  const { app, store } = await memoryApp(t);
  const url = '/api/v1/rollouts/default/run/pause';
  const invalid = await app.inject({ method: 'POST', url, payload: '{"paused": ', headers: { 'content-type': 'application/json' } });
  assert.equal(invalid.statusCode, 400);
  assert.match(invalid.json<ErrorBody>().message, /Body is not valid JSON/);
  const xml = await app.inject({ method: 'POST', url, payload: '<pause/>', headers: { 'content-type': 'application/xml' } });
  assert.equal(xml.statusCode, 415);
  assert.equal(xml.json<ErrorBody>().error, 'Unsupported Media Type');
  const huge = await app.inject({ method: 'POST', url, payload: JSON.stringify({ pad: 'x'.repeat(2_000_000) }), headers: { 'content-type': 'application/json' } });
  assert.equal(huge.statusCode, 413);
  assert.match(huge.json<ErrorBody>().message, /too large/);
  assert.equal((await store.get('ProxyRollout', 'default', 'run'))?.spec.paused, undefined, 'no refused request paused the rollout');
  // The verb endpoints take no body: an array or extra fields do not change which command runs.
  const array = await app.inject({ method: 'POST', url: '/api/v1/rollouts/default/run/resume', payload: '[1,2]', headers: { 'content-type': 'application/json' } });
  assert.equal(array.statusCode, 409);
  assert.equal(array.json<ErrorBody>().message, 'rollout run is not paused');
  const extra = await app.inject({ method: 'POST', url, payload: { namespace: 'other', aborted: true } });
  assert.equal(extra.statusCode, 200);
  assert.deepEqual([extra.json<{ paused: boolean; aborted: boolean }>().paused, extra.json<{ aborted: boolean }>().aborted], [true, false]);
});

test('admin: commands in a phase where they do not apply are a 409 with the reason, and the spec is untouched', async (t) => {
  const { app, store } = await memoryApp(t);
  const pauseDone = await app.inject({ method: 'POST', url: '/api/v1/rollouts/default/done/pause' });
  assert.equal(pauseDone.statusCode, 409);
  assert.equal(pauseDone.json<ErrorBody>().message, 'rollout done is Completed; create a new ProxyRollout to go again');
  const pauseHeld = await app.inject({ method: 'POST', url: '/api/v1/rollouts/default/held/pause' });
  assert.equal(pauseHeld.statusCode, 409);
  assert.equal(pauseHeld.json<ErrorBody>().message, 'rollout held is already paused');
  const promote = await app.inject({ method: 'POST', url: '/api/v1/canaries/default/bake/promote' });
  assert.equal(promote.statusCode, 409);
  assert.match(promote.json<ErrorBody>().message, /^canary bake is Baking: only a Held canary is promoted by hand/);
  const start = await app.inject({ method: 'POST', url: '/api/v1/canaries/default/bake/start' });
  assert.equal(start.statusCode, 409);
  assert.equal(store.statusWrites, 0);
  assert.equal((await store.get('ProxyRollout', 'default', 'done'))?.metadata.generation, 1);
  assert.equal((await store.get('ProxyCanary', 'default', 'bake'))?.metadata.generation, 1);
});

test('admin: a command on a manifest that now has a YAML error says so, not "Internal Server Error"', async (t) => {
  const { app, file } = await fileApp(t, ROLLOUT('a'));
  await writeFile(file, `${ROLLOUT('a')}  broken: [\n`);
  const res = await app.inject({ method: 'POST', url: '/api/v1/rollouts/default/a/start' });
  // A manifest that cannot take the command is a 409 with the store's reason, not a bare 500.
  assert.ok(res.statusCode < 500, `got ${res.statusCode} ${res.body}`);
  assert.equal(res.statusCode, 409, res.body);
  assert.equal(res.json<ErrorBody>().error, 'Conflict');
  assert.match(res.json<ErrorBody>().message, /YAML error/);
});

test('admin: two commands at once on rollouts in the same manifest file both take effect', async (t) => {
  const { app, store } = await fileApp(t, `${ROLLOUT('a')}---\n${ROLLOUT('b')}`);
  const [a, b] = await Promise.all([
    app.inject({ method: 'POST', url: '/api/v1/rollouts/default/a/start' }),
    app.inject({ method: 'POST', url: '/api/v1/rollouts/default/b/start' }),
  ]);
  assert.deepEqual([a.statusCode, b.statusCode], [200, 200]);
  await store.rescan();
  // Edits of the files run one at a time: both commands land.
  assert.equal((await store.get('ProxyRollout', 'default', 'a'))?.spec.paused, undefined, 'start a lost');
  assert.equal((await store.get('ProxyRollout', 'default', 'b'))?.spec.paused, undefined, 'start b lost');
});

test('admin: a command edits the named rollout even when its document moved in the file since the last scan', async (t) => {
  const { app, store, file } = await fileApp(t, ROLLOUT('a'));
  // An operator (or git pull) adds a rollout above "a"; the store has not rescanned yet (debounce / rescan interval).
  await writeFile(file, `${ROLLOUT('b')}---\n${ROLLOUT('a')}`);
  const res = await app.inject({ method: 'POST', url: '/api/v1/rollouts/default/a/start' });
  await store.rescan();
  const text = await readFile(file, 'utf8');
  // The edit goes to the document that defines the object now, not the one the last scan saw.
  assert.equal((await store.get('ProxyRollout', 'default', 'b'))?.spec.paused, true, `b was edited instead of a (${res.statusCode}):\n${text}`);
  assert.equal((await store.get('ProxyRollout', 'default', 'a'))?.spec.paused, undefined, 'a was not started');
});

test('admin: a silent logger stays silent when a client sends a bad request', async (t) => {
  const lines: string[] = [];
  const { app } = await memoryApp(t, pino({ level: 'silent' }, { write: (s: string) => void lines.push(s) }));
  const res = await app.inject({ method: 'GET', url: '/api/v1/peerings/default/p/coverage?limit=abc' });
  assert.equal(res.statusCode, 400);
  // A quieter parent level holds for the admin listener, and a client's mistake is no server error.
  assert.deepEqual(lines, []);
});

// ---------------------------------------------------------------- CLI

test('cli: a closed port is named with the address and cause, exit 1, no stack trace', async () => {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  for (const argv of [['rollout', 'pause', 'x'], ['canary', 'promote', 'x'], ['peering', 'status'], ['rollout', 'status']]) {
    const r = await cli([...argv, '--server', `http://127.0.0.1:${port}`]);
    assert.equal(r.code, 1, argv.join(' '));
    assert.match(r.err, new RegExp(`cannot reach the Meridian admin API at http://127\\.0\\.0\\.1:${port}: .*ECONNREFUSED`));
    assert.doesNotMatch(r.err, STACK);
    assert.equal(r.out, '');
  }
});

test('cli: a server answering 500 with HTML, or 200 with non-JSON, is an error naming the request, exit 1', async (t) => {
  const html = await serve(t, (_req, res) => {
    res.writeHead(500, { 'content-type': 'text/html' });
    res.end('<html><body><h1>oops</h1></body></html>');
  });
  const text = await serve(t, (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end('hello');
  });
  for (const argv of [['status'], ['rollout', 'pause', 'x'], ['canary', 'status', 'x'], ['explain-redirect', '1.2.3.4']]) {
    const a = await cli([...argv, '--server', html]);
    assert.equal(a.code, 1);
    assert.match(a.err, /\/api\/v1\/\S+ answered 500: Internal Server Error/);
    assert.doesNotMatch(a.err, /<html>/);
    const b = await cli([...argv, '--server', text]);
    assert.equal(b.code, 1);
    assert.match(b.err, new RegExp(`${text}/api/v1/\\S+ did not answer with JSON; is ${text} a Meridian admin address\\?`));
    assert.doesNotMatch(a.err + b.err, STACK);
    assert.equal(a.out + b.out, '');
  }
});

test('cli: a 200 JSON answer of the wrong shape is an error, never "success"', async (t) => {
  const url = await serve(t, (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{}');
  });
  const pause = await cli(['rollout', 'pause', 'x', '--server', url]);
  const status = await cli(['rollout', 'status', '--server', url]);
  // The answer is checked against the admin API's own schema: JSON of another shape is an error.
  assert.notEqual(pause.code, 0, `exit 0 with: ${pause.out}`);
  assert.doesNotMatch(pause.out, /undefined/);
  assert.equal(status.code, 1);
  assert.doesNotMatch(status.err, /Cannot read properties of undefined/);
  assert.match(status.err, new RegExp(url.replace(/\./g, '\\.')));
});

test('cli: a server that never answers is cut off by the timeout, exit 1, naming the server', async (t) => {
  const url = await serve(t, () => undefined);
  const r = await cli(['status', '--server', url]);
  assert.equal(r.code, 1);
  assert.match(r.err, new RegExp(`cannot reach the Meridian admin API at ${url.replace(/\./g, '\\.')}: .*timeout`));
  assert.doesNotMatch(r.err, STACK);
});

test('cli client: a server that sends headers then stalls is reported as a timeout, not as "not JSON"', async (t) => {
  const url = await serve(t, (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.write('{"fleets": [');
  });
  const e = await getJson(url, '/api/v1/fleet', FleetsResponse, 200).then(
    () => new Error('resolved'),
    (err: unknown) => (err instanceof Error ? err : new Error(String(err))),
  );
  // A body cut off by the timeout is a timeout, not "not JSON".
  assert.match(e.message, /time/i);
  assert.doesNotMatch(e.message, /did not answer with JSON/);
});

test('cli: a command redirected by the server is not reported as done', async (t) => {
  const { app, store } = await memoryApp(t);
  const admin = await app.listen({ host: '127.0.0.1', port: 0 });
  const seen: string[] = [];
  // A front proxy doing POST-redirect-GET to the rollout's own URL.
  const front = await serve(t, (req, res) => {
    seen.push(`${req.method ?? ''} ${req.url ?? ''}`);
    res.writeHead(303, { location: `${admin}/api/v1/rollouts/default/run` });
    res.end();
  });
  const r = await cli(['rollout', 'pause', 'run', '--server', front]);
  assert.deepEqual(seen, ['POST /api/v1/rollouts/default/run/pause']);
  assert.equal((await store.get('ProxyRollout', 'default', 'run'))?.spec.paused, undefined, 'nothing was paused');
  // Redirects are never followed: a redirected POST would come back a GET and look done.
  assert.notEqual(r.code, 0, `exit 0 with: ${r.out}`);
  assert.match(r.err, /redirect/i);
});

test('cli: an invalid --server value is named with the flag and the value', async () => {
  for (const server of ['not a url', 'localhost:9181']) {
    const r = await cli(['status', '--server', server]);
    assert.equal(r.code, 1);
    assert.doesNotMatch(r.err, STACK);
    // An invalid --server is named with the value given.
    assert.match(r.err, /--server/);
    assert.ok(r.err.includes(server), r.err);
  }
});

test('cli: unknown commands, subcommands and flags exit non-zero naming the culprit, no stack trace', async () => {
  const cases: [string[], number, RegExp][] = [
    [['frobnicate'], 2, /unknown command "frobnicate"/],
    [['rollout', 'explode', 'x'], 2, /unknown subcommand "explode"/],
    [['canary', 'nope', 'x'], 2, /unknown subcommand "nope"/],
    [['peering'], 2, /missing subcommand/],
    [['rollout', 'pause', 'x', '--bogus'], 1, /Unknown option '--bogus'.*\(see meridian --help\)/],
    [['status', '--server'], 1, /Option '--server <value>' argument missing/],
    [['rollout', 'pause'], 1, /rollout pause takes one NAME/],
    [['rollout', 'pause', 'x', '--server', 'http://127.0.0.1:1', '--manifests', 'examples/fleet'], 1, /give --server .* or --manifests .*, not both/],
    [['peering', 'coverage', '--limit', 'abc'], 1, /--limit: "abc" is not a whole number >= 0/],
    [['status', '--interval', 'soon'], 1, /--interval: "soon" is not a duration/],
  ];
  for (const [argv, code, message] of cases) {
    const r = await cli(argv);
    assert.equal(r.code, code, argv.join(' '));
    assert.match(r.err, message, argv.join(' '));
    assert.doesNotMatch(r.err, STACK);
  }
});

test('cli: 404 and 409 from a real admin API reach the user with the server\'s reason, exit 1', async (t) => {
  const { app } = await memoryApp(t);
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  const cases: [string[], RegExp][] = [
    [['rollout', 'pause', 'done'], /\/api\/v1\/rollouts\/default\/done\/pause answered 409: rollout done is Completed/],
    [['canary', 'promote', 'bake'], /answered 409: canary bake is Baking: only a Held canary is promoted by hand/],
    [['rollout', 'resume', 'nope'], /answered 404: no ProxyRollout default\/nope/],
    [['rollout', 'status', 'a/b'], /answered 404: no ProxyRollout default\/a\/b/],
    [['canary', 'status', 'x', '-n', 'ü🚀'], /answered 404: no ProxyCanary ü🚀\/x/],
  ];
  for (const [argv, message] of cases) {
    const r = await cli([...argv, '--server', url]);
    assert.equal(r.code, 1, argv.join(' '));
    assert.match(r.err, message);
    assert.equal(r.out, '');
  }
});

test('cli: a NAME or namespace of "." or ".." is refused by name, not resolved into another API path', async (t) => {
  const { app } = await memoryApp(t);
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  const up = await cli(['rollout', 'status', '..', '--server', url]);
  const fleet = await cli(['rollout', 'status', 'fleet', '-n', '..', '--server', url]);
  assert.equal(up.code, 1);
  assert.equal(fleet.code, 1);
  // "." and ".." are refused as names before anything is sent: they would name another resource.
  assert.match(up.err, /"\.\."/);
  assert.doesNotMatch(fleet.err, /Cannot read properties/);
});
