/** What the plan expects of one proxy's drain, from its session count now. */
export interface DrainEstimate {
  /** Expected wait from taking the proxy out until its last session ends, at most the deadline. */
  readonly drainMs: number;
  /** The expected wait reached the deadline: the upgrade then cuts what is still open. */
  readonly capped: boolean;
  /** Sessions expected still open at the deadline (cut by the upgrade); 0 when the drain is not capped. */
  readonly expectedCut: number;
}

/** H_n = 1 + 1/2 + … + 1/n; H_0 = 0. */
export function harmonic(n: number): number {
  let h = 0;
  for (let k = 1; k <= n; k++) h += 1 / k;
  return h;
}

/**
 * Sessions that end independently, each after an exponentially distributed time with mean
 * `meanSessionMs`: the last of N ends after meanSessionMs * H_N on average. At the deadline the
 * expected number still open is N * exp(-deadline / mean).
 */
export function estimateDrain(sessions: number, meanSessionMs: number, deadlineMs: number): DrainEstimate {
  const n = Math.max(0, Math.floor(sessions));
  const expected = meanSessionMs * harmonic(n);
  if (expected <= deadlineMs) return { drainMs: expected, capped: false, expectedCut: 0 };
  const open = meanSessionMs > 0 ? n * Math.exp(-deadlineMs / meanSessionMs) : 0;
  return { drainMs: deadlineMs, capped: true, expectedCut: Math.round(open) };
}
