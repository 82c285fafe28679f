import { PROCESS_STATES, type ProcessState, type SessionCounts } from '../model/snapshot.js';
import { PEER_DIAL_ERRORS, type PeerConnection, type PeerDialError } from './peer-reach.js';

export const GO_VERSION = 'go1.22.5';
export const METRICS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** Everything one /metrics page shows. */
export interface MetricsView {
  readonly processState: ProcessState;
  readonly version: string;
  readonly gitref: string;
  readonly sessions: SessionCounts;
  readonly tunnels: { readonly node: number; readonly app: number; readonly kube: number };
  readonly missingTunnels: number;
  readonly connectAttempts: number;
  readonly connectFailures: number;
  readonly connectionLimitExceeded: number;
  /** proxy_peer_client_dial_error_total by error_type. */
  readonly peerDialErrors: Readonly<Record<PeerDialError, number>>;
  /** proxy_peer_client_connections: one series per peer, none without a peer client. */
  readonly peerConnections: readonly PeerConnection[];
  /** A DB session went through since start: the DB gauge's labelled series exists (a GaugeVec has none before). */
  readonly dbSeen: boolean;
  readonly startTimeSeconds: number;
  readonly residentMemoryBytes: number;
  readonly goroutines: number;
  /**
   * go_memstats_heap_alloc_bytes. Shown only when given (by proxies whose build has a
   * behaviour), so a default page stays as it always was.
   */
  readonly heapAllocBytes?: number;
}

/**
 * Formats a sample value as Go's client_golang does (strconv 'g', shortest): exponent
 * form from 1e+06 up and below 1e-04, with at least two exponent digits.
 */
export function formatGoFloat(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  if (v === 0) return '0';
  const [mantissa = '0', exp = '0'] = v.toExponential().split('e');
  const e = Number(exp);
  if (e >= -4 && e < 6) return String(v);
  return `${mantissa}e${e < 0 ? '-' : '+'}${String(Math.abs(e)).padStart(2, '0')}`;
}

