import { ref } from 'vue';
import { ApiError } from '~/api/client.ts';
import { getLoginInfo, type LoginInfo, passwordLogin, totpLogin } from '~/api/login.ts';

/**
 * The sign-in flow: strategies from `/login/info`, password sign-in, and the TOTP second step
 * when the account has 2FA (upstream-pika.md §1.2). Resolves `true` once signed in.
 */
export function useLogin() {
  const info = ref<LoginInfo>();
  const busy = ref(false);
  const problem = ref<string>();
  const challenge = ref<{ strategy: string; id: string }>();

  async function load(): Promise<void> {
    info.value = await getLoginInfo();
  }

  async function run(action: () => ReturnType<typeof passwordLogin>): Promise<boolean> {
    busy.value = true;
    problem.value = undefined;
    try {
      const result = await action();
      if (result.phase === 'totp_required') {
        challenge.value = { strategy: result.strategy, id: result.totp_session_id };
        return false;
      }
      challenge.value = undefined;
      return true;
    } catch (err) {
      problem.value = err instanceof ApiError ? `${err.message} (${err.code})` : String(err);
      if (err instanceof ApiError && err.code === 'ERR_TOTP_CHALLENGE') challenge.value = undefined;
      return false;
    } finally {
      busy.value = false;
    }
  }

  const signIn = (strategy: string, username: string, password: string) => run(() => passwordLogin(strategy, username, password));
  const secondFactor = (code: string) => run(() => totpLogin(challenge.value?.strategy ?? 'local', challenge.value?.id ?? '', code));

  return { info, busy, problem, challenge, load, signIn, secondFactor };
}
