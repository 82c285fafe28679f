import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type, type Static } from '@sinclair/typebox';
import type { HistoryView } from '../../dashboard/session-history.js';

export interface HistoryRoutesOptions {
  /** Sessions over the last hour per proxy and region (the dashboard's sparklines). */
  readonly history: () => HistoryView;
}

const Points = Type.Array(Type.Object({ at: Type.String({ description: 'observation time (the controller\'s clock)' }), sessions: Type.Union([Type.Integer(), Type.Null()], { description: 'null: the load was unknown' }) }));

export const HistoryResponse = Type.Object({
  windowMs: Type.Integer(),
  stepMs: Type.Number(),
  latestAt: Type.Union([Type.String(), Type.Null()]),
  proxies: Type.Array(Type.Object({ name: Type.String(), region: Type.String(), points: Points })),
  regions: Type.Array(Type.Object({ name: Type.String(), points: Points })),
});
export type HistoryResponse = Static<typeof HistoryResponse>;

const iso = (ms: number): string => new Date(ms).toISOString();
const points = (ps: HistoryView['regions'][number]['points']) => ps.map((p) => ({ at: iso(p.at), sessions: p.sessions }));

/** The newest snapshot's point of each series that has one: what a page adds to the history it fetched, pushed with each fleet frame. */
export interface HistoryLatest {
  readonly at: string;
  readonly stepMs: number;
  readonly windowMs: number;
  readonly proxies: readonly { name: string; region: string; sessions: number | null }[];
  readonly regions: readonly { name: string; sessions: number | null }[];
}

export function historyLatest(v: HistoryView): HistoryLatest | null {
  const latestAt = v.latestAt;
  if (latestAt === undefined) return null;
  const newest = (ps: HistoryView['regions'][number]['points']) => {
    const p = ps[ps.length - 1];
    return p && p.at === latestAt ? p : undefined;
  };
  return {
    at: iso(latestAt),
    stepMs: v.stepMs,
    windowMs: v.windowMs,
    proxies: v.proxies.flatMap((s) => {
      const p = newest(s.points);
      return p ? [{ name: s.name, region: s.region, sessions: p.sessions }] : [];
    }),
    regions: v.regions.flatMap((s) => {
      const p = newest(s.points);
      return p ? [{ name: s.name, sessions: p.sessions }] : [];
    }),
  };
}

/** GET /history: sessions per proxy and per region over the last hour, one point per step, kept in memory. */
export const historyRoutes: FastifyPluginAsyncTypebox<HistoryRoutesOptions> = async (app, opts) => {
  app.get('/history', { schema: { response: { 200: HistoryResponse } } }, async () => {
    const v = opts.history();
    return {
      windowMs: v.windowMs,
      stepMs: v.stepMs,
      latestAt: v.latestAt === undefined ? null : iso(v.latestAt),
      proxies: v.proxies.map((p) => ({ name: p.name, region: p.region, points: points(p.points) })),
      regions: v.regions.map((r) => ({ name: r.name, points: points(r.points) })),
    };
  });
};
