import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface Forwarder {
  readonly url: string;
  close(): Promise<void>;
}

/**
 * An HTTP hop between the controllers and the test API server, as a load balancer would be.
 * `before` runs ahead of each request is forwarded (watch streams included), so a test can let
 * another writer in between a controller's read and its write.
 */
export interface ForwarderOptions {
  /** Hold the response headers until the first byte of the body, as some load balancers do. */
  readonly holdHeaders?: boolean;
  /** True for an answer the client never gets (the connection is reset): the request was made, its outcome lost. */
  readonly loseAnswer?: (req: IncomingMessage, statusCode: number) => boolean;
}

export async function startForwarder(target: string, before: (req: IncomingMessage) => Promise<void>, { holdHeaders = false, loseAnswer }: ForwarderOptions = {}): Promise<Forwarder> {
  const to = new URL(target);
  const sockets = new Set<Socket>();
  const server: Server = createServer((req, res) => {
    void before(req).then(() => {
      const out = request({ host: to.hostname, port: to.port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
        if (loseAnswer?.(req, answer.statusCode ?? 502)) {
          answer.resume();
          res.destroy();
          return;
        }
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        // As a load balancer does; `holdHeaders` plays one that holds them until the first byte of the body.
        if (!holdHeaders) res.flushHeaders();
        answer.pipe(res);
      });
      out.on('error', () => res.destroy());
      res.on('close', () => out.destroy());
      req.pipe(out);
    }, () => res.destroy()); // a `before` that throws resets the connection: a failed request, not a hang
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
