import { AppError } from '../../shared/errors.ts';
import { createMutex } from '../storage/mutex.ts';
import type { Store } from '../storage/store.ts';
import { decodeJson, encodeJson } from '../storage/codec.ts';
import { systemKeys } from '../storage/keys.ts';
import { envelopeKeyId, newDataKey, open, seal } from './envelope.ts';
import { DEFAULT_KDF_COST } from './kdf.ts';
import { activeKey, type Keyring, keyringWith, type KeyRecord, openKeyring, sealKeyring } from './key-record.ts';

export type KeyState = 'uninitialized' | 'locked' | 'unlocked';

/**
 * What code that stores secrets gets: seal/open with the current keys. Before the key is
 * initialized, `sealed` is false and secrets are kept as plaintext (seed 003's opt-in model).
 */
export interface SealingKeys {
  readonly sealed: boolean;
  seal(plaintext: Uint8Array, context: string): Uint8Array;
  open(envelope: Uint8Array, context: string): Uint8Array;
  /** Whether an envelope is sealed with the active key (false → it needs re-sealing). */
  isCurrent(envelope: Uint8Array): boolean;
}

/** Anything that keeps sealed values: it re-seals what is not under the active key. */
export interface Resealer {
  readonly name: string;
  /** Re-seals plaintext secrets and values under older keys; returns how many it changed. */
  reseal(keys: SealingKeys): Promise<number>;
}

export interface KeyManagerDeps {
  readonly store: Pick<Store, 'get' | 'batch'>;
  readonly clock: () => number;
  readonly kdfCost?: { N: number; r: number; p: number };
  /** Late-bound: the services that own sealed values are created after the key manager. */
  readonly resealers: () => readonly Resealer[];
  readonly onStateChange?: (state: KeyState) => void;
}

export type KeyManager = ReturnType<typeof createKeyManager>;

/**
 * The lock state and the key lifecycle (SPEC §7.1). Rotation is crash-safe: the new keyring
 * (old keys plus a new active one) is written first — from then on the new passphrase opens
 * everything — and values are re-sealed one by one, each envelope naming its key; only when
 * nothing uses an old key is it dropped. An interrupted rotation is finished by the next unlock
 * or rotation.
 */
export function createKeyManager(deps: KeyManagerDeps) {
  const cost = deps.kdfCost ?? DEFAULT_KDF_COST;
  const lock = createMutex();
  let record: KeyRecord | undefined;
  let revision = 0;
  let keyring: Keyring | undefined;

  const now = () => new Date(deps.clock()).toISOString();

  function state(): KeyState {
    if (!record) return 'uninitialized';
    return keyring ? 'unlocked' : 'locked';
  }

  function setKeyring(next: Keyring | undefined): void {
    // Wipe key material that is leaving memory (lock, or keys dropped after a rotation).
    const kept = new Set(next?.keys.values());
    for (const bytes of keyring?.keys.values() ?? []) if (!kept.has(bytes)) bytes.fill(0);
    keyring = next;
    deps.onStateChange?.(state());
  }

  async function load(): Promise<void> {
    const entry = await deps.store.get(systemKeys.key);
    record = entry ? decodeJson<KeyRecord>(entry.value) : undefined;
    revision = entry?.revision ?? 0;
  }

  async function write(next: KeyRecord): Promise<void> {
    revision = await deps.store.batch([{ type: 'put', key: systemKeys.key, value: encodeJson(next) }], [{ key: systemKeys.key, revision }]);
    record = next;
  }

  function keysFor(ring: Keyring | undefined): SealingKeys {
    if (!ring) {
      return {
        sealed: false,
        seal: () => {
          throw new AppError('ERR_KEY_NOT_INITIALIZED');
        },
        open: () => {
          throw new AppError('ERR_KEY_NOT_INITIALIZED');
        },
        isCurrent: () => false,
      };
    }
    return {
      sealed: true,
      seal: (plaintext, context) => seal(activeKey(ring), plaintext, context),
      open: (envelope, context) => open(ring.keys, envelope, context),
      isCurrent: (envelope) => envelopeKeyId(envelope) === ring.active,
    };
  }

  async function resealAll(): Promise<void> {
    const keys = keysFor(keyring);
    for (const resealer of deps.resealers()) await resealer.reseal(keys);
  }

  /** Re-seals everything under the active key, then drops the older keys from the keyring. */
  async function finishRotation(passphrase: string): Promise<void> {
    const ring = keyring;
    if (!ring || !record) return;
    await resealAll();
    if (ring.keys.size <= 1) return;
    const single = keyringWith([activeKey(ring)], ring.active);
    await write(await sealKeyring(single, passphrase, cost, { initializedAt: record.initialized_at, rotatedAt: record.rotated_at ?? now() }));
    setKeyring(single);
  }

  function initialize(passphrase: string): Promise<void> {
    return lock(async () => {
      await load();
      if (record) throw new AppError('ERR_KEY_ALREADY_INITIALIZED');
      const key = newDataKey();
      const ring = keyringWith([key], key.id);
      await write(await sealKeyring(ring, passphrase, cost, { initializedAt: now() }));
      setKeyring(ring);
      await resealAll(); // existing plaintext secrets are sealed now
    });
  }

  function unlock(passphrase: string): Promise<void> {
    return lock(async () => {
      await load();
      if (!record) throw new AppError('ERR_KEY_NOT_INITIALIZED');
      setKeyring(await openKeyring(record, passphrase));
      await finishRotation(passphrase);
    });
  }

  function lockNow(): Promise<void> {
    return lock(async () => {
      if (record) setKeyring(undefined);
    });
  }

  function rotate(currentPassphrase: string, newPassphrase: string): Promise<void> {
    return lock(async () => {
      await load();
      if (!record) throw new AppError('ERR_KEY_NOT_INITIALIZED');
      const current = await openKeyring(record, currentPassphrase);
      const key = newDataKey();
      const next = keyringWith([...[...current.keys].map(([id, bytes]) => ({ id, bytes })), key], key.id);
      await write(await sealKeyring(next, newPassphrase, cost, { initializedAt: record.initialized_at, rotatedAt: now() }));
      setKeyring(next);
      // From here the new passphrase is the key; a failure only delays the re-sealing, which
      // the next unlock or rotation resumes.
      await finishRotation(newPassphrase).catch((err: unknown) => {
        throw new AppError('ERR_KEY_ROTATION_FAILED', `the new key is active, but re-sealing stopped (${(err as Error).message}); unlock or rotate again with the new key to finish`);
      });
    });
  }

  /** Runs `fn` with the current keys, excluded from rotation steps (settings writes use this). */
  function withKeys<T>(fn: (keys: SealingKeys) => Promise<T>): Promise<T> {
    return lock(async () => {
      if (state() === 'locked') throw new AppError('server_locked');
      return fn(keysFor(keyring));
    });
  }

  /** Keys for reading sealed values; undefined while locked (callers show secrets as unset). */
  function readKeys(): SealingKeys | undefined {
    if (state() === 'locked') return undefined;
    return keysFor(keyring);
  }

  return {
    load,
    state,
    status: () => ({ initialized: record !== undefined, unlocked: state() !== 'locked' && record !== undefined }),
    initialize,
    unlock,
    lock: lockNow,
    rotate,
    withKeys,
    readKeys,
  };
}
