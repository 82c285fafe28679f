import { isIP } from 'node:net';

/** Only this machine can reach a listener on these: `localhost`, 127.0.0.0/8, ::1 (and ::ffff:127.x). */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, '');
  if (h === 'localhost') return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (isIP(h) === 6) return h === '::1' || h === '0:0:0:0:0:0:0:1' || /^::ffff:127\./.test(h);
  return false;
}

/** Why the admin listener may not bind beyond loopback without a token, and what to set. */
export const unprotectedAdminMessage =
  'the admin API starts, pauses and aborts rollouts and canaries, so listening beyond loopback needs a token: set MERIDIAN_ADMIN_TOKEN_FILE (meridian start --admin-token-file FILE)';
