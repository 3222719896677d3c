import { reactive, ref } from 'vue';
import { type AuditEntry, getAuditRetention, listAudit } from '~/api/audit.ts';
import { useToasts } from '~/composables/useToasts.ts';

export interface AuditFilters {
  actor: string;
  action: string;
  /** `datetime-local` values (local time), converted to RFC 3339 for the server. */
  since: string;
  until: string;
}

export const PAGE_SIZE = 50;

const toIso = (local: string) => (local === '' ? undefined : new Date(local).toISOString());

/** The audit log (SPEC §14): newest first, filtered by actor, action and time, 50 a page. */
export function useAudit() {
  const filters = reactive<AuditFilters>({ actor: '', action: '', since: '', until: '' });
  const page = ref(0);
  const entries = ref<AuditEntry[]>([]);
  const total = ref(0);
  const loading = ref(false);
  const retentionHours = ref<number>();
  const toasts = useToasts();

  async function load(): Promise<void> {
    loading.value = true;
    try {
      const result = await listAudit({
        actor: filters.actor.trim() || undefined,
        action: filters.action.trim() || undefined,
        since: toIso(filters.since),
        until: toIso(filters.until),
        limit: PAGE_SIZE,
        offset: page.value * PAGE_SIZE,
      });
      entries.value = result.entries;
      total.value = result.total;
    } catch (err) {
      toasts.error(err);
    } finally {
      loading.value = false;
    }
  }

  async function loadRetention(): Promise<void> {
    try {
      retentionHours.value = (await getAuditRetention()).retention_hours;
    } catch {
      retentionHours.value = undefined;
    }
  }

  return { filters, page, entries, total, loading, retentionHours, load, loadRetention };
}
