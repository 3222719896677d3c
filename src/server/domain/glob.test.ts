import { describe, it, expect } from 'vitest';
import { matchCapabilityPattern, matchScopePattern, patternCoversFolder } from './glob.ts';

describe('matchScopePattern', () => {
  it.each(['*', '**', '/*', '/**/'])('%j matches everything', (pattern) => {
    for (const path of ['a', 'a/b', 'a/b/c/d', 'x@prod', 'a/b@eu-1', '.hidden/x']) {
      expect(matchScopePattern(pattern, path)).toBe(true);
    }
  });

  it.each([
    ['myapp/config', 'myapp/config', true],
    ['/myapp/config/', 'myapp/config', true],
    ['myapp/config', '/myapp/config', true],
    ['myapp/config', 'myapp/config2', false],
    ['myapp/config', 'myapp', false],
    ['myapp/config', 'myapp/config/deeper', false],
    ['myapp/*', 'myapp/config', true],
    ['myapp/*', 'myapp/a/b', false],
    ['myapp/*', 'myapp', false],
    ['*/config', 'a/config', true],
    ['*/config', 'a/b/config', false],
    ['myapp/**', 'myapp', true],
    ['myapp/**', 'myapp/a', true],
    ['myapp/**', 'myapp/a/b/c', true],
    ['myapp/**', 'other/a', false],
    ['myapp/**', 'myappx/a', false],
    ['**/config', 'config', true],
    ['**/config', 'a/b/config', true],
    ['**/config', 'a/b/config/x', false],
    ['a/**/z', 'a/z', true],
    ['a/**/z', 'a/b/c/z', true],
    ['a/**/z', 'a/b/c', false],
    ['a/**/b/**/c', 'a/x/b/y/z/c', true],
    ['a/**/b/**/c', 'a/x/y/c', false],
    ['a/*/**', 'a', false],
    ['a/*/**', 'a/b', true],
  ])('%j vs %j → %s', (pattern, path, expected) => {
    expect(matchScopePattern(pattern, path)).toBe(expected);
  });

  it('treats partial-segment wildcards literally', () => {
    expect(matchScopePattern('my*/config', 'myapp/config')).toBe(false);
    expect(matchScopePattern('my*/config', 'my*/config')).toBe(true);
    expect(matchScopePattern('a/?', 'a/b')).toBe(false);
    expect(matchScopePattern('a/{b,c}', 'a/b')).toBe(false);
  });

  it('lets a base-path pattern cover its variants', () => {
    expect(matchScopePattern('myapp/**', 'myapp/config@prod')).toBe(true);
    expect(matchScopePattern('myapp/config', 'myapp/config@prod')).toBe(true);
    expect(matchScopePattern('*/config', 'myapp/config@prod')).toBe(true);
    expect(matchScopePattern('myapp/other', 'myapp/config@prod')).toBe(false);
  });

  it('lets a variant pattern match only that variant', () => {
    expect(matchScopePattern('myapp/config@prod', 'myapp/config@prod')).toBe(true);
    expect(matchScopePattern('myapp/config@prod', 'myapp/config')).toBe(false);
    expect(matchScopePattern('myapp/config@prod', 'myapp/config@dev')).toBe(false);
  });

  it('matches nothing with an empty pattern', () => {
    expect(matchScopePattern('', 'a')).toBe(false);
    expect(matchScopePattern('/', 'a')).toBe(false);
  });

  it('stays fast on many globstars', () => {
    const pattern = `${'**/'.repeat(30)}x`;
    const path = `${'a/'.repeat(60)}y`;
    const started = Date.now();
    expect(matchScopePattern(pattern, path)).toBe(false);
    expect(Date.now() - started).toBeLessThan(500);
  });
});

describe('matchCapabilityPattern', () => {
  it.each([
    ['team-a/**', 'team-a/apps/x', true],
    ['team-a/**', 'team-a', true],
    ['team-a/**', 'team-b/x', false],
    ['team-a/*', 'team-a/x', true],
    ['team-a/*', 'team-a/x/y', false],
    ['team-*/config', 'team-a/config', true],
    ['team-*/config', 'team-a/b/config', false],
    ['app/conf?g', 'app/config', true],
    ['app/{dev,prod}/*', 'app/prod/db', true],
    ['app/{dev,prod}/*', 'app/test/db', false],
    ['**/secrets', 'a/b/secrets', true],
    ['**', 'a/.hidden/x', true],
    ['a/*', 'a/.env', true],
    ['/team-a/**/', 'team-a/x', true],
  ])('%j vs %j → %s', (pattern, path, expected) => {
    expect(matchCapabilityPattern(pattern, path)).toBe(expected);
  });

  it('does not treat a bare * as matching nested paths (unlike scopes)', () => {
    expect(matchCapabilityPattern('*', 'top')).toBe(true);
    expect(matchCapabilityPattern('*', 'a/b')).toBe(false);
  });

  it('lets a base-path pattern cover its variants', () => {
    expect(matchCapabilityPattern('myapp/**', 'myapp/config@prod')).toBe(true);
    expect(matchCapabilityPattern('myapp/config', 'myapp/config@prod')).toBe(true);
    expect(matchCapabilityPattern('myapp/conf*', 'myapp/config@prod')).toBe(true);
    expect(matchCapabilityPattern('other/**', 'myapp/config@prod')).toBe(false);
  });

  it('lets a variant pattern match only that variant', () => {
    expect(matchCapabilityPattern('myapp/config@prod', 'myapp/config@prod')).toBe(true);
    expect(matchCapabilityPattern('myapp/config@prod', 'myapp/config')).toBe(false);
    expect(matchCapabilityPattern('myapp/config@prod', 'myapp/config@dev')).toBe(false);
    expect(matchCapabilityPattern('myapp/*@prod', 'myapp/config@prod')).toBe(true);
  });

  it('fails closed for empty patterns', () => {
    expect(matchCapabilityPattern('', 'a')).toBe(false);
    expect(matchCapabilityPattern('/', 'a')).toBe(false);
  });

  it('gives the same answers from the cache', () => {
    for (let i = 0; i < 3; i++) {
      expect(matchCapabilityPattern('cache/**', 'cache/x')).toBe(true);
      expect(matchCapabilityPattern('cache/**', 'other/x')).toBe(false);
    }
  });

  it('keeps working after the cache fills up', () => {
    for (let i = 0; i < 1100; i++) expect(matchCapabilityPattern(`p${i}/*`, `p${i}/x`)).toBe(true);
    expect(matchCapabilityPattern('p5/*', 'p5/y')).toBe(true);
  });
});

