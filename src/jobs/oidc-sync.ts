import { syncOidcConnectorFile } from '../adapters/teleport/oidc-connector-file.js';
import { oidcRedirectUrls } from '../oidc/core/redirect-urls.js';
import type { Job } from './job.js';

/** The acting instance: keeps the OIDC connector file's redirect_url list in step with the fleet. */
export const oidcSyncJob: Job = {
  name: 'oidc-sync',
  async start({ config, log, leadership, observed }) {
    const file = config.oidcConnectorFile;
    if (!file) return { close: async () => undefined };
    const close = await leadership.run(async (term) => {
      // One write at a time, and none once the term is over.
      let syncing = Promise.resolve();
      const sync = (): void => {
        syncing = syncing.then(async () => {
          const fleet = observed.fleet();
          if (!fleet || term.aborted) return;
          const r = await syncOidcConnectorFile(file, oidcRedirectUrls(fleet.spec));
          if (!r.ok) log.error({ file }, `OIDC connector not synced: ${r.error}`);
          else if (r.value === 'updated') log.info({ file }, 'Updated OIDC connector redirect_url');
        });
      };
      observed.onFleet(sync, term);
      sync();
      return () => syncing;
    });
    return { close };
  },
};
