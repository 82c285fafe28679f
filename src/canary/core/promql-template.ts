import { PROMQL_PLACEHOLDER, type PromQLPlaceholder } from '../../model/prometheus.js';

const STRING_ESCAPES: Readonly<Record<string, string>> = { '\\': '\\\\', '"': '\\"', '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/**
 * A value made safe inside a double-quoted PromQL string: a backslash, a quote or a line break in
 * a name stays text and cannot end the string (`a"} or vector(1) #` matches nothing).
 */
export function escapePromQLString(value: string): string {
  return value.replace(/[\\"\n\r\t]/g, (c) => STRING_ESCAPES[c] ?? c);
}

/** An RE2 regex matching exactly one of `names` (Prometheus anchors label regexes): `tokyo-2|tokyo-3`. */
export function regexAlternation(names: readonly string[]): string {
  return names.map((n) => n.replace(/[\\.+*?()|[\]{}^$]/g, '\\$&')).join('|');
}

/** A PromQL duration in one unit, which every Prometheus version reads: 5m, 90s, 1500ms. */
export function promqlDuration(ms: number): string {
  const whole = Math.max(1, Math.round(ms));
  for (const [unit, size] of [['h', 3_600_000], ['m', 60_000], ['s', 1_000]] as const) if (whole % size === 0) return `${whole / size}${unit}`;
  return `${whole}ms`;
}

/** Fills the placeholders of a query template; the values are already escaped for where they go. */
export function renderPromQL(template: string, values: Readonly<Record<PromQLPlaceholder, string>>): string {
  return template.replace(PROMQL_PLACEHOLDER, (whole, name: string) => (Object.hasOwn(values, name) ? values[name as PromQLPlaceholder] : whole));
}
