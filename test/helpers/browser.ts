import assert from 'node:assert/strict';
import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser } from 'playwright-core';

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Registers a cleanup; cleanups run last-registered first. */
export type Defer = (fn: () => Promise<unknown>) => void;

/**
 * node:test runs `t.after` hooks in registration order and stops at the first that throws,
 * so the temp dir would go before Meridian stops writing to it. One hook runs them all, newest first.
 */
export function cleanupStack(t: { after: (fn: () => Promise<void>) => void }): Defer {
  const stack: (() => Promise<unknown>)[] = [];
  t.after(async () => {
    const errors: unknown[] = [];
    for (const fn of stack.reverse()) await fn().catch((e: unknown) => errors.push(e));
    if (errors.length) throw new AggregateError(errors, 'cleanup failed');
  });
  return (fn) => void stack.push(fn);
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A stand-in for one proxy's web UI: any path answers a page naming the proxy and the path it was asked for. */
export async function startWebUi(defer: Defer, name: string): Promise<string> {
  const server: Server = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
    res.end(
      `<!doctype html><html><head><meta charset=utf-8><title>${escapeHtml(name)}</title>` +
        `<style>body{font:16px system-ui,sans-serif;margin:3em;background:#f4f6fb}h1{color:#512fc9}</style></head>` +
        `<body><h1>Teleport proxy ${escapeHtml(name)}</h1><p id=path>${escapeHtml(req.url ?? '')}</p></body></html>`,
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  defer(
    () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections(); // the browser's keep-alive connections
      }),
  );
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

export async function launchChromium(defer: Defer): Promise<Browser> {
  try {
    await access(CHROMIUM, constants.X_OK);
  } catch {
    assert.fail(`Chromium is not installed at ${CHROMIUM}: run \`bash .ci/install-deps.sh\` (installs the Debian chromium package) before the e2e tests`);
  }
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true, timeout: 15_000 });
  defer(() => browser.close());
  return browser;
}

