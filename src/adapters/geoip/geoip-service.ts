import { watch, type FSWatcher } from 'node:fs';
import { stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Logger } from 'pino';
import type { Result } from '../../model/result.js';
import { err, ok } from '../../model/result.js';
import { loadGeoDatabase, type GeoDatabase } from './geo-database.js';
import type { GeoDatabaseProblem } from './mmdb-file.js';

export interface GeoIpServiceOptions {
  readonly paths: readonly string[];
  readonly log: Logger;
  /** Watch the files and swap in new versions (default true). */
  readonly watch?: boolean;
  /** Period of the stat() check that backs up fs.watch (default 60 s). */
  readonly pollIntervalMs?: number;
  /** Quiet time after a file-system event before the files are read (default 500 ms). */
  readonly settleMs?: number;
  /** Decoded records kept per file. */
  readonly cacheSize?: number;
}

/** What one check of the files did. */
export type GeoIpCheckOutcome = 'unchanged' | 'swapped' | 'rejected' | 'changing';

export interface GeoIpService {
  /** Loads the files; an error names the file and what is wrong with it. Then watches them if asked to. */
  start(): Promise<Result<GeoDatabase, string>>;
  /** The database in force. Hold it only for one request: it is replaced on reload. */
  current(): GeoDatabase;
  /** Build time of the database in force, for meridian_geoip_database_build_timestamp_seconds. */
  buildTimestampSeconds(): number | undefined;
  /** Looks at the files now and swaps in a changed, valid version (the watcher calls this too). */
  checkForUpdate(): Promise<GeoIpCheckOutcome>;
  close(): void;
}

const DEFAULT_POLL_INTERVAL_MS = 60_000;
const DEFAULT_SETTLE_MS = 500;

/**
 * Holds the GeoIP database and replaces it when its files change: the new files are
 * read fully and validated into a new database object before one assignment swaps it
 * in, so every lookup sees either the old or the new one, whole. (maxmind's own
 * watchForUpdates reloads the live reader in place, without validation.)
 */
