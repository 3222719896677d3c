import { reactive } from 'vue';
import { downloadBackup, restoreBackup, type RestoreResult } from '~/api/backup.ts';
import { useSession } from '~/composables/useSession.ts';
import { useToasts } from '~/composables/useToasts.ts';

/** What the header of a `.pikabak` file says (docs/backup.md "Archive format"), read in the browser before uploading. */
export interface ArchiveInfo {
  version: number;
  encrypted: boolean;
  createdAt?: string;
  pikaVersion?: string;
  entries?: number;
}

/** A picked file (a `File`), named so the confirmation can say which. */
export type ArchiveFile = Blob & { readonly name: string };

const MAGIC = [0x50, 0x49, 0x4b, 0x41, 0x42, 0x41, 0x4b, 0x00];

export async function inspectArchive(file: Blob): Promise<ArchiveInfo | { problem: string }> {
  const prelude = new DataView(await file.slice(0, 15).arrayBuffer());
  if (prelude.byteLength < 15 || MAGIC.some((b, i) => prelude.getUint8(i) !== b)) return { problem: 'This is not a pika backup (it does not start with PIKABAK).' };
  const length = prelude.getUint32(11);
  const info: ArchiveInfo = { version: prelude.getUint16(8), encrypted: (prelude.getUint8(10) & 1) === 1 };
  if (length > 65_536) return info;
  try {
    const header = JSON.parse(await file.slice(15, 15 + length).text()) as { created_at?: string; pika_version?: string; entries?: number };
    return { ...info, createdAt: header.created_at, pikaVersion: header.pika_version, entries: header.entries };
  } catch {
    return info;
  }
}

function filenameOf(response: Response): string {
  const disposition = response.headers.get('content-disposition') ?? '';
  return /filename="([^"]+)"/.exec(disposition)?.[1] ?? 'pika-backup.pikabak';
}

/** Hands a blob to the browser as a download (an object URL on a temporary link). */
function saveBlob(blob: Blob, filename: string): void {
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = filename;
  link.rel = 'noopener';
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

/**
 * Backup download (streamed, with byte progress) and restore (merge or wipe). A restore may
 * change the key record or the users, so the session is re-read afterwards.
 */
export function useBackup() {
  const download = reactive({ busy: false, received: 0, total: undefined as number | undefined });
  const restore = reactive({ busy: false, result: undefined as RestoreResult | undefined });
  const toasts = useToasts();
  const session = useSession();

  async function readAll(response: Response): Promise<Blob> {
    const length = Number(response.headers.get('content-length'));
    download.total = Number.isFinite(length) && length > 0 ? length : undefined;
    const reader = response.body?.getReader();
    if (!reader) return response.blob();
    const chunks: Uint8Array<ArrayBuffer>[] = [];
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      download.received += value.byteLength;
    }
    return new Blob(chunks, { type: 'application/octet-stream' });
  }

  async function downloadArchive(password: string): Promise<boolean> {
    if (download.busy) return false;
    Object.assign(download, { busy: true, received: 0, total: undefined });
    try {
      const response = await downloadBackup(password);
      const entries = response.headers.get('x-pika-backup-entries');
      const filename = filenameOf(response);
      saveBlob(await readAll(response), filename);
      toasts.success(`Backup ${filename} downloaded${entries ? ` (${entries} entries)` : ''}${password ? ', encrypted with your password' : ''}.`);
      return true;
    } catch (err) {
      toasts.error(err);
      return false;
    } finally {
      download.busy = false;
    }
  }

  async function restoreArchive(file: Blob, options: { password: string; wipe: boolean }): Promise<boolean> {
    if (restore.busy) return false;
    restore.busy = true;
    restore.result = undefined;
    try {
      restore.result = await restoreBackup(file, options);
      toasts.success(`Restored ${restore.result.entries} entries (${restore.result.mode}).`);
      return true;
    } catch (err) {
      toasts.error(err);
      return false;
    } finally {
      restore.busy = false;
      await session.refresh().catch(() => undefined);
    }
  }

  return { download, restore, downloadArchive, restoreArchive };
}
