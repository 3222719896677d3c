import { AppError } from '../../../shared/errors.ts';
import { ancestorFolders, baseName, fileKeyOf, parentFolder } from '../../domain/config-path.ts';
import { encodeFramed, encodeJson } from '../../storage/codec.ts';
import { configKeys } from '../../storage/keys.ts';
import { createMutex } from '../../storage/mutex.ts';
import type { BatchOp, Condition, Store } from '../../storage/store.ts';
import { isStoreConflict } from '../../storage/store.ts';
import type { ChangeDraft, ChangeEvent, ChangeFeed } from './change-feed.ts';
import type { ConfigRepo } from './config-repo.ts';
import { type FileMeta, type FileRecord, isDeleted, latestLiveVersion, type TreeFileRow } from './config-records.ts';

export interface ConfigWriterDeps {
  readonly store: Pick<Store, 'batch' | 'iterate'>;
  readonly repo: ConfigRepo;
  readonly feed: Pick<ChangeFeed, 'prepare' | 'publish'>;
  readonly clock: () => number;
}

export interface SaveInput {
  path: string;
  variant?: string | undefined;
  meta: FileMeta;
  data: Uint8Array;
  expectedVersion?: number | undefined;
  /** Already normalised (domain/semver-select.ts). */
  constraint: string;
  author: string;
}

interface Plan {
  ops: BatchOp[];
  conditions: Condition[];
  drafts: ChangeDraft[];
}

const MAX_ATTEMPTS = 5;

export type ConfigWriter = ReturnType<typeof createConfigWriter>;

/**
 * Every write to the config model. Each operation builds one plan — store ops, compare-on-revision
 * conditions and change-feed events — and commits it as one atomic batch, retrying from fresh
 * reads if another writer got in between (only possible in cluster mode; in one process the
 * mutex serialises writers).
 */
