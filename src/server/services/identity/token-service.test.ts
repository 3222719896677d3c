import { describe, expect, it } from 'vitest';
import { isAppError } from '../../../shared/errors.ts';
import { openMemoryStore } from '../../storage/level-store.ts';
import type { Store } from '../../storage/store.ts';
import { hashToken, createTokenService } from './token-service.ts';

const NOW = Date.parse('2030-01-01T00:00:00Z');
const CREATOR = { name: 'admin', userId: 'u1' };

/**
 * A store whose next `get` of a held key waits for `release()`; `reached` settles once that read
 * has happened, so a test can interleave a lookup with a write deterministically.
 */
function gatedStore(inner: Store) {
  let gate: { key: string; wait: Promise<void>; arrived: () => void } | undefined;
  const store: Pick<Store, 'get' | 'batch' | 'iterate'> = {
    async get(key) {
      const held = gate?.key === key ? gate : undefined;
      if (held) gate = undefined;
      const entry = await inner.get(key);
      if (held) {
        held.arrived();
        await held.wait;
      }
      return entry;
    },
    batch: (ops, conditions) => inner.batch(ops, conditions),
    iterate: (prefix, options) => inner.iterate(prefix, options),
  };
  return {
    store,
    hold(key: string): { release: () => void; reached: Promise<void> } {
      let release: () => void = () => undefined;
      let arrived: () => void = () => undefined;
      const reached = new Promise<void>((resolve) => (arrived = resolve));
      gate = { key, wait: new Promise((resolve) => (release = resolve)), arrived };
      return { release, reached };
    },
  };
}

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'ok';
  } catch (err) {
    return isAppError(err) ? err.code : String(err);
  }
}

async function setup() {
  const inner = await openMemoryStore();
  const gated = gatedStore(inner);
  let now = NOW;
  let changes = 0;
  const tokens = createTokenService({ store: gated.store, clock: () => now, onChange: () => changes++ });
  return { inner, gated, tokens, advance: (ms: number) => (now += ms), changes: () => changes };
}

describe('token service', () => {
  it('mints pika_ + 64 hex and keeps only the SHA-256 of it', async () => {
    const { inner, tokens } = await setup();
    const { token, rawKey } = await tokens.create({ name: 'ci', scopes: [{ path: '/a/**/', operations: ['read', 'read'] }] }, CREATOR);
    expect(rawKey).toMatch(/^pika_[0-9a-f]{64}$/);
    expect(token.hashed_key).toBe(hashToken(rawKey));
    expect(token.scopes).toEqual([{ path: 'a/**', operations: ['read'] }]);
    for await (const item of inner.iterate('')) expect(Buffer.from(item.value).toString()).not.toContain(rawKey);
    expect((await tokens.authenticate(rawKey)).id).toBe(token.id);
  });

  it('tells unknown (401), disabled and expired (403) tokens apart', async () => {
    const { tokens, advance } = await setup();
    expect(await codeOf(tokens.authenticate(`pika_${'0'.repeat(64)}`))).toBe('ERR_TOKEN_INVALID');
    expect(await codeOf(tokens.authenticate('pika_short'))).toBe('ERR_TOKEN_INVALID');
    const { token, rawKey } = await tokens.create({ name: 'ci', scopes: [], expires_at: new Date(NOW + 1000).toISOString() }, CREATOR);
    await tokens.update(token.id, { active: false });
    expect(await codeOf(tokens.authenticate(rawKey))).toBe('ERR_TOKEN_DISABLED');
    await tokens.update(token.id, { active: true });
    expect(await codeOf(tokens.authenticate(rawKey))).toBe('ok');
    advance(1000);
    expect(await codeOf(tokens.authenticate(rawKey))).toBe('ERR_TOKEN_EXPIRED');
    await tokens.remove(token.id);
    expect(await codeOf(tokens.authenticate(rawKey))).toBe('ERR_TOKEN_INVALID');
  });

  it('does not re-cache a record read before a concurrent write', async () => {
    const { gated, tokens } = await setup();
    const { token, rawKey } = await tokens.create({ name: 'ci', scopes: [] }, CREATOR);
    const gate = gated.hold(`id/token/${token.id}`);
    const inFlight = tokens.authenticate(rawKey);
    await gate.reached;
    await tokens.update(token.id, { active: false });
    gate.release();
    expect((await inFlight).active).toBe(true); // that request started before the change
    expect(await codeOf(tokens.authenticate(rawKey))).toBe('ERR_TOKEN_DISABLED');
  });

  it('batches last_used_at until flushed', async () => {
    const { tokens, advance } = await setup();
    const { token, rawKey } = await tokens.create({ name: 'ci', scopes: [] }, CREATOR);
    advance(5000);
    tokens.touch((await tokens.authenticate(rawKey)).id);
    expect((await tokens.get(token.id))?.last_used_at).toBeUndefined();
    expect(await tokens.flushUsage()).toBe(1);
    expect((await tokens.get(token.id))?.last_used_at).toBe(new Date(NOW + 5000).toISOString());
    expect(await tokens.flushUsage()).toBe(0);
    // The cached record used on the hot path shows the flushed value too.
    expect((await tokens.authenticate(rawKey)).last_used_at).toBe(new Date(NOW + 5000).toISOString());
    expect(tokens.usageFlushMs).toBe(60_000);
  });
});
