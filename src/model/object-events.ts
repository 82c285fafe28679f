import type { ResourceKey } from './resource.js';

/** Kubernetes' two event types: Warning for what an operator should look at. */
export type ObjectEventType = 'Normal' | 'Warning';

/** A notable step on one of Meridian's objects (a proxy taken out, a canary rolled back, links applied). */
export interface ObjectEvent {
  readonly type: ObjectEventType;
  /** UpperCamelCase, as Kubernetes reasons are (`ProxyOutOfRotation`). */
  readonly reason: string;
  readonly message: string;
}

/**
 * Records an event on an object: Kubernetes Events with the kubernetes store; nothing with the file
 * store (the log has it already). Best effort: never throws, never blocks the caller.
 */
export type RecordEvent = (key: ResourceKey, event: ObjectEvent) => void;

export const recordNoEvent: RecordEvent = () => undefined;

/**
 * The Events of one pass, recorded once the status that goes with them is written (as argo-rollouts
 * sends its events after the status patch): a pass whose write fails is decided again, Events and all.
 */
export function eventsAfterWrite(record: (event: ObjectEvent) => void): { add(events: readonly ObjectEvent[]): void; written(): void } {
  const pending: ObjectEvent[] = [];
  return {
    add: (events) => void pending.push(...events),
    written: () => {
      for (const e of pending.splice(0)) record(e);
    },
  };
}
