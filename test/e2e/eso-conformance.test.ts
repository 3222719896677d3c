/**
 * ESO conformance (SPEC §13.2, kubernetes-prior-art.md §1a): the built server as a real process,
 * driven the way the External Secrets Operator's generic webhook provider drives it
 * (support/eso-webhook.ts re-implements ESO's request building and response handling, down to the
 * bytes on the wire). Every ESO quirk the provider must survive has a case here: only the status
 * line reaches the user, a 404 deletes Secrets, numbers must arrive as strings, `<no value>`
 * fills missing template fields, seed-style `/data` URLs carry their own query, the lock is a
 * 503 `Pika Locked` and never a 404, and the public port serves only what it should.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EsoWebhookClient, NoSecretError, sendRaw, type WebhookStore } from './support/eso-webhook.ts';
import { get, register, type Session } from './support/http.ts';
import { freePort, type PikaProcess, startPika, stopAllPika } from './support/server-process.ts';

const SERVER_KEY = 'eso conformance server key, long enough';
const CONFIG = [
  'db:',
  '  host: db.internal',
  '  port: 5432',
  '  password: "s3cr3t: with colon"',
  'replicas: 3',
  'pi: 3.14',
  'big: 12345678901234567890',
  'enabled: true',
  'nothing: null',
  'hosts: [a.example, b.example]',
  'tls.crt: CERT',
  '',
].join('\n');

let pika: PikaProcess;
let publicPort: number;
let admin: Session;
let readToken: string;
let pushToken: string;

/** The ClusterSecretStore of docs/guides/eso.md, for the provider endpoint. */
function esoStore(token: string, base = pika.baseUrl): WebhookStore {
  return {
    url: `${base}/eso/v1/secret?key={{ .remoteRef.key }}&property={{ .remoteRef.property }}&version={{ .remoteRef.version }}&ns={{ .remoteRef.namespace }}`,
    headers: { Authorization: 'Bearer {{ .pika.token }}' },
    jsonPath: '$.value',
    secrets: { pika: { token } },
  };
}

/** The seed's `/data` store: the key carries `?variant=&version=`, the raw body is the value. */
function dataStore(token: string): WebhookStore {
  return { url: `${pika.baseUrl}/data/{{ .remoteRef.key }}`, headers: { Accept: 'application/octet-stream', Authorization: 'Bearer {{ .pika.token }}' }, secrets: { pika: { token } } };
}

/** The PushSecret store of docs/guides/eso.md: one URL for push, delete and the IfNotExists read. */
function pushStore(token: string): WebhookStore {
  return {
    url: `${pika.baseUrl}/eso/v1/push?key={{ or .remoteRef.remoteKey .remoteRef.key }}`,
    headers: { Authorization: 'Bearer {{ .pika.token }}', 'Content-Type': 'application/octet-stream' },
    secrets: { pika: { token } },
  };
}

async function failure(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected the ESO call to fail');
}

beforeAll(async () => {
  publicPort = await freePort();
  pika = await startPika({ env: { PIKA_SERVER_PUBLIC_PORT: String(publicPort), PIKA_SERVER_PUBLIC_PATHS: 'public/**' } });
  admin = await register(pika.baseUrl);
  await admin.save('myapp/config', { format: 'yaml', content: CONFIG });
  await admin.save('myapp/config', { format: 'yaml', content: 'db:\n  host: v2.internal\n' });
  const prod = await admin.request('POST', '/api/v1/file/myapp/config?variant=prod', { meta: { format: 'yaml' }, content: 'db:\n  host: prod.internal\n' });
  expect(prod.status).toBe(201);
  await admin.save('myapp/numbers', { format: 'json', content: '{"id": 9007199254740993, "price": 10.50, "nested": {"n": 123456789012345678901234567890}}' });
  await admin.save('public/banner', { format: 'json', content: '{"text": "hello"}' });
  readToken = await admin.createToken('eso-read', [{ path: 'myapp/**', operations: ['read'] }, { path: 'public/**', operations: ['read'] }]);
  pushToken = await admin.createToken('eso-push', [{ path: 'pushed/**', operations: ['read', 'write', 'delete'] }]);
});

afterAll(async () => {
  await stopAllPika();
});

