import { describe, expect, it } from 'vitest';
import { esoTarget } from './eso-target.ts';

describe('esoTarget', () => {
  it('reads key, variant, version and property', () => {
    expect(esoTarget({ key: 'myapp/config', variant: 'prod', version: '3', property: 'db.host' })).toEqual({ path: 'myapp/config', variant: 'prod', version: '3', property: 'db.host' });
  });

  it('treats <no value> and empty values as absent, and falls back to remoteKey', () => {
    expect(esoTarget({ key: '<no value>', remoteKey: 'a/b', variant: '<no value>', version: '', property: ' <no value> ' })).toEqual({ path: 'a/b', variant: undefined, version: undefined, property: undefined });
    expect(() => esoTarget({ key: '<no value>', remoteKey: '<no value>' })).toThrow(expect.objectContaining({ code: 'ERR_ESO_KEY_MISSING' }));
    expect(() => esoTarget({})).toThrow(expect.objectContaining({ code: 'ERR_ESO_KEY_MISSING' }));
  });

  it('understands the /data conventions inside the key; explicit parameters win', () => {
    expect(esoTarget({ key: 'myapp/config?variant=prod&version=2&property=a' })).toEqual({ path: 'myapp/config', variant: 'prod', version: '2', property: 'a' });
    expect(esoTarget({ key: 'myapp/config?variant=prod', variant: 'dev' }).variant).toBe('dev');
    expect(esoTarget({ key: 'myapp/config?variant=prod', variant: '<no value>' }).variant).toBe('prod');
    expect(esoTarget({ key: 'myapp/config@prod' })).toMatchObject({ path: 'myapp/config', variant: 'prod' });
  });

  it('refuses invalid paths and variants', () => {
    expect(() => esoTarget({ key: '../etc/passwd' })).toThrow(expect.objectContaining({ code: 'ERR_PATH_INVALID' }));
    expect(() => esoTarget({ key: 'a', variant: 'no/slash' })).toThrow(expect.objectContaining({ code: 'ERR_PATH_INVALID' }));
  });
});
