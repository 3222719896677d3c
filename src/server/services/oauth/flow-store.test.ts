import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openMemoryStore } from '../../storage/level-store.ts';
import type { Store } from '../../storage/store.ts';
import { createFlowStore } from './flow-store.ts';

let store: Store;
let now = 1_000_000;
const clock = () => now;
beforeEach(async () => {
  store = await openMemoryStore();
  now = 1_000_000;
});
afterEach(async () => {
  await store.close();
});

const FLOW = { provider: 'kc', redirect_uri: 'https://pika.test/login/callback/kc', return_to: '/', code_verifier: 'v'.repeat(43), nonce: 'n' };
const BROWSER = 'b'.repeat(43);

describe('pending OAuth2 flows', () => {
  it('hands a flow back once, to the browser and provider that started it', async () => {
    const flows = createFlowStore({ store, clock });
    const state = await flows.save(FLOW, BROWSER);
    expect(await flows.consume(state, 'other', BROWSER)).toEqual({ ok: false, reason: 'provider_mismatch' });
    expect(await flows.consume(state, 'kc', undefined)).toEqual({ ok: false, reason: 'browser_mismatch' });
    expect(await flows.consume(state, 'kc', 'c'.repeat(43))).toEqual({ ok: false, reason: 'browser_mismatch' });
    const taken = await flows.consume(state, 'kc', BROWSER);
    expect(taken).toMatchObject({ ok: true, flow: { ...FLOW } });
    expect(await flows.consume(state, 'kc', BROWSER)).toEqual({ ok: false, reason: 'state_replayed' });
    expect(await flows.consume('made-up', 'kc', BROWSER)).toEqual({ ok: false, reason: 'state_unknown' });
  });

  it('lets only one of two concurrent callbacks win', async () => {
    const flows = createFlowStore({ store, clock });
    const state = await flows.save(FLOW, BROWSER);
    const results = await Promise.all([flows.consume(state, 'kc', BROWSER), flows.consume(state, 'kc', BROWSER)]);
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    expect(results.find((r) => !r.ok)).toEqual({ ok: false, reason: 'state_replayed' });
  });

  it('expires flows after the TTL and prunes them and used tombstones', async () => {
    const flows = createFlowStore({ store, clock, ttlMs: 1_000 });
    const stale = await flows.save(FLOW, BROWSER);
    const used = await flows.save(FLOW, BROWSER);
    expect((await flows.consume(used, 'kc', BROWSER)).ok).toBe(true);
    now += 1_000;
    expect(await flows.consume(stale, 'kc', BROWSER)).toEqual({ ok: false, reason: 'state_expired' });
    expect(await flows.prune()).toBe(1);
    const keys: string[] = [];
    for await (const item of store.iterate('id/oauthstate/')) keys.push(item.key);
    expect(keys).toEqual([]);
  });

  it('refuses new flows beyond the cap until old ones expire', async () => {
    const flows = createFlowStore({ store, clock, ttlMs: 1_000, maxPending: 2 });
    await flows.save(FLOW, BROWSER);
    await flows.save(FLOW, BROWSER);
    await expect(flows.save(FLOW, BROWSER)).rejects.toMatchObject({ code: 'ERR_RATE_LIMITED', status: 429 });
    now += 1_001;
    await expect(flows.save(FLOW, BROWSER)).resolves.toMatch(/^[A-Za-z0-9_-]{43}$/);
  });
});
