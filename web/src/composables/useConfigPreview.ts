import { computed, onScopeDispose, ref, watch } from 'vue';
import { type ConfigRef, type Format, type Meta, renderDraft, type RenderResult } from '~/api/configs.ts';
import { cleanMeta } from '~/composables/useConfigFile.ts';
import type { EditorProblem } from '~/editor/codemirror.ts';

export interface PreviewInput {
  target: ConfigRef | undefined;
  content: string;
  meta: Meta;
  /** Output format of the preview ('' = the config's own). */
  format: Format | '';
}

export const PREVIEW_DELAY_MS = 300;

/** Where `JSON.parse` says it failed, in the wordings V8 uses (with or without line/column). */
export function jsonProblem(text: string): EditorProblem | undefined | 'unknown' {
  try {
    JSON.parse(text);
    return undefined;
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    const lineColumn = /\(line (\d+) column (\d+)\)/.exec(message);
    if (lineColumn) return { line: Number(lineColumn[1]), column: Number(lineColumn[2]), message: `JSON: ${message.replace(/\s*\(line \d+ column \d+\)/, '')}` };
    const position = /at position (\d+)/.exec(message);
    if (!position) return 'unknown';
    const before = text.slice(0, Number(position[1]));
    const line = before.split('\n').length;
    return { line, column: Array.from(before.slice(before.lastIndexOf('\n') + 1)).length + 1, message: `JSON: ${message}` };
  }
}

/** A syntax error in the config's own content (not in a source it inherits), as an editor marker. */
function ownSyntaxProblem(result: RenderResult, format: Format): EditorProblem | undefined {
  if (result.code !== 'ERR_SYNTAX' || !result.error?.startsWith(`${format} syntax error`)) return undefined;
  const { line, column, reason } = result.details ?? {};
  if (typeof line !== 'number' || typeof column !== 'number') return undefined;
  return { line, column, message: typeof reason === 'string' ? `${format.toUpperCase()}: ${reason}` : result.error };
}

/**
 * The live resolved preview and the syntax markers (SPEC §4 "Render preview"): every change to
 * the shown content or meta is rendered by the server after a short pause; answers to older
 * inputs are dropped. JSON is also checked locally on every keystroke for instant feedback.
 */
export function useConfigPreview(input: () => PreviewInput) {
  const result = ref<RenderResult>();
  const pending = ref(false);
  const local = ref<EditorProblem | 'unknown'>();
  let timer: ReturnType<typeof setTimeout> | undefined;
  let seq = 0;
  let inFlight: AbortController | undefined;

  async function render(snapshot: PreviewInput, mine: number): Promise<void> {
    if (!snapshot.target) return;
    // A newer keystroke supersedes the request still on the wire: cancel it, do not just ignore it.
    inFlight?.abort();
    const controller = new AbortController();
    inFlight = controller;
    try {
      const body = { content: snapshot.content, meta: cleanMeta(snapshot.meta), ...(snapshot.format ? { format: snapshot.format } : {}) };
      const answer = await renderDraft(snapshot.target, body, controller.signal);
      if (mine === seq) result.value = answer;
    } catch (err) {
      if (controller.signal.aborted) return;
      // Real HTTP errors (403, 400 for an invalid body) are shown in the preview, not as toasts.
      if (mine === seq) result.value = { data: '', content: '', format: snapshot.meta.format, error: err instanceof Error ? err.message : String(err), code: (err as { code?: string }).code };
    } finally {
      if (mine === seq) pending.value = false;
    }
  }

  watch(
    () => {
      const i = input();
      return JSON.stringify([i.target, i.content, cleanMeta(i.meta), i.format]);
    },
    () => {
      const snapshot = input();
      const mine = ++seq;
      local.value = snapshot.meta.format === 'json' ? jsonProblem(snapshot.content) : undefined;
      clearTimeout(timer);
      if (!snapshot.target) {
        result.value = undefined;
        pending.value = false;
        return;
      }
      pending.value = true;
      timer = setTimeout(() => void render(snapshot, mine), PREVIEW_DELAY_MS);
    },
    { immediate: true },
  );
  onScopeDispose(() => clearTimeout(timer));

  /** Markers for the editor: the local JSON verdict when it has one, else the server's. */
  const problems = computed<EditorProblem[]>(() => {
    const format = input().meta.format;
    if (format === 'json' && local.value !== 'unknown') return local.value ? [local.value] : [];
    const own = result.value && format !== 'raw' ? ownSyntaxProblem(result.value, format) : undefined;
    return own ? [own] : [];
  });

  return { result, pending, problems };
}
