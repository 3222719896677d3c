import { Value } from 'typebox/value';
import { AppError } from '../../../shared/errors.ts';
import { AuthSection, type AuthSettings } from './auth-section.ts';
import type { KeyManager, Resealer } from '../../barrier/key-manager.ts';
import { decodeJson, encodeJson } from '../../storage/codec.ts';
import { settingsKeys } from '../../storage/keys.ts';
import type { Store } from '../../storage/store.ts';
import { maskSecrets, mergeSecrets, resealSecrets, revealSecrets, type Schema, sealSecret } from './secret-fields.ts';
import { SECTION_NAMES, type SectionName, SECTIONS } from './settings-sections.ts';

export interface SettingsServiceDeps {
  readonly store: Pick<Store, 'get' | 'batch'>;
  readonly keys: Pick<KeyManager, 'withKeys' | 'readKeys'>;
  /** Called after a section changed, with its name (strategies hot-swap on this). */
  readonly onChange?: (section: SectionName) => void;
}

export type SettingsPatch = Partial<Record<SectionName, unknown>>;

export type SettingsService = ReturnType<typeof createSettingsService>;

const context = (section: SectionName) => `pika/settings/${section}`;
const schemaOf = (section: SectionName) => SECTIONS[section].schema as unknown as Schema;

/**
 * The settings document (SPEC §7.2): one record per section, secrets sealed field by field. Reads
 * mask secrets and work while locked; writes run under the key manager's lock, so a rotation
 * never interleaves with them, and fail closed (503) while the server is locked.
 */
export function createSettingsService(deps: SettingsServiceDeps) {
  const { store } = deps;

  async function readStored(section: SectionName): Promise<{ doc: unknown; revision: number }> {
    const entry = await store.get(settingsKeys.section(section));
    return { doc: entry ? decodeJson(entry.value) : structuredClone(SECTIONS[section].defaults), revision: entry?.revision ?? 0 };
  }

  /** Every section as a client may see it. */
  async function view(): Promise<Record<SectionName, unknown>> {
    const out = {} as Record<SectionName, unknown>;
    for (const name of SECTION_NAMES) out[name] = maskSecrets(schemaOf(name), (await readStored(name)).doc);
    return out;
  }

  /** One section with its secrets in plaintext, for the server's own use; locked → secrets unset. */
  async function reveal(section: SectionName): Promise<unknown> {
    return revealSecrets((await readStored(section)).doc, deps.keys.readKeys(), context(section));
  }

  /** Replaces (`set`) or resets to defaults (`remove`) the given sections. */
  async function update(patch: SettingsPatch, action: 'set' | 'remove'): Promise<SectionName[]> {
    const names = SECTION_NAMES.filter((n) => patch[n] !== undefined);
    if (names.length === 0) throw new AppError('ERR_VALIDATION', `name at least one section: ${SECTION_NAMES.join(', ')}`);
    await deps.keys.withKeys(async (keys) => {
      const ops = [];
      const conditions = [];
      for (const name of names) {
        const { doc: previous, revision } = await readStored(name);
        const next = action === 'remove' ? structuredClone(SECTIONS[name].defaults) : mergeSecrets(schemaOf(name), patch[name], previous, (plaintext) => sealSecret(keys, plaintext, context(name)));
        ops.push({ type: 'put' as const, key: settingsKeys.section(name), value: encodeJson(next) });
        conditions.push({ key: settingsKeys.section(name), revision });
      }
      await store.batch(ops, conditions);
    });
    clearCache();
    for (const name of names) deps.onChange?.(name);
    return names;
  }

  const resealer: Resealer = {
    name: 'settings',
    async reseal(keys) {
      let total = 0;
      for (const name of SECTION_NAMES) {
        const entry = await store.get(settingsKeys.section(name));
        if (!entry) continue;
        const { doc, changed } = resealSecrets(decodeJson(entry.value), keys, context(name));
        if (changed === 0) continue;
        await store.batch([{ type: 'put', key: settingsKeys.section(name), value: encodeJson(doc) }], [{ key: settingsKeys.section(name), revision: entry.revision }]);
        total += changed;
      }
      return total;
    },
  };

  // The auth section is read on every sign-in and every externally authenticated request; it is
  // cached until a write, a restore or a change of the lock state (secrets may become readable).
  let authCache: Promise<AuthSettings> | undefined;

  /** The auth section with secrets revealed and defaults filled in (documents saved by older versions lack new fields). */
  function auth(): Promise<AuthSettings> {
    authCache ??= reveal('auth').then((doc) => Value.Default(AuthSection, doc ?? {}) as AuthSettings);
    authCache.catch(() => {
      authCache = undefined;
    });
    return authCache;
  }

  function clearCache(): void {
    authCache = undefined;
  }

  return { view, reveal, auth, update, resealer, clearCache };
}
