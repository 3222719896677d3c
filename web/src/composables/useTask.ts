import { ref } from 'vue';
import { useToasts } from '~/composables/useToasts.ts';

/**
 * Busy flag + error/success toasts for the access area's composables: every action disables its
 * buttons while it runs, and a failure becomes a toast with its error code (SPEC §12).
 */
export function useTask() {
  const busy = ref(false);
  const toasts = useToasts();

  /** Runs `action`; resolves `true` when it succeeded (then toasts `done`, if given). */
  async function run(action: () => Promise<unknown>, done?: string): Promise<boolean> {
    busy.value = true;
    try {
      await action();
      if (done) toasts.success(done);
      return true;
    } catch (err) {
      toasts.error(err);
      return false;
    } finally {
      busy.value = false;
    }
  }

  return { busy, run };
}
