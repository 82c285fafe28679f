import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { pino } from 'pino';
import { createDiagnosticClient, type DiagnosticClient } from '../../src/adapters/teleport/diagnostic-client.js';
import { fixturePage } from './fixtures/production-page.js';

const PAGE = fixturePage();
const TEXT = 'text/plain; version=0.0.4; charset=utf-8';
const log = pino({ level: 'silent' });

type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

interface TestServer {
  readonly url: string;
  readonly connections: () => number;
}

const servers: http.Server[] = [];
after(async () => {
  for (const s of servers) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

/** A diagnostic address on 127.0.0.1:0 whose /metrics and /readyz behave as told. */
async function serve(metrics: Handler, readyz: Handler = (_q, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}')): Promise<TestServer> {
  let connections = 0;
  const server = http.createServer((req, res) => (req.url === '/metrics' ? metrics(req, res) : req.url === '/readyz' ? readyz(req, res) : res.writeHead(404).end()));
  server.on('connection', () => connections++);
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, connections: () => connections };
}

const page: Handler = (_q, res) => res.writeHead(200, { 'content-type': TEXT }).end(PAGE);

function client(overrides: { timeoutMs?: number; maxBodyBytes?: number } = {}): DiagnosticClient {
  const c = createDiagnosticClient({ timeoutMs: 2000, maxBodyBytes: 1024 * 1024, log, ...overrides });
  after(() => c.close());
  return c;
}

describe('diagnostic client', () => {
  it('reads a good page and a ready /readyz', async () => {
    const s = await serve(page);
    const out = await client().scrape(s.url);
    assert.ok(out.ok, out.ok ? '' : out.error.message);
    assert.equal(out.metrics.sessions.ssh, 42);
    assert.equal(out.metrics.version, '16.4.6');
    assert.equal(out.readyzStatus, 200);
    assert.ok(out.durationMs >= 0);
  });

  it('a page with one NaN db sample (legal in the format) still gives the SSH sessions, the sample flagged', async () => {
    const odd = PAGE.replace(/^teleport_proxy_db_active_connections_total .*$/m, 'teleport_proxy_db_active_connections_total NaN');
    assert.notEqual(odd, PAGE);
    const s = await serve((_q, res) => res.writeHead(200, { 'content-type': TEXT }).end(odd));
    const out = await client().scrape(s.url);
    assert.ok(out.ok, out.ok ? '' : out.error.message);
    assert.equal(out.metrics.sessions.ssh, 42);
    assert.deepEqual(out.metrics.sessionKindsSkipped, ['db']);
    assert.equal(out.metrics.skippedSamples?.[0]?.value, 'NaN');
  });

  it('accepts a trailing slash on the diagnostic URL and a gzip-encoded page', async () => {
    const s = await serve((_q, res) => res.writeHead(200, { 'content-type': TEXT, 'content-encoding': 'gzip' }).end(gzipSync(PAGE)));
    const out = await client().scrape(`${s.url}/`);
    assert.ok(out.ok, out.ok ? '' : out.error.message);
    assert.equal(out.metrics.sessions.db, 5);
  });

  it('keeps connections alive between scrapes', async () => {
    const s = await serve(page);
    const c = client();
    for (let i = 0; i < 3; i++) assert.ok((await c.scrape(s.url)).ok);
    assert.ok(s.connections() <= 2, `${s.connections()} connections for 6 requests`);
  });

  for (const status of [400, 503]) {
    it(`/readyz ${status}: up but not ready, status recorded`, async () => {
      const s = await serve(page, (_q, res) => res.writeHead(status, { 'content-type': 'application/json' }).end('{"status":"not ready"}'));
      const out = await client().scrape(s.url);
      assert.ok(out.ok);
      assert.equal(out.readyzStatus, status);
    });
  }

  it('/readyz hanging while /metrics answers: up, no readyz status, the problem noted', async () => {
    const s = await serve(page, () => undefined);
    const out = await client({ timeoutMs: 150 }).scrape(s.url);
    assert.ok(out.ok);
    assert.equal(out.readyzStatus, undefined);
    assert.equal(out.readyzProblem?.reason, 'timeout');
  });

  it('slow /metrics: timeout', async () => {
    const s = await serve((_q, res) => {
      res.writeHead(200, { 'content-type': TEXT });
      res.write('# HELP process_state State\n'); // then nothing more
    });
    const out = await client({ timeoutMs: 150 }).scrape(s.url);
    assert.equal(out.ok, false);
    if (out.ok) return;
    assert.equal(out.error.reason, 'timeout');
    assert.match(out.error.message, new RegExp(`${s.url}/metrics`));
  });

  it('garbage page: parse_error naming the URL', async () => {
    const s = await serve((_q, res) => res.writeHead(200, { 'content-type': 'text/plain' }).end('<html><body>Bad Gateway</body></html>'));
    const out = await client().scrape(s.url);
    assert.equal(out.ok, false);
    if (out.ok) return;
    assert.equal(out.error.reason, 'parse_error');
    assert.ok(out.error.message.startsWith(`${s.url}/metrics`));
  });

  it('binary page that is not UTF-8: parse_error', async () => {
    const s = await serve((_q, res) => res.writeHead(200, { 'content-type': 'text/plain' }).end(Buffer.from([0xff, 0xfe, 0x00, 0x41])));
    const out = await client().scrape(s.url);
    assert.equal(!out.ok && out.error.reason, 'parse_error');
  });

  it('page without a required metric: missing_metric', async () => {
    const s = await serve((_q, res) => res.writeHead(200, { 'content-type': TEXT }).end('process_state 0\nproxy_ssh_sessions_total 1\n'));
    const out = await client().scrape(s.url);
    assert.equal(!out.ok && out.error.reason, 'missing_metric');
  });

  it('oversized streamed page: too_large, and it stopped reading', async () => {
    const total = 64 * 1024 * 1024;
    let written = 0;
    let completed = false;
    let closed!: () => void;
    const serverDone = new Promise<void>((r) => (closed = r));
    const s = await serve((_q, res) => {
      res.writeHead(200, { 'content-type': TEXT }); // chunked: no Content-Length to refuse up front
      const chunk = Buffer.alloc(64 * 1024, 'go_goroutines 1\n');
      const pump = (): void => {
        while (written < total) {
          written += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        res.end(() => (completed = true));
      };
      res.on('close', () => closed());
      pump();
    });
    const out = await client({ maxBodyBytes: 2 * 1024 * 1024 }).scrape(s.url);
    await serverDone;
    assert.equal(out.ok, false);
    if (out.ok) return;
    assert.equal(out.error.reason, 'too_large');
    assert.match(out.error.message, /2097152-byte limit/);
    assert.equal(completed, false);
    assert.ok(written < total / 2, `server wrote ${written} of ${total} bytes`);
  });

  it('garbage page: stops downloading at the first bad line', async () => {
    let written = 0;
    let completed = false;
    let closed!: () => void;
    const serverDone = new Promise<void>((r) => (closed = r));
    const s = await serve((_q, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      const chunk = Buffer.alloc(64 * 1024, '<div>not metrics</div>\n');
      const pump = (): void => {
        while (written < 64 * 1024 * 1024) {
          written += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        res.end(() => (completed = true));
      };
      res.on('close', () => closed());
      pump();
    });
    const out = await client({ maxBodyBytes: 128 * 1024 * 1024 }).scrape(s.url);
    await serverDone;
    assert.equal(!out.ok && out.error.reason, 'parse_error');
    assert.equal(completed, false);
    assert.ok(written < 32 * 1024 * 1024, `server wrote ${written} bytes`);
  });

  it('declared Content-Length over the limit: too_large before reading', async () => {
    const s = await serve((_q, res) => {
      res.writeHead(200, { 'content-type': TEXT, 'content-length': String(50 * 1024 * 1024) });
      res.write('process_state 0\n');
    });
    const out = await client({ maxBodyBytes: 1024 * 1024 }).scrape(s.url);
    assert.equal(!out.ok && out.error.reason, 'too_large');
  });

  it('gzip bomb: the limit applies to the decompressed size', async () => {
    const bomb = gzipSync(Buffer.alloc(8 * 1024 * 1024, '# padding\n'));
    const s = await serve((_q, res) => res.writeHead(200, { 'content-type': TEXT, 'content-encoding': 'gzip' }).end(bomb));
    const out = await client({ maxBodyBytes: 1024 * 1024 }).scrape(s.url);
    assert.equal(!out.ok && out.error.reason, 'too_large');
  });

  for (const [name, type] of [
    ['JSON', 'application/json'],
    ['HTML', 'text/html; charset=utf-8'],
  ] as const) {
    it(`wrong content type (${name}): content_type`, async () => {
      const s = await serve((_q, res) => res.writeHead(200, { 'content-type': type }).end(PAGE));
      const out = await client().scrape(s.url);
      assert.equal(out.ok, false);
      if (out.ok) return;
      assert.equal(out.error.reason, 'content_type');
      assert.ok(out.error.message.includes(type));
    });
  }

  it('missing content type: content_type', async () => {
    const s = await serve((_q, res) => res.writeHead(200).end(PAGE));
    const out = await client().scrape(s.url);
    assert.equal(!out.ok && out.error.reason, 'content_type');
  });

  it('OpenMetrics content type is accepted', async () => {
    const s = await serve((_q, res) => res.writeHead(200, { 'content-type': 'application/openmetrics-text; version=1.0.0; charset=utf-8' }).end(`${PAGE}# EOF\n`));
    const out = await client().scrape(s.url);
    assert.ok(out.ok, out.ok ? '' : out.error.message);
  });

  it('HTTP 500: http_status naming the code; /readyz still recorded', async () => {
    const s = await serve(
      (_q, res) => res.writeHead(500, { 'content-type': 'text/plain' }).end('boom'),
      (_q, res) => res.writeHead(503).end(),
    );
    const out = await client().scrape(s.url);
    assert.equal(out.ok, false);
    if (out.ok) return;
    assert.equal(out.error.reason, 'http_status');
    assert.match(out.error.message, /HTTP 500/);
    assert.equal(out.readyzStatus, 503);
  });

  it('a redirect is not followed: http_status', async () => {
    const s = await serve((_q, res) => res.writeHead(302, { location: 'http://example.com/metrics' }).end());
    const out = await client().scrape(s.url);
    assert.equal(!out.ok && out.error.reason, 'http_status');
  });

  it('closed port: connection_refused, for /metrics and /readyz', async () => {
    const server = http.createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as AddressInfo;
    await new Promise((r) => server.close(r));
    const out = await client().scrape(`http://127.0.0.1:${port}`);
    assert.equal(out.ok, false);
    if (out.ok) return;
    assert.equal(out.error.reason, 'connection_refused');
    assert.equal(out.readyzProblem?.reason, 'connection_refused');
    assert.equal(out.readyzStatus, undefined);
  });

  it('unresolvable host: network', async () => {
    const out = await client({ timeoutMs: 1500 }).scrape('http://proxy.invalid:3000');
    assert.equal(out.ok, false);
    if (out.ok) return;
    assert.ok(['network', 'timeout'].includes(out.error.reason), out.error.reason);
  });

  it('an aborted signal ends the scrape without throwing', async () => {
    const s = await serve(() => undefined, () => undefined);
    const controller = new AbortController();
    const pending = client({ timeoutMs: 10_000 }).scrape(s.url, controller.signal);
    setTimeout(() => controller.abort(), 20);
    const out = await pending;
    assert.equal(!out.ok && out.error.reason, 'timeout');
  });
});
