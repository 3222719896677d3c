import { createHmac } from 'node:crypto';

/**
 * A keyed HMAC over a target's entries (SPEC §13.1): status can say "the target holds exactly
 * this data" and a workload's pod template can carry a content hash, without either revealing
 * anything about the values (a plain hash of a short secret could be brute-forced). Entries are
 * framed with their lengths so no two different maps share an encoding.
 */
export function dataHmac(key: Buffer, entries: ReadonlyMap<string, Buffer>): string {
  const mac = createHmac('sha256', key);
  for (const name of [...entries.keys()].sort()) {
    const value = entries.get(name) ?? Buffer.alloc(0);
    mac.update(`${Buffer.byteLength(name)}:${name}:${value.length}:`);
    mac.update(value);
  }
  return `hmac-sha256:${mac.digest('base64url')}`;
}

/** Names of the entries that differ between two maps (added, removed or changed), sorted. */
export function changedKeys(before: ReadonlyMap<string, Buffer>, after: ReadonlyMap<string, Buffer>): string[] {
  const names = new Set([...before.keys(), ...after.keys()]);
  return [...names].filter((n) => { const a = before.get(n); const b = after.get(n); return a === undefined || b === undefined || !a.equals(b); }).sort();
}
