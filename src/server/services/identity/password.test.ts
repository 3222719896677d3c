import bcrypt from 'bcryptjs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createPasswordHasher } from './password.ts';

afterEach(() => {
  vi.restoreAllMocks();
});

describe('password hasher', () => {
  it('hashes with bcrypt at the configured cost and verifies', async () => {
    const hasher = createPasswordHasher(4);
    const hash = await hasher.hash('correct horse battery');
    expect(hash).toMatch(/^\$2[aby]\$04\$/);
    expect(await hasher.verify('correct horse battery', hash)).toBe(true);
    expect(await hasher.verify('correct horse batterY', hash)).toBe(false);
    expect(await hasher.verify('anything', '')).toBe(false);
  });

  it('keeps every byte of a long passphrase (bcrypt alone reads only 72)', async () => {
    const hasher = createPasswordHasher(4);
    const long = 'a'.repeat(80);
    const hash = await hasher.hash(long);
    expect(await hasher.verify(`${'a'.repeat(79)}b`, hash)).toBe(false);
    expect(await hasher.verify(long, hash)).toBe(true);
  });

  it('spends one real bcrypt compare, at the configured cost, when burning time for an unknown user', async () => {
    const hash = vi.spyOn(bcrypt, 'hash');
    const hasher = createPasswordHasher(5);
    const compare = vi.spyOn(bcrypt, 'compare');
    expect(hash).toHaveBeenCalledTimes(1); // the fixed hash is made up front, not on the first burn
    await hasher.burn('some password');
    expect(hash).toHaveBeenCalledTimes(1);
    expect(compare).toHaveBeenCalledTimes(1);
    expect(compare.mock.calls[0]?.[1]).toMatch(/^\$2[aby]\$05\$/);
    await hasher.burn('another password');
    expect(compare).toHaveBeenCalledTimes(2);
  });
});
