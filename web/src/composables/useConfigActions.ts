import { ref } from 'vue';
import { ApiError } from '~/api/client.ts';
import { type ConfigRef, createFolder, deleteFile, deleteFolder, type Format, getFile, saveFile } from '~/api/configs.ts';
import { emptyDocument, normalizePath, pathProblem, variantProblem } from '~/composables/useConfigPaths.ts';
import { useToasts } from '~/composables/useToasts.ts';

export interface NewFile {
  path: string;
  format: Format;
  description: string;
}

/** How a new variant starts: a copy of the base, or inheriting it and holding only overrides. */
export type VariantSeed = 'copy' | 'inherit';

/**
 * The create and delete operations of the configs page. Each reports a problem in `problem`
 * (shown inside the dialog that asked) and resolves to what was created, or undefined.
 */
export function useConfigActions() {
  const busy = ref(false);
  const problem = ref<string>();
  const { error, success } = useToasts();

  async function run<T>(action: () => Promise<T>, inline: boolean): Promise<T | undefined> {
    busy.value = true;
    problem.value = undefined;
    try {
      return await action();
    } catch (err) {
      if (inline) problem.value = err instanceof ApiError ? `${err.message} (${err.code})` : String(err);
      else error(err);
      return undefined;
    } finally {
      busy.value = false;
    }
  }

  function refuse(reason: string): Promise<undefined> {
    problem.value = reason;
    return Promise.resolve(undefined);
  }

  /** Creates version 1 of a config; `expected_version: 0` refuses to overwrite an existing one. */
  function createFile(input: NewFile): Promise<ConfigRef | undefined> {
    const path = normalizePath(input.path);
    const invalid = pathProblem(path);
    if (invalid) return refuse(invalid);
    return run(async () => {
      try {
        await saveFile({ path }, { meta: { format: input.format, description: input.description, inherits: [] }, content: emptyDocument(input.format), expected_version: 0 });
      } catch (err) {
        if (err instanceof ApiError && err.code === 'ERR_VERSION_CONFLICT') throw new Error(`A config named "${path}" already exists.`);
        throw err;
      }
      success(`Created ${path}`);
      return { path };
    }, true);
  }

  function makeFolder(input: string): Promise<string | undefined> {
    const path = normalizePath(input);
    const invalid = pathProblem(path);
    if (invalid) return refuse(invalid);
    return run(async () => {
      await createFolder(path);
      success(`Created folder ${path}`);
      return path;
    }, true);
  }

  /** Saves version 1 of `path@name`, seeded from the base's newest version (a copy, or inheriting it). */
  function createVariant(path: string, name: string, seed: VariantSeed): Promise<ConfigRef | undefined> {
    const invalid = variantProblem(name);
    if (invalid) return refuse(invalid);
    return run(async () => {
      const base = await getFile({ path });
      const format = base.meta.format === 'raw' ? 'json' : base.meta.format;
      const body =
        seed === 'copy'
          ? { meta: { format: base.meta.format, description: base.meta.description, inherits: base.meta.inherits }, data: base.data }
          : { meta: { format, description: `${name} overrides of ${path}`, inherits: [{ source: path }] }, content: emptyDocument(format) };
      const ref = { path, variant: name };
      try {
        await saveFile(ref, { ...body, expected_version: 0 });
      } catch (err) {
        if (err instanceof ApiError && err.code === 'ERR_VERSION_CONFLICT') throw new Error(`The variant "${name}" already exists.`);
        throw err;
      }
      success(`Created variant ${name}`);
      return ref;
    }, true);
  }

  /** Deletes a folder (everything below), a file (all versions and variants) or one variant. */
  function remove(target: { kind: 'folder' | 'file' | 'variant'; path: string; variant?: string }): Promise<boolean> {
    return run(async () => {
      if (target.kind === 'folder') {
        const { deleted } = await deleteFolder(target.path);
        success(`Deleted folder ${target.path} (${deleted} config${deleted === 1 ? '' : 's'})`);
      } else {
        await deleteFile({ path: target.path, variant: target.variant });
        success(target.variant ? `Deleted variant ${target.variant} of ${target.path}` : `Deleted ${target.path}`);
      }
      return true;
    }, false).then((ok) => ok === true);
  }

  const reset = () => (problem.value = undefined);

  return { busy, problem, createFile, makeFolder, createVariant, remove, reset };
}
