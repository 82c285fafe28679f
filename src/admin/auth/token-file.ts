import { err, ok, type Result } from '../../model/result.js';

/** A bearer token and the name the audit log gives whoever presents it. */
export interface NamedToken {
  readonly name: string;
  readonly token: string;
}

/** RFC 6750 b64token: what may follow `Bearer ` in an Authorization header. */
export const BEARER_TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;
const NAME = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,62}$/;
/** Shorter tokens can be guessed; `openssl rand -hex 32` gives 64 characters. */
export const MIN_TOKEN_LENGTH = 16;

/**
 * Parses a token file. One token per line, `name:token`, or a bare `token` which is named
 * `bareName` (`admin` for the admin file); blank lines and lines starting with `#` are skipped.
 * Every mistake names the file and line, never the token.
 */
export function parseTokenFile(text: string, file: string, bareName: string): Result<readonly NamedToken[], string> {
  const tokens: NamedToken[] = [];
  const lines = text.split('\n');
  for (const [i, raw] of lines.entries()) {
    const line = raw.replace(/\r$/, '').trim();
    if (line === '' || line.startsWith('#')) continue;
    const where = `${file}:${i + 1}`;
    const colon = line.indexOf(':');
    // A b64token never holds ':', so the first one ends the name.
    const name = colon < 0 ? bareName : line.slice(0, colon).trim();
    const token = colon < 0 ? line : line.slice(colon + 1).trim();
    if (!NAME.test(name)) return err(`${where}: "${name}" is not a token name (letters, digits, . _ @ -; at most 63)`);
    if (token === '') return err(`${where}: ${name} has no token after ":"`);
    if (!BEARER_TOKEN.test(token)) return err(`${where}: the token of ${name} has characters a bearer token cannot carry (spaces, quotes, ":"...); use letters, digits and - . _ ~ + /`);
    if (token.length < MIN_TOKEN_LENGTH) return err(`${where}: the token of ${name} is shorter than ${MIN_TOKEN_LENGTH} characters (make one with: openssl rand -hex 32)`);
    const sameName = tokens.find((t) => t.name === name);
    if (sameName) return err(`${where}: the name ${name} is already given to another token${colon < 0 ? ` (a bare token is named ${bareName})` : ''}`);
    const sameToken = tokens.find((t) => t.token === token);
    if (sameToken) return err(`${where}: ${name} has the same token as ${sameToken.name}; give each its own`);
    tokens.push({ name, token });
  }
  if (tokens.length === 0) return err(`${file}: holds no token (lines "name:token" or one bare token; # starts a comment)`);
  return ok(tokens);
}
