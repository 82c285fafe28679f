/**
 * The chart's values, once, as TypeBox: charts/meridian/values.schema.json is generated from it
 * (`node --import tsx scripts/chart-generate.ts`; test/chart/ checks the committed file is current
 * and that values.yaml validates). Closed objects everywhere, so a misspelt key fails `helm install`.
 */
import { Type, type TSchema } from '@sinclair/typebox';

const Closed = <T extends Parameters<typeof Type.Object>[0]>(properties: T, description: string) => Type.Object(properties, { additionalProperties: false, description });
/** A Kubernetes object passed through as it is (a volume source, resources, tolerations): the API server checks it. */
const Passthrough = (description: string) => Type.Object({}, { additionalProperties: true, description });
const PassthroughList = (description: string) => Type.Array(Type.Object({}, { additionalProperties: true }), { description });
const StringMap = (description: string) => Type.Record(Type.String(), Type.String(), { description });
const Port = (description: string) => Type.Integer({ minimum: 1, maximum: 65535, description });
const DnsName = (description: string) => Type.String({ pattern: '^([a-z0-9]([-a-z0-9]*[a-z0-9])?)?$', maxLength: 63, description });
const SecretKeyRef = (description: string, key: string) =>
  Closed(
    {
      name: DnsName('the Secret\'s name; "" for none'),
      key: Type.String({ minLength: 1, default: key, description: 'the key in the Secret' }),
    },
    description,
  );

