import { ref } from 'vue';
import { changePassword, getMe } from '~/api/me.ts';
import type { User } from '~/api/users.ts';
import { useTask } from '~/composables/useTask.ts';
import { useToasts } from '~/composables/useToasts.ts';

/** The signed-in user's own profile and password change (other sessions end, this one stays). */
export function useAccount() {
  const me = ref<User>();
  const { busy, run } = useTask();
  const toasts = useToasts();

  const load = () => run(async () => (me.value = (await getMe()).user));

  const setPassword = (current: string, next: string) =>
    run(async () => {
      const { sessions_revoked: ended } = await changePassword(current, next);
      toasts.success(ended > 0 ? `Password changed; ${ended} other session${ended === 1 ? '' : 's'} signed out` : 'Password changed');
    });

  return { me, busy, load, setPassword };
}
