// Stand-in kube-apiserver: secure serving from --cert-dir, client certificates checked against
// --client-ca-file (system:masters only), /healthz once its etcd answers, CRDs and namespaces
// accepted, and the resources served by the in-process API server behind it. A CRD's group
// appears in discovery a moment after its creation, as on a real server.
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { createServer } from 'node:https';
import type { TLSSocket } from 'node:tls';
import { startApiServer } from '../api-server.js';
import type { Crd } from '../resources.js';
import { flagsOf, record } from './fake-args.js';

const args = process.argv.slice(2);
record('kube-apiserver', args);
const flags = flagsOf(args);
const certDir = flags['cert-dir'] ?? '';
const etcd = new URL('/health', flags['etcd-servers'] ?? '');
const etcdUp = await fetch(etcd).then((r) => r.ok, () => false);
if (!etcdUp) {
  process.stderr.write(`cannot reach etcd at ${etcd.href}\n`);
  process.exit(1);
}
const inner = await startApiServer();
const target = new URL(inner.url);
const served = new Set<string>();
const namespaces = new Set<string>(['default', 'kube-system']);
const CRDS = '/apis/apiextensions.k8s.io/v1/customresourcedefinitions';

const server = createServer(
  { cert: readFileSync(`${certDir}/apiserver.crt`), key: readFileSync(`${certDir}/apiserver.key`), ca: readFileSync(flags['client-ca-file'] ?? ''), requestCert: true, rejectUnauthorized: false },
  (req, res) => {
    const json = (code: number, body: unknown): void => {
      res.writeHead(code, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    const path = new URL(req.url ?? '/', 'https://x').pathname;
    if (path === '/healthz') return void res.end('ok');
    const socket = req.socket as TLSSocket;
    if (!socket.authorized) return json(401, { kind: 'Status', apiVersion: 'v1', status: 'Failure', message: 'Unauthorized', reason: 'Unauthorized', code: 401 });
    const subject = socket.getPeerCertificate().subject as { O?: string | string[] } | undefined;
    if (![subject?.O ?? []].flat().includes('system:masters')) return json(403, { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'Forbidden', code: 403 });
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = chunks.length ? (JSON.parse(Buffer.concat(chunks).toString('utf8')) as Crd & { metadata: { name: string } }) : undefined;
      if (path === CRDS && req.method === 'POST' && body) {
        inner.serveCrd(body);
        setTimeout(() => served.add(body.spec.group), 300);
        return json(201, body);
      }
      if (path.startsWith(`${CRDS}/`)) return json(404, { kind: 'Status', code: 404, reason: 'NotFound' });
      const group = /^\/apis\/([^/]+)\/[^/]+$/.exec(path)?.[1];
      if (group && group.includes('.') && group !== 'coordination.k8s.io' && !served.has(group)) return json(404, { kind: 'Status', code: 404, reason: 'NotFound' });
      if (path === '/api/v1/namespaces' && req.method === 'POST' && body) {
        namespaces.add(body.metadata.name);
        return json(201, body);
      }
      const ns = /^\/api\/v1\/namespaces\/([^/]+)$/.exec(path)?.[1];
      if (ns) return namespaces.has(ns) ? json(200, { kind: 'Namespace', metadata: { name: ns } }) : json(404, { kind: 'Status', code: 404, reason: 'NotFound' });
      const out = request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: { ...req.headers, host: target.host } }, (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        res.flushHeaders();
        answer.pipe(res);
      });
      out.on('error', () => res.destroy());
      res.on('close', () => out.destroy());
      out.end(chunks.length ? Buffer.concat(chunks) : undefined);
    });
  },
);
server.listen(Number(flags['secure-port']), flags['bind-address']);
process.on('SIGTERM', () => {
  server.closeAllConnections();
  server.close();
  void inner.close().then(() => process.exit(0));
});
