import type { Logger } from 'pino';
import type { Clock } from '../model/clock.js';
import { conditionHolds, type ConditionInput } from '../model/conditions.js';
import { formatPath } from '../model/field-error.js';
import { isKind, KINDS } from '../model/kinds.js';
import type { RecordEvent } from '../model/object-events.js';
import { keyOf, keyString, type ResourceKey } from '../model/resource.js';
import { Conflict, hasObjectConditions, type ManifestProblem, type ObjectConditions, type Store } from '../model/store.js';
import type { Timers } from '../runtime/work-queue.js';
import type { Job } from './job.js';

export const SPEC_VALID = 'SpecValid';
const RETRY_MS = 5_000;

export interface SpecConditionsDeps {
  readonly store: Store & ObjectConditions;
  readonly recordEvent: RecordEvent;
  readonly clock: Clock;
  readonly timers: Timers;
  readonly log: Logger;
}

/** The condition an object should carry: False naming the refused field, or True once a refused object was fixed. */
function wanted(problem: ManifestProblem | undefined, generation: number): ConditionInput {
  if (!problem) return { type: SPEC_VALID, status: 'True', reason: 'Valid', message: "The spec passes Meridian's checks", observedGeneration: generation };
  const message = `${formatPath(problem.error.path)}: ${problem.error.message}; the last valid version stays in force`;
  return { type: SPEC_VALID, status: 'False', reason: 'InvalidSpec', message, observedGeneration: problem.generation ?? generation };
}

/**
 * Says on each object the API server accepted but Meridian's checks refuse why (condition SpecValid
 * False and a Warning Event InvalidSpec), and turns the condition back to True once it is fixed.
 * Level-triggered: every change of an object compares its problem with the condition it holds and
 * writes only the difference; objects never refused get no condition. Runs until `term` aborts.
 */
export function startSpecConditions(deps: SpecConditionsDeps, term: AbortSignal): { readonly done: Promise<void> } {
  const { store } = deps;
  const dirty = new Map<string, ResourceKey>();
  let wake: (() => void) | undefined;
  const mark = (key: ResourceKey): void => {
    dirty.set(keyString(key), key);
    wake?.();
  };
  const unwatch = store.watch(mark);
  term.addEventListener('abort', () => wake?.(), { once: true });

  async function check(key: ResourceKey): Promise<void> {
    const conditions = store.conditionsOf(key);
    if (!conditions) return;
    const problem = store.problems().find((p) => p.object && keyString(p.object) === keyString(key));
    const current = conditions.find((c) => c.type === SPEC_VALID);
    // Only what was refused is told; a fixed object is told once it is fine again.
    if (!problem && current?.status !== 'False') return;
    const accepted = isKind(key.kind) ? await store.get(key.kind, key.namespace, key.name) : undefined;
    const want = wanted(problem, accepted?.metadata.generation ?? 0);
    if (conditionHolds(current, want)) return;
    await store.setCondition(key, want, new Date(deps.clock.now()).toISOString());
    if (problem) deps.recordEvent(key, { type: 'Warning', reason: 'InvalidSpec', message: want.message });
    deps.log.info({ object: keyString(key), status: want.status, message: want.message }, problem ? 'Told an object its spec is refused' : 'Told an object its spec is valid again');
  }

  async function allKeys(): Promise<void> {
    for (const p of store.problems()) if (p.object) mark(p.object);
    for (const kind of KINDS) for (const o of await store.list(kind)) mark(keyOf(o));
  }

  async function loop(): Promise<void> {
    await allKeys();
    while (!term.aborted) {
      if (!dirty.size) {
        await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
        continue;
      }
      const batch = [...dirty.values()];
      dirty.clear();
      for (const key of batch) {
        if (term.aborted) break;
        try {
          await check(key);
        } catch (e) {
          // A Conflict means the watch brings a newer version, which marks the key again.
          if (e instanceof Conflict) continue;
          deps.log.warn({ object: keyString(key), err: e instanceof Error ? e.message : String(e) }, 'Failed to write the SpecValid condition; retrying');
          const h = deps.timers.setTimeout(() => mark(key), RETRY_MS);
          term.addEventListener('abort', () => deps.timers.clearTimeout(h), { once: true });
        }
      }
    }
    unwatch();
  }

  return { done: loop() };
}

/** The acting instance: validation problems of cluster objects as a condition and an Event on them (the file store's problems are files: the log and `meridian validate` show them). */
export const specProblemsJob: Job = {
  name: 'spec-problems',
  async start(d) {
    const { store } = d;
    if (!hasObjectConditions(store)) return { close: async () => undefined };
    const close = await d.leadership.run(async (term) => {
      const run = startSpecConditions({ store, recordEvent: d.recordEvent, clock: d.runtime.clock, timers: d.runtime.timers, log: d.log.child({ job: 'spec-problems' }) }, term);
      return () => run.done;
    });
    return { close };
  },
};
