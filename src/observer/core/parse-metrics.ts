import { err, ok, type Result } from '../../model/result.js';
import { PROCESS_STATES, SESSION_KINDS, type SessionCounts, type SessionKind, type SkippedSample, type TeleportMetrics } from '../../model/snapshot.js';
import { createExpositionReader, type ExpositionProblem, type ExpositionReader, type ExpositionSample, type ExpositionSamples } from './parse-exposition.js';

/** Why a page was refused; the adapter adds `at` to make it a ScrapeError. */
export interface MetricsPageError {
  readonly reason: 'parse_error' | 'missing_metric';
  /** Names the source URL and the metric at fault. */
  readonly message: string;
}

/** Teleport's session gauges (despite the `_total`, all are gauges of what is open now). */
export const SESSION_METRICS: Readonly<Record<SessionKind, string>> = {
  ssh: 'proxy_ssh_sessions_total',
  kube_exec: 'teleport_kubernetes_server_exec_in_flight_sessions',
  kube_portforward: 'teleport_kubernetes_server_portforward_in_flight_sessions',
  kube_join: 'teleport_kubernetes_server_join_in_flight_sessions',
  db: 'teleport_proxy_db_active_connections_total',
};

export const TELEPORT_METRICS = {
  processState: 'process_state',
  buildInfo: 'teleport_build_info',
  tunnels: 'teleport_reverse_tunnels_connected',
  missingTunnels: 'proxy_missing_ssh_tunnels',
  connectAttempts: 'teleport_connect_to_node_attempts_total',
  connectFailures: 'failed_connect_to_node_attempts_total',
  connectionLimitExceeded: 'proxy_connection_limit_exceeded_total',
  startTime: 'process_start_time_seconds',
  peerDialErrors: 'proxy_peer_client_dial_error_total',
  peerConnections: 'proxy_peer_client_connections',
  residentMemory: 'process_resident_memory_bytes',
  goroutines: 'go_goroutines',
} as const;

const reader = createExpositionReader([...Object.values(SESSION_METRICS), ...Object.values(TELEPORT_METRICS)]);

class PageError extends Error {
  constructor(
    readonly reason: MetricsPageError['reason'],
    message: string,
  ) {
    super(message);
  }
}

/** A value as the exposition format spells it, for messages and flags. */
function spell(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Number.POSITIVE_INFINITY) return '+Inf';
  if (v === Number.NEGATIVE_INFINITY) return '-Inf';
  return String(v);
}

/** `name{label="value",...} = value`, for messages and logs. */
export function describeSkipped(s: SkippedSample): string {
  const labels = Object.entries(s.labels);
  return `${labels.length ? `${s.metric}{${labels.map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(',')}}` : s.metric} = ${s.value}`;
}

/** The samples of one page that could not be used; each is left out, never the whole page. */
class Skips {
  readonly samples: SkippedSample[] = [];
  readonly kinds = new Set<SessionKind>();

  skip(sample: ExpositionSample, why: string): undefined {
    this.samples.push(Object.freeze({ metric: sample.name, labels: Object.freeze({ ...sample.labels }), value: spell(sample.value), why }));
    return undefined;
  }
}

/** Gauges of things that exist (sessions, tunnels) must be whole and non-negative; another value is skipped. */
function countOf(sample: ExpositionSample, skips: Skips): number | undefined {
  const v = sample.value;
  return Number.isInteger(v) && v >= 0 ? v : skips.skip(sample, 'expected a whole number >= 0');
}

/** Counters may be fractional in the format, but never negative, NaN or infinite; such a sample is skipped. */
function counterOf(sample: ExpositionSample, skips: Skips): number | undefined {
  const v = sample.value;
  return Number.isFinite(v) && v >= 0 ? v : skips.skip(sample, 'expected a finite number >= 0');
}

type Read = (s: ExpositionSample, skips: Skips) => number | undefined;

/** Sums the usable series of a family (Kubernetes gauges carry a `component` label); absent means the service is off: 0. */
function sum(samples: ExpositionSamples, name: string, read: Read, skips: Skips): number {
  let total = 0;
  for (const s of samples.get(name) ?? []) total += read(s, skips) ?? 0;
  return total;
}

