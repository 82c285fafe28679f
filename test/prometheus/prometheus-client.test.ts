import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { readSecret } from '../../src/adapters/hooks/index.js';
import { createPrometheusClient, parseQueryReply } from '../../src/adapters/prometheus/index.js';
import type { PromAnswer, PromQuery } from '../../src/model/prometheus.js';
import { scalar, startPrometheus, vector } from './fake-prometheus.js';

const AT = Date.UTC(2026, 0, 5, 12, 0, 0);
const client = createPrometheusClient({ readSecret });
const signal = (): AbortSignal => new AbortController().signal;

function ask(address: string, promql: string, extra: Partial<PromQuery> = {}): Promise<PromAnswer> {
  return client({ address, timeoutMs: 5_000, name: 'error-ratio', promql, at: AT, ...extra }, signal());
}

/** The error of a failed answer, with the server's port made stable. */
function problemOf(a: PromAnswer): { noData: boolean; error: string } {
  assert.equal(a.ok, false, 'expected no number');
  return a.ok ? { noData: false, error: '' } : { noData: a.error.noData, error: a.error.error.replace(/127\.0\.0\.1:\d+/, 'HOST') };
}

test('a one-series vector and a scalar each give their number', async (t) => {
  const prom = await startPrometheus(t, { answers: { 'sum(rate(x[5m]))': { json: vector('0.125') }, 'scalar(y)': { json: scalar('42') }, 'tiny': { json: vector('1e-05') } } });
  assert.deepEqual(await ask(prom.url, 'sum(rate(x[5m]))'), { ok: true, value: 0.125 });
  assert.deepEqual(await ask(prom.url, 'scalar(y)'), { ok: true, value: 42 });
  assert.deepEqual(await ask(prom.url, 'tiny'), { ok: true, value: 0.00001 });
  // Evaluated at the time asked for, in the seconds Prometheus takes.
  assert.deepEqual(prom.requests.map((r) => r.get('time')), Array(3).fill(String(AT / 1000)));
});

test('an empty vector is "no data", not an error', async (t) => {
  const prom = await startPrometheus(t, { answers: { absent: { json: vector() } } });
  assert.deepEqual(problemOf(await ask(prom.url, 'absent')), { noData: true, error: 'Prometheus query "error-ratio" at http://HOST: no data: the query returned an empty vector' });
});

test('more than one series is an error that says how many and to aggregate', async (t) => {
  const prom = await startPrometheus(t, { answers: { 'rate(x[5m])': { json: vector('0.1', '0.2', '0.3') } } });
  const p = problemOf(await ask(prom.url, 'rate(x[5m])'));
  assert.equal(p.noData, false);
  assert.equal(p.error, 'Prometheus query "error-ratio" at http://HOST: the query returned 3 series, not one: aggregate them into one number, e.g. with sum(...) or max(...)');
});

test("Prometheus' error JSON on a 400 is reported with its type and message", async (t) => {
  const prom = await startPrometheus(t, { answers: { 'sum(': { status: 400, json: { status: 'error', errorType: 'bad_data', error: 'parse error: unexpected end of input' } } } });
  assert.deepEqual(problemOf(await ask(prom.url, 'sum(')), { noData: false, error: 'Prometheus query "error-ratio" at http://HOST: HTTP 400 bad_data: parse error: unexpected end of input' });
});

test('a 503 with a text body, and a 200 that is not JSON, are errors quoting the body', async (t) => {
  const prom = await startPrometheus(t, { answers: { busy: { status: 503, text: 'Service Unavailable\n' }, html: { status: 200, text: '<html>login</html>' } } });
  assert.deepEqual(problemOf(await ask(prom.url, 'busy')), { noData: false, error: 'Prometheus query "error-ratio" at http://HOST: HTTP 503: "Service Unavailable"' });
  assert.deepEqual(problemOf(await ask(prom.url, 'html')), { noData: false, error: 'Prometheus query "error-ratio" at http://HOST: the answer is not Prometheus JSON: "<html>login</html>"' });
});

test('a server that never answers is an error once the timeout passes', async (t) => {
  const prom = await startPrometheus(t, { answers: { slow: 'hang' } });
  assert.deepEqual(problemOf(await ask(prom.url, 'slow', { timeoutMs: 200 })), { noData: false, error: 'Prometheus query "error-ratio" at http://HOST: no answer within 200 ms' });
});