export function escapeLabelValue(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

type Kind = 'gauge' | 'counter';

/** Teleport's help texts and types, by family name. */
const FAMILIES = {
  failed_connect_to_node_attempts_total: ['counter', 'Number of failed SSH connection attempts to a node. Use with `teleport_connect_to_node_attempts_total` to get the failure rate.'],
  go_goroutines: ['gauge', 'Number of goroutines that currently exist.'],
  go_memstats_heap_alloc_bytes: ['gauge', 'Number of heap bytes allocated and still in use.'],
  process_resident_memory_bytes: ['gauge', 'Resident memory size in bytes.'],
  process_start_time_seconds: ['gauge', 'Start time of the process since unix epoch in seconds.'],
  process_state: ['gauge', 'State of the teleport process: 0 - ok, 1 - recovering, 2 - degraded, 3 - starting'],
  proxy_connection_limit_exceeded_total: ['counter', 'Number of times the proxy connection limit was exceeded'],
  proxy_missing_ssh_tunnels: ['gauge', 'Number of missing SSH tunnels'],
  proxy_peer_client_connections: ['gauge', 'Number of currently opened connection to proxy peer servers.'],
  proxy_peer_client_dial_error_total: ['counter', 'Total number of errors encountered dialing peer proxies.'],
  proxy_ssh_sessions_total: ['gauge', 'Number of active sessions through this proxy'],
  teleport_build_info: ['gauge', 'Provides build information of Teleport including gitref (git describe --long --tags), Go version, and Teleport version. The value of this gauge will always be 1.'],
  teleport_connect_to_node_attempts_total: ['counter', 'Number of SSH connection attempts to a node. Use with `failed_connect_to_node_attempts_total` to get the failure rate.'],
  teleport_kubernetes_server_exec_in_flight_sessions: ['gauge', 'Number of active kubectl exec sessions.'],
  teleport_kubernetes_server_join_in_flight_sessions: ['gauge', 'Number of active joining sessions.'],
  teleport_kubernetes_server_portforward_in_flight_sessions: ['gauge', 'Number of active kubectl portforward sessions.'],
  teleport_proxy_db_active_connections_total: ['gauge', 'Number of currently active connections to DB service from Proxy service.'],
  teleport_reverse_tunnels_connected: ['gauge', 'Number of reverse SSH tunnels connected to the Teleport Proxy Service by Teleport instances'],
} as const satisfies Record<string, readonly [Kind, string]>;

type FamilyName = keyof typeof FAMILIES;

/**
 * Renders Teleport's /metrics page (text format 0.0.4) with Teleport's names and help
 * texts, families sorted by name as client_golang sorts them.
 */
export function renderMetricsPage(v: MetricsView): string {
  const g = formatGoFloat;
  const s = v.sessions;
  // Kubernetes gauges carry the `component` label in Teleport; the rest are plain.
  const samples: Record<FamilyName, readonly string[]> = {
    failed_connect_to_node_attempts_total: [g(v.connectFailures)],
    go_goroutines: [g(v.goroutines)],
    go_memstats_heap_alloc_bytes: v.heapAllocBytes === undefined ? [] : [g(v.heapAllocBytes)],
    process_resident_memory_bytes: [g(v.residentMemoryBytes)],
    process_start_time_seconds: [g(v.startTimeSeconds)],
    process_state: [String(PROCESS_STATES.indexOf(v.processState))],
    proxy_connection_limit_exceeded_total: [g(v.connectionLimitExceeded)],
    proxy_missing_ssh_tunnels: [g(v.missingTunnels)],
    proxy_peer_client_connections: [...v.peerConnections]
      .sort((a, b) => a.remoteId.localeCompare(b.remoteId))
      .map((c) => `{local_id="${escapeLabelValue(c.localId)}",remote_id="${escapeLabelValue(c.remoteId)}",state="${c.state}"} 1`),
    // A CounterVec: each error_type's series appears with its first error.
    proxy_peer_client_dial_error_total: PEER_DIAL_ERRORS.filter((t) => v.peerDialErrors[t] > 0).map(
      (t) => `{error_type="${t}"} ${g(v.peerDialErrors[t])}`,
    ),
    proxy_ssh_sessions_total: [g(s.ssh)],
    teleport_build_info: [buildInfoSample(v.version, v.gitref)],
    teleport_connect_to_node_attempts_total: [g(v.connectAttempts)],
    teleport_kubernetes_server_exec_in_flight_sessions: [`{component="kube_proxy"} ${g(s.kube_exec)}`],
    teleport_kubernetes_server_join_in_flight_sessions: [`{component="kube_proxy"} ${g(s.kube_join)}`],
    teleport_kubernetes_server_portforward_in_flight_sessions: [`{component="kube_proxy"} ${g(s.kube_portforward)}`],
    // lib/srv/db/proxyserver.go: a GaugeVec on component, db_protocol and db_type.
    teleport_proxy_db_active_connections_total: v.dbSeen ? [`{component="db:proxy",db_protocol="postgres",db_type="self-hosted"} ${g(s.db)}`] : [],
    teleport_reverse_tunnels_connected: [
      `{type="app"} ${g(v.tunnels.app)}`,
      `{type="kube"} ${g(v.tunnels.kube)}`,
      `{type="node"} ${g(v.tunnels.node)}`,
    ],
  };
  return renderFamilies(samples);
}

/** What an Auth Service's /metrics page shows here: its state and build (it has no proxy gauges). */
export interface AuthMetricsView {
  readonly processState: ProcessState;
  readonly version: string;
  readonly gitref: string;
  readonly startTimeSeconds: number;
}

/** An Auth Service's /metrics page: the families Meridian reads from it, as Teleport names them. */
export function renderAuthMetricsPage(v: AuthMetricsView): string {
  return renderFamilies({
    process_start_time_seconds: [formatGoFloat(v.startTimeSeconds)],
    process_state: [String(PROCESS_STATES.indexOf(v.processState))],
    teleport_build_info: [buildInfoSample(v.version, v.gitref)],
  });
}

function buildInfoSample(version: string, gitref: string): string {
  return `{gitref="${escapeLabelValue(gitref)}",goversion="${GO_VERSION}",version="${escapeLabelValue(version)}"} 1`;
}

/** Families sorted by name as client_golang sorts them; a family without samples is left out. */
function renderFamilies(samples: Partial<Record<FamilyName, readonly string[]>>): string {
  let out = '';
  for (const name of Object.keys(FAMILIES) as FamilyName[]) {
    const [type, help] = FAMILIES[name];
    const these = samples[name] ?? [];
    if (these.length === 0) continue;
    out += `# HELP ${name} ${help}\n# TYPE ${name} ${type}\n`;
    // A sample is either "<labels> <value>" or a bare value.
    for (const sample of these) out += sample.startsWith('{') ? `${name}${sample}\n` : `${name} ${sample}\n`;
  }
  return out;
}
