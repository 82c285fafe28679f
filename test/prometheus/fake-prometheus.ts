import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TestContext } from 'node:test';

/** What the server answers to one query: a JSON or text body with a status, or no answer at all. */
export type PromReply = { readonly status?: number; readonly json?: unknown; readonly text?: string } | 'hang';

export interface FakePrometheusOptions {
  /** Answers keyed by the exact `query` parameter received. */
  readonly answers: Readonly<Record<string, PromReply>>;
  /** When set, a request without `Authorization: Bearer <token>` gets 401, as from an auth proxy in front of Prometheus. */
  readonly token?: string;
  /** Served under this path prefix, as behind a reverse proxy (`/prometheus`). */
  readonly prefix?: string;
}

/** A one-series instant vector, as Prometheus sends it (values are strings). */
export function vector(...values: readonly string[]): unknown {
  return { status: 'success', data: { resultType: 'vector', result: values.map((v, i) => ({ metric: { proxy: `p${i}` }, value: [1767571200, v] })) } };
}

export function scalar(value: string): unknown {
  return { status: 'success', data: { resultType: 'scalar', result: [1767571200, value] } };
}

/**
 * A Prometheus HTTP API stand-in on 127.0.0.1: `GET /api/v1/query` answered from a table keyed by
 * the exact query string; a query not in the table is Prometheus' bad_data error. Keeps each
 * request's parameters, so tests can check the evaluation time and how often a query was asked.
 */
export async function startPrometheus(t: TestContext, opts: FakePrometheusOptions): Promise<{ readonly url: string; readonly requests: URLSearchParams[] }> {
  const prefix = opts.prefix ?? '';
  const requests: URLSearchParams[] = [];
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const send = (status: number, body: string, type: string) => {
      res.writeHead(status, { 'content-type': type });
      res.end(body);
    };
    if (req.method !== 'GET' || url.pathname !== `${prefix}/api/v1/query`) return send(404, '404 page not found\n', 'text/plain');
    if (opts.token !== undefined && req.headers.authorization !== `Bearer ${opts.token}`) return send(401, 'Unauthorized\n', 'text/plain');
    requests.push(url.searchParams);
    const query = url.searchParams.get('query') ?? '';
    const reply = Object.hasOwn(opts.answers, query) ? opts.answers[query] : { status: 400, json: { status: 'error', errorType: 'bad_data', error: `not in the test table: ${query}` } };
    if (reply === undefined || reply === 'hang') return;
    if (reply.json !== undefined) return send(reply.status ?? 200, JSON.stringify(reply.json), 'application/json');
    send(reply.status ?? 200, reply.text ?? '', 'text/plain');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}${prefix}`, requests };
}
