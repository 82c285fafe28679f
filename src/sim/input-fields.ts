import { err, ok, type Result } from '../model/result.js';
import type { InputError } from './control-input.js';

/**
 * Field checks for the control API's parsers (control-input.ts reads top-level fields through
 * them; the peering parsers read nested bodies): every check takes the field's full path
 * (`spec.tunnel_strategy.type`, `rules[3].from`) and names it in the error.
 */

export type Fields = Readonly<Record<string, unknown>>;

export const MAX_TEXT_LENGTH = 512;

export function bad(field: string, message: string): { readonly ok: false; readonly error: InputError } {
  return err({ field, message: `${field}: ${message}` });
}

export function quoteAll(values: readonly string[]): string {
  return values.map((v) => `"${v}"`).join(', ');
}

/** `spec` + `type` → `spec.type`; the top level has no prefix. */
export function at(prefix: string, key: string): string {
  return prefix === '' ? key : `${prefix}.${key}`;
}

/** An object with only `allowed` keys; `field` names it (`body` at the top level). */
export function objectAt(value: unknown, field: string, allowed: readonly string[]): Result<Fields, InputError> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return bad(field, 'must be a JSON object');
  const fields = value as Fields;
  const prefix = field === 'body' ? '' : field;
  for (const key of Object.keys(fields)) {
    if (!allowed.includes(key)) return bad(at(prefix, key), `unknown field (allowed: ${quoteAll(allowed)})`);
  }
  return ok(fields);
}

export function literalAt<T extends string>(value: unknown, field: string, values: readonly T[]): Result<T, InputError> {
  if (value === undefined) return bad(field, `is required (one of ${quoteAll(values)})`);
  if (typeof value !== 'string' || !(values as readonly string[]).includes(value)) {
    return bad(field, `must be one of ${quoteAll(values)}, got ${JSON.stringify(value)}`);
  }
  return ok(value as T);
}

export function integerAt(value: unknown, field: string, min: number, max: number): Result<number, InputError> {
  if (value === undefined) return bad(field, 'is required');
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    return bad(field, `must be a whole number from ${min} to ${max}, got ${JSON.stringify(value)}`);
  }
  return ok(value);
}

export function textAt(value: unknown, field: string): Result<string, InputError> {
  if (value === undefined) return bad(field, 'is required');
  if (typeof value !== 'string' || value.trim() === '' || value.length > MAX_TEXT_LENGTH) {
    return bad(field, `must be a non-empty string of at most ${MAX_TEXT_LENGTH} characters, got ${JSON.stringify(value)}`);
  }
  return ok(value);
}

const HOST_PORT = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9](?:[A-Za-z0-9.-]{0,252}[A-Za-z0-9])?)):(\d{1,5})$/;
const WILDCARD_HOSTS = ['0.0.0.0', '::'];

/**
 * A `host:port` address (IPv6 in brackets), port 1 to 65535. A `dialable` one, which other
 * proxies connect to, may not name a wildcard host.
 */
export function hostPortAt(value: unknown, field: string, dialable: boolean): Result<string, InputError> {
  const what = dialable ? 'a host:port that other proxies can dial, such as "nyc-1.example.com:3021"' : 'a host:port such as "0.0.0.0:3021"';
  if (value === undefined) return bad(field, `is required (${what})`);
  const m = typeof value === 'string' ? HOST_PORT.exec(value) : null;
  const port = m ? Number(m[3]) : 0;
  if (!m || port < 1 || port > 65535) return bad(field, `must be ${what}, got ${JSON.stringify(value)}`);
  const host = m[1] ?? m[2] ?? '';
  if (dialable && WILDCARD_HOSTS.includes(host)) return bad(field, `must be ${what}, not the wildcard host ${JSON.stringify(host)}`);
  return ok(value as string);
}
