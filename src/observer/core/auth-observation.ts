import type { AuthObservation, AuthServerObservation } from '../../model/snapshot.js';
import { compareVersions } from '../../model/version-skew.js';
import type { AuthScrapeOutcome } from './scrape-outcome.js';

/** One Auth Service instance from its scrape; `at` is the ISO time the scrape finished. */
export function authServerObservation(diagnosticUrl: string, outcome: AuthScrapeOutcome, at: string): AuthServerObservation {
  const readyz = outcome.readyzStatus === undefined ? {} : { readyzStatus: outcome.readyzStatus };
  if (outcome.ok) return Object.freeze({ diagnosticUrl, version: outcome.version, ready: outcome.readyzStatus === 200, ...readyz });
  return Object.freeze({ diagnosticUrl, ready: outcome.readyzStatus === 200, ...readyz, error: Object.freeze({ ...outcome.error, at }) });
}

/**
 * The Auth Service from its instances: the lowest version any of them reports (mid-upgrade they
 * differ, and no proxy may pass the oldest), else the first instance's error. An instance that
 * could not be read spoils nothing else.
 */
export function authObservation(servers: readonly AuthServerObservation[], observedAt: string): AuthObservation {
  let version: string | undefined;
  for (const s of servers) {
    if (s.version === undefined) continue;
    // A version that does not parse is kept only when nothing better is known.
    if (version === undefined || (compareVersions(s.version, version) ?? 0) < 0) version = s.version;
  }
  const error = version === undefined ? servers.find((s) => s.error)?.error : undefined;
  return Object.freeze({
    ...(version === undefined ? {} : { version }),
    ...(error === undefined ? {} : { error }),
    observedAt,
    servers: Object.freeze([...servers]),
  });
}
