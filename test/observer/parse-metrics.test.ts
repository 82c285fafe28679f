import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import type { TeleportMetrics } from '../../src/model/snapshot.js';
import { createExpositionReader, parseGoFloat } from '../../src/observer/core/parse-exposition.js';
import { createTeleportMetricsParser, parseTeleportMetrics, SESSION_METRICS } from '../../src/observer/core/parse-metrics.js';
import { fixturePage, productionSizedPage } from './fixtures/production-page.js';

const SOURCE = 'http://tokyo-1.proxy.internal:3000/metrics';
const PAGE = fixturePage();

/** Replaces the sample line(s) of one series (matched from line start) with `replacement`, or drops them. */
function withLine(page: string, linePrefix: string, replacement: string | null): string {
  const lines = page.split('\n');
  const hit = lines.findIndex((l) => l.startsWith(linePrefix));
  assert.notEqual(hit, -1, `fixture has no line starting with ${linePrefix}`);
  const out = lines.filter((l) => !l.startsWith(linePrefix));
  if (replacement !== null) out.splice(hit, 0, replacement);
  return out.join('\n');
}

const without = (page: string, ...prefixes: string[]): string => prefixes.reduce((p, prefix) => withLine(p, prefix, null), page);

const MINIMAL = ['process_state 0', 'teleport_build_info{version="17.1.2"} 1', 'proxy_ssh_sessions_total 3', ''].join('\n');

const FIXTURE_METRICS: TeleportMetrics = {
  processState: 'ok',
  version: '16.4.6',
  gitref: 'v16.4.6-0-g0c8ab3e',
  sessions: { ssh: 42, kube_exec: 3, kube_portforward: 2, kube_join: 1, db: 5 },
  tunnels: { app: 7, db: 4, kube: 3, node: 412, proxy: 1 },
  missingTunnels: 2,
  connectAttempts: 5903,
  connectFailures: 17,
  connectionLimitExceeded: 4,
  startTimeSeconds: 1766112305.27,
  peerDialErrors: 4,
  peerConnections: { '0b7e52c4-96f1-4c8f-a3c6-9f2e7d1a5b30': ['READY'], 'c52a8e10-2d7b-4e0c-8f71-3a9b6d4e2f08': ['TRANSIENT_FAILURE'] },
  residentMemoryBytes: 613367808,
  goroutines: 3317,
};

