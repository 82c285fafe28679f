import got, { RequestError } from 'got';
import { describeCommandFailure } from '../hooks/command-failure.js';
import type { RunCommand } from '../hooks/run-command.js';
import { err, ok, type Result } from '../../model/result.js';
import { timerDelay } from '../../runtime/timer-delay.js';

/** 100,000 nodes print as about 60 MB of JSON. */
export const INVENTORY_LIMIT_BYTES = 256 * 1024 * 1024;

export interface InventorySource {
  readonly url?: string;
  readonly command?: readonly string[];
}

export interface ReadOptions {
  readonly timeoutMs: number;
  readonly signal: AbortSignal;
}

/** Reads one inventory body from a URL or a command; errors name the source and what went wrong. Never throws. */
export type ReadInventory = (source: InventorySource, opts: ReadOptions) => Promise<Result<{ readonly body: string; readonly from: string }, string>>;

export function createInventoryReader(deps: { readonly runCommand: RunCommand; readonly maxBytes?: number }): ReadInventory {
  const maxBytes = deps.maxBytes ?? INVENTORY_LIMIT_BYTES;
  return async (source, { timeoutMs, signal }) => {
    if (source.command) {
      const from = source.command.join(' ');
      const r = await deps.runCommand(source.command, { timeoutMs, signal, maxStdoutBytes: maxBytes });
      if (r.error !== undefined || r.code !== 0) return err(describeCommandFailure(source.command, r));
      if (r.stdoutTruncated) return err(`${from}: printed more than ${maxBytes} bytes`);
      return ok({ body: r.stdout, from });
    }
    if (!source.url) return err('the inventory source has neither url nor command');
    const url = source.url;
    let tooLarge = false;
    try {
      const request = got(url, { timeout: { request: timerDelay(timeoutMs) }, retry: { limit: 0 }, throwHttpErrors: false, signal, headers: { accept: 'application/json' } });
      // Stop reading at the limit: a wrong URL must not make the controller buffer a file server's worth.
      request.on('downloadProgress', (p: { transferred: number }) => {
        if (p.transferred > maxBytes && !tooLarge) {
          tooLarge = true;
          request.cancel();
        }
      });
      const res = await request;
      if (res.statusCode !== 200) return err(`${url}: HTTP ${res.statusCode}: ${res.body.slice(0, 200)}`);
      if (Buffer.byteLength(res.body) > maxBytes) return err(`${url}: answered more than ${maxBytes} bytes`);
      return ok({ body: res.body, from: url });
    } catch (e) {
      if (tooLarge) return err(`${url}: answered more than ${maxBytes} bytes`);
      const what = e instanceof RequestError ? (e.code === 'ETIMEDOUT' ? `timed out after ${timeoutMs} ms` : `${e.code}: ${e.message}`) : String(e);
      return err(`${url}: ${what}`);
    }
  };
}
