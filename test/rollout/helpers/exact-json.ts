/** JSON that tells an absent field from one set to undefined (isDeepStrictEqual does, so a reconciler may). */
export function exactJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (v === undefined ? '\u0000undefined' : v));
}