test('the bearer token from its file is sent; without it the server refuses', async (t: TestContext) => {
  const dir = await mkdtemp(join(tmpdir(), 'meridian-prom-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const tokenFile = join(dir, 'token');
  await writeFile(tokenFile, 's3cret-token\n');
  const prom = await startPrometheus(t, { token: 's3cret-token', answers: { up: { json: vector('1') } } });
  assert.deepEqual(await ask(prom.url, 'up', { bearerTokenFile: tokenFile }), { ok: true, value: 1 });
  assert.deepEqual(problemOf(await ask(prom.url, 'up')), { noData: false, error: 'Prometheus query "error-ratio" at http://HOST: HTTP 401: "Unauthorized"' });
  assert.deepEqual(problemOf(await ask(prom.url, 'up', { bearerTokenFile: join(dir, 'missing') })), {
    noData: false,
    error: `Prometheus query "error-ratio" at http://HOST: bearer token: secret file ${join(dir, 'missing')} does not exist`,
  });
});

test('a path prefix in the address is kept, and a query with quotes, braces, # and backslashes arrives byte for byte', async (t) => {
  const promql = 'sum(rate(x{proxy="a\\"} or vector(1) #"}[5m])) / 2';
  const prom = await startPrometheus(t, { prefix: '/prometheus', answers: { [promql]: { json: vector('0.5') } } });
  assert.deepEqual(await ask(prom.url, promql), { ok: true, value: 0.5 });
  assert.deepEqual(await ask(`${prom.url}/`, promql), { ok: true, value: 0.5 });
});

test('a refused connection is an error naming the query and the server', async () => {
  const p = problemOf(await ask('http://127.0.0.1:9/', 'up'));
  assert.equal(p.error, 'Prometheus query "error-ratio" at http://HOST: connection refused');
});

test('replies that give no single finite number', () => {
  const body = (v: unknown) => JSON.stringify(v);
  const cases: [number, string, string][] = [
    [200, body(vector('NaN')), 'the value is NaN'],
    [200, body(vector('+Inf')), 'the value is +Inf'],
    [200, body(scalar('-Inf')), 'the value is -Inf'],
    [200, body({ status: 'success', data: { resultType: 'matrix', result: [] } }), 'the query returned a range vector (matrix)'],
    [200, body({ status: 'success', data: { resultType: 'string', result: [0, 'x'] } }), 'the query returned a string'],
    [200, body({ status: 'error', errorType: 'timeout', error: 'query timed out in expression evaluation' }), 'timeout: query timed out in expression evaluation'],
    [422, body({ status: 'error', errorType: 'execution', error: 'many-to-many matching not allowed' }), 'HTTP 422 execution: many-to-many matching not allowed'],
    [200, body({ status: 'success', data: { resultType: 'vector', result: [{ metric: {}, value: [0, 'abc'] }] } }), 'the value "abc" is not a number'],
    [200, body({ status: 'success', data: { resultType: 'vector', result: [{ metric: {} }] } }), 'a sample is not [time, "value"]'],
    [200, body({ data: {} }), 'the answer is not Prometheus JSON with "status": "success"'],
    [502, '', 'HTTP 502'],
  ];
  for (const [status, text, expected] of cases) {
    const r = parseQueryReply(status, text);
    assert.equal(r.ok, false, text);
    if (!r.ok) {
      assert.ok(r.error.problem.startsWith(expected), `${text}: ${r.error.problem}`);
      assert.equal(r.error.noData, false, text);
    }
  }
});

test('at most `concurrency` queries are in flight; those queued when the pass is cancelled are never sent', async (t) => {
  const prom = await startPrometheus(t, { answers: { slow: 'hang' } });
  const limited = createPrometheusClient({ readSecret, concurrency: 2 });
  const pass = new AbortController();
  const answers = Array.from({ length: 5 }, () => limited({ address: prom.url, timeoutMs: 5_000, name: 'error-ratio', promql: 'slow', at: AT }, pass.signal));
  await new Promise((resolve) => setTimeout(resolve, 200));
  assert.equal(prom.requests.length, 2);
  pass.abort();
  const errors = (await Promise.all(answers)).map((a) => problemOf(a).error);
  assert.deepEqual(errors, Array(5).fill('Prometheus query "error-ratio" at http://HOST: cancelled'));
  assert.equal(prom.requests.length, 2);
});
