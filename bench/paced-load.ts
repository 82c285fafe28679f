/**
 * An open-loop load generator at a steady rate (as wrk2 does, which autocannon is not: its
 * `overallRate` lets each connection send its share of the second back to back, then wait).
 * Every millisecond the requests due by then are sent on a pool of keep-alive connections,
 * whether or not earlier ones have come back, one request in flight per connection (no
 * pipelining, as a load balancer sends). Raw sockets and pre-encoded requests keep the
 * generator's own cost per request small, so it measures the server and not itself.
 *
 * Each request is timed from when it was due and dispatched; waiting for a free connection
 * counts. Lateness of the generator's own timer does not: it shows as a lower achieved rate.
 */
import net from 'node:net';

export interface PacedRequest {
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
}

export interface PacedResult {
  /** Milliseconds, one per answered request, in completion order. */
  readonly latenciesMs: Float64Array;
  readonly statusCounts: ReadonlyMap<number, number>;
  readonly errors: number;
  readonly wallS: number;
  /** Most requests that waited for a free connection at once. */
  readonly maxQueued: number;
}

export interface PacedOptions {
  readonly url: string;
  /** Sent in order, round and round. */
  readonly requests: readonly PacedRequest[];
  readonly rate: number;
  /** How long to send for (or at most, with `signal`). */
  readonly seconds: number;
  /** Stops sending early; the run ends once the requests in flight are answered. */
  readonly signal?: AbortSignal;
  /** Every answer: its status line and headers, when it arrived (performance.now()), and which of `requests` it answers. */
  readonly onResponse?: (head: string, at: number, requestIndex: number) => void;
  /** Connections opened up front (default 32); more are opened when all are busy, up to maxConnections (default 256). */
  readonly connections?: number;
  readonly maxConnections?: number;
}

interface Conn {
  readonly socket: net.Socket;
  buf: Buffer;
  startedAt: number;
  requestIndex: number;
}

const HEADER_END = Buffer.from('\r\n\r\n');

function encode(host: string, r: PacedRequest): Buffer {
  const lines = [`GET ${r.path} HTTP/1.1`, `host: ${host}`, 'connection: keep-alive', ...Object.entries(r.headers).map(([k, v]) => `${k}: ${v}`)];
  return Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');
}

/** Length of the first complete response in buf (head and body), its status and head; undefined while incomplete. */
function parseResponse(buf: Buffer): { length: number; status: number; head: string } | undefined {
  const end = buf.indexOf(HEADER_END);
  if (end < 0) return undefined;
  const head = buf.toString('latin1', 0, end);
  const status = Number(head.slice(9, 12));
  const m = /\r\ncontent-length:\s*(\d+)/i.exec(head);
  const bodyLength = m ? Number(m[1]) : 0;
  const length = end + 4 + bodyLength;
  return buf.length >= length ? { length, status, head } : undefined;
}

export async function pacedLoad(options: PacedOptions): Promise<PacedResult> {
  const u = new URL(options.url);
  const port = Number(u.port);
  const encoded = options.requests.map((r) => encode(u.host, r));
  let total = Math.round(options.rate * options.seconds);
  const latencies = new Float64Array(total);
  const statusCounts = new Map<number, number>();
  let done = 0;
  let errors = 0;
  let sent = 0;
  let maxQueued = 0;
  const idle: Conn[] = [];
  const all: Conn[] = [];
  // Requests waiting for a free connection, oldest first (a head index: shift() is linear).
  const queued: { at: number; index: number }[] = [];
  let head = 0;
  const maxConnections = options.maxConnections ?? 256;
  let finish: () => void = () => undefined;

  const send = (c: Conn, index: number, at: number): void => {
    c.startedAt = at;
    c.requestIndex = index;
    c.socket.write(encoded[index] as Buffer);
  };
  const release = (c: Conn): void => {
    const next = queued[head];
    if (next) {
      queued[head++] = undefined as never;
      if (head > 1024 && head * 2 > queued.length) {
        queued.splice(0, head);
        head = 0;
      }
      send(c, next.index, next.at);
    } else idle.push(c);
  };
  const settle = (): void => {
    if (done + errors >= total) finish();
  };

  const open = (): Promise<Conn> =>
    new Promise((resolve, reject) => {
      const socket = net.connect({ host: u.hostname, port, noDelay: true });
      const c: Conn = { socket, buf: Buffer.alloc(0), startedAt: 0, requestIndex: 0 };
      socket.once('connect', () => resolve(c));
      socket.on('error', (e) => {
        if (c.startedAt > 0) {
          c.startedAt = 0;
          errors++;
          settle();
        }
        reject(e);
      });
      socket.on('data', (chunk: Buffer) => {
        c.buf = c.buf.length ? Buffer.concat([c.buf, chunk]) : chunk;
        const r = parseResponse(c.buf);
        if (!r) return;
        const at = performance.now();
        if (done < latencies.length) latencies[done] = at - c.startedAt;
        done++;
        options.onResponse?.(r.head, at, c.requestIndex);
        statusCounts.set(r.status, (statusCounts.get(r.status) ?? 0) + 1);
        c.buf = c.buf.subarray(r.length);
        c.startedAt = 0;
        release(c);
        settle();
      });
      all.push(c);
    });

  for (const c of await Promise.all(Array.from({ length: options.connections ?? 32 }, open))) idle.push(c);
  const started = performance.now();
  await new Promise<void>((resolve) => {
    finish = resolve;
    options.signal?.addEventListener('abort', () => {
      total = sent;
      settle();
    });
    const tick = (): void => {
      const now = performance.now();
      const due = Math.min(total, Math.floor(((now - started) * options.rate) / 1000) + 1);
      while (sent < due) {
        const index = sent++ % encoded.length;
        const c = idle.pop();
        if (c) send(c, index, now);
        else {
          queued.push({ at: now, index });
          if (all.length < maxConnections) void open().then(release, () => undefined);
        }
      }
      maxQueued = Math.max(maxQueued, queued.length - head);
      if (sent < total) setTimeout(tick, 1);
    };
    tick();
  });
  const wallS = (performance.now() - started) / 1000;
  for (const c of all) c.socket.destroy();
  return { latenciesMs: latencies.subarray(0, Math.min(done, latencies.length)), statusCounts, errors, wallS, maxQueued };
}
