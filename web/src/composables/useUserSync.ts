import { reactive, ref } from 'vue';
import { getUserSyncStatus, runUserSync, type SyncSourceStatus } from '~/api/usersync.ts';
import { ApiError } from '~/api/client.ts';
import { useToasts } from '~/composables/useToasts.ts';

/** LDAP user-sync status and "run now" (`users.manage`; docs/guides/ldap.md#user-sync). */
export function useUserSync() {
  const sources = ref<SyncSourceStatus[]>([]);
  const running = reactive(new Set<string>());
  const toasts = useToasts();

  async function load(): Promise<void> {
    try {
      sources.value = (await getUserSyncStatus()).sources;
    } catch (err) {
      toasts.error(err);
    }
  }

  async function run(id: string): Promise<void> {
    if (running.has(id)) return;
    running.add(id);
    try {
      const result = await runUserSync(id);
      const counts = `${result.created} created, ${result.updated} updated, ${result.disabled} disabled, ${result.enabled} re-enabled`;
      if (result.errors.length > 0) toasts.push({ kind: 'info', message: `Sync “${id}” finished with ${result.errors.length} problem(s): ${counts}` });
      else toasts.success(`Sync “${id}” finished: ${counts}`);
    } catch (err) {
      // A directory failure still stored a result (shown in the status below).
      toasts.error(err instanceof ApiError && err.code === 'ERR_LDAP_UNAVAILABLE' ? new ApiError(err.status, err.code, `Sync “${id}” failed: ${err.message}`) : err);
    } finally {
      running.delete(id);
      await load();
    }
  }

  const statusOf = (id: string) => sources.value.find((s) => s.id === id);

  return { sources, running, load, run, statusOf };
}