function required(samples: ExpositionSamples, name: string): readonly ExpositionSample[] {
  const list = samples.get(name);
  if (!list?.length) throw new PageError('missing_metric', `required metric ${name} is missing`);
  return list;
}

function readProcessState(samples: ExpositionSamples): TeleportMetrics['processState'] {
  const [first] = required(samples, TELEPORT_METRICS.processState);
  const v = first?.value ?? Number.NaN;
  const state = Number.isInteger(v) ? PROCESS_STATES[v] : undefined;
  if (state === undefined) {
    throw new PageError('parse_error', `process_state is ${v}, expected 0 (ok), 1 (recovering), 2 (degraded) or 3 (starting)`);
  }
  return state;
}

/**
 * A copy that does not point into the page: V8 keeps a slice of a long string as a view of the
 * whole page, and snapshots hold these strings for a cycle or more (2,000 pages: ~7 MB kept).
 */
function detach(s: string): string {
  return Buffer.from(s, 'utf8').toString('utf8');
}

function readBuildInfo(samples: ExpositionSamples): { version: string; gitref?: string } {
  const withVersion = required(samples, TELEPORT_METRICS.buildInfo).find((s) => s.labels['version']);
  const version = withVersion?.labels['version'];
  if (!withVersion || !version) throw new PageError('missing_metric', 'teleport_build_info has no version label');
  const gitref = withVersion.labels['gitref'];
  return gitref ? { version: detach(version), gitref: detach(gitref) } : { version: detach(version) };
}

function readTunnels(samples: ExpositionSamples, skips: Skips): Readonly<Record<string, number>> {
  const byType = new Map<string, number>();
  for (const s of samples.get(TELEPORT_METRICS.tunnels) ?? []) {
    const n = countOf(s, skips);
    if (n === undefined) continue;
    const type = s.labels['type'] || 'unknown';
    byType.set(type, (byType.get(type) ?? 0) + n);
  }
  // fromEntries defines own properties, so a label value such as "__proto__" stays data.
  return Object.freeze(Object.fromEntries(byType));
}

function readSessions(samples: ExpositionSamples, skips: Skips): SessionCounts {
  required(samples, SESSION_METRICS.ssh);
  const count = (kind: SessionKind): number => {
    const before = skips.samples.length;
    const n = sum(samples, SESSION_METRICS[kind], countOf, skips);
    if (skips.samples.length > before) skips.kinds.add(kind);
    return n;
  };
  return Object.freeze({
    ssh: count('ssh'),
    kube_exec: count('kube_exec'),
    kube_portforward: count('kube_portforward'),
    kube_join: count('kube_join'),
    db: count('db'),
  });
}

/** States per remote peer, from the series with a value above 0; undefined when the family is absent. */
function readPeerConnections(samples: ExpositionSamples): TeleportMetrics['peerConnections'] {
  const list = samples.get(TELEPORT_METRICS.peerConnections);
  if (!list) return undefined;
  const byRemote = new Map<string, string[]>();
  for (const s of list) {
    if (!Number.isFinite(s.value) || s.value <= 0) continue;
    const remote = s.labels['remote_id'];
    // An optional family: a series it cannot use is left out, never the whole page.
    if (!remote) continue;
    const state = detach(s.labels['state'] || 'UNKNOWN');
    const states = byRemote.get(remote);
    if (states) states.push(state);
    else byRemote.set(detach(remote), [state]);
  }
  return Object.freeze(Object.fromEntries(byRemote));
}

/** The first series of an optional single-valued metric; absent (or skipped) stays absent. */
function optionalValue(samples: ExpositionSamples, name: string, skips: Skips): number | undefined {
  const [first] = samples.get(name) ?? [];
  return first ? counterOf(first, skips) : undefined;
}

