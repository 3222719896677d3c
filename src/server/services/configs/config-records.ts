import type { Format } from '../../domain/formats.ts';

/** Stored shapes of the config model (SPEC §4). */
export interface StatusEntry {
  status: 'CREATED' | 'DELETED';
  /** Unix seconds, as upstream. */
  timestamp: number;
  author: string;
}

export interface VersionEntry {
  version: number;
  /** '' when none; otherwise the npm semver range as stored. */
  constraint: string;
  status: StatusEntry[];
}

/** One file or variant: `cfg/file/<fileKey>`. Content lives in one row per version. */
export interface FileRecord {
  key: string;
  path: string;
  variant?: string | undefined;
  versions: VersionEntry[];
  next_version: number;
  created_at: string;
  updated_at: string;
}

export interface InheritEntry {
  source?: string | undefined;
  resource?: string | undefined;
  path?: string | undefined;
  paths?: string[] | undefined;
  inject?: string | undefined;
  format?: Format | undefined;
}

export interface FileMeta {
  format: Format;
  description: string;
  inherits: InheritEntry[];
}

/** Header of a stored version row; the body is the exact bytes the user saved. */
export interface VersionHeader {
  meta: FileMeta;
  author: string;
  created_at: string;
}

/** Value of a file row in the folder tree. */
export interface TreeFileRow {
  variants: string[];
}

export function isDeleted(entry: VersionEntry): boolean {
  return entry.status[entry.status.length - 1]?.status === 'DELETED';
}

export function latestLiveVersion(record: FileRecord | undefined): number {
  if (!record) return 0;
  for (let i = record.versions.length - 1; i >= 0; i--) {
    const entry = record.versions[i];
    if (entry && !isDeleted(entry)) return entry.version;
  }
  return 0;
}
