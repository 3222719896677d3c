import { convertContent, type Format, serializeDocument } from '../../domain/formats.ts';
import type { Resolved } from './resolver.ts';

/**
 * Turns a resolved config into response bytes in the requested format (SPEC §4, §5). A config
 * that inherits nothing, read in its own format, is returned byte for byte as saved.
 */
export function renderOutput(resolved: Resolved, requested: Format | undefined): { body: Buffer; format: Format } {
  const target = requested ?? resolved.format;
  if (resolved.raw !== undefined) {
    if (target === resolved.format || target === 'raw') return { body: Buffer.from(resolved.raw), format: target };
    return { body: Buffer.from(convertContent(new TextDecoder().decode(resolved.raw), resolved.format, target)), format: target };
  }
  if (target === 'raw') {
    const own = resolved.format === 'raw' ? 'json' : resolved.format;
    return { body: Buffer.from(serializeDocument(resolved.doc, own)), format: 'raw' };
  }
  return { body: Buffer.from(serializeDocument(resolved.doc, target)), format: target };
}
