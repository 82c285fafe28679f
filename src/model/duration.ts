import { err, ok, type Result } from './result.js';

const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/g;
export const DURATION_PATTERN = '^(\\d+(\\.\\d+)?(ms|s|m|h|d))+$';

/** Parses Go/Kubernetes-style durations such as `90s`, `1h30m`, `7d`. */
export function parseDuration(text: string): Result<number, string> {
  if (!new RegExp(DURATION_PATTERN).test(text)) {
    return err(`"${text}" is not a duration (use forms like 30s, 10m, 1h30m, 7d)`);
  }
  let total = 0;
  for (const m of text.matchAll(PART)) total += Number(m[1]) * (UNIT_MS[m[2] ?? ''] ?? 0);
  return ok(total);
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const s = Math.round(ms / 1000);
  const parts: string[] = [];
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  if (d) parts.push(`${d}d`);
  if (h) parts.push(`${h}h`);
  if (m) parts.push(`${m}m`);
  if (sec || parts.length === 0) parts.push(`${sec}s`);
  return parts.join('');
}

/** A spec duration already validated by the schema, or its default; 0 if neither parses. */
export function durationOr(text: string | undefined, fallback: string): number {
  const r = parseDuration(text ?? fallback);
  return r.ok ? r.value : 0;
}
