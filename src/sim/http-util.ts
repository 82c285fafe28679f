import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { err, ok, type Result } from '../model/result.js';

/** Largest control API request body. */
export const CONTROL_BODY_LIMIT_BYTES = 64 * 1024;

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

/** 405 with the Allow header and what to use instead. */
export function methodNotAllowed(res: ServerResponse, method: string, path: string, allowed: string): void {
  res.setHeader('Allow', allowed);
  sendJson(res, 405, { error: `${method} is not allowed on ${path} (use ${allowed})` });
}

export function sendText(res: ServerResponse, status: number, contentType: string, body: string | Buffer): void {
  res.writeHead(status, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

/** Reads a request body as text, up to `limitBytes`. */
export function readBody(req: IncomingMessage, limitBytes: number): Promise<Result<string, string>> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = (r: Result<string, string>): void => {
      if (!done) {
        done = true;
        resolve(r);
      }
    };
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limitBytes) {
        finish(err(`body is larger than ${limitBytes} bytes`));
        req.resume();
        return;
      }
      if (!done) chunks.push(chunk);
    });
    req.on('error', (e) => finish(err(`could not read body: ${e.message}`)));
    req.on('end', () => finish(ok(Buffer.concat(chunks).toString('utf8'))));
  });
}

/** Parses a JSON body; an empty body is `undefined`. */
export function parseJsonBody(text: string): Result<unknown, string> {
  if (text.trim() === '') return ok(undefined);
  try {
    return ok(JSON.parse(text) as unknown);
  } catch (e) {
    return err(`body is not valid JSON (${e instanceof Error ? e.message : String(e)})`);
  }
}

/** Reads a JSON request body; an empty body is `undefined`. */
export async function readJsonBody(req: IncomingMessage, limitBytes: number): Promise<Result<unknown, string>> {
  const text = await readBody(req, limitBytes);
  return text.ok ? parseJsonBody(text.value) : text;
}

/** Listens and resolves with the bound port. */
export function listen(server: Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (e: Error): void => reject(e);
    server.once('error', onError);
    server.listen({ host, port }, () => {
      server.off('error', onError);
      const addr = server.address();
      resolve(typeof addr === 'object' && addr ? addr.port : port);
    });
  });
}

/** Stops listening at once (new connections are refused) and drops open connections. */
export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

/** `host:port` as it appears in a URL (IPv6 in brackets). */
export function hostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
