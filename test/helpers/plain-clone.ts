/**
 * A deep copy of plain data (objects, arrays, primitives), as structuredClone gives it but several
 * times faster for the small objects stores hand out on every read; anything else (a Date, a Map)
 * is copied by structuredClone.
 */
export function plainClone<T>(value: T): T {
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) return value.map(plainClone) as T;
  if (Object.getPrototypeOf(value) !== Object.prototype) return structuredClone(value);
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(value)) out[k] = plainClone((value as Record<string, unknown>)[k]);
  return out as T;
}
