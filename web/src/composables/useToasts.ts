import { reactive } from 'vue';
import { ApiError } from '~/api/client.ts';

export interface Toast {
  id: number;
  kind: 'error' | 'success' | 'info';
  message: string;
  /** The catalog error code, shown so people can search for it and support can act on it. */
  code?: string;
}

const toasts = reactive<Toast[]>([]);
let next = 1;

/** App-wide toasts; errors keep their code (SPEC §12). */
export function useToasts() {
  function push(toast: Omit<Toast, 'id'>, ttlMs = toast.kind === 'error' ? 8000 : 4000): void {
    const id = next++;
    toasts.push({ ...toast, id });
    setTimeout(() => dismiss(id), ttlMs);
  }
  function dismiss(id: number): void {
    const i = toasts.findIndex((t) => t.id === id);
    if (i !== -1) toasts.splice(i, 1);
  }
  function error(err: unknown): void {
    if (err instanceof ApiError) push({ kind: 'error', message: err.message, code: err.code });
    else push({ kind: 'error', message: err instanceof Error ? err.message : String(err) });
  }
  return { toasts, push, dismiss, error, success: (message: string) => push({ kind: 'success', message }) };
}
