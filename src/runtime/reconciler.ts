import type { ResourceKey } from '../model/resource.js';

/** Empty: done until something changes. A throw means retry with backoff. */
export interface ReconcileResult {
  readonly requeueAfterMs?: number;
}

/** controller-runtime's contract: the key is the only input. */
export interface Reconciler {
  readonly kind: string;
  reconcile(key: ResourceKey, signal: AbortSignal): Promise<ReconcileResult>;
}
