import type { FastifyRequest } from 'fastify';
import { AppError } from '../../shared/errors.ts';
import { normalizeConfigPath, normalizeVariant } from '../domain/config-path.ts';
import type { ConfigRef } from '../services/configs/config-service.ts';

/**
 * The config path of a wildcard route. `%2F`, `%5C` and `%00` in the raw URL are refused on the
 * management API: a path segment must never smuggle a separator or a NUL past the router.
 */
export function wildcardPath(request: FastifyRequest, options: { allowRoot?: boolean } = {}): string {
  const raw = request.raw.url ?? '';
  const pathPart = raw.split('?')[0] ?? '';
  if (/%(2f|5c|00)/i.test(pathPart)) throw new AppError('ERR_PATH_INVALID', 'encoded slashes, backslashes and NUL are not allowed in paths');
  const wildcard = (request.params as Record<string, string | undefined>)['*'] ?? '';
  if (options.allowRoot && wildcard.replace(/^\/+|\/+$/g, '') === '') return '';
  return normalizeConfigPath(wildcard);
}

export function configRef(request: FastifyRequest, variant: string | undefined): ConfigRef {
  const path = wildcardPath(request);
  return { path, variant: variant === undefined || variant === '' ? undefined : normalizeVariant(variant) };
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

export function decodeBase64(value: string, field: string): Uint8Array {
  const compact = value.replace(/\s+/g, '');
  if (!BASE64.test(compact)) throw new AppError('ERR_VALIDATION', `${field}: not valid base64`);
  return Buffer.from(compact, 'base64');
}
