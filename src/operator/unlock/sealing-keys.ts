import { createPrivateKey, createPublicKey, generateKeyPair, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import { CoreV1Api, type KubeConfig, type V1Secret } from '@kubernetes/client-node';
import { isConflict, isNotFound } from '../kube/kube.ts';
import { keyIdOf, type OpeningKey } from './seal.ts';

/**
 * The operator's sealing keys (UnlockRequest): RSA key pairs kept in one Secret in the operator's
 * namespace (`pika-operator-sealing` by default), one data entry per key named
 * `<created>.<kid>` (created as `20260101T000000Z`, kid the key's JWK thumbprint) holding the
 * PKCS#8 PEM private key. Like sealed-secrets:
 * - the first start generates a key (RSA-4096); a racing replica's create conflicts and re-reads;
 * - rotation appends a new key and keeps every old one, so values sealed earlier still open; the
 *   newest key is the one served for sealing (`/v1/cert.pem`);
 * - the Secret is the trust boundary: whoever reads it (and an UnlockRequest) holds the passphrase.
 *   Back it up with the cluster's other secrets; losing it means sealing every passphrase again.
 * Keys are never logged, and never leave this module except as KeyObjects and public PEMs.
 */

export const DEFAULT_SEALING_SECRET = 'pika-operator-sealing';
const ENTRY = /^(\d{8}T\d{6}Z)\.([A-Za-z0-9_-]{43})$/;
const MODULUS_BITS = 4096;
const WRITE_TRIES = 4;

export interface SealingKey extends OpeningKey {
  /** Epoch ms, from the entry name. */
  readonly createdAt: number;
  readonly publicKey: KeyObject;
  /** SPKI PEM of the public key (what `pika seal` encrypts to). */
  readonly publicPem: string;
}

/** The Secret, as the keyring needs it: create fails on an existing one, replace on a stale resourceVersion (both 409). */
export interface SecretStore {
  read(): Promise<V1Secret | undefined>;
  create(secret: V1Secret): Promise<void>;
  replace(secret: V1Secret): Promise<void>;
}

export function kubeSecretStore(kc: KubeConfig, namespace: string, name: string): SecretStore {
  const core = kc.makeApiClient(CoreV1Api);
  return {
    async read() {
      try {
        return await core.readNamespacedSecret({ namespace, name });
      } catch (err) {
        if (isNotFound(err)) return undefined;
        throw err;
      }
    },
    async create(secret) {
      await core.createNamespacedSecret({ namespace, body: secret });
    },
    async replace(secret) {
      await core.replaceNamespacedSecret({ namespace, name, body: secret });
    },
  };
}

export interface KeyPair {
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
}

const generateRsa = promisify(generateKeyPair);
export const generateSealingKeyPair = async (bits = MODULUS_BITS): Promise<KeyPair> => generateRsa('rsa', { modulusLength: bits, publicExponent: 0x10001 });

const compactTime = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z').replaceAll(/[-:]/g, '');
const timeOf = (compact: string) => Date.parse(compact.replace(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/, '$1-$2-$3T$4:$5:$6Z'));

/** The keys in a Secret, oldest first. An entry that does not parse, or whose kid is not its key's, is an error: keys are never silently dropped. */
export async function keysOfSecret(secret: V1Secret | undefined): Promise<SealingKey[]> {
  const keys: SealingKey[] = [];
  for (const [entry, value] of Object.entries(secret?.data ?? {})) {
    const match = ENTRY.exec(entry);
    if (!match) continue;
    const [, created = '', kid = ''] = match;
    let privateKey: KeyObject;
    try {
      privateKey = createPrivateKey(Buffer.from(value, 'base64').toString('utf8'));
    } catch (err) {
      throw new Error(`sealing key ${entry} is not a PEM private key: ${(err as Error).message}`);
    }
    const publicKey = createPublicKey(privateKey);
    if ((await keyIdOf(publicKey)) !== kid) throw new Error(`sealing key ${entry}: the name's kid is not the key's thumbprint`);
    keys.push({ kid, privateKey, publicKey, publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(), createdAt: timeOf(created) });
  }
  return keys.sort((a, b) => a.createdAt - b.createdAt || a.kid.localeCompare(b.kid));
}

async function entryOf(pair: KeyPair, now: number): Promise<[string, string]> {
  const pem = pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  return [`${compactTime(now)}.${await keyIdOf(pair.publicKey)}`, Buffer.from(pem, 'utf8').toString('base64')];
}

export interface SealingKeyringOptions {
  readonly store: SecretStore;
  readonly namespace: string;
  readonly name: string;
  readonly now?: () => number;
  /** Add a new key once the newest is this old; 0 or undefined: never by itself. */
  readonly renewAfterMs?: number | undefined;
  /** For tests: a faster generator. */
  readonly generate?: () => Promise<KeyPair>;
}

export type SealingKeyring = ReturnType<typeof createSealingKeyring>;

export function createSealingKeyring(options: SealingKeyringOptions) {
  const now = options.now ?? Date.now;
  const generate = options.generate ?? (() => generateSealingKeyPair());
  let keys: SealingKey[] = [];
  let loadedAt = 0;

  const due = (list: readonly SealingKey[]) => {
    const newest = list[list.length - 1];
    if (!newest) return true;
    const renew = options.renewAfterMs ?? 0;
    return renew > 0 && now() - newest.createdAt >= renew;
  };

  /** Adds a key to the Secret (creating it when missing); false when someone else wrote first (re-read and decide again). */
  async function addKey(secret: V1Secret | undefined): Promise<boolean> {
    const [entry, value] = await entryOf(await generate(), now());
    try {
      if (!secret) {
        await options.store.create({
          apiVersion: 'v1',
          kind: 'Secret',
          metadata: { name: options.name, namespace: options.namespace, labels: { 'app.kubernetes.io/name': 'pika-operator', 'app.kubernetes.io/component': 'sealing-keys' } },
          type: 'Opaque',
          data: { [entry]: value },
        });
      } else {
        // Replace with the resourceVersion read: a concurrent writer makes this conflict, never lose a key.
        await options.store.replace({ apiVersion: 'v1', kind: 'Secret', metadata: secret.metadata, type: secret.type, data: { ...(secret.data ?? {}), [entry]: value } });
      }
      return true;
    } catch (err) {
      if (isConflict(err)) return false;
      throw err;
    }
  }

  /**
   * Reads the Secret; with `write`, creates the first key when there is none and adds one when
   * `force` or when the newest is older than `renewAfterMs` (the leader does that; standbys only read).
   */
  async function load(write = false, force = false): Promise<readonly SealingKey[]> {
    let forced = force;
    for (let attempt = 0; attempt < WRITE_TRIES; attempt++) {
      const secret = await options.store.read();
      const found = await keysOfSecret(secret);
      if (!write || !(forced || due(found))) {
        keys = found;
        loadedAt = now();
        return keys;
      }
      if (await addKey(secret)) forced = false;
    }
    throw new Error(`cannot write the sealing key Secret ${options.namespace}/${options.name} (conflicting writers)`);
  }

  return {
    load: (write = false) => load(write),
    /** Adds a new key now (it becomes the one to seal to); the old ones keep opening what was sealed to them. */
    rotate: () => load(true, true),
    /** Re-reads when the cache is older than `maxAgeMs` (keys added by another replica or by hand). */
    async refresh(maxAgeMs = 0): Promise<readonly SealingKey[]> {
      if (now() - loadedAt < maxAgeMs) return keys;
      return load(false);
    },
    /** Every key, oldest first: all of them open. */
    keys: (): readonly SealingKey[] => keys,
    /** The key new values are sealed to. */
    newest: (): SealingKey | undefined => keys[keys.length - 1],
  };
}
