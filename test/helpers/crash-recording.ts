import assert from 'node:assert/strict';

/** Where a crash is made: before or after status write `at` lands. */
export interface CrashPoint {
  readonly at: number;
  readonly afterWrite: boolean;
}

/** A clean run's result and its state at every crash point, so a crash run resumes there instead of replaying from the start. */
export interface Recording<R, C> {
  readonly result: R;
  /** [n - 1]: the state as status write n is made, before it lands and after. */
  readonly beforeWrite: readonly C[];
  readonly afterWrite: readonly C[];
  /** The state (fingerprint) at the start of each pass. */
  readonly passStarts: ReadonlySet<string>;
}

/** Collects a clean run's checkpoints (at each crash point) and pass starts; `done` makes the recording. */
export function recorder<C>() {
  const beforeWrite: C[] = [];
  const afterWrite: C[] = [];
  const passStarts = new Set<string>();
  return {
    atCrashPoint: (after: boolean, checkpoint: C): void => void (after ? afterWrite : beforeWrite).push(checkpoint),
    atPassStart: (fingerprint: string): void => void passStarts.add(fingerprint),
    done: <R>(result: R): Recording<R, C> => ({ result, beforeWrite, afterWrite, passStarts }),
  };
}

/** The clean run's state at a crash point. */
export function checkpointAt<C>(clean: Recording<unknown, C>, crash: CrashPoint): C {
  const from = (crash.afterWrite ? clean.afterWrite : clean.beforeWrite)[crash.at - 1];
  assert.ok(from, `the clean run made write ${crash.at}`);
  return from;
}
