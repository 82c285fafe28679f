import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { ProxyRollout } from '../../model/rollout.js';
import type { SpecPatch } from '../../model/store.js';
import { commandPatch, ROLLOUT_VERBS } from '../../rollout/core/rollout-commands.js';
import { RolloutsResponse, RolloutView } from '../rollout-schemas.js';
import { rolloutView } from '../rollout-view.js';
import { ErrorResponse } from '../schemas.js';

export interface RolloutRoutesOptions {
  readonly rollouts: () => Promise<readonly ProxyRollout[]>;
  readonly getRollout: (namespace: string, name: string) => Promise<ProxyRollout | undefined>;
  /** Applies an operator's command to the spec (the file store edits the manifest). */
  readonly patchRollout: (namespace: string, name: string, patch: SpecPatch) => Promise<void>;
}

const Params = Type.Object({ namespace: Type.String({ maxLength: 253 }), name: Type.String({ maxLength: 253 }) });

export const rolloutRoutes: FastifyPluginAsyncTypebox<RolloutRoutesOptions> = async (app, opts) => {
  const notFound = (ns: string, name: string) => ({ statusCode: 404, error: 'Not Found', message: `no ProxyRollout ${ns}/${name}` });
  app.get('/rollouts', { schema: { response: { 200: RolloutsResponse } } }, async () => ({ rollouts: (await opts.rollouts()).map(rolloutView) }));
  app.get('/rollouts/:namespace/:name', { schema: { params: Params, response: { 200: RolloutView, 404: ErrorResponse } } }, async (req, reply) => {
    const r = await opts.getRollout(req.params.namespace, req.params.name);
    return r ? rolloutView(r) : reply.code(404).send(notFound(req.params.namespace, req.params.name));
  });
  app.post(
    '/rollouts/:namespace/:name/:verb',
    {
      schema: {
        params: Type.Object({ ...Params.properties, verb: Type.Union(ROLLOUT_VERBS.map((v) => Type.Literal(v))) }),
        response: { 200: RolloutView, 404: ErrorResponse, 409: ErrorResponse },
      },
    },
    async (req, reply) => {
      const { namespace, name, verb } = req.params;
      const r = await opts.getRollout(namespace, name);
      if (!r) return reply.code(404).send(notFound(namespace, name));
      const patch = commandPatch(verb, r);
      if (!patch.ok) return reply.code(409).send({ statusCode: 409, error: 'Conflict', message: patch.error });
      await opts.patchRollout(namespace, name, patch.value);
      req.log.info({ rollout: `${namespace}/${name}`, verb }, `Rollout ${verb} requested`);
      const after = await opts.getRollout(namespace, name);
      return after ? rolloutView(after) : reply.code(404).send(notFound(namespace, name));
    },
  );
};
