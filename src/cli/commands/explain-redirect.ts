import { ExplainResponse } from '../../admin/schemas.js';
import { DEFAULT_ADMIN_URL } from '../../config.js';
import type { ExplainedChoice } from '../../redirect/core/explain-choice.js';
import { getJson } from '../admin-client.js';
import { renderExplanation } from '../explain-text.js';
import { parseFlags } from '../flags.js';
import type { CliIo } from '../io.js';

/** `meridian explain-redirect IP`: where the login URL sends that address, and why, from a running controller. */
export async function runExplainRedirect(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseFlags(args, { server: { type: 'string', default: DEFAULT_ADMIN_URL }, json: { type: 'boolean', default: false }, region: { type: 'string' }, canary: { type: 'string' } }, true);
  const [ip, ...extra] = positionals;
  if (!ip || extra.length) throw new Error('usage: meridian explain-redirect IP [--region NAME] [--canary NAME] [--json] [--server URL]');
  const query = new URLSearchParams({ ip, ...(values.region ? { region: values.region } : {}), ...(values.canary ? { canary: values.canary } : {}) });
  // The API passes the core's explanation through as is: its outer shape is checked, its inner one typed there.
  const body = (await getJson(values.server, `/api/v1/explain-redirect?${query}`, ExplainResponse)) as ExplainedChoice & { ip: string };
  io.out(values.json ? JSON.stringify(body, null, 2) : renderExplanation(body.ip, body));
  return 0;
}
