import { describe, it, expect } from 'vitest';
import { AppError } from '../../shared/errors.ts';
import type { VersionInfo } from './semver-select.ts';
import { effectiveConstraints, normalizeConstraint, parseVersionSelector, selectVersion } from './semver-select.ts';

function errorOf(fn: () => unknown): AppError {
  try {
    fn();
  } catch (err) {
    if (err instanceof AppError) return err;
    throw err;
  }
  throw new Error('expected an AppError');
}

function v(version: number, constraint = '', deleted = false): VersionInfo {
  return { version, constraint, deleted };
}

/** Resolves an app version the way the API does: parse the selector, then select. */
function pick(versions: readonly VersionInfo[], raw: string | undefined): number | undefined {
  return selectVersion(versions, parseVersionSelector(raw));
}

describe('normalizeConstraint', () => {
  it('treats empty and blank as unconstrained', () => {
    expect(normalizeConstraint('')).toBe('');
    expect(normalizeConstraint('   ')).toBe('');
  });

  it.each([
    ['1.2.3', '>=1.2.3'],
    ['v1.2', '>=1.2.0'],
    ['V1.2', '>=1.2.0'],
    ['1', '>=1.0.0'],
    ['0.1', '>=0.1.0'],
    [' 2.0.1 ', '>=2.0.1'],
    ['1.2.3-beta.1', '>=1.2.3-beta.1'],
    ['1.2.3+build.5', '>=1.2.3'],
  ])('reads the bare version %j as %j', (raw, stored) => {
    expect(normalizeConstraint(raw)).toBe(stored);
  });

  it.each(['>= 0.1.0', '>=0.1.0', '^1.2.0', '~1.2.0', '<2.0.0', '1.x || >=3.0.0', '1.0.0 - 2.0.0', '>=1.0.0 <2', '=1.2.3', '*', '1.x'])(
    'keeps the range %j as typed',
    (raw) => {
      expect(normalizeConstraint(raw)).toBe(raw);
    },
  );

  it('trims ranges', () => {
    expect(normalizeConstraint('  ^1.2.0 ')).toBe('^1.2.0');
  });

  it.each(['latest', 'a || b', '>=', '>>1', '1.2.3.4', '01.2', '>=01.0.0', '1.2.3 -', 'v', '1.2.3-'])('rejects %j', (raw) => {
    const err = errorOf(() => normalizeConstraint(raw));
    expect(err.code).toBe('ERR_CONSTRAINT_INVALID');
    expect(err.status).toBe(400);
    expect(err.details).toEqual({ constraint: raw });
  });
});

describe('parseVersionSelector', () => {
  it.each([undefined, '', 'latest', 'LATEST', ' latest '])('reads %j as latest', (raw) => {
    expect(parseVersionSelector(raw)).toEqual({ kind: 'latest' });
  });

  it.each([
    ['1', 1],
    ['42', 42],
    ['007', 7],
    [String(Number.MAX_SAFE_INTEGER), Number.MAX_SAFE_INTEGER],
  ])('reads %j as exact version %i', (raw, version) => {
    expect(parseVersionSelector(raw)).toEqual({ kind: 'exact', version });
  });

  it.each(['0', '000', '9007199254740992', '99999999999999999999'])('rejects the exact version %j', (raw) => {
    expect(errorOf(() => parseVersionSelector(raw)).code).toBe('ERR_VERSION_SELECTOR_INVALID');
  });

  it.each([
    ['0.2', '0.2.0'],
    ['0.1.5', '0.1.5'],
    ['v0.1.0', '0.1.0'],
    ['V2', '2.0.0'],
    ['v1', '1.0.0'],
    ['1.2.3-beta.1', '1.2.3-beta.1'],
    ['1.2.3+build.7', '1.2.3+build.7'],
    ['1.2-rc.1', '1.2.0-rc.1'],
  ])('reads %j as app version %j', (raw, version) => {
    expect(parseVersionSelector(raw)).toEqual({ kind: 'semver', version });
  });

  it.each(['v', 'vx', '1.2.3.4', '1..2', '.1', '1.', '01.2', '1.2.3-', '1.2.3-01', 'abc', '-1', '1e3', '1,2', '^1.2'])(
    'rejects %j',
    (raw) => {
      const err = errorOf(() => parseVersionSelector(raw));
      expect(err.code).toBe('ERR_VERSION_SELECTOR_INVALID');
      expect(err.status).toBe(400);
    },
  );
});

