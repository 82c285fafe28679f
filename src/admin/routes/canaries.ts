import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { CANARY_VERBS, canaryCommandPatch } from '../../canary/core/canary-commands.js';
import type { ProxyCanary } from '../../model/canary.js';
import type { SpecPatch } from '../../model/store.js';
import { CanariesResponse, CanaryView } from '../canary-schemas.js';
import { canaryView } from '../canary-view.js';
import { ErrorResponse } from '../schemas.js';

export interface CanaryRoutesOptions {
  readonly canaries: () => Promise<readonly ProxyCanary[]>;
  readonly getCanary: (namespace: string, name: string) => Promise<ProxyCanary | undefined>;
  readonly patchCanary: (namespace: string, name: string, patch: SpecPatch) => Promise<void>;
  /** Active invitations by canary name (the login listener's count); absent, or undefined: invitations are off. */
  readonly invitations?: () => Promise<ReadonlyMap<string, number> | undefined>;
}

const Params = Type.Object({ namespace: Type.String({ maxLength: 253 }), name: Type.String({ maxLength: 253 }) });

export const canaryRoutes: FastifyPluginAsyncTypebox<CanaryRoutesOptions> = async (app, opts) => {
  const notFound = (ns: string, name: string) => ({ statusCode: 404, error: 'Not Found', message: `no ProxyCanary ${ns}/${name}` });
  const invitations = async (): Promise<ReadonlyMap<string, number> | undefined> => opts.invitations?.();
  app.get('/canaries', { schema: { response: { 200: CanariesResponse } } }, async () => {
    const counts = await invitations();
    return { canaries: (await opts.canaries()).map((c) => canaryView(c, counts)) };
  });
  app.get('/canaries/:namespace/:name', { schema: { params: Params, response: { 200: CanaryView, 404: ErrorResponse } } }, async (req, reply) => {
    const c = await opts.getCanary(req.params.namespace, req.params.name);
    return c ? canaryView(c, await invitations()) : reply.code(404).send(notFound(req.params.namespace, req.params.name));
  });
  app.post(
    '/canaries/:namespace/:name/:verb',
    { schema: { params: Type.Object({ ...Params.properties, verb: Type.Union(CANARY_VERBS.map((v) => Type.Literal(v))) }), response: { 200: CanaryView, 404: ErrorResponse, 409: ErrorResponse } } },
    async (req, reply) => {
      const { namespace, name, verb } = req.params;
      const c = await opts.getCanary(namespace, name);
      if (!c) return reply.code(404).send(notFound(namespace, name));
      const patch = canaryCommandPatch(verb, c);
      if (!patch.ok) return reply.code(409).send({ statusCode: 409, error: 'Conflict', message: patch.error });
      await opts.patchCanary(namespace, name, patch.value);
      req.log.info({ canary: `${namespace}/${name}`, verb }, `Canary ${verb} requested`);
      const after = await opts.getCanary(namespace, name);
      return after ? canaryView(after, await invitations()) : reply.code(404).send(notFound(namespace, name));
    },
  );
};
