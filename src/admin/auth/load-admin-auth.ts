import type { Logger } from 'pino';
import type { ListenAddress, MeridianConfig } from '../../config.js';
import { isLoopbackHost, unprotectedAdminMessage } from './loopback.js';
import { readTokenFile } from './read-token-file.js';
import type { AdminAuth } from './admin-auth.js';

/**
 * The admin API's tokens, read once at start. A token file that is missing, empty or malformed
 * stops the start (naming the file and line); one every user may read is only warned about.
 * Without an admin token the listener must stay on loopback.
 */
export async function loadAdminAuth(listen: ListenAddress, settings: MeridianConfig['adminAuth'], log: Logger): Promise<AdminAuth> {
  if (!settings.tokenFile) {
    if (!isLoopbackHost(listen.host)) throw new Error(`admin listener ${listen.host}:${listen.port} is not a loopback address; ${unprotectedAdminMessage}`);
    if (settings.readTokenFile) throw new Error('MERIDIAN_ADMIN_READ_TOKEN_FILE is set without MERIDIAN_ADMIN_TOKEN_FILE: every change would stay open; set both');
    log.info({ listen: `${listen.host}:${listen.port}` }, 'No admin token (MERIDIAN_ADMIN_TOKEN_FILE): anyone on this machine can start, pause and abort rollouts and canaries');
    return { admin: [], read: [] };
  }
  const admin = await readTokenFile(settings.tokenFile, 'admin');
  if (!admin.ok) throw new Error(`MERIDIAN_ADMIN_TOKEN_FILE: ${admin.error}`);
  const read = settings.readTokenFile ? await readTokenFile(settings.readTokenFile, 'reader') : undefined;
  if (read && !read.ok) throw new Error(`MERIDIAN_ADMIN_READ_TOKEN_FILE: ${read.error}`);
  for (const w of [admin.value.warning, read?.value.warning]) if (w) log.warn(w);
  const readTokens = read?.value.tokens ?? [];
  const both = readTokens.find((r) => admin.value.tokens.some((a) => a.token === r.token || a.name === r.name));
  if (both) throw new Error(`MERIDIAN_ADMIN_READ_TOKEN_FILE: ${settings.readTokenFile ?? ''}: ${both.name} has the name or token of an admin token; give readers their own`);
  log.info({ adminTokens: admin.value.tokens.map((t) => t.name), readTokens: readTokens.map((t) => t.name) }, 'Admin API needs a bearer token for every change' + (readTokens.length ? ' and every read' : ''));
  return { admin: admin.value.tokens, read: readTokens };
}