describe('parseTeleportMetrics: pages it accepts', () => {
  const cases: { name: string; page: string; expect: Partial<TeleportMetrics> }[] = [
    { name: 'realistic proxy page with histograms, summaries and escaped labels', page: PAGE, expect: FIXTURE_METRICS },
    {
      name: 'only the required metrics: kube/db off, no tunnels, counters absent',
      page: MINIMAL,
      expect: {
        processState: 'ok',
        version: '17.1.2',
        sessions: { ssh: 3, kube_exec: 0, kube_portforward: 0, kube_join: 0, db: 0 },
        tunnels: {},
        missingTunnels: 0,
        connectAttempts: 0,
        connectFailures: 0,
        connectionLimitExceeded: 0,
      },
    },
    {
      name: 'kube and db services off (their gauges absent) count as 0',
      page: without(PAGE, SESSION_METRICS.kube_exec, SESSION_METRICS.kube_portforward, SESSION_METRICS.kube_join, SESSION_METRICS.db),
      expect: { sessions: { ssh: 42, kube_exec: 0, kube_portforward: 0, kube_join: 0, db: 0 } },
    },
    {
      name: 'peer connections by remote host id: states of series above 0, a zero series left out',
      page: `${MINIMAL}proxy_peer_client_connections{local_id="a",remote_id="b",state="READY"} 1
proxy_peer_client_connections{local_id="a",remote_id="c",state="TRANSIENT_FAILURE"} 1
proxy_peer_client_connections{local_id="a",remote_id="c",state="READY"} 0
proxy_peer_client_connections{local_id="a",remote_id="d",state="CONNECTING"} 2
proxy_peer_client_connections{local_id="a",remote_id="d",state="READY"} 1
`,
      expect: { peerConnections: { b: ['READY'], c: ['TRANSIENT_FAILURE'], d: ['CONNECTING', 'READY'] } },
    },
    { name: 'process_state 1 is recovering', page: withLine(PAGE, 'process_state ', 'process_state 1'), expect: { processState: 'recovering' } },
    { name: 'process_state 2 is degraded', page: withLine(PAGE, 'process_state ', 'process_state 2'), expect: { processState: 'degraded' } },
    { name: 'process_state 3 is starting', page: withLine(PAGE, 'process_state ', 'process_state 3'), expect: { processState: 'starting' } },
    { name: 'CRLF line endings', page: PAGE.replace(/\n/g, '\r\n'), expect: FIXTURE_METRICS },
    {
      name: 'series of one family are summed (kube gauges per component)',
      page: withLine(
        PAGE,
        `${SESSION_METRICS.kube_exec}{`,
        `${SESSION_METRICS.kube_exec}{component="kube_proxy"} 3\n${SESSION_METRICS.kube_exec}{component="kube_service"} 4`,
      ),
      expect: { sessions: { ssh: 42, kube_exec: 7, kube_portforward: 2, kube_join: 1, db: 5 } },
    },
    {
      name: 'Go float forms: exponent, explicit sign, timestamps',
      page: withLine(PAGE, 'proxy_ssh_sessions_total ', 'proxy_ssh_sessions_total +1.2e+03 1766112305270'),
      expect: { sessions: { ssh: 1200, kube_exec: 3, kube_portforward: 2, kube_join: 1, db: 5 } },
    },
    {
      name: 'blanks before the label set and a trailing comma, as some exporters write',
      page: withLine(PAGE, 'teleport_reverse_tunnels_connected{type="node"}', 'teleport_reverse_tunnels_connected {type="node",} 9'),
      expect: { tunnels: { app: 7, db: 4, kube: 3, node: 9, proxy: 1 } },
    },
    {
      name: 'tunnel type with escaped characters',
      page: withLine(PAGE, 'teleport_reverse_tunnels_connected{type="app"}', 'teleport_reverse_tunnels_connected{type="a\\"b\\\\c"} 7'),
      expect: { tunnels: { 'a"b\\c': 7, db: 4, kube: 3, node: 412, proxy: 1 } },
    },
    {
      name: 'OpenMetrics page: # EOF, # UNIT, exemplars and float timestamps',
      page: [
        '# TYPE process_state gauge',
        'process_state 0',
        '# TYPE teleport_build info',
        'teleport_build_info{version="18.0.0",gitref="v18.0.0"} 1',
        '# TYPE proxy_ssh_sessions gauge',
        'proxy_ssh_sessions_total 5',
        '# TYPE teleport_connect_to_node_attempts counter',
        '# UNIT teleport_connect_to_node_attempts attempts',
        'teleport_connect_to_node_attempts_total 12 1766112305.27 # {trace_id="4bf92f3577b34da6"} 1.0 1766112305.1',
        '# EOF',
        '',
      ].join('\n'),
      expect: { version: '18.0.0', gitref: 'v18.0.0', connectAttempts: 12, sessions: { ssh: 5, kube_exec: 0, kube_portforward: 0, kube_join: 0, db: 0 } },
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const r = parseTeleportMetrics(c.page, SOURCE);
      assert.ok(r.ok, r.ok ? '' : r.error.message);
      const picked = Object.fromEntries(Object.keys(c.expect).map((k) => [k, r.value[k as keyof TeleportMetrics]]));
      assert.deepEqual(JSON.parse(JSON.stringify(picked)), JSON.parse(JSON.stringify(c.expect)));
    });
  }

  it('keeps a tunnel type named __proto__ as plain data', () => {
    const r = parseTeleportMetrics(withLine(PAGE, 'teleport_reverse_tunnels_connected{type="proxy"}', 'teleport_reverse_tunnels_connected{type="__proto__"} 1'), SOURCE);
    assert.ok(r.ok);
    assert.ok(Object.hasOwn(r.value.tunnels, '__proto__'));
    assert.equal(Object.getPrototypeOf(r.value.tunnels), Object.prototype);
    assert.equal(Object.entries(r.value.tunnels).length, 5);
  });

  it('returns a frozen value', () => {
    const r = parseTeleportMetrics(PAGE, SOURCE);
    assert.ok(r.ok);
    assert.ok(Object.isFrozen(r.value) && Object.isFrozen(r.value.sessions) && Object.isFrozen(r.value.tunnels));
  });

  it('agrees with parse-prometheus-text-format on the fixture', () => {
    const families = new Map(parsePrometheusTextFormat(PAGE).map((f) => [f.name, f]));
    const total = (name: string): number => (families.get(name)?.metrics ?? []).reduce((s, m) => s + Number(m.value), 0);
    const r = parseTeleportMetrics(PAGE, SOURCE);
    assert.ok(r.ok);
    for (const [kind, name] of Object.entries(SESSION_METRICS)) assert.equal(r.value.sessions[kind as keyof typeof SESSION_METRICS], total(name), name);
    assert.equal(r.value.missingTunnels, total('proxy_missing_ssh_tunnels'));
    assert.equal(r.value.connectAttempts, total('teleport_connect_to_node_attempts_total'));
    assert.equal(r.value.startTimeSeconds, total('process_start_time_seconds'));
    const build = families.get('teleport_build_info')?.metrics[0]?.labels;
    assert.equal(r.value.version, build?.['version']);
    assert.equal(r.value.gitref, build?.['gitref']);
  });

  it('reads a production-sized page (~300 KiB)', () => {
    const r = parseTeleportMetrics(productionSizedPage(300_000), SOURCE);
    assert.ok(r.ok, r.ok ? '' : r.error.message);
    assert.deepEqual(r.value, FIXTURE_METRICS);
  });
});

