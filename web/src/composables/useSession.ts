import { computed, reactive } from 'vue';
import { getInfo, getKeyStatus, type Info, type KeyStatus } from '~/api/system.ts';
import { onApiEvent } from '~/api/client.ts';

/**
 * Who is signed in, what they may do, and the server's lock state — loaded from
 * `/api/v1/info` and `/api/v1/key/status`, refreshed after sign-in/out and whenever any
 * response says the server is locked.
 */
const state = reactive({ info: undefined as Info | undefined, key: undefined as KeyStatus | undefined, locked: false, loaded: false });

async function refresh(): Promise<void> {
  const [info, key] = await Promise.all([getInfo(), getKeyStatus()]);
  state.info = info;
  state.key = key;
  state.locked = key.initialized && !key.unlocked;
  state.loaded = true;
}

onApiEvent((event) => {
  if (event === 'locked') state.locked = true;
});

export function useSession() {
  const signedIn = computed(() => state.info?.user !== undefined);
  const can = (capability: string) => state.info?.permissions.includes(capability) ?? false;
  return { state, signedIn, can, refresh };
}
