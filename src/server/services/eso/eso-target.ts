import { AppError } from '../../../shared/errors.ts';
import { normalizeConfigPath, normalizeVariant, splitFileKey } from '../../domain/config-path.ts';

/**
 * What an ESO webhook request names, from its query (SPEC §13.2, kubernetes-prior-art.md §1a).
 * ESO renders one URL template for every operation, and a template field the operation does not
 * supply renders as the literal `<no value>`; such a value (or an empty one) counts as absent.
 */
export const NO_VALUE = '<no value>';

export interface EsoQuery {
  readonly key?: string | undefined;
  readonly remoteKey?: string | undefined;
  readonly property?: string | undefined;
  readonly version?: string | undefined;
  readonly variant?: string | undefined;
}

export interface EsoTarget {
  readonly path: string;
  readonly variant: string | undefined;
  /** The version selector as sent (`3`, `1.4.2`, `latest`); undefined = latest. */
  readonly version: string | undefined;
  readonly property: string | undefined;
}

export function present(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  return trimmed === '' || trimmed === NO_VALUE ? undefined : value;
}

/**
 * The config a request is about. `key` (or `remoteKey`, what PushSecret templates fill) may use the
 * `/data` conventions too: `myapp/config?variant=prod&version=3` and `myapp/config@prod`. Explicit
 * query parameters win over ones embedded in the key.
 */
export function esoTarget(query: EsoQuery): EsoTarget {
  const key = present(query.key) ?? present(query.remoteKey);
  if (key === undefined) throw new AppError('ERR_ESO_KEY_MISSING');
  const at = key.indexOf('?');
  const embedded = at === -1 ? new URLSearchParams() : new URLSearchParams(key.slice(at + 1));
  const { path, variant: keyVariant } = splitFileKey((at === -1 ? key : key.slice(0, at)).trim());
  const variant = present(query.variant) ?? present(embedded.get('variant') ?? undefined) ?? present(keyVariant);
  return {
    path: normalizeConfigPath(path),
    variant: variant === undefined ? undefined : normalizeVariant(variant.trim()),
    version: present(query.version) ?? present(embedded.get('version') ?? undefined),
    property: present(query.property) ?? present(embedded.get('property') ?? undefined),
  };
}
