import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { Capability } from '../../../shared/capabilities.ts';
import { AppError } from '../../../shared/errors.ts';
import { requireCap } from '../../plugins/auth.ts';
import type { Principal } from '../../services/access/principal.ts';
import type { TokenRecord } from '../../services/identity/identity-records.ts';
import type { TokenCreator, TokenInput, TokenPatch, TokenService } from '../../services/identity/token-service.ts';
import { CapabilitySchema, errors, IdParams, OkSchema, PagingQuery } from '../common-schemas.ts';

const Scope = Type.Object(
  {
    resource: Type.Optional(Type.String({ maxLength: 64 })),
    path: Type.String({ minLength: 1, maxLength: 512 }),
    operations: Type.Array(Type.Enum(['read', 'write', 'delete', '*']), { minItems: 1, maxItems: 4 }),
  },
  { additionalProperties: false },
);
const TokenSchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  scopes: Type.Array(Scope),
  capabilities: Type.Array(Type.String()),
  active: Type.Boolean(),
  expires_at: Type.Optional(Type.String()),
  created_at: Type.String(),
  created_by: Type.String(),
  last_used_at: Type.Optional(Type.String()),
});
const CreateBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 128 }),
    scopes: Type.Array(Scope, { maxItems: 64 }),
    capabilities: Type.Optional(Type.Array(CapabilitySchema, { maxItems: 16 })),
    expires_at: Type.Optional(Type.String({ maxLength: 40 })),
  },
  { additionalProperties: false },
);
const PatchBody = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
    scopes: Type.Optional(Type.Array(Scope, { maxItems: 64 })),
    capabilities: Type.Optional(Type.Array(CapabilitySchema, { maxItems: 16 })),
    active: Type.Optional(Type.Boolean()),
    expires_at: Type.Optional(Type.Union([Type.String({ maxLength: 40 }), Type.Null()])),
  },
  { additionalProperties: false, minProperties: 1 },
);
const ListQuery = Type.Object({ ...PagingQuery, name: Type.Optional(Type.String({ maxLength: 128 })), active: Type.Optional(Type.Boolean()) }, { additionalProperties: false });

/** The public view of a token: never its hash. */
function tokenView(t: TokenRecord) {
  const { hashed_key: _hash, created_by_user_id: _user, created_by_token_id: _token, ...rest } = t;
  return rest;
}

/** Whose rights bound a new token: a token needs a pika user at the root of its chain. */
function creatorOf(principal: Principal): TokenCreator {
  if (principal.kind === 'user') return { name: principal.user.username, userId: principal.user.id };
  if (principal.kind === 'token') return { name: `token:${principal.token.name}`, userId: principal.token.created_by_user_id, tokenId: principal.token.id };
  if (principal.user) return { name: principal.user.username, userId: principal.user.id };
  throw new AppError('ERR_FORBIDDEN', 'tokens are minted by pika users; link this gateway identity to a user first');
}

/** A token may hold only capabilities its creator holds; file access is granted by scopes. */
function checkCapabilities(principal: Principal, caps: readonly Capability[] | undefined): void {
  for (const cap of caps ?? []) {
    if (cap === 'files.read' || cap === 'files.write') throw new AppError('ERR_VALIDATION', `capabilities: grant ${cap} through scopes instead`);
    if (!principal.perms.can(cap)) throw new AppError('ERR_CAPABILITY_EXCEEDS_CREATOR', `you do not hold ${cap}, so a token you make cannot either`);
  }
}

function mayEdit(principal: Principal, token: TokenRecord): boolean {
  if (principal.perms.superadmin) return true;
  if (principal.kind === 'token') return token.created_by_token_id === principal.token.id;
  const userId = principal.user?.id;
  return userId !== undefined && token.created_by_user_id === userId && token.created_by_token_id === undefined;
}

/** API tokens (`tokens.manage`, SPEC §6). The raw key is returned once, at creation. */
export function registerTokenRoutes(app: FastifyInstance, deps: { readonly tokens: TokenService }): void {
  const { tokens } = deps;

  app.get('/api/v1/tokens', { schema: { tags: ['tokens'], summary: 'List API tokens (a plain array; with query parameters {tokens,total})', querystring: ListQuery, response: { 200: Type.Union([Type.Array(TokenSchema), Type.Object({ tokens: Type.Array(TokenSchema), total: Type.Integer() })]), ...errors(400, 401, 403) } } }, async (request) => {
    requireCap(request, 'tokens.manage');
    const q = request.query as { _limit?: number; _offset?: number; name?: string; active?: boolean };
    const all = (await tokens.list()).map(tokenView);
    if (Object.keys(q).length === 0) return all;
    const needle = q.name?.toLowerCase();
    const matching = all.filter((t) => (needle === undefined || t.name.toLowerCase().includes(needle)) && (q.active === undefined || t.active === q.active));
    const offset = q._offset ?? 0;
    return { tokens: matching.slice(offset, offset + (q._limit ?? 50)), total: matching.length };
  });

  app.post('/api/v1/tokens', { schema: { tags: ['tokens'], summary: 'Mint a token; raw_key is returned only in this response', body: CreateBody, response: { 201: Type.Intersect([TokenSchema, Type.Object({ raw_key: Type.String() })]), ...errors(400, 401, 403) } } }, async (request, reply) => {
    const principal = requireCap(request, 'tokens.manage');
    const body = request.body as TokenInput;
    checkCapabilities(principal, body.capabilities);
    const { token, rawKey } = await tokens.create(body, creatorOf(principal));
    return reply.code(201).send({ ...tokenView(token), raw_key: rawKey });
  });

  app.get('/api/v1/tokens/:id', { schema: { tags: ['tokens'], summary: 'One token (never its key or hash)', params: IdParams, response: { 200: TokenSchema, ...errors(401, 403, 404) } } }, async (request) => {
    requireCap(request, 'tokens.manage');
    const token = await tokens.get((request.params as { id: string }).id);
    if (!token) throw new AppError('ERR_TOKEN_NOT_FOUND');
    return tokenView(token);
  });

  app.patch('/api/v1/tokens/:id', { schema: { tags: ['tokens'], summary: 'Rename, rescope, disable or change the expiry of a token', params: IdParams, body: PatchBody, response: { 200: TokenSchema, ...errors(400, 401, 403, 404) } } }, async (request) => {
    const principal = requireCap(request, 'tokens.manage');
    const patch = request.body as TokenPatch;
    checkCapabilities(principal, patch.capabilities);
    const id = (request.params as { id: string }).id;
    const existing = await tokens.get(id);
    if (!existing) throw new AppError('ERR_TOKEN_NOT_FOUND');
    // A token is bounded by its creator's rights, so editing someone else's token would let a
    // tokens.manage holder lend themselves those rights: only its creator or a superadmin may.
    if (!mayEdit(principal, existing)) throw new AppError('ERR_FORBIDDEN', 'only the creator of this token or a superadmin can change it; revoke it and mint your own instead');
    return tokenView(await tokens.update(id, patch));
  });

  app.delete('/api/v1/tokens/:id', { schema: { tags: ['tokens'], summary: 'Revoke a token', params: IdParams, response: { 200: OkSchema, ...errors(401, 403, 404) } } }, async (request) => {
    requireCap(request, 'tokens.manage');
    await tokens.remove((request.params as { id: string }).id);
    return { ok: true };
  });
}
