import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, normalizeBasePath } from './load-config.ts';
import { parseDuration } from '../../shared/duration.ts';

const emptyDir = () => mkdtempSync(join(tmpdir(), 'pika-cfg-'));

describe('loadConfig', () => {
  it('uses the documented defaults with no file and no environment', () => {
    const { config } = loadConfig({ env: {}, cwd: emptyDir() });
    expect(config.server.port).toBe(8080);
    expect(config.server.basePath).toBe('');
    expect(config.storage.path).toBe('data/pika');
    expect(config.storage.sync).toBe(true);
    expect(config.server.sessionTtlMs).toBe(24 * 3_600_000);
    expect(config.server.cookie).toEqual({ name: 'pika_session', secure: false, sameSite: 'lax' });
    expect(config.logLevel).toBe('info');
    expect(config.encryption.passwordFile).toBeUndefined();
    expect(Object.isFrozen(config.server)).toBe(true);
  });

  it('layers defaults < file < environment', () => {
    const dir = emptyDir();
    writeFileSync(join(dir, 'pika.yaml'), 'server:\n  port: 9000\n  base_path: /from-file\nlog_level: debug\n');
    const { config, file } = loadConfig({ env: { PIKA_SERVER_PORT: '9100' }, cwd: dir });
    expect(file).toBe(join(dir, 'pika.yaml'));
    expect(config.server.port).toBe(9100);
    expect(config.server.basePath).toBe('/from-file');
    expect(config.logLevel).toBe('debug');
  });

  it('reads nested keys that contain underscores from the environment', () => {
    const { config } = loadConfig({
      env: {
        PIKA_SERVER_BASE_PATH: '/pika/',
        PIKA_SERVER_AUTH_SESSION_TTL: '1h30m',
        PIKA_SERVER_AUTH_COOKIE_SECURE: 'true',
        PIKA_SERVER_AUTH_COOKIE_SAME_SITE: 'strict',
        PIKA_ENCRYPTION_PASSWORD_FILE: '/run/secrets/pika',
        PIKA_STORAGE_ETCD_ENDPOINTS: 'http://a:2379, http://b:2379',
      },
      cwd: emptyDir(),
    });
    expect(config.server.basePath).toBe('/pika');
    expect(config.server.sessionTtlMs).toBe(90 * 60_000);
    expect(config.server.cookie.secure).toBe(true);
    expect(config.server.cookie.sameSite).toBe('strict');
    expect(config.encryption.passwordFile).toBe('/run/secrets/pika');
    expect(config.storage.etcdEndpoints).toEqual(['http://a:2379', 'http://b:2379']);
  });

  it('accepts PIKA_STORAGE_BW_PATH and storage.bw.path as aliases, the canonical name winning', () => {
    expect(loadConfig({ env: { PIKA_STORAGE_BW_PATH: '/x' }, cwd: emptyDir() }).config.storage.path).toBe('/x');
    expect(loadConfig({ env: { PIKA_STORAGE_BW_PATH: '/x', PIKA_STORAGE_PATH: '/y' }, cwd: emptyDir() }).config.storage.path).toBe('/y');
    const dir = emptyDir();
    writeFileSync(join(dir, 'pika.yaml'), 'storage:\n  bw:\n    path: /data/pika\n');
    expect(loadConfig({ env: {}, cwd: dir }).config.storage.path).toBe('/data/pika');
  });

  it('reads an explicit --config file in TOML and JSON', () => {
    const dir = emptyDir();
    writeFileSync(join(dir, 'a.toml'), '[server]\nport = 7000\n');
    writeFileSync(join(dir, 'b.json'), '{"server":{"port":7001}}');
    expect(loadConfig({ configFile: 'a.toml', env: {}, cwd: dir }).config.server.port).toBe(7000);
    expect(loadConfig({ configFile: join(dir, 'b.json'), env: {}, cwd: '/' }).config.server.port).toBe(7001);
  });

  it('reports every problem at once', () => {
    const dir = emptyDir();
    writeFileSync(join(dir, 'pika.yaml'), 'server:\n  prot: 1\n  auth:\n    session_ttl: forever\nlog_level: loud\n');
    let caught: unknown;
    try {
      loadConfig({ env: { PIKA_SERVER_PORT: 'eighty', PIKA_SERVER_AUTH_COOKIE_SECURE: 'maybe' }, cwd: dir });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    const problems = (caught as ConfigError).problems.join('\n');
    expect(problems).toMatch(/PIKA_SERVER_PORT: expected a number/);
    expect(problems).toMatch(/PIKA_SERVER_AUTH_COOKIE_SECURE: expected true or false/);
    expect(problems).toMatch(/server: unknown setting\(s\) "prot"/);
    expect(problems).toMatch(/log_level \(PIKA_LOG_LEVEL\): "loud" is not one of fatal, error, warn, info, debug, trace, silent/);
    expect((caught as ConfigError).problems.length).toBeGreaterThanOrEqual(4);
  });

  it('reports bad durations, a bad base path and unsafe cookie settings', () => {
    const env = { PIKA_SERVER_AUTH_SESSION_TTL: '10', PIKA_SERVER_BASE_PATH: '/a b', PIKA_SERVER_AUTH_COOKIE_SAME_SITE: 'none' };
    expect(() => loadConfig({ env, cwd: emptyDir() })).toThrow(/session_ttl[\s\S]*base_path[\s\S]*same_site "none"/);
  });

  it('reads the public port and its public paths, which need the port', () => {
    const { config } = loadConfig({ env: { PIKA_SERVER_PUBLIC_PORT: '9090', PIKA_SERVER_PUBLIC_PATHS: 'public/**, docs/*' }, cwd: emptyDir() });
    expect(config.server.publicPort).toBe(9090);
    expect(config.server.publicPaths).toEqual(['public/**', 'docs/*']);
    expect(loadConfig({ env: {}, cwd: emptyDir() }).config.server.publicPaths).toEqual([]);
    expect(() => loadConfig({ env: { PIKA_SERVER_PUBLIC_PATHS: 'public/**' }, cwd: emptyDir() })).toThrow(/public_paths only applies to the public port/);
    expect(() => loadConfig({ env: { PIKA_SERVER_PUBLIC_PORT: '8080' }, cwd: emptyDir() })).toThrow(/public_port must differ/);
  });

  it('warns about unknown PIKA_ variables without failing', () => {
    const { warnings } = loadConfig({ env: { PIKA_NOPE: '1' }, cwd: emptyDir() });
    expect(warnings).toEqual(['unknown environment variable PIKA_NOPE ignored']);
  });

  it('reports a config file that does not parse', () => {
    const dir = emptyDir();
    writeFileSync(join(dir, 'pika.json'), '{nope');
    expect(() => loadConfig({ env: {}, cwd: dir })).toThrow(/does not parse/);
  });
});

describe('parseDuration and normalizeBasePath', () => {
  it('parses Go-style durations', () => {
    expect(parseDuration('24h')).toBe(86_400_000);
    expect(parseDuration('1h30m')).toBe(5_400_000);
    expect(parseDuration('500ms')).toBe(500);
    expect(parseDuration('90d')).toBe(90 * 86_400_000);
    expect(() => parseDuration('5')).toThrow(/needs a unit/);
    expect(() => parseDuration('5 hours')).toThrow(/invalid duration/);
  });

  it('normalises base paths', () => {
    expect(normalizeBasePath('/')).toBe('');
    expect(normalizeBasePath('/pika/')).toBe('/pika');
    expect(normalizeBasePath('/a/b')).toBe('/a/b');
    expect(normalizeBasePath('pika')).toBeUndefined();
    expect(normalizeBasePath('/a?b')).toBeUndefined();
  });
});