describe('effectiveConstraints', () => {
  it('inherits the nearest older constraint, counting deleted versions', () => {
    const map = effectiveConstraints([v(4), v(1), v(3, '>= 0.1.0', true), v(2), v(6), v(5, '>= 0.2.0')]);
    expect([...map]).toEqual([
      [1, ''],
      [2, ''],
      [3, '>= 0.1.0'],
      [4, '>= 0.1.0'],
      [5, '>= 0.2.0'],
      [6, '>= 0.2.0'],
    ]);
  });

  it('is empty for no versions', () => {
    expect(effectiveConstraints([]).size).toBe(0);
  });
});

describe('selectVersion', () => {
  // The seed table: the canonical example of the algorithm.
  const seed = [v(1), v(2), v(3, '>= 0.1.0'), v(4), v(5, '>= 0.2.0')];

  it.each([
    ['0.0.5', 2],
    ['0.1.5', 4],
    ['0.2.0', 5],
    ['1.0.0', 5],
    ['v0.1.0', 4],
    ['0.1', 4],
    ['0.1.9', 4],
    ['0.0.1', 2],
  ])('seed table: app %s gets config v%i', (app, expected) => {
    expect(pick(seed, app)).toBe(expected);
  });

  it('does not depend on input order', () => {
    expect(pick([...seed].reverse(), '0.1.5')).toBe(4);
  });

  it('picks latest and exact versions', () => {
    expect(pick(seed, undefined)).toBe(5);
    expect(pick(seed, 'latest')).toBe(5);
    expect(pick(seed, '3')).toBe(3);
    expect(pick(seed, '9')).toBeUndefined();
  });

  it('treats pre-releases as ordinary versions when matching', () => {
    expect(pick(seed, '0.2.0-beta.1')).toBe(4);
    expect(pick(seed, '1.0.0-rc.1')).toBe(5);
  });

  it('supports caret ranges', () => {
    const versions = [v(1), v(2, '^1.2.0')];
    expect(pick(versions, '1.2.0')).toBe(2);
    expect(pick(versions, '1.9.9')).toBe(2);
    expect(pick(versions, '2.0.0')).toBe(1);
    expect(pick(versions, '1.1.9')).toBe(1);
  });

  it('supports tilde ranges', () => {
    const versions = [v(1), v(2, '~1.2.0')];
    expect(pick(versions, '1.2.7')).toBe(2);
    expect(pick(versions, '1.3.0')).toBe(1);
  });

  it('supports upper bounds', () => {
    const versions = [v(1, '<2.0.0'), v(2, '>=2.0.0')];
    expect(pick(versions, '1.5.0')).toBe(1);
    expect(pick(versions, '2.0.0')).toBe(2);
    expect(pick(versions, '3.1.0')).toBe(2);
  });

  it('supports alternatives', () => {
    const versions = [v(1), v(2, '1.x || >=3.0.0')];
    expect(pick(versions, '1.4.0')).toBe(2);
    expect(pick(versions, '2.5.0')).toBe(1);
    expect(pick(versions, '3.0.0')).toBe(2);
  });

  it('supports hyphen ranges', () => {
    const versions = [v(1), v(2, '1.0.0 - 2.0.0')];
    expect(pick(versions, '2.0.0')).toBe(2);
    expect(pick(versions, '2.0.1')).toBe(1);
  });

  it('skips deleted versions but keeps their constraint in effect', () => {
    const versions = [v(1), v(2), v(3, '>= 0.1.0', true), v(4), v(5, '>= 0.2.0', true)];
    expect(pick(versions, '0.2.5')).toBe(4);
    expect(pick(versions, '0.1.5')).toBe(4);
    expect(pick(versions, '0.0.5')).toBe(2);
    expect(pick(versions, 'latest')).toBe(4);
  });

  it('returns undefined for an exact version that is deleted', () => {
    expect(pick([v(1), v(2, '', true), v(3)], '2')).toBeUndefined();
  });

  it('returns undefined when there are no versions', () => {
    expect(pick([], 'latest')).toBeUndefined();
    expect(pick([], '1')).toBeUndefined();
    expect(pick([], '1.0.0')).toBeUndefined();
  });

  it('returns undefined when all are deleted', () => {
    expect(pick([v(1, '', true), v(2, '', true)], 'latest')).toBeUndefined();
  });

  it('returns undefined when every version is constrained and none is satisfied', () => {
    expect(pick([v(1, '>=1.0.0'), v(2), v(3, '>=2.0.0')], '0.5.0')).toBeUndefined();
  });

  it('falls back to the newest live unconstrained version when the older one is deleted', () => {
    expect(pick([v(1), v(2, '', true), v(3, '>=1.0.0')], '0.5.0')).toBe(1);
  });

  it('serves every app from unconstrained versions', () => {
    expect(pick([v(1), v(2)], '7.3.1')).toBe(2);
  });

  it('skips versions with a constraint it cannot read', () => {
    expect(pick([v(1), v(2, 'not a range')], '1.0.0')).toBe(1);
  });
});
