// A plain REST call with a kubeconfig's credentials, for setting a cluster up and for the
// suites' assertion reads (no fault, no authorizer in the way).
import { request as httpRequest, type OutgoingHttpHeaders } from 'node:http';
import { request as httpsRequest, type RequestOptions } from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';

export interface RestAnswer {
  readonly status: number;
  readonly body: unknown;
}

export async function rest(kc: KubeConfig, method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<RestAnswer> {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error('the kubeconfig has no current cluster');
  const base = new URL(cluster.server);
  const opts: RequestOptions = { headers: {} };
  await kc.applyToHTTPSOptions(opts);
  const { agent: _agent, ...tls } = opts;
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = (base.protocol === 'https:' ? httpsRequest : httpRequest)(
      {
        ...tls,
        protocol: base.protocol,
        hostname: base.hostname,
        port: base.port,
        path: `${base.pathname.replace(/\/$/, '')}${path}`,
        method,
        headers: { ...(opts.headers as OutgoingHttpHeaders), Accept: 'application/json', ...(payload !== undefined ? { 'Content-Type': contentType } : {}) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown = text;
          try {
            parsed = text ? JSON.parse(text) : undefined;
          } catch {
            // not JSON: keep the text
          }
          resolve({ status: res.statusCode ?? 0, body: parsed });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

/** The answer's body when the status is one of `ok`, else an error naming the call and the server's message. */
export async function restOk(kc: KubeConfig, method: string, path: string, body?: unknown, ok: readonly number[] = [200, 201]): Promise<unknown> {
  const a = await rest(kc, method, path, body);
  if (!ok.includes(a.status)) throw new Error(`${method} ${path}: ${a.status} ${typeof a.body === 'object' && a.body && 'message' in a.body ? String((a.body as { message: unknown }).message) : JSON.stringify(a.body)}`);
  return a.body;
}
