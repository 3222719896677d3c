import { computed, reactive, ref } from 'vue';
import { ApiError } from '~/api/client.ts';
import { type ConfigRef, type FolderListing, listFolder } from '~/api/configs.ts';
import { fileKey, joinPath, parentOf } from '~/composables/useConfigPaths.ts';
import { useToasts } from '~/composables/useToasts.ts';

export type TreeKind = 'folder' | 'file' | 'variant';

/** One visible line of the tree, in display order (what arrow keys walk). */
export interface TreeRow {
  key: string;
  kind: TreeKind;
  /** Folder path, or the file's path (also for a variant). */
  path: string;
  variant?: string;
  name: string;
  /** 1-based depth, for aria-level and indentation. */
  level: number;
  expandable: boolean;
  expanded: boolean;
  loading: boolean;
  parentKey?: string;
}

export const folderKey = (path: string) => `d:${path}`;
export const rowKeyOf = (ref: ConfigRef) => (ref.variant ? `v:${fileKey(ref)}` : `f:${ref.path}`);

/**
 * The folder/file/variant tree: folders load when first expanded, the filter works over what is
 * loaded (client-side), and `rows` is the flattened visible list for rendering and keyboard moves.
 * Each caller gets its own tree (the page and the inheritance picker expand independently).
 */
export function useFolderTree() {
  const listings = reactive(new Map<string, FolderListing>());
  const expanded = reactive(new Set<string>());
  const loading = reactive(new Set<string>());
  const filter = ref('');
  const { error } = useToasts();

  async function load(path: string): Promise<FolderListing | undefined> {
    loading.add(path);
    try {
      const listing = await listFolder(path);
      listings.set(path, listing);
      return listing;
    } catch (err) {
      listings.delete(path);
      if (!(err instanceof ApiError && err.code === 'ERR_FOLDER_NOT_FOUND')) error(err);
      return undefined;
    } finally {
      loading.delete(path);
    }
  }

  async function expandFolder(path: string): Promise<void> {
    expanded.add(folderKey(path));
    if (!listings.has(path)) await load(path);
  }

  async function toggle(row: TreeRow): Promise<void> {
    if (!row.expandable) return;
    if (row.expanded) expanded.delete(row.key);
    else if (row.kind === 'folder') await expandFolder(row.path);
    else expanded.add(row.key);
  }

  /**
   * Loads and expands every ancestor of `path` (so a deep link shows where it is); `self` also
   * expands `path` as a folder; `reload` re-reads listings already loaded (after a create).
   */
  async function reveal(path: string, options: { self?: boolean; reload?: boolean } = {}): Promise<void> {
    const segments = path === '' ? [] : path.split('/');
    const upTo = options.self ? segments.length : segments.length - 1;
    for (let i = 0; i <= upTo; i++) {
      const folder = segments.slice(0, i).join('/');
      if (options.reload) await load(folder);
      await expandFolder(folder);
    }
  }

  /** Shows the variants of a file. */
  function expandFile(path: string): void {
    expanded.add(`f:${path}`);
  }

  /** Re-reads the listings of these folders (after a create or delete), dropping vanished ones. */
  async function refresh(...paths: string[]): Promise<void> {
    await Promise.all([...new Set(paths)].map((p) => load(p)));
  }

  const isFile = (ref: ConfigRef) => listings.get(parentOf(ref.path))?.files.includes(ref.path.slice(ref.path.lastIndexOf('/') + 1)) ?? false;

  /** Every loaded file and variant as `path` / `path@variant` (inheritance source suggestions). */
  const knownSources = computed(() => {
    const out: string[] = [];
    for (const listing of listings.values()) {
      for (const name of listing.files) {
        const path = joinPath(listing.path, name);
        out.push(path, ...(listing.variants[name] ?? []).map((v) => `${path}@${v}`));
      }
    }
    return out.sort();
  });

  const rows = computed(() => buildRows({ listings, expanded, loading, filter: filter.value.trim().toLowerCase() }));

  return { listings, filter, rows, knownSources, load, toggle, expandFolder, expandFile, reveal, refresh, isFile, isLoading: (path: string) => loading.has(path) };
}

interface BuildState {
  listings: Map<string, FolderListing>;
  expanded: Set<string>;
  loading: Set<string>;
  filter: string;
}

function buildRows(state: BuildState): TreeRow[] {
  const rows: TreeRow[] = [];
  appendFolder(state, '', 1, rows);
  return rows;
}

/** Appends the children of `folder`; returns whether anything matched the filter. */
function appendFolder(state: BuildState, folder: string, level: number, out: TreeRow[]): boolean {
  const listing = state.listings.get(folder);
  if (!listing) return false;
  const parentKey = folder === '' ? undefined : folderKey(folder);
  let any = false;
  for (const name of listing.folders) {
    const path = joinPath(folder, name);
    const key = folderKey(path);
    const loaded = state.listings.has(path);
    const open = state.expanded.has(key) || (state.filter !== '' && loaded);
    const row: TreeRow = { key, kind: 'folder', path, name, level, expandable: true, expanded: open && loaded, loading: state.loading.has(path), parentKey };
    const children: TreeRow[] = [];
    const childMatch = open ? appendFolder(state, path, level + 1, children) : false;
    if (state.filter === '' || childMatch || matches(state, path)) {
      out.push(row, ...children);
      any = true;
    }
  }
  for (const name of listing.files) any = appendFile(state, { folder, name, variants: listing.variants[name] ?? [] }, level, out) || any;
  return any;
}

function appendFile(state: BuildState, file: { folder: string; name: string; variants: string[] }, level: number, out: TreeRow[]): boolean {
  const path = joinPath(file.folder, file.name);
  const key = `f:${path}`;
  const parentKey = file.folder === '' ? undefined : folderKey(file.folder);
  const variants = file.variants.filter((v) => state.filter === '' || matches(state, `${path}@${v}`) || matches(state, path));
  if (state.filter !== '' && !matches(state, path) && variants.length === 0) return false;
  const open = file.variants.length > 0 && (state.expanded.has(key) || (state.filter !== '' && variants.length > 0));
  out.push({ key, kind: 'file', path, name: file.name, level, expandable: file.variants.length > 0, expanded: open, loading: false, parentKey });
  if (open) for (const v of variants) out.push({ key: `v:${path}@${v}`, kind: 'variant', path, variant: v, name: `@${v}`, level: level + 1, expandable: false, expanded: false, loading: false, parentKey: key });
  return true;
}

function matches(state: BuildState, text: string): boolean {
  return text.toLowerCase().includes(state.filter);
}