export function createConfigWriter(deps: ConfigWriterDeps) {
  const { store, repo, feed, clock } = deps;
  const lock = createMutex();

  async function commit(build: () => Promise<Plan>): Promise<ChangeEvent[]> {
    return lock(async () => {
      for (let attempt = 1; ; attempt++) {
        const plan = await build();
        const prepared = await feed.prepare(plan.drafts);
        try {
          await store.batch([...plan.ops, ...prepared.ops], [...plan.conditions, ...prepared.conditions]);
        } catch (err) {
          if (isStoreConflict(err) && attempt < MAX_ATTEMPTS) continue;
          throw err;
        }
        feed.publish(prepared.events);
        return prepared.events;
      }
    });
  }

  async function save(input: SaveInput): Promise<{ version: number; event: ChangeEvent }> {
    const fileKey = fileKeyOf(input.path, input.variant);
    const folder = parentFolder(input.path);
    const name = baseName(input.path);
    let version = 0;
    const [event] = await commit(async () => {
      const { record, revision } = await repo.fileWithRevision(fileKey);
      const { row, revision: rowRevision } = await repo.fileRow(folder, name);
      if (input.variant !== undefined && !row) throw new AppError('ERR_FILE_NOT_FOUND', `config "${input.path}" does not exist; create it before its variants`);
      const latest = latestLiveVersion(record);
      if (input.expectedVersion !== undefined && input.expectedVersion !== latest)
        throw new AppError('ERR_VERSION_CONFLICT', `expected version ${input.expectedVersion}, but the latest is ${latest}`, { details: { current_version: latest } });
      version = record?.next_version ?? 1;
      const now = new Date(clock());
      const next: FileRecord = {
        key: fileKey,
        path: input.path,
        variant: input.variant,
        versions: [...(record?.versions ?? []), { version, constraint: input.constraint, status: [{ status: 'CREATED', timestamp: Math.floor(now.getTime() / 1000), author: input.author }] }],
        next_version: version + 1,
        created_at: record?.created_at ?? now.toISOString(),
        updated_at: now.toISOString(),
      };
      const ops: BatchOp[] = [
        { type: 'put', key: configKeys.file(fileKey), value: encodeJson(next) },
        { type: 'put', key: configKeys.version(fileKey, version), value: encodeFramed({ meta: input.meta, author: input.author, created_at: now.toISOString() }, input.data) },
        ...folderRows(folder),
      ];
      const conditions: Condition[] = [{ key: configKeys.file(fileKey), revision }];
      const rowUpdate = fileRowUpdate(row, input.variant);
      if (rowUpdate) {
        ops.push({ type: 'put', key: configKeys.fileChild(folder, name), value: encodeJson(rowUpdate) });
        conditions.push({ key: configKeys.fileChild(folder, name), revision: rowRevision });
      }
      const type = version === 1 ? 'config.created' : 'config.updated';
      return { ops, conditions, drafts: [{ type, path: input.path, variant: input.variant, version, user: input.author }] };
    });
    if (!event) throw new Error('save produced no change event');
    return { version, event };
  }

  /** Soft-deletes one version: it gets a DELETED status entry and stops being served. */
  async function deleteVersion(path: string, variant: string | undefined, version: number, author: string): Promise<void> {
    const fileKey = fileKeyOf(path, variant);
    await commit(async () => {
      const { record, revision } = await repo.fileWithRevision(fileKey);
      const entry = record?.versions.find((v) => v.version === version);
      if (!record || !entry) throw new AppError('ERR_VERSION_NOT_FOUND', `version ${version} of "${fileKey}" does not exist`);
      if (isDeleted(entry)) return { ops: [], conditions: [], drafts: [] };
      entry.status.push({ status: 'DELETED', timestamp: Math.floor(clock() / 1000), author });
      record.updated_at = new Date(clock()).toISOString();
      return {
        ops: [{ type: 'put', key: configKeys.file(fileKey), value: encodeJson(record) }],
        conditions: [{ key: configKeys.file(fileKey), revision }],
        drafts: [{ type: 'config.deleted', path, variant, version, user: author }],
      };
    });
  }

  async function setConstraint(change: { path: string; variant?: string | undefined; version: number; constraint: string; author: string }): Promise<void> {
    const { path, variant, version, constraint, author } = change;
    const fileKey = fileKeyOf(path, variant);
    await commit(async () => {
      const { record, revision } = await repo.fileWithRevision(fileKey);
      const entry = record?.versions.find((v) => v.version === version);
      if (!record || !entry) throw new AppError('ERR_VERSION_NOT_FOUND', `version ${version} of "${fileKey}" does not exist`);
      entry.constraint = constraint;
      record.updated_at = new Date(clock()).toISOString();
      return {
        ops: [{ type: 'put', key: configKeys.file(fileKey), value: encodeJson(record) }],
        conditions: [{ key: configKeys.file(fileKey), revision }],
        drafts: [{ type: 'config.updated', path, variant, version, user: author }],
      };
    });
  }

  /** Removes a file with all its versions — and, for a base file, all its variants. */
  async function deleteFile(path: string, variant: string | undefined, author: string): Promise<number> {
    const events = await commit(async () => {
      const folder = parentFolder(path);
      const name = baseName(path);
      const fileKey = fileKeyOf(path, variant);
      if (!(await repo.file(fileKey))) throw new AppError('ERR_FILE_NOT_FOUND', `config "${fileKey}" does not exist`);
      const keys = variant === undefined ? [fileKey, ...(await repo.variantKeys(path))] : [fileKey];
      const plan = await removalPlan(keys, author);
      const { row, revision } = await repo.fileRow(folder, name);
      // removalPlan drops a base file's tree row; a variant only leaves its base's variant list.
      if (variant !== undefined && row) {
        plan.ops.push({ type: 'put', key: configKeys.fileChild(folder, name), value: encodeJson({ variants: row.variants.filter((v) => v !== variant) }) });
        plan.conditions.push({ key: configKeys.fileChild(folder, name), revision });
      }
      return plan;
    });
    return events.length;
  }

  async function createFolder(path: string): Promise<void> {
    await lock(() => store.batch(folderRows(path)));
  }

  /** Deletes a folder recursively, one file at a time (each file atomically), then its rows. */
  async function deleteFolder(path: string, author: string): Promise<number> {
    if (path === '') throw new AppError('ERR_PATH_INVALID', 'the root folder cannot be deleted');
    if (!(await repo.folderExists(path, parentFolder(path), baseName(path)))) throw new AppError('ERR_FOLDER_NOT_FOUND', `folder "${path}" does not exist`);
    const keys = await repo.fileKeysUnder(path);
    let deleted = 0;
    for (let i = 0; i < keys.length; i += 50) {
      const chunk = keys.slice(i, i + 50);
      deleted += (await commit(() => removalPlan(chunk, author))).length;
    }
    await lock(async () => {
      const rows: BatchOp[] = [{ type: 'del', key: configKeys.folderChild(parentFolder(path), baseName(path)) }];
      for (const prefix of [configKeys.childPrefix(path), configKeys.subtreePrefix(path)])
        for await (const item of store.iterate(prefix)) rows.push({ type: 'del', key: item.key });
      for (let i = 0; i < rows.length; i += 500) await store.batch(rows.slice(i, i + 500));
    });
    return deleted;
  }

  async function removalPlan(fileKeys: readonly string[], author: string): Promise<Plan> {
    const plan: Plan = { ops: [], conditions: [], drafts: [] };
    for (const key of fileKeys) {
      const { record, revision } = await repo.fileWithRevision(key);
      if (!record) continue;
      plan.ops.push({ type: 'del', key: configKeys.file(key) });
      plan.conditions.push({ key: configKeys.file(key), revision });
      for await (const item of store.iterate(configKeys.versionPrefix(key))) plan.ops.push({ type: 'del', key: item.key });
      plan.drafts.push({ type: 'config.deleted', path: record.path, variant: record.variant, user: author });
      const folder = parentFolder(record.path);
      if (record.variant === undefined) plan.ops.push({ type: 'del', key: configKeys.fileChild(folder, baseName(record.path)) });
    }
    return plan;
  }

  return { save, deleteVersion, setConstraint, deleteFile, createFolder, deleteFolder };
}

/** Idempotent rows making every ancestor of `folder` (and `folder` itself) a listed folder. */
function folderRows(folder: string): BatchOp[] {
  if (folder === '') return [];
  return [...ancestorFolders(folder).slice(1), folder].map((f) => ({ type: 'put', key: configKeys.folderChild(parentFolder(f), baseName(f)), value: new Uint8Array() }));
}

function fileRowUpdate(row: TreeFileRow | undefined, variant: string | undefined): TreeFileRow | undefined {
  if (!row) return { variants: variant === undefined ? [] : [variant] };
  if (variant === undefined || row.variants.includes(variant)) return undefined;
  return { variants: [...row.variants, variant].sort() };
}
