// The chart rendered with its defaults and with other value sets: every object valid for Kubernetes, and the
// Deployment, Services and optional parts as docs/kubernetes.md describes them.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { CHART_DIR, renderChart, type RenderedChart } from '../../scripts/chart-render.js';
import { SETTINGS } from '../../src/config-schema.js';
import { EVERYTHING_ON, SMALL, valuesProblems } from './chart-values.js';
import { validateObject } from './k8s-models.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- rendered YAML, read field by field
type Obj = Record<string, any>;

const SETS = { default: {}, everything: EVERYTHING_ON, small: SMALL } as const;
const render = (values: Record<string, unknown>, release = { name: 'meridian', namespace: 'meridian' }): RenderedChart => renderChart({ values, release });
const find = (chart: RenderedChart, kind: string, name?: string): Obj[] => chart.objects.map((o) => o.object as Obj).filter((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
const one = (chart: RenderedChart, kind: string, name?: string): Obj => {
  const all = find(chart, kind, name);
  assert.equal(all.length, 1, `one ${kind}${name ? ` ${name}` : ''}, got ${all.length}`);
  return all[0] as Obj;
};
const container = (chart: RenderedChart): Obj => one(chart, 'Deployment').spec.template.spec.containers[0];
const env = (chart: RenderedChart): Map<string, Obj> => new Map((container(chart).env as Obj[]).map((e) => [e.name as string, e]));

for (const [name, values] of Object.entries(SETS)) {
  test(`values "${name}" pass values.schema.json and every rendered object is valid for Kubernetes`, () => {
    assert.equal(valuesProblems(values), undefined);
    const chart = render(values);
    assert.ok(chart.objects.length >= 8, `${chart.objects.length} objects`);
    for (const { source, object } of chart.objects) assert.equal(validateObject(object), undefined, `${source}: ${String(object['kind'])} ${JSON.stringify((object['metadata'] as Obj)['name'])}`);
    const names = chart.objects.map((o) => `${String(o.object['kind'])}/${String((o.object['metadata'] as Obj)['namespace'] ?? '')}/${String((o.object['metadata'] as Obj)['name'])}`);
    assert.deepEqual(names, [...new Set(names)], 'no object twice');
    assert.match(chart.notes, /kubectl apply --server-side -f charts\/meridian\/crds\//);
  });
}

test('values.schema.json refuses what would render a broken release', () => {
  assert.match(valuesProblems({ replicaCount: 0 }) ?? '', /replicaCount must be >= 1/);
  assert.match(valuesProblems({ watch: { allNamespace: true } }) ?? '', /must NOT have additional properties/);
  assert.match(valuesProblems({ public: { trustedHeader: 'x-real-ip' } }) ?? '', /trustedHeader/);
  assert.match(valuesProblems({ leaseName: 'Not_A_Name' }) ?? '', /leaseName must match pattern/);
  assert.throws(() => render({ geoip: { files: ['City.mmdb'] } }), /geoip\.volume is required with geoip\.files/);
});

test('the Deployment: 2 replicas rolled with none unavailable, spread over zones and nodes, pod name from the downward API', () => {
  const chart = render({});
  const d = one(chart, 'Deployment');
  assert.equal(d.spec.replicas, 2);
  assert.deepEqual(d.spec.strategy, { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } });
  const spread = d.spec.template.spec.topologySpreadConstraints as Obj[];
  assert.deepEqual(spread.map((c) => c.topologyKey), ['topology.kubernetes.io/zone', 'kubernetes.io/hostname']);
  for (const c of spread) assert.deepEqual(c.labelSelector.matchLabels, d.spec.selector.matchLabels);
  assert.deepEqual(d.spec.template.metadata.labels, d.spec.selector.matchLabels);
  assert.deepEqual(env(chart).get('POD_NAME'), { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } });
  assert.equal(d.spec.template.spec.serviceAccountName, one(chart, 'ServiceAccount').metadata.name);
  assert.equal(find(render(SMALL), 'Deployment')[0]?.spec.template.spec.topologySpreadConstraints, undefined);
});

test('the container: restricted security context, read-only root with emptyDirs for state and /tmp, probes on the admin port, requests', () => {
  for (const values of Object.values(SETS)) {
    const chart = render(values);
    const pod = one(chart, 'Deployment').spec.template.spec;
    const c = container(chart);
    assert.equal(pod.securityContext.runAsNonRoot, true);
    assert.deepEqual(pod.securityContext.seccompProfile, { type: 'RuntimeDefault' });
    assert.deepEqual(c.securityContext, { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, runAsNonRoot: true, capabilities: { drop: ['ALL'] }, seccompProfile: { type: 'RuntimeDefault' } });
    const admin = (c.ports as Obj[]).find((p) => p.name === 'admin');
    assert.equal(admin?.containerPort, 9181);
    assert.deepEqual(c.livenessProbe.httpGet, { path: '/healthz', port: 'admin' });
    assert.deepEqual(c.readinessProbe.httpGet, { path: '/readyz', port: 'admin' });
    const volumes = new Map((pod.volumes as Obj[]).map((v) => [v.name as string, v]));
    const mounts = new Map((c.volumeMounts as Obj[]).map((m) => [m.mountPath as string, m]));
    for (const path of ['/var/lib/meridian', '/tmp']) assert.deepEqual(volumes.get(mounts.get(path)?.name)?.emptyDir, {}, path);
    for (const m of mounts.values()) assert.ok(volumes.has(m.name), `mount ${m.name} has a volume`);
    for (const v of volumes.values()) if (v.secret) assert.equal(v.secret.defaultMode & 0o007, 0, `${v.name}: secrets not world-readable`);
    for (const m of mounts.values()) if (m.mountPath !== '/var/lib/meridian' && m.mountPath !== '/tmp') assert.equal(m.readOnly, true, m.mountPath);
  }
  assert.deepEqual(container(render({})).resources.requests, { cpu: '100m', memory: '128Mi' });
});

test('the controller is started in Kubernetes mode with settings it knows, and the admin token it needs off loopback', () => {
  const known = new Map(Object.values(SETTINGS).map((s) => [s.variable as string, s]));
  for (const values of Object.values(SETS)) {
    const chart = render(values);
    const c = container(chart);
    assert.deepEqual(c.args, ['start', '--store', 'kubernetes']);
    assert.ok(Object.values(SETTINGS).some((s) => s.flag === 'store' && (s.commands as readonly string[]).includes('start')), 'start takes --store');
    const vars = env(chart);
    for (const name of vars.keys()) assert.ok(name === 'POD_NAME' || known.has(name), `${name} is one of the controller's settings (src/config-schema.ts)`);
    assert.equal(vars.get('MERIDIAN_PUBLIC_ADDR')?.value, '0.0.0.0:8080');
    assert.equal(vars.get('MERIDIAN_ADMIN_ADDR')?.value, '0.0.0.0:9181');
    const tokenFile = vars.get('MERIDIAN_ADMIN_TOKEN_FILE')?.value as string;
    const mount = (c.volumeMounts as Obj[]).find((m) => tokenFile.startsWith(`${m.mountPath}/`));
    const volume = (one(chart, 'Deployment').spec.template.spec.volumes as Obj[]).find((v) => v.name === mount?.name);
    assert.ok(volume?.secret?.secretName, `${tokenFile} comes from a Secret`);
    assert.equal(vars.get('MERIDIAN_LEASE_NAMESPACE')?.value, 'meridian');
  }
  const all = env(render(EVERYTHING_ON));
  assert.equal(all.get('MERIDIAN_NAMESPACE'), undefined, 'all namespaces: none named');
  assert.equal(all.get('MERIDIAN_TRUSTED_PROXIES')?.value, '10.0.0.0/8,fd00::/8');
  assert.equal(all.get('MERIDIAN_GEOIP_DB')?.value, '/var/lib/geoip/GeoLite2-City.mmdb,/var/lib/geoip/GeoLite2-ASN.mmdb');
  assert.equal(all.get('MERIDIAN_CANARY_KEY_FILE')?.value, '/etc/meridian/canary/key');
  assert.equal(all.get('MERIDIAN_ADMIN_READ_TOKEN_FILE')?.value, '/etc/meridian/admin-read/tokens');
  assert.equal(all.get('MERIDIAN_LEASE_NAME')?.value, 'login-leader');
  assert.equal(env(render(SMALL)).get('MERIDIAN_NAMESPACE')?.value, 'teleport');
  assert.equal(env(render({})).get('MERIDIAN_GEOIP_DB'), undefined, 'the bundled database');
});

test('the Services: login with externalTrafficPolicy Local, admin and metrics inside the cluster, both on named ports of the pods', () => {
  const chart = render({});
  const d = one(chart, 'Deployment');
  const ports = new Set((container(chart).ports as Obj[]).map((p) => p.name));
  const login = one(chart, 'Service', 'meridian');
  assert.equal(login.spec.type, 'LoadBalancer');
  assert.equal(login.spec.externalTrafficPolicy, 'Local');
  const admin = one(chart, 'Service', 'meridian-admin');
  assert.equal(admin.spec.type, 'ClusterIP');
  for (const s of [login, admin]) {
    assert.deepEqual(s.spec.selector, d.spec.selector.matchLabels);
    for (const p of s.spec.ports as Obj[]) assert.ok(ports.has(p.targetPort), `${s.metadata.name}: ${p.targetPort}`);
  }
});

test('optional parts appear only when asked for; a PodDisruptionBudget only with more than one replica', () => {
  const kinds = (chart: RenderedChart): string[] => [...new Set(chart.objects.map((o) => String(o.object['kind'])))].sort();
  assert.deepEqual(kinds(render({})), ['Deployment', 'PodDisruptionBudget', 'Role', 'RoleBinding', 'Service', 'ServiceAccount']);
  assert.deepEqual(kinds(render(SMALL)), ['Deployment', 'Role', 'RoleBinding', 'Service', 'ServiceAccount']);
  const all = render(EVERYTHING_ON);
  assert.deepEqual(kinds(all), ['ClusterRole', 'ClusterRoleBinding', 'Deployment', 'NetworkPolicy', 'PodDisruptionBudget', 'PrometheusRule', 'Role', 'RoleBinding', 'Service', 'ServiceAccount', 'ServiceMonitor']);
  const policy = one(all, 'NetworkPolicy');
  assert.deepEqual(policy.spec.ingress[0], { ports: [{ port: 'http', protocol: 'TCP' }] }, 'the login port from anywhere');
  assert.equal(policy.spec.ingress[1].from.length, 2, 'the admin port from the release and adminFrom');
  const monitor = one(all, 'ServiceMonitor');
  const adminService = one(all, 'Service', 'login-admin');
  for (const [k, v] of Object.entries(monitor.spec.selector.matchLabels as Obj)) assert.equal(adminService.metadata.labels[k], v, `the ServiceMonitor selects the admin Service (${k})`);
  assert.notEqual(one(all, 'Service', 'login').metadata.labels['app.kubernetes.io/component'], 'admin', 'and not the login Service');
  assert.deepEqual(monitor.spec.endpoints[0].authorization.credentials, { name: 'meridian-metrics-token', key: 'token' });
  assert.ok(one(all, 'PrometheusRule').spec.groups.length > 0);
});

test('names follow the release: <release>-meridian, or the release alone when it says meridian, or fullnameOverride', () => {
  assert.equal(one(render({}, { name: 'prod', namespace: 'access' }), 'Deployment').metadata.name, 'prod-meridian');
  assert.equal(one(render({}, { name: 'meridian-eu', namespace: 'access' }), 'Deployment').metadata.name, 'meridian-eu');
  assert.equal(one(render({}, { name: 'prod', namespace: 'access' }), 'Deployment').metadata.namespace, 'access');
  assert.equal(one(render(EVERYTHING_ON), 'Deployment').metadata.name, 'login');
});

test('the renderer agrees with `helm template` for every value set (when helm is on the PATH)', (t) => {
  // The renderer's own output is always checked: each document parses to exactly the objects it reports.
  for (const values of Object.values(SETS)) {
    const chart = render(values);
    const docs = chart.files.flatMap((f) => parseAllDocuments(f.text).map((d) => d.toJS() as unknown).filter((d) => d !== null));
    assert.deepEqual(docs, chart.objects.map((o) => o.object));
  }
  const helm = spawnSync('helm', ['version', '--short'], { encoding: 'utf8' });
  if (helm.error || helm.status !== 0) {
    t.diagnostic('helm is not on the PATH: the comparison with `helm template` was not made');
    return;
  }
  for (const [name, values] of Object.entries(SETS)) {
    const out = spawnSync('helm', ['template', 'meridian', CHART_DIR, '--namespace', 'meridian', '--values', '-'], { input: JSON.stringify(values), encoding: 'utf8' });
    assert.equal(out.status, 0, out.stderr);
    const sortKey = (o: unknown): string => JSON.stringify([(o as Obj).kind, (o as Obj).metadata?.namespace, (o as Obj).metadata?.name]);
    const theirs = parseAllDocuments(out.stdout).map((d) => d.toJS() as unknown).filter((d) => d !== null).sort((a, b) => sortKey(a).localeCompare(sortKey(b)));
    const ours = render(values).objects.map((o) => o.object as unknown).sort((a, b) => sortKey(a).localeCompare(sortKey(b)));
    assert.deepEqual(ours, theirs, `values "${name}"`);
  }
});
