import { computed, reactive, ref } from 'vue';
import { ApiError } from '~/api/client.ts';
import { type ConfigRef, convertContent, type Format, getFile, type InheritEntry, type Meta, saveFile, type StoredFile } from '~/api/configs.ts';
import { decodeBase64 } from '~/composables/useConfigPaths.ts';
import { useToasts } from '~/composables/useToasts.ts';

/** A stored version with its text decoded. */
export interface LoadedVersion {
  file: StoredFile;
  text: string;
  binary: boolean;
}

export interface Conflict {
  /** The newest version on the server when our save was refused. */
  current: number;
  theirs?: LoadedVersion;
}

/** Drops blank optional fields so equal metas compare equal and the server gets clean entries. */
export function cleanMeta(meta: Meta): Meta {
  const entry = (e: InheritEntry): InheritEntry => {
    const out: InheritEntry = e.resource !== undefined ? { resource: e.resource.trim(), path: e.path?.trim() ?? '' } : { source: (e.source ?? '').trim() };
    const paths = (e.paths ?? []).map((p) => p.trim()).filter((p) => p !== '');
    if (paths.length > 0) out.paths = paths;
    if (e.inject?.trim()) out.inject = e.inject.trim();
    if (e.format) out.format = e.format;
    return out;
  };
  return { format: meta.format, description: meta.description, inherits: meta.inherits.map(entry) };
}

const metaKey = (meta: Meta) => JSON.stringify(cleanMeta(meta));
const copyMeta = (meta: Meta): Meta => ({ format: meta.format, description: meta.description, inherits: meta.inherits.map((e) => ({ ...e, paths: e.paths ? [...e.paths] : undefined })) });

function decode(file: StoredFile): LoadedVersion {
  const meta: Meta = { format: file.meta.format, description: file.meta.description, inherits: file.meta.inherits };
  return { file: { ...file, meta }, ...decodeBase64(file.data) };
}

/**
 * The open config (or variant): the latest saved version, the draft being edited, an old version
 * being looked at, saving with `expected_version` and the 409 conflict that can come back.
 */
export function useConfigFile() {
  const current = ref<ConfigRef>();
  /** The newest live version: what the draft is compared with and what `expected_version` names. */
  const latest = ref<LoadedVersion>();
  /** An older version shown read-only (the draft is kept aside meanwhile). */
  const viewing = ref<LoadedVersion>();
  const draft = reactive({ content: '', meta: { format: 'json', description: '', inherits: [] } as Meta });
  const nextConstraint = ref('');
  const loading = ref(false);
  const saving = ref(false);
  const converting = ref(false);
  const problem = ref<string>();
  const conflict = ref<Conflict>();
  const { error, success } = useToasts();
  let loadSeq = 0;

  const dirty = computed(() => latest.value !== undefined && (draft.content !== latest.value.text || metaKey(draft.meta) !== metaKey(latest.value.file.meta)));
  const readOnly = computed(() => viewing.value !== undefined || latest.value?.binary === true);
  /** What the editor and the preview show: the old version being viewed, else the draft. */
  const shown = computed(() => (viewing.value ? { content: viewing.value.text, meta: viewing.value.file.meta } : { content: draft.content, meta: draft.meta }));

  function adopt(version: LoadedVersion): void {
    latest.value = version;
    draft.content = version.text;
    draft.meta = copyMeta(version.file.meta);
  }

  /** Opens a config at its newest version, discarding any draft. */
  async function open(ref: ConfigRef): Promise<boolean> {
    const seq = ++loadSeq;
    current.value = ref;
    latest.value = undefined;
    viewing.value = undefined;
    conflict.value = undefined;
    problem.value = undefined;
    nextConstraint.value = '';
    loading.value = true;
    try {
      const file = decode(await getFile(ref));
      if (seq === loadSeq) adopt(file);
      return true;
    } catch (err) {
      if (seq !== loadSeq) return false;
      problem.value = err instanceof ApiError ? `${err.message} (${err.code})` : String(err);
      return false;
    } finally {
      if (seq === loadSeq) loading.value = false;
    }
  }

  function close(): void {
    loadSeq++;
    current.value = undefined;
    latest.value = undefined;
    viewing.value = undefined;
    problem.value = undefined;
  }

  /** Shows an older version read-only; `edit` turns it into the draft of the next save instead. */
  async function loadVersion(version: number, edit: boolean): Promise<void> {
    if (!current.value) return;
    try {
      const old = decode(await getFile(current.value, version));
      if (edit) {
        viewing.value = undefined;
        draft.content = old.text;
        draft.meta = copyMeta(old.file.meta);
        nextConstraint.value = '';
      } else if (old.file.version === latest.value?.file.version) viewing.value = undefined;
      else viewing.value = old;
    } catch (err) {
      error(err);
    }
  }

  function backToDraft(): void {
    viewing.value = undefined;
  }

  function discard(): void {
    if (latest.value) adopt(latest.value);
    viewing.value = undefined;
  }

  /** Saves the draft as a new version. Resolves to the new version number, if it was saved. */
  async function save(expectedVersion = latest.value?.file.version): Promise<number | undefined> {
    const ref = current.value;
    if (!ref || !latest.value || readOnly.value || saving.value) return undefined;
    saving.value = true;
    const content = draft.content;
    const meta = cleanMeta(draft.meta);
    try {
      const saved = await saveFile(ref, { meta, content, expected_version: expectedVersion, constraint: nextConstraint.value.trim() || undefined });
      latest.value = { file: { ...saved, meta }, text: content, binary: false };
      nextConstraint.value = '';
      conflict.value = undefined;
      success(`Saved version ${saved.version}`);
      return saved.version;
    } catch (err) {
      if (err instanceof ApiError && err.code === 'ERR_VERSION_CONFLICT') await reportConflict(ref, err);
      else error(err);
      return undefined;
    } finally {
      saving.value = false;
    }
  }

  async function reportConflict(ref: ConfigRef, err: ApiError): Promise<void> {
    const currentVersion = typeof err.details?.current_version === 'number' ? err.details.current_version : undefined;
    conflict.value = { current: currentVersion ?? 0 };
    try {
      const theirs = decode(await getFile(ref));
      conflict.value = { current: theirs.file.version, theirs };
    } catch {
      // The dialog still offers both choices; "theirs" is just not shown.
    }
  }

  /** 409 answers: take the server's version, or save ours on top of it. */
  async function resolveConflict(choice: 'theirs' | 'mine'): Promise<void> {
    const found = conflict.value;
    if (!found) return;
    if (choice === 'theirs') {
      conflict.value = undefined;
      if (found.theirs) {
        adopt(found.theirs);
        viewing.value = undefined;
      } else if (current.value) await open(current.value);
      return;
    }
    await save(found.current);
  }

  /** Changes the format, converting the draft's content through the server when asked to. */
  async function changeFormat(to: Format, convert: boolean): Promise<void> {
    const from = draft.meta.format;
    if (from === to) return;
    if (convert && draft.content.trim() !== '' && from !== 'raw' && to !== 'raw') {
      converting.value = true;
      try {
        draft.content = (await convertContent(draft.content, from, to)).content;
      } catch (err) {
        error(err);
        return;
      } finally {
        converting.value = false;
      }
    }
    draft.meta.format = to;
  }

  return {
    current, latest, viewing, draft, shown, nextConstraint, loading, saving, converting, problem, conflict, dirty, readOnly,
    open, close, loadVersion, backToDraft, discard, save, resolveConflict, changeFormat,
  };
}

export type ConfigFileState = ReturnType<typeof useConfigFile>;
