import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A notice as a webhook channel posts it (src/adapters/notify/notice-sender.ts): the fields a test compares. */
export interface ReceivedNotice {
  readonly id: string;
  readonly region: string;
  readonly rollout?: string;
}

export interface NoticeReceiver {
  /** The URL a `webhook` notice channel posts to. */
  readonly url: string;
  /** Every notice posted, in order, duplicates included. */
  readonly received: readonly ReceivedNotice[];
  close(): Promise<void>;
}

/** The users' side of a rollout's notices: an HTTP endpoint that keeps what a webhook channel posts and answers 200. */
export async function startNoticeReceiver(): Promise<NoticeReceiver> {
  const received: ReceivedNotice[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { type?: string } & ReceivedNotice;
      if (body.type === 'meridian.notice') received.push({ id: body.id, region: body.region, ...(body.rollout ? { rollout: body.rollout } : {}) });
      res.end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/notices`,
    received,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
