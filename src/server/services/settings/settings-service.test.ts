import { describe, expect, it } from 'vitest';
import { createKeyManager } from '../../barrier/key-manager.ts';
import { openMemoryStore } from '../../storage/level-store.ts';
import { createSettingsService } from './settings-service.ts';

const cost = { N: 2 ** 10, r: 8, p: 1 };

async function setup() {
  const store = await openMemoryStore();
  const holder: { settings?: ReturnType<typeof createSettingsService> } = {};
  const keys = createKeyManager({ store, clock: Date.now, kdfCost: cost, resealers: () => (holder.settings ? [holder.settings.resealer] : []) });
  await keys.load();
  holder.settings = createSettingsService({ store, keys });
  return { store, keys, settings: holder.settings };
}

describe('settings service while locked', () => {
  it('still reads (secrets only as _set), reveals no secret, and refuses writes', async () => {
    const { store, settings } = await setup();
    const keysA = createKeyManager({ store, clock: Date.now, kdfCost: cost, resealers: () => [settings.resealer] });
    await keysA.load();
    await settings.update({ auth: { oauth2: [{ name: 'a', client_id: 'c', client_secret: 's3cr3t', scopes: [], disable_pkce: false, auto_create_user: false, roles_claims: [] }] } }, 'set');
    await keysA.initialize('a long server passphrase');

    // A fresh process on the same store: locked.
    const keysB = createKeyManager({ store, clock: Date.now, kdfCost: cost, resealers: () => [] });
    await keysB.load();
    const lockedSettings = createSettingsService({ store, keys: keysB });
    expect(keysB.state()).toBe('locked');
    expect(await lockedSettings.view()).toMatchObject({ auth: { oauth2: [{ name: 'a', client_secret_set: true }] } });
    expect(await lockedSettings.reveal('auth')).toMatchObject({ oauth2: [{ name: 'a', client_secret: undefined }] });
    await expect(lockedSettings.update({ event_log: { disabled: true } }, 'set')).rejects.toMatchObject({ code: 'server_locked', status: 503 });

    await keysB.unlock('a long server passphrase');
    expect(await lockedSettings.reveal('auth')).toMatchObject({ oauth2: [{ client_secret: 's3cr3t' }] });
  });
});
