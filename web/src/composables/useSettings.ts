import { reactive, ref } from 'vue';
import { type AuthSettings, getSettings, saveSettings, type SettingsDocument, toSettingsInput } from '~/api/settings.ts';
import { useToasts } from '~/composables/useToasts.ts';

/**
 * The authentication settings (`auth` section) for the settings screens. The server replaces the
 * section whole, so a save sends the last saved document with one part replaced: cards save
 * independently and never send each other's unsaved edits. Secrets stay write-only throughout.
 */
export function useAuthSettings() {
  const doc = ref<SettingsDocument>();
  const loading = ref(false);
  /** Which part is being saved (`oauth2`, `ldap`, …), for per-card busy buttons. */
  const saving = ref<keyof AuthSettings>();
  /** Successful saves per part: a card resets its draft (or closes its editor) when its own count moves, never on another card's save. */
  const revisions = reactive<Partial<Record<keyof AuthSettings, number>>>({});
  const toasts = useToasts();

  async function load(): Promise<void> {
    loading.value = true;
    try {
      doc.value = await getSettings();
    } catch (err) {
      toasts.error(err);
    } finally {
      loading.value = false;
    }
  }

  /** Saves one part of the auth section; resolves `true` when the server took it. */
  async function save<K extends keyof AuthSettings>(part: K, value: AuthSettings[K], message: string): Promise<boolean> {
    if (!doc.value || saving.value) return false;
    saving.value = part;
    try {
      const auth = { ...(toSettingsInput(doc.value.auth) as object), [part]: toSettingsInput(value) };
      doc.value = await saveSettings({ auth });
      revisions[part] = (revisions[part] ?? 0) + 1;
      toasts.success(message);
      return true;
    } catch (err) {
      toasts.error(err);
      return false;
    } finally {
      saving.value = undefined;
    }
  }

  const revision = (part: keyof AuthSettings) => revisions[part] ?? 0;

  return { doc, loading, saving, revision, load, save };
}
