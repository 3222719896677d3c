import { decodeFramed, decodeJson } from '../../storage/codec.ts';
import { configKeys } from '../../storage/keys.ts';
import type { Store } from '../../storage/store.ts';
import type { FileRecord, TreeFileRow, VersionHeader } from './config-records.ts';

/** Reads of the config model; writes go through config-writer.ts. */
export type ConfigRepo = ReturnType<typeof createConfigRepo>;

export interface StoredVersion {
  header: VersionHeader;
  body: Uint8Array;
}

export function createConfigRepo(store: Pick<Store, 'get' | 'iterate'>) {
  async function fileWithRevision(fileKey: string): Promise<{ record: FileRecord | undefined; revision: number }> {
    const entry = await store.get(configKeys.file(fileKey));
    return { record: entry ? decodeJson<FileRecord>(entry.value) : undefined, revision: entry?.revision ?? 0 };
  }

  async function file(fileKey: string): Promise<FileRecord | undefined> {
    return (await fileWithRevision(fileKey)).record;
  }

  async function version(fileKey: string, n: number): Promise<StoredVersion | undefined> {
    const entry = await store.get(configKeys.version(fileKey, n));
    return entry ? decodeFramed<VersionHeader>(entry.value) : undefined;
  }

  async function fileRow(folder: string, name: string): Promise<{ row: TreeFileRow | undefined; revision: number }> {
    const entry = await store.get(configKeys.fileChild(folder, name));
    return { row: entry ? decodeJson<TreeFileRow>(entry.value) : undefined, revision: entry?.revision ?? 0 };
  }

  async function folderExists(folder: string, parent: string, name: string): Promise<boolean> {
    return folder === '' || (await store.get(configKeys.folderChild(parent, name))) !== undefined;
  }

  async function children(folder: string): Promise<{ folders: string[]; files: { name: string; variants: string[] }[] }> {
    const folders: string[] = [];
    const files: { name: string; variants: string[] }[] = [];
    for await (const item of store.iterate(configKeys.childPrefix(folder))) {
      const child = configKeys.parseChild(item.key);
      if (child.kind === 'folder') folders.push(child.name);
      else files.push({ name: child.name, variants: decodeJson<TreeFileRow>(item.value).variants });
    }
    return { folders, files };
  }

  /** Every file key (bases and variants) at or below a folder. */
  async function fileKeysUnder(folder: string): Promise<string[]> {
    const keys: string[] = [];
    for await (const item of store.iterate(configKeys.filePrefix + (folder === '' ? '' : `${folder}/`))) keys.push(item.key.slice(configKeys.filePrefix.length));
    return keys;
  }

  async function variantKeys(path: string): Promise<string[]> {
    const keys: string[] = [];
    for await (const item of store.iterate(configKeys.variantPrefix(path))) keys.push(item.key.slice(configKeys.filePrefix.length));
    return keys;
  }

  return { fileWithRevision, file, version, fileRow, folderExists, children, fileKeysUnder, variantKeys };
}
