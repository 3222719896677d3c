import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openDiskStore, openMemoryStore } from './level-store.ts';
import { runStoreContract } from './store.contract.ts';

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'pika-store-'));
  dirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

runStoreContract('memory-level', openMemoryStore);
runStoreContract('classic-level (disk)', () => openDiskStore(tempDir(), { sync: true }));

describe('classic-level store on disk', () => {
  it('keeps data and the revision counter across close and reopen', async () => {
    const dir = tempDir();
    const first = await openDiskStore(dir, { sync: true });
    await first.put('a', new TextEncoder().encode('1'));
    const rev = await first.put('b', new TextEncoder().encode('2'));
    await first.close();

    const second = await openDiskStore(dir, { sync: true });
    expect(await second.revision()).toBe(rev);
    expect(new TextDecoder().decode((await second.get('b'))?.value)).toBe('2');
    expect(await second.put('c', new Uint8Array())).toBe(rev + 1);
    await second.close();
  });
});
