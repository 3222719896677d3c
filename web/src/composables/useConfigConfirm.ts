import { ref } from 'vue';

export interface ConfirmRequest {
  title: string;
  message: string;
  confirmLabel: string;
  danger?: boolean;
}

/**
 * One pending yes/no question for the configs page (delete, discard unsaved changes), answered
 * by ConfirmDialog.vue; `ask` resolves with the answer so callers read top to bottom.
 */
export function useConfigConfirm() {
  const request = ref<ConfirmRequest>();
  let resolve: ((yes: boolean) => void) | undefined;

  function ask(question: ConfirmRequest): Promise<boolean> {
    resolve?.(false);
    request.value = question;
    return new Promise((done) => (resolve = done));
  }

  function answer(yes: boolean): void {
    const done = resolve;
    resolve = undefined;
    request.value = undefined;
    done?.(yes);
  }

  return { request, ask, answer };
}
