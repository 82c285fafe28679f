import { err, ok, type Result } from '../../model/result.js';

/**
 * Reads the body of a 2xx hook reply. It may be empty, plain text or JSON; only a JSON object
 * with `"accepted": false` is a refusal (its `error`, if a string, says why). Anything else
 * counts as accepted: the status code already said so, and automation answers vary.
 */
export function readHookReply(body: string): Result<void, string> {
  if (body.trim() === '') return ok(undefined);
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return ok(undefined);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return ok(undefined);
  const reply = parsed as { readonly accepted?: unknown; readonly error?: unknown };
  if (reply.accepted !== false) return ok(undefined);
  return err(typeof reply.error === 'string' && reply.error.trim() !== '' ? `refused: ${reply.error.trim().slice(0, 200)}` : 'refused (no reason given)');
}