describe('parseTeleportMetrics: pages it refuses', () => {
  const cases: { name: string; page: string; reason: 'parse_error' | 'missing_metric'; mentions: string[] }[] = [
    { name: 'process_state missing', page: without(PAGE, 'process_state '), reason: 'missing_metric', mentions: ['process_state'] },
    { name: 'teleport_build_info missing', page: without(PAGE, 'teleport_build_info{'), reason: 'missing_metric', mentions: ['teleport_build_info'] },
    {
      name: 'teleport_build_info without a version label',
      page: withLine(PAGE, 'teleport_build_info{', 'teleport_build_info{gitref="v16.4.6",goversion="go1.22.9"} 1'),
      reason: 'missing_metric',
      mentions: ['teleport_build_info', 'version'],
    },
    { name: 'proxy_ssh_sessions_total missing', page: without(PAGE, 'proxy_ssh_sessions_total '), reason: 'missing_metric', mentions: ['proxy_ssh_sessions_total'] },
    { name: 'unknown process_state 4', page: withLine(PAGE, 'process_state ', 'process_state 4'), reason: 'parse_error', mentions: ['process_state', '4'] },
    { name: 'fractional process_state', page: withLine(PAGE, 'process_state ', 'process_state 0.5'), reason: 'parse_error', mentions: ['process_state', '0.5'] },
    { name: 'negative process_state', page: withLine(PAGE, 'process_state ', 'process_state -1'), reason: 'parse_error', mentions: ['process_state'] },
    { name: 'non-numeric value', page: withLine(PAGE, 'proxy_ssh_sessions_total ', 'proxy_ssh_sessions_total 4x2'), reason: 'parse_error', mentions: ['proxy_ssh_sessions_total', 'line'] },
    { name: 'malformed number', page: withLine(PAGE, 'proxy_ssh_sessions_total ', 'proxy_ssh_sessions_total 1.2.3'), reason: 'parse_error', mentions: ['proxy_ssh_sessions_total', '1.2.3'] },
    {
      name: 'unterminated label value',
      page: withLine(PAGE, 'teleport_build_info{', 'teleport_build_info{version="16.4.6} 1'),
      reason: 'parse_error',
      mentions: ['teleport_build_info', 'unterminated'],
    },
    {
      name: 'invalid escape in a label value',
      page: withLine(PAGE, 'teleport_build_info{', 'teleport_build_info{version="16\\x"} 1'),
      reason: 'parse_error',
      mentions: ['teleport_build_info', 'escape'],
    },
    { name: 'text after the timestamp', page: withLine(PAGE, 'process_state ', 'process_state 0 1766112305270 extra 1'), reason: 'parse_error', mentions: ['process_state'] },
    { name: 'an HTML error page', page: '<!DOCTYPE html>\n<html><body><h1>502 Bad Gateway</h1></body></html>\n', reason: 'parse_error', mentions: ['line 1', 'exposition'] },
    { name: 'a JSON document', page: '{"status":"ok","metrics":[]}', reason: 'parse_error', mentions: ['line 1'] },
    { name: 'plain-text error', page: 'Internal Server Error\n', reason: 'parse_error', mentions: ['line 1', 'Internal Server Error'] },
    { name: 'an empty page', page: '\n  \n', reason: 'parse_error', mentions: ['empty'] },
    {
      name: 'garbage line in the middle of a good page',
      page: PAGE.replace('# HELP go_threads', '\u0000\u0001binary\u0002 garbage\n# HELP go_threads'),
      reason: 'parse_error',
      mentions: ['line 28'],
    },
    { name: 'a truncated sample line (no value)', page: `${MINIMAL}go_goroutines{a="b"}`, reason: 'parse_error', mentions: ['line 4'] },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const r = parseTeleportMetrics(c.page, SOURCE);
      assert.equal(r.ok, false);
      if (r.ok) return;
      assert.equal(r.error.reason, c.reason, r.error.message);
      for (const m of [SOURCE, ...c.mentions]) assert.ok(r.error.message.includes(m), `"${r.error.message}" should mention ${m}`);
    });
  }
});

