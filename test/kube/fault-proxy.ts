// A forwarding proxy in front of an API server (the in-process one, envtest's kube-apiserver or an
// existing cluster) with the fault switches, the authorizer and the request hook of the
// in-process server, so the suites that use them run unchanged on a real server. Clients speak
// plain HTTP with any bearer token to the proxy; the proxy speaks to the server as its admin
// user (the token decides only what `authorize` allows).
import { Agent as HttpAgent, createServer, request as httpRequest, type Agent, type IncomingMessage, type OutgoingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest, type RequestOptions } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { KubeConfig } from '@kubernetes/client-node';
import type { RequestInfo, RequestMatch } from './faults.js';
import type { ResourceRegistry } from './resources.js';
import { bearer, parseRequest, refusal, writeJson, type Authorizer } from './routes.js';
import { internalError, tooManyRequests, type ApiError } from './status-errors.js';

type Action = { kind: 'error'; error: () => ApiError } | { kind: 'close' };

interface Rule {
  remaining: number;
  match: RequestMatch;
  action: Action;
}

interface ProxiedWatch {
  res: ServerResponse;
  upstream?: IncomingMessage;
  /** A silenced stream stays open and passes nothing on again, like a half-open connection. */
  silent: boolean;
}

/** The same switches as the in-process server's `Faults`, done by the proxy. */
export class ProxyFaults {
  private readonly rules: Rule[] = [];
  readonly watches = new Set<ProxiedWatch>();
  silenceNew = false;

  constructor(private readonly destroyConnections: () => number) {}

  /** The next `n` matching requests get 429 TooManyRequests (with Retry-After) or 500 InternalError. */
  failNext(n: number, code: 429 | 500, options: { retryAfterSeconds?: number; match?: RequestMatch } = {}): void {
    const error = code === 429 ? () => tooManyRequests(options.retryAfterSeconds ?? 1) : () => internalError('injected fault');
    this.rules.push({ remaining: n, match: options.match ?? (() => true), action: { kind: 'error', error } });
  }

  /** The next `n` matching requests have their connection closed without an answer. */
  closeNext(n: number, options: { match?: RequestMatch } = {}): void {
    this.rules.push({ remaining: n, match: options.match ?? (() => true), action: { kind: 'close' } });
  }

  /** Resets every open watch stream; returns how many there were. */
  dropWatches(): number {
    const n = this.watches.size;
    for (const w of [...this.watches]) w.res.socket?.destroy();
    return n;
  }

  /** Ends every open watch stream cleanly (as a timeout or a server restart does); returns how many. */
  endWatches(): number {
    const n = this.watches.size;
    for (const w of [...this.watches]) if (!w.silent) w.res.end();
    return n;
  }

  /** Open watch streams, and those opened until `restoreWatches()`, stay open and pass nothing on (no events, no bookmarks, no end). */
  silenceWatches(): void {
    this.silenceNew = true;
    for (const w of this.watches) w.silent = true;
  }

  /** New streams behave again; streams silenced before stay silent. */
  restoreWatches(): void {
    this.silenceNew = false;
  }

  /** Closes every open connection at once (watches and requests in flight); returns how many. */
  closeConnections(): number {
    return this.destroyConnections();
  }

  /** Forgets pending request faults and un-silences new watches. */
  clear(): void {
    this.rules.length = 0;
    this.silenceNew = false;
  }

  /** The fault for this request, if one is pending (consumes it). */
  take(info: RequestInfo): Action | undefined {
    const rule = this.rules.find((r) => r.remaining > 0 && r.match(info));
    if (!rule) return undefined;
    rule.remaining -= 1;
    if (rule.remaining === 0) this.rules.splice(this.rules.indexOf(rule), 1);
    return rule.action;
  }
}

export interface FaultProxyOptions {
  /** The server behind the proxy, and the admin credentials the proxy uses there. */
  upstream: KubeConfig;
  /** The kinds the suites use, to parse requests into RequestInfo. */
  registry: ResourceRegistry;
  authorize?: Authorizer;
  onRequest?: (info: RequestInfo, statusCode: number) => void;
}

export interface FaultProxy {
  readonly url: string;
  readonly faults: ProxyFaults;
  openWatches(): number;
  close(): Promise<void>;
}

