import type { DriftKind } from '../../model/peering.js';

/** Something a pass or a fold did or found, for the log (and the drift and inventory-error counters). */
export interface PeeringEvent {
  readonly reason: string;
  readonly message: string;
  readonly warn?: boolean;
  readonly fields?: Readonly<Record<string, string | number | boolean>>;
  /** Drift an observation found (counted once per observation and kind). */
  readonly drift?: DriftKind;
}
