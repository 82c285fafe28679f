import type { ScrapeErrorReason, TeleportMetrics } from '../../model/snapshot.js';

/** Why one request failed; the observer stamps `at` to make it a ScrapeError. */
export interface ScrapeProblem {
  readonly reason: ScrapeErrorReason;
  /** Names the URL (and metric) at fault. */
  readonly message: string;
}

interface OutcomeBase {
  /** /readyz status code, when /readyz answered at all (200 ready; 400 starting or recovering; 503 degraded). */
  readonly readyzStatus?: number;
  /** Why /readyz gave no status (timeout, refused...); for logs, it does not make the proxy down. */
  readonly readyzProblem?: ScrapeProblem;
  readonly durationMs: number;
}

/** A scrape that gave no usable page, of a proxy or an Auth Service instance. */
export type ScrapeFailure = OutcomeBase & { readonly ok: false; readonly error: ScrapeProblem };

/** What one scrape of a proxy's diagnostic address gave: a parsed page, or why not. */
export type ScrapeOutcome = (OutcomeBase & { readonly ok: true; readonly metrics: TeleportMetrics }) | ScrapeFailure;

/** The port the observer scrapes through; implementations never reject for a bad proxy. */
export type ScrapeFn = (diagnosticUrl: string, signal?: AbortSignal) => Promise<ScrapeOutcome>;

/** What one scrape of an Auth Service instance gave: its version (teleport_build_info), or why not. */
export type AuthScrapeOutcome = (OutcomeBase & { readonly ok: true; readonly version: string }) | ScrapeFailure;

/** The port the observer scrapes the Auth Service through; never rejects for a bad target. */
export type AuthScrapeFn = (diagnosticUrl: string, signal?: AbortSignal) => Promise<AuthScrapeOutcome>;
