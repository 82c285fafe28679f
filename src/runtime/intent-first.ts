import { isDeepStrictEqual } from 'node:util';

/** What a pure step returns: the next status, at most one outside action, and when to look again. */
export interface PlannedStep<S, A> {
  readonly status: S;
  readonly action?: A;
  /** Epoch ms on the controller's clock. */
  readonly wakeAt?: number;
}

export interface IntentFirstPass<S, A, O> {
  /** The status as stored; writes of an equal status are skipped. */
  readonly stored: S;
  readonly step: PlannedStep<S, A>;
  /** The status that says the action is being made (`inFlight`), written before it is made. */
  readonly withIntent: (status: S, action: A) => S;
  /** Makes the one outside change. */
  readonly perform: (action: A, intent: S) => Promise<O>;
  /** Folds the outcome into the intent's status (pure); clears the intent. */
  readonly fold: (intent: S, action: A, outcome: O) => S;
  /** Stores a status that differs from the last one stored. */
  readonly persist: (status: S, before: S) => Promise<void>;
  readonly now: () => number;
}

/**
 * One pass of any job whose steps are computed by a pure core: write the intent, make exactly one
 * outside change, fold its outcome back, write again. A crash between any two of these leaves a
 * stored status from which the next pass decides again (the action is made again, never skipped).
 * Resolves with the status now stored and when to look again (0: at once, after an action).
 */
export async function runIntentFirst<S, A, O>(pass: IntentFirstPass<S, A, O>): Promise<{ readonly status: S; readonly requeueAfterMs?: number }> {
  let current = pass.stored;
  const write = async (next: S): Promise<void> => {
    if (isDeepStrictEqual(next, current)) return;
    await pass.persist(next, current);
    current = next;
  };
  const { step } = pass;
  if (step.action === undefined) {
    await write(step.status);
    return { status: current, ...(step.wakeAt === undefined ? {} : { requeueAfterMs: Math.max(0, step.wakeAt - pass.now()) }) };
  }
  const intent = pass.withIntent(step.status, step.action);
  await write(intent);
  const outcome = await pass.perform(step.action, intent);
  await write(pass.fold(intent, step.action, outcome));
  return { status: current, requeueAfterMs: 0 };
}
