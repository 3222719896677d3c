/**
 * The ESO webhook provider endpoints (SPEC §13.2, docs/guides/eso.md) through buildApp + inject:
 * values as text with numbers exactly as written, dot paths, `<no value>`, 404 only for what does
 * not exist, reason phrases, the lock gate, and PushSecret writes and deletes.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Client, TestApp, TestResponse } from '../../test-support/app-harness.ts';
import { mintToken, save, startWithAdmin } from '../../test-support/config-fixtures.ts';

const YAML = [
  'db:',
  '  host: db.internal',
  '  port: 5432',
  'hosts: [a.example, b.example]',
  'big: 12345678901234567890',
  'price: 1.10',
  'ratio: 0.1000000000000000055511151231257827',
  'enabled: true',
  'nothing: null',
  'tls.crt: CERT-TEXT',
  'tls:',
  '  key: KEY-TEXT',
  '',
].join('\n');

let t: TestApp;
let admin: Client;
let reader: Client;

beforeEach(async () => {
  ({ t, admin } = await startWithAdmin());
  await save(admin, 'myapp/config', { format: 'yaml', content: YAML });
  reader = t.withToken((await mintToken(admin, [{ path: 'myapp/**' }])).raw);
});
afterEach(async () => {
  await t.close();
});

function secret(query: string, client: Client = reader): Promise<TestResponse> {
  return client.get(`/eso/v1/secret?${query}`);
}

async function value(query: string, client: Client = reader): Promise<string> {
  const res = await secret(query, client);
  expect(res.status, res.body).toBe(200);
  expect(Object.keys(res.json)).toEqual(['value']);
  return res.json.value as string;
}

function expectError(res: TestResponse, status: number, code: string, phrase: string): void {
  expect(res.status, res.body).toBe(status);
  expect(res.json.code).toBe(code);
  expect(res.statusMessage.startsWith(phrase), res.statusMessage).toBe(true);
}

describe('GET /eso/v1/secret', () => {
  it('resolves dot paths and array indexes server-side and answers every value as a string', async () => {
    expect(await value('key=myapp/config&property=db.host')).toBe('db.internal');
    expect(await value('key=myapp/config&property=db.port')).toBe('5432');
    expect(await value('key=myapp/config&property=hosts.1')).toBe('b.example');
    expect(await value('key=myapp/config&property=enabled')).toBe('true');
    expect(await value('key=myapp/config&property=nothing')).toBe('');
    expect(await value('key=myapp/config&property=db')).toBe('{"host":"db.internal","port":5432}');
    expect(await value('key=myapp/config&property=hosts')).toBe('["a.example","b.example"]');
    // Kubernetes-style keys with dots: the longest matching key wins, then the nested path.
    expect(await value('key=myapp/config&property=tls.crt')).toBe('CERT-TEXT');
    expect(await value('key=myapp/config&property=tls.key')).toBe('KEY-TEXT');
  });

  it('keeps numbers exactly as written: no truncation, no lost digits, no reformatting', async () => {
    expect(await value('key=myapp/config&property=big')).toBe('12345678901234567890');
    expect(await value('key=myapp/config&property=price')).toBe('1.10');
    expect(await value('key=myapp/config&property=ratio')).toBe('0.1000000000000000055511151231257827');
    await save(admin, 'myapp/json', { format: 'json', content: '{"id": 9007199254740993, "list": [1.50, 2e400, -0.0], "nested": {"n": 123456789012345678901234567890}}' });
    expect(await value('key=myapp/json&property=id')).toBe('9007199254740993');
    expect(await value('key=myapp/json&property=list')).toBe('[1.50,2e400,-0.0]');
    expect(await value('key=myapp/json')).toBe('{"id":9007199254740993,"list":[1.50,2e400,-0.0],"nested":{"n":123456789012345678901234567890}}');
    await save(admin, 'myapp/toml', { format: 'toml', content: 'id = 9223372036854775807\nsmall = 1_000\n' });
    expect(await value('key=myapp/toml&property=id')).toBe('9223372036854775807');
    expect(await value('key=myapp/toml&property=small')).toBe('1000');
  });

  it('answers the whole config without a property: structured configs as JSON, raw ones as saved', async () => {
    const whole = await value('key=myapp/config');
    expect(whole).toContain('"big":12345678901234567890');
    expect(JSON.parse(whole)).toMatchObject({ db: { host: 'db.internal', port: 5432 }, enabled: true });
    await save(admin, 'myapp/cert', { format: 'raw', content: '-----BEGIN CERTIFICATE-----\nabc\n' });
    expect(await value('key=myapp/cert')).toBe('-----BEGIN CERTIFICATE-----\nabc\n');
  });

  it('applies inheritance and variants exactly like /data, keeping inherited numbers exact', async () => {
    await save(admin, 'shared/db', { format: 'json', content: '{"db": {"pool": 12345678901234567891, "user": "app"}}' });
    await save(admin, 'myapp/config', { format: 'yaml', content: 'db:\n  host: staging\n', variant: 'prod' });
    await save(admin, 'myapp/config', { format: 'yaml', content: 'db:\n  host: prod.internal\n', inherits: [{ source: 'shared/db' }], variant: 'prod' });
    const full = t.withToken((await mintToken(admin, [{ path: '**' }])).raw);
    expect(await value('key=myapp/config&variant=prod&property=db.pool', full)).toBe('12345678901234567891');
    expect(await value('key=myapp/config&variant=prod&property=db.host', full)).toBe('prod.internal');
    const data = await full.get('/data/myapp/config?variant=prod&format=json');
    expect(JSON.parse(await value('key=myapp/config&variant=prod', full))).toEqual(JSON.parse(data.body));
    // The inherited source must be readable too, as for /data.
    const res = await secret('key=myapp/config&variant=prod&property=db.host');
    expectError(res, 403, 'ERR_INHERIT_FORBIDDEN', 'Pika Forbidden: ');
    // Version 1 of the variant did not inherit yet.
    expect(await value('key=myapp/config&variant=prod&version=1&property=db.host', full)).toBe('staging');
  });

  it('reads versions, semver selectors and variants, also embedded in the key as for /data', async () => {
    await save(admin, 'myapp/config', { format: 'yaml', content: 'db:\n  host: v2\n', constraint: '>= 2.0.0' });
    await save(admin, 'myapp/config', { format: 'yaml', content: 'db:\n  host: prod\n', variant: 'prod' });
    expect(await value('key=myapp/config&property=db.host')).toBe('v2');
    expect(await value('key=myapp/config&property=db.host&version=1')).toBe('db.internal');
    expect(await value('key=myapp/config&property=db.host&version=1.9.0')).toBe('db.internal');
    expect(await value('key=myapp/config&property=db.host&version=2.1.0')).toBe('v2');
    expect(await value(`key=${encodeURIComponent('myapp/config?variant=prod')}&property=db.host`)).toBe('prod');
    expect(await value(`key=${encodeURIComponent('myapp/config?version=1&property=db.port')}`)).toBe('5432');
    expect(await value('key=myapp/config@prod&property=db.host')).toBe('prod');
    const res = await secret('key=myapp/config&variant=prod');
    expect(res.headers['x-pika-version']).toBe('1');
    expect(res.headers['cache-control']).toBe('no-store');
  });

  it('treats ESO’s literal <no value> (and empty values) as absent for key, property, version and variant', async () => {
    const nv = encodeURIComponent('<no value>');
    expect(await value(`key=myapp/config&property=${nv}&version=${nv}&variant=${nv}&ns=${nv}`)).toBe(await value('key=myapp/config'));
    expect(await value('key=myapp/config&property=&version=&variant=')).toBe(await value('key=myapp/config'));
    expect(await value(`key=${nv}&remoteKey=myapp/config&property=db.host`)).toBe('db.internal');
    const missing = await secret(`key=${nv}&property=db.host`);
    expectError(missing, 400, 'ERR_ESO_KEY_MISSING', 'Pika Bad Request: ');
  });

  it('answers 404 only for a config, version or property that does not exist', async () => {
    expectError(await secret('key=myapp/missing'), 404, 'ERR_FILE_NOT_FOUND', 'Pika Config Not Found: ');
    expectError(await secret('key=myapp/config&property=db.nope'), 404, 'ERR_ESO_PROPERTY_NOT_FOUND', 'Pika Property Not Found: ');
    expectError(await secret('key=myapp/config&property=hosts.2'), 404, 'ERR_ESO_PROPERTY_NOT_FOUND', 'Pika Property Not Found: ');
    expectError(await secret('key=myapp/config&version=7'), 404, 'ERR_VERSION_NOT_FOUND', 'Pika Version Not Found: ');
    expectError(await secret('key=myapp/config&variant=nope'), 404, 'ERR_FILE_NOT_FOUND', 'Pika Config Not Found: ');
    await save(admin, 'myapp/cert', { format: 'raw', content: 'PEM' });
    expectError(await secret('key=myapp/cert&property=a'), 404, 'ERR_ESO_PROPERTY_NOT_FOUND', 'Pika Property Not Found: ');
    // Mistakes are not "does not exist": bad paths, unknown parameters and unknown endpoints are 400s.
    expectError(await secret('key=../etc'), 400, 'ERR_PATH_INVALID', 'Pika Bad Request: ');
    expectError(await secret('key=myapp/config&colour=red'), 400, 'ERR_VALIDATION', 'Pika Bad Request: ');
    expectError(await reader.get('/eso/v1/secrets?key=myapp/config'), 400, 'ERR_ESO_ENDPOINT_UNKNOWN', 'Pika Bad Request: ');
    expectError(await reader.get('/eso/v2/secret?key=myapp/config'), 400, 'ERR_ESO_ENDPOINT_UNKNOWN', 'Pika Bad Request: ');
    expectError(await t.request({ method: 'PUT', url: '/eso/v1/secret?key=myapp/config', headers: { authorization: 'Bearer x' } }), 400, 'ERR_ESO_ENDPOINT_UNKNOWN', 'Pika Bad Request: ');
  });

  it('explains 401 and 403 in the reason phrase, the only text ESO shows', async () => {
    expectError(await t.request({ url: '/eso/v1/secret?key=myapp/config' }), 401, 'ERR_UNAUTHENTICATED', 'Pika Token Required: ');
    expectError(await admin.get('/eso/v1/secret?key=myapp/config'), 401, 'ERR_UNAUTHENTICATED', 'Pika Token Required: ');
    expectError(await t.withToken(`pika_${'0'.repeat(64)}`).get('/eso/v1/secret?key=myapp/config'), 401, 'ERR_TOKEN_INVALID', 'Pika Token Invalid: ');
    const other = t.withToken((await mintToken(admin, [{ path: 'other/**' }])).raw);
    const forbidden = await other.get('/eso/v1/secret?key=myapp/config');
    expectError(forbidden, 403, 'ERR_FORBIDDEN', 'Pika Forbidden: ');
    expect(forbidden.statusMessage).toBe('Pika Forbidden: requires files.read on "myapp/config"');
    // Out of scope and missing is still 403, never a 404 that would delete a Secret.
    expectError(await other.get('/eso/v1/secret?key=myapp/missing'), 403, 'ERR_FORBIDDEN', 'Pika Forbidden: ');
    const { id, raw } = await mintToken(admin, [{ path: 'myapp/**' }]);
    expect((await admin.patch(`/api/v1/tokens/${id}`, { active: false })).status).toBe(200);
    expectError(await t.withToken(raw).get('/eso/v1/secret?key=myapp/config'), 403, 'ERR_TOKEN_DISABLED', 'Pika Token Disabled: ');
  });

  it('answers 503 "Pika Locked" while locked, for known and unknown keys and endpoints alike', async () => {
    expect((await admin.post('/api/v1/key/initialize', { key: 'a long enough server key' })).status).toBe(200);
    expect((await admin.post('/api/v1/key/lock')).status).toBe(200);
    for (const url of ['/eso/v1/secret?key=myapp/config&property=db.host', '/eso/v1/secret?key=myapp/missing', '/eso/v1/secret', '/eso/v1/nope', '/eso/v1/push?key=myapp/x']) {
      const res = await reader.get(url);
      expect(res.status, url).toBe(503);
      expect(res.statusMessage, url).toBe('Pika Locked');
      expect(res.headers['x-pika-locked'], url).toBe('true');
      expect(res.json.code, url).toBe('server_locked');
    }
    const push = await t.request({ method: 'POST', url: '/eso/v1/push?remoteKey=myapp/x', headers: { 'content-type': 'application/octet-stream' }, body: 'v' });
    expect([push.status, push.statusMessage]).toEqual([503, 'Pika Locked']);
  });
});

describe('PushSecret: POST and DELETE /eso/v1/push', () => {
  let pusher: Client;
  beforeEach(async () => {
    pusher = t.withToken((await mintToken(admin, [{ path: 'pushed/**', operations: ['read', 'write', 'delete'] }])).raw);
  });

  function push(url: string, body: string | undefined, headers: Record<string, string> = {}, client: Client = pusher): Promise<TestResponse> {
    return client.post(url, body, headers);
  }

  it('stores a raw body (with or without a Content-Type) as a new version, and skips unchanged values', async () => {
    const first = await push('/eso/v1/push?remoteKey=pushed/db-password', 's3cr3t "quoted"', { 'content-type': 'application/octet-stream' });
    expect(first.status, first.body).toBe(201);
    expect(first.json).toEqual({ key: 'pushed/db-password', version: 1, changed: true });
    expect(await value('key=pushed/db-password', pusher)).toBe('s3cr3t "quoted"');
    const again = await push('/eso/v1/push?remoteKey=pushed/db-password', 's3cr3t "quoted"', { 'content-type': 'application/octet-stream' });
    expect([again.status, again.json.version, again.json.changed]).toEqual([200, 1, false]);
    // ESO sends no Content-Type unless the store sets one.
    const bare = await t.app.inject({ method: 'POST', url: '/eso/v1/push?remoteKey=pushed/db-password', headers: { authorization: (await pusherHeader()) }, payload: 'rotated' });
    expect(bare.statusCode, bare.body).toBe(201);
    expect(JSON.parse(bare.body)).toMatchObject({ version: 2, changed: true });
    const file = await admin.get('/api/v1/file/pushed/db-password');
    expect(file.json.meta.format).toBe('raw');
    expect(Buffer.from(file.json.data as string, 'base64').toString()).toBe('rotated');
    const audit = await admin.get('/api/v1/audit?action=POST%20%2Feso%2Fv1%2Fpush');
    expect(audit.status, audit.body).toBe(200);
    expect(JSON.stringify(audit.json)).toContain('pushed/db-password');
  });

  async function pusherHeader(): Promise<string> {
    const { raw } = await mintToken(admin, [{ path: 'pushed/**', operations: ['read', 'write'] }]);
    return `Bearer ${raw}`;
  }

  it('accepts JSON {"value": …}: strings as they are, other values as exact JSON; a JSON object becomes a json config', async () => {
    const str = await push('/eso/v1/push?key=pushed/a', JSON.stringify({ value: 'plain text' }), { 'content-type': 'application/json' });
    expect(str.status, str.body).toBe(201);
    expect(await value('key=pushed/a', pusher)).toBe('plain text');
    const obj = await push('/eso/v1/push?key=pushed/b', '{"value": {"user": "app", "id": 12345678901234567890}}', { 'content-type': 'application/json' });
    expect(obj.status, obj.body).toBe(201);
    expect(await value('key=pushed/b&property=id', pusher)).toBe('12345678901234567890');
    expect((await admin.get('/api/v1/file/pushed/b')).json.meta.format).toBe('json');
    // A whole Secret pushed raw (PushSecret without secretKey sends a JSON map) is a json config too.
    const map = await push('/eso/v1/push?remoteKey=pushed/c', '{"username":"u","password":"p"}', { 'content-type': 'application/octet-stream' });
    expect(map.status, map.body).toBe(201);
    expect(await value('key=pushed/c&property=password', pusher)).toBe('p');
    expect((await push('/eso/v1/push?key=pushed/d', '{"value": 1, "other": 2}', { 'content-type': 'application/json' })).json.code).toBe('ERR_VALIDATION');
    expect((await push('/eso/v1/push?key=pushed/d', '{"value": ', { 'content-type': 'application/json' })).json.code).toBe('ERR_MALFORMED_BODY');
    const plain = await push('/eso/v1/push?key=pushed/d', 'x', { 'content-type': 'text/plain' });
    expect([plain.status, plain.json.code]).toEqual([415, 'ERR_UNSUPPORTED_MEDIA_TYPE']);
  });

  it('keeps the format, description and inheritance of an existing config, and checks its syntax', async () => {
    await save(admin, 'pushed/app', { format: 'yaml', content: 'a: 1\n', description: 'kept' });
    const ok = await push('/eso/v1/push?remoteKey=pushed/app', 'a: 2\n', { 'content-type': 'application/octet-stream' });
    expect(ok.status, ok.body).toBe(201);
    const file = await admin.get('/api/v1/file/pushed/app');
    expect(file.json.meta).toMatchObject({ format: 'yaml', description: 'kept' });
    const bad = await push('/eso/v1/push?remoteKey=pushed/app', 'a: [', { 'content-type': 'application/octet-stream' });
    expect([bad.status, bad.json.code]).toEqual([400, 'ERR_SYNTAX']);
    const asToml = await push('/eso/v1/push?remoteKey=pushed/app&format=toml', 'a = 3\n', { 'content-type': 'application/octet-stream' });
    expect(asToml.status, asToml.body).toBe(201);
    expect((await admin.get('/api/v1/file/pushed/app')).json.meta.format).toBe('toml');
    const variant = await push('/eso/v1/push?remoteKey=pushed/app&variant=prod&format=toml', 'a = 4\n', { 'content-type': 'application/octet-stream' });
    expect([variant.status, variant.json.key]).toEqual([201, 'pushed/app@prod']);
    const withProperty = await push('/eso/v1/push?remoteKey=pushed/app&property=a', '5', { 'content-type': 'application/octet-stream' });
    expect([withProperty.status, withProperty.json.code]).toEqual([400, 'ERR_VALIDATION']);
  });

  it('honours write and delete scopes, and treats deleting a missing key as success', async () => {
    const readOnly = await push('/eso/v1/push?remoteKey=myapp/config', 'x', { 'content-type': 'application/octet-stream' }, reader);
    expectError(readOnly, 403, 'ERR_FORBIDDEN', 'Pika Forbidden: requires files.write');
    const outside = await push('/eso/v1/push?remoteKey=elsewhere/x', 'x', { 'content-type': 'application/octet-stream' });
    expectError(outside, 403, 'ERR_FORBIDDEN', 'Pika Forbidden: ');
    expectError(await t.request({ method: 'POST', url: '/eso/v1/push?remoteKey=pushed/x', headers: { 'content-type': 'application/octet-stream' }, body: 'x' }), 401, 'ERR_UNAUTHENTICATED', 'Pika Token Required: ');
    expect((await push('/eso/v1/push?remoteKey=pushed/gone', 'x', { 'content-type': 'application/octet-stream' })).status).toBe(201);

    const writeOnly = t.withToken((await mintToken(admin, [{ path: 'pushed/**', operations: ['write'] }])).raw);
    expectError(await writeOnly.delete('/eso/v1/push?remoteKey=pushed/gone'), 403, 'ERR_FORBIDDEN', 'Pika Forbidden: ');
    expect((await pusher.get('/data/pushed/gone')).status).toBe(200);

    const nv = encodeURIComponent('<no value>');
    const deleted = await pusher.delete(`/eso/v1/push?key=${nv}&remoteKey=pushed/gone`);
    expect(deleted.status, deleted.body).toBe(204);
    expect((await pusher.get('/data/pushed/gone')).status).toBe(404);
    expect((await pusher.delete('/eso/v1/push?remoteKey=pushed/gone')).status).toBe(204);
    expect((await pusher.delete('/eso/v1/push?key=pushed/never-existed')).status).toBe(204);
    expectError(await reader.delete('/eso/v1/push?key=myapp/config'), 403, 'ERR_FORBIDDEN', 'Pika Forbidden: ');
  });

  it('answers the IfNotExists check (GET on the push URL, filled with key) with 200 or 404', async () => {
    const nv = encodeURIComponent('<no value>');
    expectError(await pusher.get(`/eso/v1/push?key=pushed/new&remoteKey=${nv}&property=&version=`), 404, 'ERR_FILE_NOT_FOUND', 'Pika Config Not Found: ');
    expect((await push('/eso/v1/push?remoteKey=pushed/new', 'v', { 'content-type': 'application/octet-stream' })).status).toBe(201);
    expect(await value('key=pushed/new', pusher)).toBe('v');
    const exists = await pusher.get(`/eso/v1/push?key=pushed/new&remoteKey=${nv}&property=&version=`);
    expect([exists.status, exists.json]).toEqual([200, { value: 'v' }]);
  });
});