describe('parseTeleportMetrics: one odd sample is skipped, the rest of the page kept', () => {
  const DB = SESSION_METRICS.db;
  const cases: { name: string; page: string; expect: Partial<TeleportMetrics> }[] = [
    {
      name: 'NaN in the db gauge (legal in the format): SSH sessions still read, db flagged',
      page: withLine(PAGE, `${DB} `, `${DB} NaN`),
      expect: {
        sessions: { ...FIXTURE_METRICS.sessions, db: 0 },
        skippedSamples: [{ metric: DB, labels: {}, value: 'NaN', why: 'expected a whole number >= 0' }],
        sessionKindsSkipped: ['db'],
      },
    },
    {
      name: '+Inf SSH sessions',
      page: withLine(PAGE, 'proxy_ssh_sessions_total ', 'proxy_ssh_sessions_total +Inf'),
      expect: {
        sessions: { ...FIXTURE_METRICS.sessions, ssh: 0 },
        skippedSamples: [{ metric: 'proxy_ssh_sessions_total', labels: {}, value: '+Inf', why: 'expected a whole number >= 0' }],
        sessionKindsSkipped: ['ssh'],
      },
    },
    {
      name: 'a negative kube series: the other series of the family still count',
      page: withLine(PAGE, `${SESSION_METRICS.kube_join}{`, `${SESSION_METRICS.kube_join}{component="kube_proxy"} -1`),
      expect: {
        sessions: { ...FIXTURE_METRICS.sessions, kube_join: 0 },
        skippedSamples: [{ metric: SESSION_METRICS.kube_join, labels: { component: 'kube_proxy' }, value: '-1', why: 'expected a whole number >= 0' }],
        sessionKindsSkipped: ['kube_join'],
      },
    },
    {
      name: 'a fractional db count',
      page: withLine(PAGE, `${DB} `, `${DB} 2.5`),
      expect: { sessions: { ...FIXTURE_METRICS.sessions, db: 0 }, sessionKindsSkipped: ['db'] },
    },
    {
      name: 'a negative tunnel count leaves that type out',
      page: withLine(PAGE, 'teleport_reverse_tunnels_connected{type="node"}', 'teleport_reverse_tunnels_connected{type="node"} -3'),
      expect: { tunnels: { app: 7, db: 4, kube: 3, proxy: 1 }, sessions: FIXTURE_METRICS.sessions },
    },
    {
      name: 'a negative counter, and -Inf in an optional gauge',
      page: withLine(withLine(PAGE, 'failed_connect_to_node_attempts_total ', 'failed_connect_to_node_attempts_total -1'), 'go_goroutines ', 'go_goroutines -Inf'),
      expect: {
        connectFailures: 0,
        skippedSamples: [
          { metric: 'go_goroutines', labels: {}, value: '-Inf', why: 'expected a finite number >= 0' },
          { metric: 'failed_connect_to_node_attempts_total', labels: {}, value: '-1', why: 'expected a finite number >= 0' },
        ],
      },
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const r = parseTeleportMetrics(c.page, SOURCE);
      assert.ok(r.ok, r.ok ? '' : r.error.message);
      const got = r.value as unknown as Record<string, unknown>;
      for (const [k, v] of Object.entries(c.expect)) assert.deepEqual(got[k], v, k);
      assert.equal(r.value.version, FIXTURE_METRICS.version, 'the rest of the page is kept');
      assert.ok(r.value.skippedSamples?.length, 'the skipped sample is flagged');
    });
  }

  it('a page whose samples are all usable flags nothing', () => {
    const r = parseTeleportMetrics(PAGE, SOURCE);
    assert.ok(r.ok);
    assert.equal(r.value.skippedSamples, undefined);
    assert.equal(r.value.sessionKindsSkipped, undefined);
  });

  it('a NaN process_state is still refused: without it the proxy health is unknown', () => {
    const r = parseTeleportMetrics(withLine(PAGE, 'process_state ', 'process_state NaN'), SOURCE);
    assert.equal(r.ok, false);
    if (!r.ok) assert.match(r.error.message, /process_state is NaN/);
  });
});

