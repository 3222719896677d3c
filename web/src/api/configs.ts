import { api, pathSegments } from './client.ts';

/** Config API of SPEC §4 (docs/guides/configs.md): one typed function per endpoint. */

export const FORMATS = ['json', 'yaml', 'toml', 'raw'] as const;
export type Format = (typeof FORMATS)[number];

export interface InheritEntry {
  source?: string;
  resource?: string;
  path?: string;
  paths?: string[];
  inject?: string;
  format?: Format;
}

export interface Meta {
  format: Format;
  description: string;
  inherits: InheritEntry[];
}

export interface FolderListing {
  path: string;
  folders: string[];
  files: string[];
  variants: Record<string, string[]>;
}

export interface StoredFile {
  path: string;
  variant?: string;
  version: number;
  constraint?: string;
  meta: Meta;
  /** Base64 of the exact stored bytes. */
  data: string;
  author?: string;
  created_at?: string;
}

export interface VersionStatus {
  status: 'CREATED' | 'DELETED' | string;
  /** Unix seconds. */
  timestamp: number;
  author: string;
}

export interface VersionInfo {
  version: number;
  constraint: string;
  effective_constraint: string;
  deleted: boolean;
  status: VersionStatus[];
}

export interface SaveBody {
  meta: Meta;
  /** Text content; or `data`, base64 (binary raw content, exact copies). */
  content?: string;
  data?: string;
  expected_version?: number;
  constraint?: string;
}

export interface RenderResult {
  data: string;
  content: string;
  format: string;
  sources?: string[];
  error?: string;
  code?: string;
  details?: Record<string, unknown>;
}

/** A file or one of its variants. */
export interface ConfigRef {
  path: string;
  variant?: string;
}

const variantQuery = (ref: ConfigRef) => ({ variant: ref.variant });
const folderUrl = (path: string) => (path === '' ? '/api/v1/folder' : `/api/v1/folder/${pathSegments(path)}`);

export const listFolder = (path: string) => api.get<FolderListing>(folderUrl(path));
export const createFolder = (path: string) => api.post<{ ok: boolean }>(folderUrl(path));
export const deleteFolder = (path: string) => api.delete<{ deleted: number }>(folderUrl(path));

export const getFile = (ref: ConfigRef, version?: number) =>
  api.get<StoredFile>(`/api/v1/file/${pathSegments(ref.path)}`, { query: { ...variantQuery(ref), version } });
export const saveFile = (ref: ConfigRef, body: SaveBody) => api.post<StoredFile>(`/api/v1/file/${pathSegments(ref.path)}`, body, { query: variantQuery(ref) });
/** Without `version`: the file with all its versions (and, for a base file, all its variants). */
export const deleteFile = (ref: ConfigRef, version?: number) =>
  api.delete<{ ok: boolean }>(`/api/v1/file/${pathSegments(ref.path)}`, { query: { ...variantQuery(ref), version } });

export const listVersions = (ref: ConfigRef) => api.get<VersionInfo[]>(`/api/v1/versions/${pathSegments(ref.path)}`, { query: variantQuery(ref) });
export const setConstraint = (ref: ConfigRef, version: number, constraint: string) =>
  api.patch<{ ok: boolean }>(`/api/v1/versions/${pathSegments(ref.path)}`, { version, constraint }, { query: variantQuery(ref) });

export const listVariants = (path: string) => api.get<string[]>(`/api/v1/variants/${pathSegments(path)}`);

export const renderDraft = (ref: ConfigRef, body: { content: string; meta: Meta; format?: Format }, signal?: AbortSignal) =>
  api.post<RenderResult>(`/api/v1/render/${pathSegments(ref.path)}`, body, { query: variantQuery(ref), signal });

export const convertContent = (content: string, from: Format, to: Format) => api.post<{ content: string; format: Format }>('/api/v1/convert', { content, from, to });
