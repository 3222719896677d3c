import { AppError } from '../../shared/errors.ts';
import { type DataKey, EnvelopeError, newDataKey, open, seal } from './envelope.ts';
import { deriveKey, type KdfParams, newKdfParams } from './kdf.ts';

/**
 * What the store keeps about the server key (`sys/key`): the KDF parameters and the keyring —
 * every data key, sealed by the key-encryption key derived from the passphrase. Opening the
 * keyring is the passphrase check (an AEAD failure means a wrong passphrase); nothing derived
 * from the passphrase itself is ever stored.
 */
export interface KeyRecord {
  format: 1;
  kdf: KdfParams;
  /** Id of the key-encryption key, the key id inside the keyring envelope. */
  kek_id: string;
  /** base64 envelope of the keyring JSON. */
  keyring: string;
  initialized_at: string;
  rotated_at?: string | undefined;
}

export interface Keyring {
  /** The key new values are sealed with. Older keys stay until nothing uses them (rotation). */
  readonly active: string;
  readonly keys: ReadonlyMap<string, Uint8Array>;
}

const KEYRING_CONTEXT = 'pika/keyring/v1';

export function activeKey(keyring: Keyring): DataKey {
  const bytes = keyring.keys.get(keyring.active);
  if (!bytes) throw new Error('keyring has no active key');
  return { id: keyring.active, bytes };
}

export function keyringWith(keys: Iterable<DataKey>, active: string): Keyring {
  return { active, keys: new Map([...keys].map((k) => [k.id, k.bytes])) };
}

function serialize(keyring: Keyring): Uint8Array {
  const keys = [...keyring.keys].map(([id, bytes]) => ({ id, key: Buffer.from(bytes).toString('base64') }));
  return new TextEncoder().encode(JSON.stringify({ active: keyring.active, keys }));
}

function deserialize(bytes: Uint8Array): Keyring {
  const raw = JSON.parse(new TextDecoder().decode(bytes)) as { active: string; keys: { id: string; key: string }[] };
  return keyringWith(
    raw.keys.map((k) => ({ id: k.id, bytes: new Uint8Array(Buffer.from(k.key, 'base64')) })),
    raw.active,
  );
}

/** Seals a keyring under a passphrase with fresh KDF salt. */
export async function sealKeyring(keyring: Keyring, passphrase: string, cost: { N: number; r: number; p: number }, at: { initializedAt: string; rotatedAt?: string }): Promise<KeyRecord> {
  const kdf = newKdfParams(cost);
  const kek: DataKey = { id: newDataKey().id, bytes: await deriveKey(passphrase, kdf) };
  const envelope = seal(kek, serialize(keyring), KEYRING_CONTEXT);
  kek.bytes.fill(0);
  return { format: 1, kdf, kek_id: kek.id, keyring: Buffer.from(envelope).toString('base64'), initialized_at: at.initializedAt, rotated_at: at.rotatedAt };
}

/** Opens the keyring; a wrong passphrase is a 403 ERR_KEY_WRONG. */
export async function openKeyring(record: KeyRecord, passphrase: string): Promise<Keyring> {
  const kek = await deriveKey(passphrase, record.kdf);
  try {
    return deserialize(open(new Map([[record.kek_id, kek]]), Buffer.from(record.keyring, 'base64'), KEYRING_CONTEXT));
  } catch (err) {
    if (err instanceof EnvelopeError) throw new AppError('ERR_KEY_WRONG');
    throw err;
  } finally {
    kek.fill(0);
  }
}