describe('patternCoversFolder', () => {
  it('shows the way to team-a/apps/** and nothing else', () => {
    const pattern = 'team-a/apps/**';
    for (const folder of ['', 'team-a', 'team-a/apps', 'team-a/apps/x', 'team-a/apps/x/y']) {
      expect(patternCoversFolder(pattern, folder)).toBe(true);
    }
    for (const folder of ['team-b', 'team-a/other', 'team-ab', 'team-b/apps']) {
      expect(patternCoversFolder(pattern, folder)).toBe(false);
    }
  });

  it('covers ancestors of an exact file pattern but not deeper folders', () => {
    expect(patternCoversFolder('a/b/config', '')).toBe(true);
    expect(patternCoversFolder('a/b/config', 'a')).toBe(true);
    expect(patternCoversFolder('a/b/config', 'a/b')).toBe(true);
    expect(patternCoversFolder('a/b/config', 'a/b/config')).toBe(true);
    expect(patternCoversFolder('a/b/config', 'a/b/config/x')).toBe(false);
    expect(patternCoversFolder('a/b/config', 'a/c')).toBe(false);
  });

  it('matches glob segments with picomatch', () => {
    expect(patternCoversFolder('team-*/apps/**', 'team-a')).toBe(true);
    expect(patternCoversFolder('team-*/apps/**', 'team-a/apps/x')).toBe(true);
    expect(patternCoversFolder('team-*/apps/**', 'other')).toBe(false);
    expect(patternCoversFolder('*/apps/*', 'x/apps')).toBe(true);
    expect(patternCoversFolder('*/apps/*', 'x/other')).toBe(false);
    expect(patternCoversFolder('team-?/x', 'team-b')).toBe(true);
    expect(patternCoversFolder('{dev,prod}/**', 'prod/db')).toBe(true);
    expect(patternCoversFolder('{dev,prod}/**', 'test')).toBe(false);
  });

  it('lets ** anywhere cover everything below that point', () => {
    expect(patternCoversFolder('**/secrets', 'any/where')).toBe(true);
    expect(patternCoversFolder('a/**/z', 'a/b/c')).toBe(true);
    expect(patternCoversFolder('a/**/z', 'b')).toBe(false);
  });

  it('expands brace alternatives that contain slashes', () => {
    const pattern = '{team-a/apps,team-b}/**';
    expect(patternCoversFolder(pattern, 'team-a')).toBe(true);
    expect(patternCoversFolder(pattern, 'team-a/apps/x')).toBe(true);
    expect(patternCoversFolder(pattern, 'team-a/other')).toBe(false);
    expect(patternCoversFolder(pattern, 'team-b/anything')).toBe(true);
    expect(patternCoversFolder(pattern, 'team-c')).toBe(false);
    expect(patternCoversFolder('x/{a/{b,c},d}/y', 'x/a/c')).toBe(true);
    expect(patternCoversFolder('x/{a/{b,c},d}/y', 'x/a/e')).toBe(false);
  });

  it('survives a brace bomb', () => {
    const pattern = `${'{a,b}/'.repeat(20)}z`;
    expect(patternCoversFolder(pattern, 'a/b/a')).toBe(true);
  });

  it('covers everything for a bare * or ** (the scope rule)', () => {
    expect(patternCoversFolder('*', 'a/b/c')).toBe(true);
    expect(patternCoversFolder('**', 'a/b/c')).toBe(true);
  });

  it('ignores leading and trailing slashes', () => {
    expect(patternCoversFolder('/team-a/apps/**/', '/team-a/')).toBe(true);
  });

  it('covers nothing for an empty pattern', () => {
    expect(patternCoversFolder('', '')).toBe(false);
    expect(patternCoversFolder('/', 'a')).toBe(false);
  });
});