describe('ESO webhook provider against a real pika process', () => {
  it('data[]: one property per Secret key, resolved server-side, every value a string', async () => {
    const eso = new EsoWebhookClient(esoStore(readToken));
    const at = (property: string, version = '1') => eso.getSecret({ key: 'myapp/config', property, version });
    expect(await at('db.host')).toBe('db.internal');
    expect(await at('db.password')).toBe('s3cr3t: with colon');
    expect(await at('hosts.1')).toBe('b.example');
    expect(await at('tls.crt')).toBe('CERT');
    expect(await at('enabled')).toBe('true');
    expect(await at('nothing')).toBe('');
    expect(await at('db')).toBe('{"host":"db.internal","port":5432,"password":"s3cr3t: with colon"}');
    expect(await eso.getSecret({ key: 'myapp/config', property: 'db.host' })).toBe('v2.internal');
    expect(await eso.getSecret({ key: 'myapp/config?variant=prod', property: 'db.host' })).toBe('prod.internal');
  });

  it('numbers arrive as strings, exactly as written (ESO would print a JSON number 3.14 as "3")', async () => {
    const eso = new EsoWebhookClient(esoStore(readToken));
    expect(await eso.getSecret({ key: 'myapp/config', property: 'pi', version: '1' })).toBe('3.14');
    expect(await eso.getSecret({ key: 'myapp/config', property: 'replicas', version: '1' })).toBe('3');
    expect(await eso.getSecret({ key: 'myapp/config', property: 'big', version: '1' })).toBe('12345678901234567890');
    expect(await eso.getSecret({ key: 'myapp/numbers', property: 'id' })).toBe('9007199254740993');
    expect(await eso.getSecret({ key: 'myapp/numbers', property: 'price' })).toBe('10.50');
    // dataFrom.extract: pika sends the whole config as one exact JSON string; ESO itself parses it
    // into float64s, so past 2^53 only data[] with a property is exact (docs/guides/eso.md).
    const map = await eso.getSecretMap({ key: 'myapp/numbers' });
    expect(map).toEqual({ id: '9007199254740992', price: '10.5', nested: '{"n":1.2345678901234568e+29}' });
    expect(JSON.parse((await sendRaw(`${pika.baseUrl}/eso/v1/secret?key=myapp%2Fnumbers`, 'GET', { Authorization: `Bearer ${readToken}` }, Buffer.alloc(0))).body.toString()))
      .toEqual({ value: '{"id":9007199254740993,"price":10.50,"nested":{"n":123456789012345678901234567890}}' });
  });

  it('404 only when the config, version or property does not exist (ESO then applies deletionPolicy)', async () => {
    const eso = new EsoWebhookClient(esoStore(readToken));
    expect(await failure(eso.getSecret({ key: 'myapp/missing' }))).toBeInstanceOf(NoSecretError);
    expect(await failure(eso.getSecret({ key: 'myapp/config', property: 'db.nope' }))).toBeInstanceOf(NoSecretError);
    expect(await failure(eso.getSecret({ key: 'myapp/config', version: '99' }))).toBeInstanceOf(NoSecretError);
    // Out of scope, bad input and a wrong endpoint are errors that leave the Secret alone.
    expect((await failure(eso.getSecret({ key: 'other/secret' }))).message).toBe('endpoint gave error 403 Pika Forbidden: requires files.read on "other/secret"');
    expect((await failure(eso.getSecret({ key: '../etc/passwd' }))).message).toMatch(/^endpoint gave error 400 Pika Bad Request: /);
    const typo = new EsoWebhookClient({ ...esoStore(readToken), url: `${pika.baseUrl}/eso/v1/secrets?key={{ .remoteRef.key }}` });
    expect((await failure(typo.getSecret({ key: 'myapp/config' }))).message).toMatch(/^endpoint gave error 400 Pika Bad Request: no ESO endpoint GET \/eso\/v1\/secrets/);
  });

  it('says what is wrong with a token in the status line, the only text ESO shows', async () => {
    const none = new EsoWebhookClient({ ...esoStore(readToken), headers: {} });
    expect((await failure(none.getSecret({ key: 'myapp/config' }))).message).toMatch(/^endpoint gave error 401 Pika Token Required: send an API token/);
    const wrong = new EsoWebhookClient(esoStore(`pika_${'0'.repeat(64)}`));
    expect((await failure(wrong.getSecret({ key: 'myapp/config' }))).message).toMatch(/^endpoint gave error 401 Pika Token Invalid: /);
    const unlabelled = new EsoWebhookClient({ ...esoStore(readToken), secrets: {} });
    expect((await failure(unlabelled.getSecret({ key: 'myapp/config' }))).message).toMatch(/^endpoint gave error 401 Pika Token Invalid: the Authorization header holds "<no value>"/);
  });

  it('<no value>: absent when it arrives escaped, and a clear 400 when ESO sends it raw in the URL', async () => {
    const eso = new EsoWebhookClient(esoStore(readToken));
    // A remoteRef field that itself rendered as <no value> (a templated ExternalSecret) is escaped by ESO.
    expect(await eso.getSecret({ key: 'myapp/config', property: '<no value>', version: '<no value>' })).toBe(await eso.getSecret({ key: 'myapp/config' }));
    expect(await eso.getSecret({ key: '<no value>' }).catch((err: unknown) => (err as Error).message)).toMatch(/^endpoint gave error 400 Pika Bad Request: the request names no config/);
    // A URL template naming a field the operation does not fill puts a raw "<no value>" (with a
    // space) into the request line; no HTTP parser reads that, but the status line says why.
    const naive = new EsoWebhookClient({ ...esoStore(readToken), url: `${pika.baseUrl}/eso/v1/secret?key={{ .remoteRef.key }}&remoteKey={{ .remoteRef.remoteKey }}` });
    expect((await failure(naive.getSecret({ key: 'myapp/config' }))).message).toMatch(/^endpoint gave error 400 Pika Bad Request: the URL holds a raw "<no value>"/);
    // The documented template picks whichever field is filled.
    const shared = new EsoWebhookClient({ ...esoStore(readToken), url: `${pika.baseUrl}/eso/v1/secret?key={{ or .remoteRef.remoteKey .remoteRef.key }}&property={{ .remoteRef.property }}` });
    expect(await shared.getSecret({ key: 'myapp/config', property: 'db.host' })).toBe('v2.internal');
  });

  it('seed-style /data/<key>?variant=&version= with Accept: application/octet-stream returns the raw body', async () => {
    const eso = new EsoWebhookClient(dataStore(readToken));
    expect(await eso.getSecret({ key: 'myapp/config?version=1' })).toBe(CONFIG);
    expect(await eso.getSecret({ key: 'myapp/config?variant=prod' })).toBe('db:\n  host: prod.internal\n');
    expect(await eso.getSecret({ key: 'myapp/config?variant=prod&version=1' })).toBe('db:\n  host: prod.internal\n');
    expect(await failure(eso.getSecret({ key: 'myapp/gone?variant=prod' }))).toBeInstanceOf(NoSecretError);
    const json = new EsoWebhookClient({ ...dataStore(readToken), jsonPath: '$' });
    expect(await json.getSecret({ key: 'myapp/numbers' })).toBe(JSON.stringify(JSON.parse('{"id": 9007199254740993, "price": 10.50, "nested": {"n": 123456789012345678901234567890}}')));
  });

  it('PushSecret: pushes, answers the IfNotExists check, and deletes (a missing key is success)', async () => {
    const eso = new EsoWebhookClient(pushStore(pushToken));
    expect(await eso.secretExists('pushed/db-password')).toBe(false);
    await eso.pushSecret('pushed/db-password', 'p@ss "word" & more');
    expect(await eso.secretExists('pushed/db-password')).toBe(true);
    await eso.pushSecret('pushed/db-password', 'p@ss "word" & more'); // every refresh pushes again
    expect(await admin.versions('pushed/db-password')).toEqual([1]);
    const reader = new EsoWebhookClient(esoStore(pushToken));
    expect(await reader.getSecret({ key: 'pushed/db-password' })).toBe('p@ss "word" & more');
    // A whole Secret (no secretKey) is pushed as a JSON map and becomes a json config.
    await eso.pushSecret('pushed/whole', '{"username":"app","password":"pw"}');
    expect(await reader.getSecret({ key: 'pushed/whole', property: 'password' })).toBe('pw');

    const refused = new EsoWebhookClient(pushStore(readToken));
    expect((await failure(refused.pushSecret('pushed/x', 'v'))).message).toBe('failed to push webhook data: endpoint gave error 403 Pika Forbidden: requires files.write on "pushed/x"');

    // ESO fills no store secrets into a delete's headers: a templated token cannot authenticate…
    expect((await failure(eso.deleteSecret('pushed/db-password'))).message).toMatch(/^delete endpoint gave error 401 Pika Token Invalid: the Authorization header holds "<no value>"/);
    // …a literal one can.
    const literal = new EsoWebhookClient({ ...pushStore(pushToken), headers: { Authorization: `Bearer ${pushToken}` } });
    await literal.deleteSecret('pushed/db-password');
    expect(await eso.secretExists('pushed/db-password')).toBe(false);
    await literal.deleteSecret('pushed/db-password');
    await literal.deleteSecret('pushed/never-existed');
  });

  it('the public port serves only /data, /eso and /healthz, with a token unless the path is public', async () => {
    const base = `http://127.0.0.1:${publicPort}`;
    expect((await get(`${base}/healthz`)).status).toBe(200);
    for (const path of ['/api/v1/info', '/api/v1/key/status', '/openapi.json', '/login/info', '/']) expect((await get(`${base}${path}`)).status, path).toBe(404);
    const withToken = new EsoWebhookClient(esoStore(readToken, base));
    expect(await withToken.getSecret({ key: 'myapp/config', property: 'db.host' })).toBe('v2.internal');
    const anonymous = new EsoWebhookClient({ ...esoStore(readToken, base), headers: {} });
    expect(await anonymous.getSecret({ key: 'public/banner', property: 'text' })).toBe('hello');
    expect((await failure(anonymous.getSecret({ key: 'myapp/config', property: 'db.host' }))).message).toMatch(/^endpoint gave error 401 Pika Token Required/);
    const seedPublic = new EsoWebhookClient({ url: `${base}/data/{{ .remoteRef.key }}`, headers: { Accept: 'application/octet-stream' } });
    expect(await seedPublic.getSecret({ key: 'public/banner' })).toBe('{"text": "hello"}');
    // public_paths open nothing on the main port.
    const mainAnonymous = new EsoWebhookClient({ ...esoStore(readToken), headers: {} });
    expect((await failure(mainAnonymous.getSecret({ key: 'public/banner' }))).message).toMatch(/^endpoint gave error 401 /);
  });

  it('locked: 503 "Pika Locked" for known and unknown keys on both ports, never a 404; unlocking heals', async () => {
    expect((await admin.request('POST', '/api/v1/key/initialize', { key: SERVER_KEY })).status).toBe(200);
    expect((await admin.request('POST', '/api/v1/key/lock')).status).toBe(200);
    const stores = [esoStore(readToken), dataStore(readToken), esoStore(readToken, `http://127.0.0.1:${publicPort}`)];
    for (const store of stores) {
      const eso = new EsoWebhookClient(store);
      for (const key of ['myapp/config', 'myapp/does-not-exist']) {
        const err = await failure(eso.getSecret({ key, property: store.jsonPath ? 'db.host' : '' }));
        expect(err, `${store.url} ${key}`).not.toBeInstanceOf(NoSecretError);
        expect(err.message, `${store.url} ${key}`).toBe('endpoint gave error 503 Pika Locked');
      }
    }
    expect((await failure(new EsoWebhookClient(pushStore(pushToken)).pushSecret('pushed/while-locked', 'v'))).message).toBe('failed to push webhook data: endpoint gave error 503 Pika Locked');
    const status = (await get(`${pika.baseUrl}/api/v1/key/status`)).json<{ unlocked: boolean; server_id: string }>();
    expect(status.unlocked).toBe(false);
    expect(status.server_id).toBe((await get(`${pika.baseUrl}/api/v1/info`)).json<{ server_id: string }>().server_id);
    expect((await admin.request('POST', '/api/v1/key/unlock', { key: SERVER_KEY })).status).toBe(200);
    expect(await new EsoWebhookClient(esoStore(readToken)).getSecret({ key: 'myapp/config', property: 'db.host' })).toBe('v2.internal');
  });
});
