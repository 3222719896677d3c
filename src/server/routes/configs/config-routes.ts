import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { AppError } from '../../../shared/errors.ts';
import { convertContent, parseFormat } from '../../domain/formats.ts';
import { normalizeConstraint, parseVersionSelector } from '../../domain/semver-select.ts';
import { requireAuth, requireCap } from '../../plugins/auth.ts';
import { actorName } from '../../services/access/principal.ts';
import type { FileMeta, InheritEntry } from '../../services/configs/config-records.ts';
import type { ConfigService } from '../../services/configs/config-service.ts';
import { errors, OkSchema } from '../common-schemas.ts';
import { configRef, decodeBase64, wildcardPath } from '../route-helpers.ts';
import * as S from './config-schemas.ts';

interface MetaBody {
  format: string;
  description?: string;
  inherits?: InheritEntry[];
}

function toMeta(body: MetaBody): FileMeta {
  return {
    format: parseFormat(body.format),
    description: body.description ?? '',
    inherits: (body.inherits ?? []).map((e) => ({ ...e, format: e.format === undefined ? undefined : parseFormat(e.format) })),
  };
}

/** Folders, files, versions, variants, render and convert under `/api/v1` (SPEC §4). */
export function registerConfigRoutes(app: FastifyInstance, deps: { readonly configs: ConfigService }): void {
  const { configs } = deps;

  const listFolder = async (request: Parameters<typeof requireAuth>[0]) => configs.listFolder(requireAuth(request).perms, wildcardPath(request, { allowRoot: true }));
  app.get('/api/v1/folder', { schema: { tags: ['configs'], summary: 'List the root folder', response: { 200: S.FolderSchema, ...errors(401, 403) } } }, listFolder);
  app.get('/api/v1/folder/*', { schema: { tags: ['configs'], summary: 'List a folder: child folders, files and their variants', response: { 200: S.FolderSchema, ...errors(400, 401, 403, 404) } } }, listFolder);

  app.post('/api/v1/folder/*', { schema: { tags: ['configs'], summary: 'Create an empty folder', response: { 201: OkSchema, ...errors(400, 401, 403) } } }, async (request, reply) => {
    await configs.createFolder(requireAuth(request).perms, wildcardPath(request));
    return reply.code(201).send({ ok: true });
  });

  app.delete('/api/v1/folder/*', { schema: { tags: ['configs'], summary: 'Delete a folder and everything under it', response: { 200: Type.Object({ deleted: Type.Integer() }), ...errors(400, 401, 403, 404) } } }, async (request) => {
    const principal = requireAuth(request);
    return { deleted: await configs.deleteFolder(principal.perms, actorName(principal), wildcardPath(request)) };
  });

  app.get('/api/v1/file/*', { schema: { tags: ['configs'], summary: 'Read one stored version (default: latest)', querystring: S.FileQuery, response: { 200: S.FileSchema, ...errors(400, 401, 403, 404) } } }, async (request) => {
    const q = request.query as { variant?: string; version?: string };
    const file = await configs.getFile(requireAuth(request).perms, configRef(request, q.variant), parseVersionSelector(q.version));
    return { ...file, data: Buffer.from(file.data).toString('base64') };
  });

  app.post(
    '/api/v1/file/*',
    { schema: { tags: ['configs'], summary: 'Save a new version', querystring: S.VariantQuery, body: S.SaveFileBody, response: { 201: S.FileSchema, ...errors(400, 401, 403, 404, 409) } } },
    async (request, reply) => {
      const principal = requireAuth(request);
      const body = request.body as { meta: MetaBody; data?: string; content?: string; expected_version?: number; constraint?: string };
      if ((body.data === undefined) === (body.content === undefined)) throw new AppError('ERR_VALIDATION', 'send exactly one of "data" (base64) or "content" (text)');
      const bytes = body.data !== undefined ? decodeBase64(body.data, 'data') : new TextEncoder().encode(body.content);
      const ref = configRef(request, (request.query as { variant?: string }).variant);
      const saved = await configs.save(principal.perms, actorName(principal), {
        ...ref,
        meta: toMeta(body.meta),
        data: bytes,
        expectedVersion: body.expected_version,
        constraint: normalizeConstraint(body.constraint ?? ''),
      });
      return reply.code(201).send({ ...saved, constraint: normalizeConstraint(body.constraint ?? ''), data: Buffer.from(saved.data).toString('base64') });
    },
  );

  app.delete('/api/v1/file/*', { schema: { tags: ['configs'], summary: 'Delete a version (soft) or, without version, the file with all versions and variants', querystring: S.DeleteFileQuery, response: { 200: OkSchema, ...errors(400, 401, 403, 404) } } }, async (request) => {
    const principal = requireAuth(request);
    const q = request.query as { variant?: string; version?: number };
    await configs.remove(principal.perms, actorName(principal), configRef(request, q.variant), q.version === 0 ? undefined : q.version);
    return { ok: true };
  });

  app.get('/api/v1/versions/*', { schema: { tags: ['configs'], summary: 'Version history with constraints and status', querystring: S.VariantQuery, response: { 200: Type.Array(S.VersionSchema), ...errors(400, 401, 403, 404) } } }, async (request) => {
    return configs.versions(requireAuth(request).perms, configRef(request, (request.query as { variant?: string }).variant));
  });

  app.patch('/api/v1/versions/*', { schema: { tags: ['configs'], summary: "Set or clear a version's semver constraint", querystring: S.VariantQuery, body: S.ConstraintBody, response: { 200: OkSchema, ...errors(400, 401, 403, 404) } } }, async (request) => {
    const principal = requireAuth(request);
    const body = request.body as { version: number; constraint: string };
    const ref = configRef(request, (request.query as { variant?: string }).variant);
    await configs.setConstraint(principal.perms, actorName(principal), { ...ref, version: body.version, constraint: normalizeConstraint(body.constraint) });
    return { ok: true };
  });

  app.get('/api/v1/variants/*', { schema: { tags: ['configs'], summary: 'Variant names of a config', response: { 200: Type.Array(Type.String()), ...errors(400, 401, 403, 404) } } }, async (request) => {
    return configs.variants(requireAuth(request).perms, wildcardPath(request));
  });

  app.post('/api/v1/render/*', { schema: { tags: ['configs'], summary: 'Resolve unsaved content; problems come back in the body', querystring: S.VariantQuery, body: S.RenderBody, response: { 200: S.RenderResult, ...errors(400, 401, 403) } } }, async (request) => {
    const body = request.body as { content: string; meta: MetaBody; format?: string };
    const ref = configRef(request, (request.query as { variant?: string }).variant);
    return configs.render(requireAuth(request).perms, ref, { meta: toMeta(body.meta), content: body.content }, body.format === undefined ? undefined : parseFormat(body.format));
  });

  app.post('/api/v1/convert', { schema: { tags: ['configs'], summary: 'Convert content between json, yaml and toml', body: S.ConvertBody, response: { 200: S.ConvertResult, ...errors(400, 401, 403) } } }, async (request) => {
    requireCap(request, 'files.read');
    const body = request.body as { content: string; from: string; to: string };
    const to = parseFormat(body.to);
    return { content: convertContent(body.content, parseFormat(body.from), to), format: to };
  });
}
