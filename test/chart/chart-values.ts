// The chart's value sets the tests render, and a check of values against values.schema.json.
import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import { CHART_DIR, mergeValues, readChartValues } from '../../scripts/chart-render.js';

const ajv = new Ajv({ allErrors: true, strict: true });
const validate = ajv.compile(JSON.parse(readFileSync(`${CHART_DIR}values.schema.json`, 'utf8')) as object);

/** What `helm install` would say of these values over values.yaml: undefined when they pass values.schema.json. */
export function valuesProblems(over: Record<string, unknown>): string | undefined {
  return validate(mergeValues(readChartValues(), over)) ? undefined : ajv.errorsText(validate.errors);
}

/** Every optional part on: all namespaces, the OIDC connector, GeoIP, secrets, policies, monitoring. */
export const EVERYTHING_ON = {
  fullnameOverride: 'login',
  watch: { allNamespaces: true },
  leaseName: 'login-leader',
  admin: { readTokenSecret: { name: 'meridian-read-token' } },
  public: { trustedProxies: ['10.0.0.0/8', 'fd00::/8'], trustedHeader: 'forwarded', loginUrl: 'https://login.example.com' },
  service: { public: { type: 'NodePort', annotations: { 'example.com/lb': 'external' }, loadBalancerSourceRanges: ['0.0.0.0/0'] } },
  geoip: { files: ['GeoLite2-City.mmdb', 'GeoLite2-ASN.mmdb'], volume: { persistentVolumeClaim: { claimName: 'geoip' } } },
  canary: { keySecret: { name: 'meridian-canary-key' } },
  secretMounts: [{ name: 'hooks', secretName: 'meridian-hooks', mountPath: '/etc/meridian/secrets/hooks' }],
  teleportOperator: { oidcConnector: { enabled: true } },
  extraEnv: [{ name: 'MERIDIAN_OBSERVE_INTERVAL', value: '5s' }],
  podAnnotations: { 'example.com/a': 'b' },
  podLabels: { team: 'access' },
  nodeSelector: { 'kubernetes.io/os': 'linux' },
  tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'access', effect: 'NoSchedule' }],
  affinity: { nodeAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 1, preference: { matchExpressions: [{ key: 'tier', operator: 'In', values: ['edge'] }] } }] } },
  priorityClassName: 'system-cluster-critical',
  imagePullSecrets: [{ name: 'registry' }],
  networkPolicy: { enabled: true, adminFrom: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } }] },
  serviceMonitor: { enabled: true, labels: { release: 'prometheus' }, bearerTokenSecret: { name: 'meridian-metrics-token' } },
  alerts: { enabled: true, labels: { release: 'prometheus' } },
};

/** One replica in one other namespace, no spreading: the smallest install. */
export const SMALL = { replicaCount: 1, watch: { namespace: 'teleport' }, topologySpread: { enabled: false }, resources: {} };
