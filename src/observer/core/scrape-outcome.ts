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

/** What one scrape of a proxy's diagnostic address gave: a parsed page, or why not. */
export type ScrapeOutcome =
  | (OutcomeBase & { readonly ok: true; readonly metrics: TeleportMetrics })
  | (OutcomeBase & { readonly ok: false; readonly error: ScrapeProblem });

/** The port the observer scrapes through; implementations never reject for a bad proxy. */
export type ScrapeFn = (diagnosticUrl: string, signal?: AbortSignal) => Promise<ScrapeOutcome>;