describe('createTeleportMetricsParser (page fed in chunks)', () => {
  const feed = (text: string, size: number) => {
    const parser = createTeleportMetricsParser(SOURCE);
    for (let i = 0; i < text.length; i += size) {
      const problem = parser.push(text.slice(i, i + size));
      if (problem) return { ok: false as const, error: problem };
    }
    return parser.end();
  };

  for (const size of [1, 7, 64, 1000, 16 * 1024]) {
    it(`gives the same metrics as the whole page in ${size}-character chunks`, () => {
      assert.deepEqual(feed(PAGE, size), parseTeleportMetrics(PAGE, SOURCE));
      assert.deepEqual(feed(PAGE.replace(/\n/g, '\r\n'), size), parseTeleportMetrics(PAGE, SOURCE));
    });
  }

  it('reports a bad line as soon as its chunk arrives, with the page line number', () => {
    const parser = createTeleportMetricsParser(SOURCE);
    const lines = PAGE.split('\n');
    const bad = [...lines.slice(0, 40), '<html>', ...lines.slice(40)];
    let problem;
    let pushed = 0;
    for (const l of bad) {
      pushed++;
      problem = parser.push(`${l}\n`);
      if (problem) break;
    }
    assert.equal(pushed, 41);
    assert.match(problem?.message ?? '', /line 41: expected a metric name/);
    assert.equal(parser.end().ok, false);
  });

  it('joins a long line split over many chunks', () => {
    const longLabel = 'x'.repeat(100_000);
    const page = `${MINIMAL}teleport_reverse_tunnels_connected{type="${longLabel}"} 3\n`;
    const r = feed(page, 500);
    assert.ok(r.ok);
    assert.equal(r.value.tunnels[longLabel], 3);
  });

  it('an empty stream is an empty page', () => {
    const parser = createTeleportMetricsParser(SOURCE);
    parser.push('');
    parser.push('\n');
    const r = parser.end();
    assert.equal(!r.ok && r.error.message.includes('empty page'), true);
  });
});

describe('parseGoFloat', () => {
  const cases: [string, number][] = [
    ['0', 0],
    ['42', 42],
    ['-1.5', -1.5],
    ['1.048576e+06', 1048576],
    ['+Inf', Infinity],
    ['-Inf', -Infinity],
    ['Inf', Infinity],
    ['NaN', NaN],
    ['', NaN],
    ['0x10', NaN],
    ['1_000', NaN],
    ['Infinity', NaN],
    ['abc', NaN],
  ];
  for (const [token, expected] of cases) it(`"${token}" -> ${expected}`, () => assert.ok(Object.is(parseGoFloat(token), expected)));
});

describe('createExpositionReader', () => {
  it('returns only the chosen names, with labels, and does not match on a prefix', () => {
    const { read } = createExpositionReader(['up', 'requests_total']);
    const r = read('up 1\nupstream_errors 3\nrequests_total{code="200"} 5\nrequests_total{code="500"} 1\nrequests_total_created 1.7e9\n');
    assert.ok(r.ok);
    assert.deepEqual([...r.value.keys()], ['up', 'requests_total']);
    assert.deepEqual(
      r.value.get('requests_total')?.map((s) => [s.labels, s.value]),
      [
        [{ code: '200' }, 5],
        [{ code: '500' }, 1],
      ],
    );
  });

  it('names the line of a problem', () => {
    const r = createExpositionReader(['up']).read('# HELP up Is it up\n# TYPE up gauge\nup{job="x" 1\n');
    assert.equal(r.ok, false);
    if (!r.ok) assert.equal(r.error.line, 3);
  });
});
