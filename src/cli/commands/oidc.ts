import { DEMO_MANIFEST_DIR } from '../../config.js';
import { oidcRedirectUrls } from '../../oidc/core/redirect-urls.js';
import { parseFlags } from '../flags.js';
import type { CliIo } from '../io.js';
import { loadFleet } from '../load-fleet.js';
import { syncOidcConnectorFile } from '../offline-context.js';

/** `meridian oidc redirect-urls`: the connector's redirect_url list for the fleet; `--sync FILE` writes it into a connector file. */
export async function runOidc(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseFlags(args, { manifests: { type: 'string', default: DEMO_MANIFEST_DIR }, sync: { type: 'string' } }, true);
  if (positionals[0] !== 'redirect-urls' || positionals.length > 1) throw new Error('usage: meridian oidc redirect-urls [--manifests DIR] [--sync CONNECTOR.yaml]');
  const fleet = await loadFleet(values.manifests, io);
  if (!fleet) return 1;
  const urls = oidcRedirectUrls(fleet.spec);
  if (!values.sync) {
    io.out(urls.join('\n'));
    return 0;
  }
  const r = await syncOidcConnectorFile(values.sync, urls);
  if (!r.ok) throw new Error(r.error);
  io.out(`${values.sync}: ${r.value === 'updated' ? `redirect_url set to ${urls.length} entries` : 'already up to date'}`);
  return 0;
}
