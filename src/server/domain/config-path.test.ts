import { describe, it, expect } from 'vitest';
import { AppError } from '../../shared/errors.ts';
import {
  ancestorFolders,
  baseName,
  fileKeyOf,
  normalizeConfigPath,
  normalizeVariant,
  parentFolder,
  splitFileKey,
} from './config-path.ts';

function errorOf(fn: () => unknown): AppError {
  try {
    fn();
  } catch (err) {
    if (err instanceof AppError) return err;
    throw err;
  }
  throw new Error('expected an AppError');
}

describe('normalizeConfigPath', () => {
  it('keeps valid paths as they are', () => {
    expect(normalizeConfigPath('myapp/config')).toBe('myapp/config');
    expect(normalizeConfigPath('a')).toBe('a');
    expect(normalizeConfigPath('team a/my app/config.json')).toBe('team a/my app/config.json');
    expect(normalizeConfigPath('ünïcode/日本')).toBe('ünïcode/日本');
    expect(normalizeConfigPath('a/.hidden/...')).toBe('a/.hidden/...');
  });

  it('strips one leading and one trailing slash', () => {
    expect(normalizeConfigPath('/a/b/')).toBe('a/b');
    expect(normalizeConfigPath('/a')).toBe('a');
    expect(normalizeConfigPath('a/')).toBe('a');
  });

  it('rejects a second leading or trailing slash as an empty segment', () => {
    expect(errorOf(() => normalizeConfigPath('//a')).code).toBe('ERR_PATH_INVALID');
    expect(errorOf(() => normalizeConfigPath('a//')).code).toBe('ERR_PATH_INVALID');
  });

  it.each(['', '/', '//'])('rejects the empty path %j', (raw) => {
    expect(errorOf(() => normalizeConfigPath(raw)).code).toBe('ERR_PATH_INVALID');
  });

  it('rejects empty segments and says so', () => {
    const err = errorOf(() => normalizeConfigPath('a//b'));
    expect(err.code).toBe('ERR_PATH_INVALID');
    expect(err.message).toContain('empty segment');
  });

  it.each([
    ['a/./b', '"."'],
    ['a/../b', '".."'],
    ['..', '".."'],
    ['a/b\\c', 'backslash'],
    ['a/b@prod', 'reserved for variants'],
    ['a/b\x00c', 'control character'],
    ['a/b\nc', 'control character'],
    ['a/b\x1fc', 'control character'],
    ['a/b\x7fc', 'control character'],
    ['a/\ud800x', 'unpaired surrogate'],
  ])('rejects %j naming the reason', (raw, reason) => {
    const err = errorOf(() => normalizeConfigPath(raw));
    expect(err.code).toBe('ERR_PATH_INVALID');
    expect(err.message).toContain(reason);
    expect(err.status).toBe(400);
  });

  it('names the bad segment in the message and details', () => {
    const err = errorOf(() => normalizeConfigPath('ok/ba\\d/ok'));
    expect(err.message).toContain(JSON.stringify('ba\\d'));
    expect(err.details).toEqual({ segment: 'ba\\d' });
  });

  it('limits segments to 255 UTF-8 bytes, not characters', () => {
    expect(normalizeConfigPath('x'.repeat(255))).toBe('x'.repeat(255));
    expect(errorOf(() => normalizeConfigPath('x'.repeat(256))).message).toContain('256 bytes');
    // 'é' is two bytes in UTF-8: 127 of them fit, 128 do not.
    expect(normalizeConfigPath('é'.repeat(127))).toBe('é'.repeat(127));
    expect(errorOf(() => normalizeConfigPath(`a/${'é'.repeat(128)}`)).code).toBe('ERR_PATH_INVALID');
  });

  it('allows characters outside the BMP (paired surrogates)', () => {
    expect(normalizeConfigPath('emoji/😀')).toBe('emoji/😀');
  });
});

describe('normalizeVariant', () => {
  it.each(['prod', 'eu-west-1', 'v1.2', 'A_b', '...', 'x'.repeat(64)])('accepts %j', (raw) => {
    expect(normalizeVariant(raw)).toBe(raw);
  });

  it.each(['', '.', '..', 'a/b', 'a@b', 'a b', 'é', 'a\\b', 'a\x00', 'x'.repeat(65)])('rejects %j', (raw) => {
    expect(errorOf(() => normalizeVariant(raw)).code).toBe('ERR_PATH_INVALID');
  });

  it('names the variant in the message', () => {
    expect(errorOf(() => normalizeVariant('a b')).message).toContain('"a b"');
    expect(errorOf(() => normalizeVariant('x'.repeat(65))).message).toContain('65 bytes');
  });
});

describe('file keys', () => {
  it('joins a path and a variant', () => {
    expect(fileKeyOf('a/b')).toBe('a/b');
    expect(fileKeyOf('a/b', undefined)).toBe('a/b');
    expect(fileKeyOf('a/b', '')).toBe('a/b');
    expect(fileKeyOf('a/b', 'prod')).toBe('a/b@prod');
  });

  it('splits what fileKeyOf joined', () => {
    expect(splitFileKey('a/b')).toEqual({ path: 'a/b', variant: undefined });
    expect(splitFileKey('a/b@prod')).toEqual({ path: 'a/b', variant: 'prod' });
    expect(splitFileKey(fileKeyOf('x/y.z', 'eu-1'))).toEqual({ path: 'x/y.z', variant: 'eu-1' });
  });
});

describe('folders', () => {
  it('finds the parent folder', () => {
    expect(parentFolder('a/b/c')).toBe('a/b');
    expect(parentFolder('a/b')).toBe('a');
    expect(parentFolder('a')).toBe('');
  });

  it('finds the base name', () => {
    expect(baseName('a/b/c')).toBe('c');
    expect(baseName('a')).toBe('a');
    expect(baseName('a/b@prod')).toBe('b@prod');
  });

  it('lists ancestors root first', () => {
    expect(ancestorFolders('a/b/c')).toEqual(['', 'a', 'a/b']);
    expect(ancestorFolders('a/b')).toEqual(['', 'a']);
    expect(ancestorFolders('a')).toEqual(['']);
  });
});
