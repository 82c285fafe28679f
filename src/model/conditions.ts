export type ConditionStatus = 'True' | 'False' | 'Unknown';

export interface Condition {
  readonly type: string;
  readonly status: ConditionStatus;
  /** PascalCase, machine-readable. */
  readonly reason: string;
  readonly message: string;
  readonly observedGeneration: number;
  /** ISO time of the last status flip. */
  readonly lastTransitionTime: string;
}

export type ConditionInput = Omit<Condition, 'lastTransitionTime'>;

/**
 * Upserts a condition by type (apimachinery's meta.SetStatusCondition):
 * lastTransitionTime moves only when the status flips; the rest is always refreshed.
 */
export function setCondition(
  conditions: readonly Condition[],
  next: ConditionInput,
  nowIso: string,
): readonly Condition[] {
  const existing = conditions.find((c) => c.type === next.type);
  const lastTransitionTime =
    existing && existing.status === next.status ? existing.lastTransitionTime : nowIso;
  const merged: Condition = { ...next, lastTransitionTime };
  return existing
    ? conditions.map((c) => (c.type === next.type ? merged : c))
    : [...conditions, merged];
}

/** Whether `c` already says what `want` says (its transition time aside): nothing to write. */
export function conditionHolds(c: Condition | undefined, want: ConditionInput): boolean {
  return c !== undefined && c.status === want.status && c.reason === want.reason && c.message === want.message && c.observedGeneration === want.observedGeneration;
}