/** Hop-by-hop headers (RFC 9110 §7.6.1) and those the proxy replaces. */
const NOT_FORWARDED = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer', 'host', 'authorization']);

function forwardable(headers: IncomingMessage['headers']): OutgoingHttpHeaders {
  return Object.fromEntries(Object.entries(headers).filter(([k]) => !NOT_FORWARDED.has(k.toLowerCase())));
}

/** Sends requests to the server behind the proxy as its admin user (client certificate, token or exec plugin), over kept-alive connections. */
class Upstream {
  private agent: Agent | undefined;

  constructor(private readonly kc: KubeConfig) {}

  async options(req: IncomingMessage): Promise<RequestOptions & { secure: boolean }> {
    const cluster = this.kc.getCurrentCluster();
    if (!cluster) throw new Error('the upstream kubeconfig has no current cluster');
    const base = new URL(cluster.server);
    const secure = base.protocol === 'https:';
    // client-node puts the credentials in the options (an exec plugin's token is refreshed here) and a new agent each call.
    const auth: RequestOptions = { headers: {} };
    await this.kc.applyToHTTPSOptions(auth);
    const tls = { ca: auth.ca, cert: auth.cert, key: auth.key, ...(auth.rejectUnauthorized !== undefined ? { rejectUnauthorized: auth.rejectUnauthorized } : {}), ...(auth.servername ? { servername: auth.servername } : {}) };
    this.agent ??= secure ? new HttpsAgent({ keepAlive: true, ...tls }) : new HttpAgent({ keepAlive: true });
    return {
      protocol: base.protocol,
      hostname: base.hostname,
      port: base.port,
      // A server URL may carry a path prefix (behind a gateway).
      path: `${base.pathname.replace(/\/$/, '')}${req.url ?? '/'}`,
      method: req.method ?? 'GET',
      headers: { ...forwardable(req.headers), ...(auth.headers as OutgoingHttpHeaders) },
      ...(auth.auth ? { auth: auth.auth } : {}),
      agent: this.agent,
      secure,
    };
  }

  close(): void {
    this.agent?.destroy();
  }
}

export async function startFaultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
  const sockets = new Set<Socket>();
  const destroyConnections = (): number => {
    const n = sockets.size;
    for (const s of sockets) s.destroy();
    return n;
  };
  const faults = new ProxyFaults(destroyConnections);
  const upstream = new Upstream(options.upstream);

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const { info, verb } = parseRequest(options.registry, req);
    if (options.onRequest) res.on('finish', () => options.onRequest!(info, res.statusCode));
    const fault = faults.take(info);
    if (fault?.kind === 'close') {
      req.socket.destroy();
      return;
    }
    const fail = (e: ApiError): void => writeJson(res, e.status.code, e.status, e.headers);
    if (fault?.kind === 'error') return fail(fault.error());
    const token = bearer(req);
    if (info.resource !== undefined && options.authorize && !options.authorize(info, token)) return fail(refusal(info, token));
    const watch: ProxiedWatch | undefined = verb === 'watch' ? { res, silent: faults.silenceNew } : undefined;
    if (watch) {
      faults.watches.add(watch);
      res.on('close', () => faults.watches.delete(watch));
    }
    void upstream.options(req).then(
      ({ secure, ...opts }) => {
        let done = false;
        const out = (secure ? httpsRequest : httpRequest)(opts, (answer) => {
          if (watch) watch.upstream = answer;
          res.writeHead(answer.statusCode ?? 502, forwardable(answer.headers));
          // A watch's headers go out at once, as the API server flushes them before the first event.
          if (watch) res.flushHeaders();
          answer.on('data', (chunk: Buffer) => {
            if (!watch?.silent) res.write(chunk);
          });
          answer.on('end', () => {
            done = true;
            if (!watch?.silent) res.end();
          });
          answer.on('error', () => res.destroy());
        });
        out.on('error', () => res.destroy());
        res.on('close', () => {
          if (!done) out.destroy();
        });
        req.pipe(out);
      },
      (e: unknown) => fail(internalError(`fault proxy: ${e instanceof Error ? e.message : String(e)}`)),
    );
  };

  const server: Server = createServer(handle);
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    faults,
    openWatches: () => faults.watches.size,
    close: async () => {
      destroyConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      upstream.close();
    },
  };
}
