import { ref } from 'vue';
import { createToken, listTokens, patchToken, revokeToken, type Token, type TokenInput, type TokenPatch } from '~/api/tokens.ts';
import { useTask } from '~/composables/useTask.ts';

/**
 * API tokens: the list, minting (the raw key is kept only until the person dismisses the
 * copy-once dialog), editing, disabling and revoking.
 */
export function useTokens() {
  const tokens = ref<Token[]>([]);
  const loading = ref(false);
  const loaded = ref(false);
  /** The key of the token just created; shown once, then forgotten. */
  const created = ref<{ name: string; key: string }>();
  const { busy, run } = useTask();

  const byName = (a: Token, b: Token) => a.name.localeCompare(b.name);

  async function load(): Promise<void> {
    loading.value = true;
    await run(async () => {
      tokens.value = (await listTokens()).sort(byName);
      loaded.value = true;
    });
    loading.value = false;
  }

  function replace(token: Token): void {
    tokens.value = [...tokens.value.filter((t) => t.id !== token.id), token].sort(byName);
  }

  const create = (input: TokenInput) =>
    run(async () => {
      const { raw_key: key, ...token } = await createToken(input);
      created.value = { name: token.name, key };
      replace(token);
    });

  const update = (token: Token, patch: TokenPatch, done = `Token ${patch.name ?? token.name} saved`) => run(async () => replace(await patchToken(token.id, patch)), done);

  const toggle = (token: Token) => update(token, { active: !token.active }, `Token ${token.name} ${token.active ? 'disabled' : 'enabled'}`);

  const revoke = (token: Token) =>
    run(async () => {
      await revokeToken(token.id);
      tokens.value = tokens.value.filter((t) => t.id !== token.id);
    }, `Token ${token.name} revoked`);

  const forgetKey = () => (created.value = undefined);

  return { tokens, loading, loaded, busy, created, load, create, update, toggle, revoke, forgetKey };
}
