/**
 * How a simulated build misbehaves, by version: what a canary analysis has to catch. A proxy
 * running a version with a behaviour shows it from its (re)start, or from when the behaviour
 * was set if that is later; the version it runs now decides.
 */
export interface BuildBehaviour {
  /** Share (0..1) of node connection attempts that fail, in place of the usual 1%. */
  readonly connectFailureRatio?: number;
  /** process_state alternates between 0 (ok) and 2 (degraded) every this many sim seconds once ready. */
  readonly flapProcessState?: number;
  /** Resident memory (and heap) grows by this much per sim hour of uptime. */
  readonly memoryLeakBytesPerHour?: number;
  /** go_goroutines grows by this many per sim hour of uptime. */
  readonly goroutineLeakPerHour?: number;
  /** The process restarts itself (a crash its supervisor answers) this many sim ms after each start. */
  readonly restartEveryMs?: number;
  /** A build started with --debug: serves /debug/pprof/ on the diagnostic address. */
  readonly debug?: boolean;
}

export const BUILD_BEHAVIOUR_FIELDS = [
  'connectFailureRatio',
  'flapProcessState',
  'memoryLeakBytesPerHour',
  'goroutineLeakPerHour',
  'restartEveryMs',
  'debug',
] as const satisfies readonly (keyof BuildBehaviour)[];

/** Bounds the checks enforce, so a run stays cheap. */
export const MAX_FLAP_SECONDS = 30 * 86_400;
export const MAX_MEMORY_LEAK_BYTES_PER_HOUR = 1024 ** 4;
export const MAX_GOROUTINE_LEAK_PER_HOUR = 100_000;
export const MIN_RESTART_EVERY_MS = 1_000;
export const MAX_RESTART_EVERY_MS = 30 * 86_400_000;

/** What a proxy needs: the behaviour of the version it runs. */
export interface BuildLookup {
  get(version: string): BuildBehaviour | undefined;
}

/** The simulator's behaviours by version; each value is frozen, so a new one is a new object. */
export class BuildBook implements BuildLookup {
  private readonly byVersion = new Map<string, BuildBehaviour>();

  constructor(initial: Readonly<Record<string, BuildBehaviour>> = {}) {
    for (const [version, b] of Object.entries(initial)) this.set(version, b);
  }

  get(version: string): BuildBehaviour | undefined {
    return this.byVersion.get(version);
  }

  set(version: string, behaviour: BuildBehaviour): BuildBehaviour {
    const frozen = Object.freeze({ ...behaviour });
    this.byVersion.set(version, frozen);
    return frozen;
  }

  delete(version: string): boolean {
    return this.byVersion.delete(version);
  }

  /** Every behaviour, versions in sorted order. */
  list(): Readonly<Record<string, BuildBehaviour>> {
    const entries = [...this.byVersion].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return Object.fromEntries(entries);
  }
}
