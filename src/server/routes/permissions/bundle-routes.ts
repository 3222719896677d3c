import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { Capability } from '../../../shared/capabilities.ts';
import { AppError } from '../../../shared/errors.ts';
import { requireCap } from '../../plugins/auth.ts';
import type { BundleInput, BundleService } from '../../services/identity/bundle-service.ts';
import type { BundleRecord } from '../../services/identity/identity-records.ts';
import type { UserService } from '../../services/identity/user-service.ts';
import { CapabilitySchema, errors, IdParams, OkSchema } from '../common-schemas.ts';

const Patterns = Type.Record(Type.String(), Type.Array(Type.String({ minLength: 1, maxLength: 512 }), { maxItems: 64 }));
const BundleSchema = Type.Object({
  id: Type.String(),
  key: Type.String(),
  name: Type.String(),
  description: Type.String(),
  keys: Type.Array(Type.String()),
  key_patterns: Patterns,
  created_at: Type.String(),
  updated_at: Type.String(),
});
const BundleBody = Type.Object(
  {
    key: Type.String({ minLength: 1, maxLength: 64 }),
    name: Type.String({ minLength: 1, maxLength: 128 }),
    description: Type.Optional(Type.String({ maxLength: 1024 })),
    keys: Type.Array(CapabilitySchema, { maxItems: 16 }),
    key_patterns: Type.Optional(Patterns),
  },
  { additionalProperties: false },
);
const BundlePatch = Type.Object(
  {
    key: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
    description: Type.Optional(Type.String({ maxLength: 1024 })),
    keys: Type.Optional(Type.Array(CapabilitySchema, { maxItems: 16 })),
    key_patterns: Type.Optional(Patterns),
  },
  { additionalProperties: false, minProperties: 1 },
);

/** Permission bundles (`permissions.manage`, seed 002). */
export function registerBundleRoutes(app: FastifyInstance, deps: { readonly bundles: BundleService; readonly users: Pick<UserService, 'dropGrant'> }): void {
  const { bundles, users } = deps;
  const view = (b: BundleRecord) => b;

  app.get('/api/v1/permissions', { schema: { tags: ['permissions'], summary: 'List permission bundles', response: { 200: Type.Array(BundleSchema), ...errors(401, 403) } } }, async (request) => {
    requireCap(request, 'permissions.manage');
    return (await bundles.list()).map(view);
  });

  app.post('/api/v1/permissions', { schema: { tags: ['permissions'], summary: 'Create a permission bundle', body: BundleBody, response: { 201: BundleSchema, ...errors(400, 401, 403, 409) } } }, async (request, reply) => {
    requireCap(request, 'permissions.manage');
    return reply.code(201).send(view(await bundles.create(request.body as BundleInput)));
  });

  app.get('/api/v1/permissions/:id', { schema: { tags: ['permissions'], summary: 'One permission bundle', params: IdParams, response: { 200: BundleSchema, ...errors(401, 403, 404) } } }, async (request) => {
    requireCap(request, 'permissions.manage');
    const bundle = await bundles.get((request.params as { id: string }).id);
    if (!bundle) throw new AppError('ERR_BUNDLE_NOT_FOUND');
    return view(bundle);
  });

  app.patch('/api/v1/permissions/:id', { schema: { tags: ['permissions'], summary: 'Edit a permission bundle', params: IdParams, body: BundlePatch, response: { 200: BundleSchema, ...errors(400, 401, 403, 404, 409) } } }, async (request) => {
    requireCap(request, 'permissions.manage');
    return view(await bundles.update((request.params as { id: string }).id, request.body as Partial<BundleInput> & { keys?: Capability[] }));
  });

  app.delete('/api/v1/permissions/:id', { schema: { tags: ['permissions'], summary: 'Delete a bundle (and remove it from every user)', params: IdParams, response: { 200: OkSchema, ...errors(401, 403, 404) } } }, async (request) => {
    requireCap(request, 'permissions.manage');
    const id = (request.params as { id: string }).id;
    await bundles.remove(id);
    await users.dropGrant(id);
    return { ok: true };
  });
}