function fromSamples(samples: ExpositionSamples, source: string): Result<TeleportMetrics, MetricsPageError> {
  try {
    const skips = new Skips();
    const processState = readProcessState(samples);
    const build = readBuildInfo(samples);
    const startTimeSeconds = optionalValue(samples, TELEPORT_METRICS.startTime, skips);
    const residentMemoryBytes = optionalValue(samples, TELEPORT_METRICS.residentMemory, skips);
    const goroutines = optionalValue(samples, TELEPORT_METRICS.goroutines, skips);
    const peerDialErrors = samples.has(TELEPORT_METRICS.peerDialErrors) ? sum(samples, TELEPORT_METRICS.peerDialErrors, counterOf, skips) : undefined;
    const peerConnections = readPeerConnections(samples);
    const metrics: TeleportMetrics = {
      processState,
      ...build,
      sessions: readSessions(samples, skips),
      tunnels: readTunnels(samples, skips),
      missingTunnels: sum(samples, TELEPORT_METRICS.missingTunnels, countOf, skips),
      connectAttempts: sum(samples, TELEPORT_METRICS.connectAttempts, counterOf, skips),
      connectFailures: sum(samples, TELEPORT_METRICS.connectFailures, counterOf, skips),
      connectionLimitExceeded: sum(samples, TELEPORT_METRICS.connectionLimitExceeded, counterOf, skips),
      ...(startTimeSeconds === undefined ? {} : { startTimeSeconds }),
      ...(peerDialErrors === undefined ? {} : { peerDialErrors }),
      ...(peerConnections === undefined ? {} : { peerConnections }),
      ...(residentMemoryBytes === undefined ? {} : { residentMemoryBytes }),
      ...(goroutines === undefined ? {} : { goroutines }),
      ...(skips.samples.length ? { skippedSamples: Object.freeze(skips.samples) } : {}),
      ...(skips.kinds.size ? { sessionKindsSkipped: Object.freeze(SESSION_KINDS.filter((k) => skips.kinds.has(k))) } : {}),
    };
    return ok(Object.freeze(metrics));
  } catch (e) {
    if (e instanceof PageError) return err({ reason: e.reason, message: `${source}: ${e.message}` });
    throw e;
  }
}

const syntaxError = (source: string, p: ExpositionProblem): MetricsPageError => ({
  reason: 'parse_error',
  message: `${source} line ${p.line}: ${p.message} (not Prometheus exposition text)`,
});

/** Reads a page as it arrives; `push` reports a syntax problem at once so the caller can stop downloading. */
export interface PageParser<T> {
  push(chunk: string): MetricsPageError | undefined;
  end(): Result<T, MetricsPageError>;
}

export type TeleportMetricsParser = PageParser<TeleportMetrics>;

function pageParser<T>(source: string, exposition: ExpositionReader, read: (samples: ExpositionSamples, source: string) => Result<T, MetricsPageError>): PageParser<T> {
  const parser = exposition.begin();
  let empty = true;
  return {
    push(chunk) {
      if (empty && /\S/.test(chunk)) empty = false;
      const problem = parser.push(chunk);
      return problem ? syntaxError(source, problem) : undefined;
    },
    end() {
      if (empty) return err({ reason: 'parse_error', message: `${source}: empty page, expected Prometheus exposition text` });
      const parsed = parser.end();
      return parsed.ok ? read(parsed.value, source) : err(syntaxError(source, parsed.error));
    },
  };
}

/** The incremental form of parseTeleportMetrics, for pages read from a stream. */
export function createTeleportMetricsParser(source: string): TeleportMetricsParser {
  return pageParser(source, reader, fromSamples);
}

/** What an Auth Service's /metrics page tells Meridian: the version it runs. */
export interface BuildInfo {
  readonly version: string;
  readonly gitref?: string;
}

const buildInfoReader = createExpositionReader([TELEPORT_METRICS.buildInfo]);

/** Reads teleport_build_info from any Teleport service's page (the Auth Service has no proxy session gauges). */
export function createBuildInfoParser(source: string): PageParser<BuildInfo> {
  return pageParser(source, buildInfoReader, (samples, src) => {
    try {
      return ok(Object.freeze(readBuildInfo(samples)));
    } catch (e) {
      if (e instanceof PageError) return err({ reason: e.reason, message: `${src}: ${e.message}` });
      throw e;
    }
  });
}

/**
 * Reads what Meridian needs from a Teleport proxy's /metrics page. Pure: `source` (the
 * URL) only goes into messages. The result is frozen.
 */
export function parseTeleportMetrics(text: string, source: string): Result<TeleportMetrics, MetricsPageError> {
  const parser = createTeleportMetricsParser(source);
  const problem = parser.push(text);
  return problem ? err(problem) : parser.end();
}