export const VALUES_SCHEMA: TSchema = Type.Object(
  {
    replicaCount: Type.Integer({ minimum: 1, description: 'replicas; every one serves the login URL and the admin API, the Lease holder acts' }),
    image: Closed(
      {
        repository: Type.String({ minLength: 1, description: 'the image built from the Dockerfile' }),
        tag: Type.String({ description: 'default: the chart\'s appVersion' }),
        pullPolicy: Type.Union([Type.Literal('Always'), Type.Literal('IfNotPresent'), Type.Literal('Never')]),
      },
      'the container image',
    ),
    imagePullSecrets: Type.Array(Closed({ name: Type.String({ minLength: 1 }) }, 'a Secret of type kubernetes.io/dockerconfigjson')),
    nameOverride: DnsName('replaces "meridian" in names'),
    fullnameOverride: DnsName('replaces the release-based name of every object'),
    watch: Closed(
      {
        allNamespaces: Type.Boolean({ description: 'read the meridian.dev resources of every namespace (a ClusterRole); false: one namespace (a Role)' }),
        namespace: DnsName('the one namespace when allNamespaces is false; "" for the release namespace'),
      },
      'where the controller reads ProxyFleets, ProxyRollouts, ProxyCanaries and ProxyPeerings (MERIDIAN_NAMESPACE)',
    ),
    leaseName: DnsName('the Lease in the release namespace that elects the acting replica; "" for the release\'s full name'),
    admin: Closed(
      {
        port: Port('the admin listener: API, dashboard, /metrics, /healthz, /readyz'),
        tokenSecret: SecretKeyRef('admin tokens, one `name:token` a line; required off loopback, so always mounted: "" for <fullname>-admin-token', 'tokens'),
        readTokenSecret: SecretKeyRef('read-only tokens; with any, reads and /metrics need a token too', 'tokens'),
      },
      'the admin listener',
    ),
    public: Closed(
      {
        port: Port('the public login listener'),
        trustedProxies: Type.Array(Type.String({ minLength: 1 }), { description: 'CIDRs of load balancers or ingress controllers whose forwarding header is believed (MERIDIAN_TRUSTED_PROXIES)' }),
        trustedHeader: Type.Union([Type.Literal(''), Type.Literal('x-forwarded-for'), Type.Literal('forwarded')], { description: 'the header they put the client in; "" for x-forwarded-for' }),
        loginUrl: Type.String({ description: 'the login URL users are given, for invitation links (MERIDIAN_LOGIN_URL)' }),
      },
      'the public login listener',
    ),
    service: Closed(
      {
        public: Closed(
          {
            type: Type.Union([Type.Literal('LoadBalancer'), Type.Literal('NodePort')], { description: 'externalTrafficPolicy Local needs one of these' }),
            port: Port('the Service port'),
            annotations: StringMap('e.g. for the cloud load balancer'),
            loadBalancerSourceRanges: Type.Array(Type.String({ minLength: 1 })),
          },
          'the login Service (externalTrafficPolicy: Local keeps the client address for GeoIP)',
        ),
        admin: Closed({ port: Port('the Service port'), annotations: StringMap('annotations') }, 'the admin and metrics Service (ClusterIP)'),
      },
      'Services',
    ),
    geoip: Closed(
      {
        files: Type.Array(Type.String({ minLength: 1, pattern: '^[^/]' }), { description: 'database files in the volume, mounted under /var/lib/geoip (MERIDIAN_GEOIP_DB); [] for the bundled database' }),
        volume: Passthrough('a volume source holding them, e.g. {persistentVolumeClaim: {claimName: geoip}} or {configMap: {name: geoip}}'),
      },
      'GeoIP databases (optional)',
    ),
    canary: Closed({ keySecret: SecretKeyRef('the key canary invitations are signed with (MERIDIAN_CANARY_KEY_FILE); "" turns invitations off', 'key') }, 'canaries'),
    secretMounts: Type.Array(
      Closed(
        {
          name: DnsName('the volume name'),
          secretName: DnsName('the Secret'),
          mountPath: Type.String({ pattern: '^/', description: 'where the resources\' secretFile fields name its keys' }),
        },
        'a Secret mounted read-only, for the hook and notifier secretFile fields',
      ),
    ),
    teleportOperator: Closed(
      { oidcConnector: Closed({ enabled: Type.Boolean({ description: 'grant get and patch on resources.teleport.dev TeleportOIDCConnectors in the watched namespace(s)' }) }, 'the OIDC connector named in a ProxyFleet') },
      'the Teleport Kubernetes operator',
    ),
    logLevel: Type.Union(['fatal', 'error', 'warn', 'info', 'debug', 'trace'].map((l) => Type.Literal(l))),
    extraEnv: PassthroughList('more container env entries'),
    resources: Passthrough('container resources'),
    podAnnotations: StringMap('pod annotations'),
    podLabels: StringMap('pod labels'),
    nodeSelector: StringMap('node selector'),
    tolerations: PassthroughList('tolerations'),
    affinity: Passthrough('affinity'),
    priorityClassName: Type.String(),
    topologySpread: Closed(
      {
        enabled: Type.Boolean(),
        maxSkew: Type.Integer({ minimum: 1 }),
        whenUnsatisfiable: Type.Union([Type.Literal('ScheduleAnyway'), Type.Literal('DoNotSchedule')]),
        topologyKeys: Type.Array(Type.String({ minLength: 1 }), { minItems: 1 }),
      },
      'spread the replicas over zones and nodes',
    ),
    podDisruptionBudget: Closed({ enabled: Type.Boolean(), minAvailable: Type.Integer({ minimum: 1 }) }, 'a PodDisruptionBudget (only with more than one replica)'),
    networkPolicy: Closed(
      {
        enabled: Type.Boolean(),
        adminFrom: PassthroughList('NetworkPolicy peers that may reach the admin port (Prometheus, operators); the release\'s own pods always may'),
      },
      'an ingress NetworkPolicy: the login port from anywhere, the admin port from adminFrom',
    ),
    serviceMonitor: Closed(
      {
        enabled: Type.Boolean({ description: 'needs the Prometheus operator\'s CRDs' }),
        interval: Type.String({ pattern: '^[0-9]+(ms|s|m|h)$' }),
        labels: StringMap('e.g. the label your Prometheus\' serviceMonitorSelector matches'),
        bearerTokenSecret: SecretKeyRef('a read token for /metrics, when readTokenSecret is set', 'token'),
      },
      'a ServiceMonitor for /metrics',
    ),
    alerts: Closed(
      { enabled: Type.Boolean({ description: 'a PrometheusRule with alerts/meridian.rules.yaml (needs the Prometheus operator\'s CRDs)' }), labels: StringMap('e.g. the label your Prometheus\' ruleSelector matches') },
      'alert rules',
    ),
  },
  { additionalProperties: false, $schema: 'http://json-schema.org/draft-07/schema#', title: 'Values of the meridian chart' },
);

/** values.schema.json's text. */
export function renderValuesSchema(): string {
  return `${JSON.stringify(VALUES_SCHEMA, null, 2)}\n`;
}
