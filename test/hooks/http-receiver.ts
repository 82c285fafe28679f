import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { TestContext } from 'node:test';
import { closeServer, listen } from '../../src/sim/http-util.js';

export interface Received {
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/** What the receiver does with the n-th request (0-based): answer, or never answer. */
export type Answer = { readonly status: number; readonly body?: string; readonly headers?: Record<string, string> } | 'hang';

export interface Receiver {
  readonly url: string;
  readonly received: Received[];
}

/** A real HTTP receiver on 127.0.0.1: records every request, answers from `answers` (the last one repeats). */
export async function startReceiver(t: TestContext, answers: readonly Answer[], path = '/hook'): Promise<Receiver> {
  const received: Received[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const n = received.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      const answer = answers[Math.min(n - 1, answers.length - 1)] ?? { status: 200 };
      if (answer === 'hang') return;
      res.writeHead(answer.status, { 'content-type': 'text/plain', ...answer.headers });
      res.end(answer.body ?? '');
    });
  });
  const port = await listen(server, '127.0.0.1', 0);
  t.after(() => closeServer(server));
  return { url: `http://127.0.0.1:${port}${path}`, received };
}

/** A URL nothing listens on: a port that was just bound and released. */
export async function refusedUrl(): Promise<string> {
  const server = createServer();
  const port = await listen(server, '127.0.0.1', 0);
  await closeServer(server);
  return `http://127.0.0.1:${port}/hook`;
}

/** Checks X-Meridian-Signature the way a receiver written from the documentation would. */
export function signatureVerifies(r: Received, key: string): boolean {
  const timestamp = r.headers['x-meridian-timestamp'];
  const signature = r.headers['x-meridian-signature'];
  if (typeof timestamp !== 'string' || typeof signature !== 'string') return false;
  const expected = Buffer.from(`sha256=${createHmac('sha256', key).update(`${timestamp}.${r.body}`).digest('hex')}`);
  const given = Buffer.from(signature);
  return expected.length === given.length && timingSafeEqual(expected, given);
}

/** A node -e script that writes its arguments (as JSON) to the file named by its first argument. */
export const WRITE_ARGS = "require('node:fs').writeFileSync(process.argv[1], JSON.stringify(process.argv.slice(2)))";
