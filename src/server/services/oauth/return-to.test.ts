import { describe, expect, it } from 'vitest';
import { safeReturnTo } from './return-to.ts';

describe('safeReturnTo', () => {
  it('keeps relative paths under the base path, with their query', () => {
    expect(safeReturnTo('/api/v1/me?x=1', '')).toBe('/api/v1/me?x=1');
    expect(safeReturnTo('/pika/files/a', '/pika')).toBe('/pika/files/a');
    expect(safeReturnTo('/pika', '/pika')).toBe('/pika');
  });

  it.each([
    ['nothing', undefined],
    ['empty', ''],
    ['protocol-relative', '//evil.example/x'],
    ['absolute', 'https://evil.example/'],
    ['scheme', 'javascript:alert(1)'],
    ['relative without slash', 'evil'],
    ['backslash', '/\\evil.example'],
    ['a raw newline', '/a\nb'],
    ['outside the base path', '/elsewhere'],
    ['a sibling of the base path', '/pikachu'],
    ['dot segments out of the base path', '/pika/../elsewhere'],
    ['too long', `/pika/${'a'.repeat(3000)}`],
  ])('sends %s to the base path root', (_label, raw) => {
    expect(safeReturnTo(raw, '/pika')).toBe('/pika/');
  });

  it('uses / as the root without a base path, and normalises dot segments', () => {
    expect(safeReturnTo('//evil.example', '')).toBe('/');
    expect(safeReturnTo('/a/../b', '')).toBe('/b');
  });
});
