import { computed, ref } from 'vue';
import { initializeKey, lockKey, rotateKey } from '~/api/system.ts';
import { useSession } from '~/composables/useSession.ts';
import { useToasts } from '~/composables/useToasts.ts';

/** Crockford-style alphabet: no I, L, O, U, so a key read aloud or off paper survives. */
const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';

/** A random passphrase: 30 symbols of 5 bits (150 bits) in dash-separated groups of five. */
export function generatePassphrase(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(30));
  const symbols = Array.from(bytes, (b) => ALPHABET[b % 32] ?? '0').join('');
  return symbols.match(/.{5}/g)?.join('-') ?? symbols;
}

/** The shortest new key the server accepts (key-routes.ts). */
export const MIN_KEY_LENGTH = 12;

/**
 * The server key lifecycle (SPEC §7.1): initialize, lock, rotate. State comes from the session
 * (`/api/v1/key/status`), refreshed after every step.
 */
export function useServerKey() {
  const session = useSession();
  const toasts = useToasts();
  const busy = ref<'initialize' | 'lock' | 'rotate'>();
  const status = computed(() => session.state.key);
  const configInvalid = computed(() => session.state.info?.encryption_config_invalid === true);

  async function step(kind: 'initialize' | 'lock' | 'rotate', action: () => Promise<unknown>, message: string): Promise<boolean> {
    if (busy.value) return false;
    busy.value = kind;
    try {
      await action();
      toasts.success(message);
      return true;
    } catch (err) {
      toasts.error(err);
      return false;
    } finally {
      busy.value = undefined;
      await session.refresh().catch(() => undefined);
    }
  }

  return {
    status,
    busy,
    configInvalid,
    refresh: session.refresh,
    initialize: (key: string) => step('initialize', () => initializeKey(key), 'Encryption at rest is on. Keep the server key safe: every restart needs it.'),
    lock: () => step('lock', () => lockKey(), 'The server is locked.'),
    rotate: (current: string, next: string) => step('rotate', () => rotateKey(current, next), 'The server key was rotated. Only the new key unlocks the server from now on.'),
  };
}
