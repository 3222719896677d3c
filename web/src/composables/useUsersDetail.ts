import { ref } from 'vue';
import { type Bundle, listBundles } from '~/api/bundles.ts';
import {
  deleteUser, type Effective, endSession, getEffective, getUser, getUserTotp, type Identity, kickUser, linkIdentity, listIdentities, listSessions,
  patchUser, resetUserTotp, type Session, setDenied, setUserBundles, type TotpStatus, unlinkIdentity, type User, type UserPatch,
} from '~/api/users.ts';
import { useTask } from '~/composables/useTask.ts';
import { useToasts } from '~/composables/useToasts.ts';

/**
 * One user for an administrator: profile, effective permissions with their sources, sessions,
 * two-factor state, linked identities, and (with `permissions.manage`) bundles and denies.
 * Every action refreshes what it can have changed.
 */
export function useUsersDetail(id: string, options: { canGrant: boolean }) {
  const user = ref<User>();
  const effective = ref<Effective>();
  const sessions = ref<Session[]>([]);
  const totp = ref<TotpStatus>();
  const identities = ref<Identity[]>([]);
  const bundles = ref<Bundle[]>([]);
  const loading = ref(false);
  const missing = ref(false);
  const { busy, run } = useTask();
  const toasts = useToasts();

  const refreshUser = async () => (user.value = await getUser(id));
  const refreshEffective = async () => (effective.value = await getEffective(id));
  const refreshSessions = async () => (sessions.value = (await listSessions(id)).sessions);
  const refreshTotp = async () => (totp.value = await getUserTotp(id));
  const refreshIdentities = async () => (identities.value = (await listIdentities(id)).identities);

  async function load(): Promise<void> {
    loading.value = true;
    try {
      await refreshUser();
    } catch (err) {
      missing.value = true;
      toasts.error(err);
      loading.value = false;
      return;
    }
    const parts: Promise<unknown>[] = [refreshEffective(), refreshSessions(), refreshTotp(), refreshIdentities()];
    if (options.canGrant) parts.push(listBundles().then((all) => (bundles.value = all.sort((a, b) => a.key.localeCompare(b.key)))));
    for (const result of await Promise.allSettled(parts)) if (result.status === 'rejected') toasts.error(result.reason);
    loading.value = false;
  }

  const name = () => user.value?.username ?? id;
  /** Edits the user; a new password or disabling ends their sessions, so those are reloaded. */
  const patch = (changes: UserPatch, done: string) =>
    run(async () => {
      user.value = await patchUser(id, changes);
      await Promise.all([refreshSessions(), refreshEffective()]);
    }, done);
  const save = (changes: UserPatch) => patch(changes, `${name()} saved`);
  const setDisabled = (disabled: boolean) => patch({ disabled }, `${name()} ${disabled ? 'disabled; their sessions ended' : 'enabled'}`);
  const kick = () =>
    run(async () => {
      const { revoked } = await kickUser(id);
      toasts.success(`${revoked} session${revoked === 1 ? '' : 's'} ended`);
      await refreshSessions();
    });
  const end = (handle: string) => run(() => endSession(id, handle).then(refreshSessions), 'Session ended');
  const remove = () => run(() => deleteUser(id), `${name()} deleted`);
  const resetTotp = () => run(() => resetUserTotp(id).then(refreshTotp), `Two-factor sign-in of ${name()} reset`);
  const link = (provider: string, subject: string) => run(() => linkIdentity(id, provider, subject).then(refreshIdentities), 'Identity linked');
  const unlink = (identity: Identity) => run(() => unlinkIdentity(id, identity.provider, identity.subject).then(refreshIdentities), 'Identity unlinked');
  const saveBundles = (ids: string[]) =>
    run(async () => {
      await setUserBundles(id, ids);
      await Promise.all([refreshUser(), refreshEffective()]);
    }, 'Bundles saved');
  const saveDenied = (caps: string[]) =>
    run(async () => {
      await setDenied(id, caps);
      await Promise.all([refreshUser(), refreshEffective()]);
    }, 'Denied capabilities saved');

  return { user, effective, sessions, totp, identities, bundles, loading, missing, busy, load, save, setDisabled, kick, end, remove, resetTotp, link, unlink, saveBundles, saveDenied };
}