export function createGeoIpService(options: GeoIpServiceOptions): GeoIpService {
  const { paths, log } = options;
  const pollIntervalMs = options.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS;
  const settleMs = options.settleMs ?? DEFAULT_SETTLE_MS;
  if (paths.length === 0) throw new Error('createGeoIpService needs at least one database path');
  if (!(pollIntervalMs > 0)) throw new Error(`pollIntervalMs must be > 0, got ${pollIntervalMs}`);
  if (!(settleMs >= 0)) throw new Error(`settleMs must be >= 0, got ${settleMs}`);

  let database: GeoDatabase | undefined;
  // What the files looked like (inode, size, mtime) when the database in force, or
  // the last rejected version, was read; a check with the same look does nothing.
  let loadedLook: string | undefined;
  let rejectedLook: string | undefined;
  let lastRejection: GeoDatabaseProblem | undefined;
  let running: Promise<GeoIpCheckOutcome> | undefined;
  let queued: Promise<GeoIpCheckOutcome> | undefined;
  let settleTimer: NodeJS.Timeout | undefined;
  let pollTimer: NodeJS.Timeout | undefined;
  const watchers: FSWatcher[] = [];
  let closed = false;

  // Every version read and refused is logged; a file that cannot even be looked at (missing), once
  // per distinct problem: the poll would otherwise repeat it every period.
  const reject = (problem: GeoDatabaseProblem, newVersion: boolean): void => {
    if (newVersion || problem.file !== lastRejection?.file || problem.reason !== lastRejection.reason) {
      log.error({ file: problem.file, reason: problem.reason }, 'Rejected GeoIP database');
    }
    lastRejection = problem;
  };

  async function runCheck(): Promise<GeoIpCheckOutcome> {
    const before = await lookOf(paths);
    if (!before.ok) {
      reject(before.error, false);
      return 'rejected';
    }
    if (before.value === loadedLook || before.value === rejectedLook) return 'unchanged';
    const loaded = await loadGeoDatabase(paths, options.cacheSize === undefined ? {} : { cacheSize: options.cacheSize });
    const after = await lookOf(paths);
    if (!after.ok || after.value !== before.value) {
      // Written to while we read it: judge it once the writer is done.
      schedule();
      return 'changing';
    }
    if (!loaded.ok) {
      rejectedLook = before.value;
      reject(loaded.error, true);
      return 'rejected';
    }
    if (closed) return 'unchanged';
    const previous = database;
    database = loaded.value;
    loadedLook = before.value;
    rejectedLook = undefined;
    lastRejection = undefined;
    const { info } = loaded.value;
    log.info(
      { paths: info.paths, databaseType: info.databaseType, schema: info.schema, buildEpochSeconds: info.buildEpochSeconds, previousBuildEpochSeconds: previous?.info.buildEpochSeconds },
      previous ? 'Replaced GeoIP database' : 'Loaded GeoIP database',
    );
    return 'swapped';
  }

  function checkForUpdate(): Promise<GeoIpCheckOutcome> {
    if (running === undefined) {
      running = runCheck().finally(() => {
        running = undefined;
      });
      return running;
    }
    // A change can land while a check reads the files: run one more check after it.
    queued ??= running.then(() => {
      queued = undefined;
      return checkForUpdate();
    });
    return queued;
  }

  function schedule(): void {
    if (closed) return;
    clearTimeout(settleTimer);
    settleTimer = setTimeout(() => {
      settleTimer = undefined;
      void checkForUpdate();
    }, settleMs);
    settleTimer.unref();
  }

  function startWatching(): void {
    // Watch the directories, not the files: an atomic replace (rename, or the symlink
    // swap of a Kubernetes volume) leaves a file watch on the old inode. Any event only
    // triggers a stat comparison, so unrelated ones cost little.
    for (const dir of new Set(paths.map((p) => dirname(p)))) {
      try {
        const watcher = watch(dir, { persistent: false }, schedule);
        watcher.on('error', (e) => {
          log.warn({ dir, err: e }, 'Stopped watching GeoIP database directory; polling continues');
          watcher.close();
        });
        watchers.push(watcher);
      } catch (e) {
        log.warn({ dir, err: e }, 'Could not watch GeoIP database directory; polling only');
      }
    }
    pollTimer = setInterval(() => void checkForUpdate(), pollIntervalMs);
    pollTimer.unref();
  }

  return {
    async start() {
      const outcome = database === undefined ? await checkForUpdate() : 'unchanged';
      if (database === undefined) {
        return err(
          lastRejection === undefined
            ? `GeoIP database files changed while being read (${outcome}); try again`
            : `${lastRejection.file}: ${lastRejection.reason}`,
        );
      }
      // Also on a start() retried after "try again", when a scheduled check loaded the database meanwhile.
      if (options.watch !== false && !closed && watchers.length === 0 && pollTimer === undefined) startWatching();
      return ok(database);
    },
    current() {
      if (database === undefined) throw new Error('GeoIP service has no database: start() it first');
      return database;
    },
    buildTimestampSeconds() {
      return database?.info.buildEpochSeconds;
    },
    checkForUpdate,
    close() {
      closed = true;
      clearTimeout(settleTimer);
      clearInterval(pollTimer);
      for (const w of watchers) w.close();
      watchers.length = 0;
    },
  };
}

/** The files' identity and version as stat() sees it (following symlinks). */
async function lookOf(paths: readonly string[]): Promise<Result<string, GeoDatabaseProblem>> {
  const parts: string[] = [];
  for (const path of paths) {
    try {
      const s = await stat(path, { bigint: true });
      parts.push(`${path}\0${s.dev}:${s.ino}:${s.size}:${s.mtimeNs}`);
    } catch (e) {
      return err({ file: path, reason: `cannot read: ${e instanceof Error ? e.message : String(e)}` });
    }
  }
  return ok(parts.join('\n'));
}
