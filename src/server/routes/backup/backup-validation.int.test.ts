import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { encodeHead, PRELUDE_BYTES } from '../../services/backup/archive-format.ts';
import type { Store } from '../../storage/store.ts';
import { type Client, startTestApp, type TestApp } from '../../test-support/app-harness.ts';
import { save } from '../../test-support/config-fixtures.ts';
import { mint } from '../../test-support/identity-fixtures.ts';

/**
 * "Validating the whole archive before changing anything": every refused restore leaves the
 * target store exactly as it was — every key, value and revision — except for the audit entry
 * that records the refused request.
 */
let source: TestApp;
let target: TestApp;
let admin: Client;
let plain: Buffer;
let encrypted: Buffer;
let readOnlyToken: string;

beforeAll(async () => {
  source = await startTestApp();
  const sourceAdmin = await source.bootstrapAdmin();
  await save(sourceAdmin, 'from/backup', { content: '{"a":1}' });
  plain = (await sourceAdmin.get('/api/v1/backup')).rawPayload;
  encrypted = (await sourceAdmin.get('/api/v1/backup', { 'x-encryption-password': 'backup password' })).rawPayload;

  target = await startTestApp();
  // Its own admin name: a merge restore replaces a local user whose name the archive uses.
  admin = await target.bootstrapAdmin('target-admin');
  await save(admin, 'target/own', { content: '{"b":2}' });
  readOnlyToken = (await mint(admin, { scopes: [{ path: '**', operations: ['*'] }] })).raw;
});
afterAll(async () => {
  await source.close();
  await target.close();
});

/** Every key with its value and revision, audit entries apart (refused requests are audited). */
async function snapshot(store: Store): Promise<{ data: Map<string, string>; audit: Set<string> }> {
  const data = new Map<string, string>();
  const audit = new Set<string>();
  for await (const item of store.iterate('')) {
    if (item.key.startsWith('audit/')) audit.add(item.key);
    else data.set(item.key, `${item.revision}:${Buffer.from(item.value).toString('base64')}`);
  }
  return { data, audit };
}

interface Attempt {
  readonly body?: Buffer | string | undefined;
  readonly headers?: Record<string, string>;
  readonly query?: string;
  readonly as?: 'admin' | 'anonymous' | 'token';
}

async function attempt(a: Attempt): Promise<{ status: number; code: string; requestId: string }> {
  const auth = a.as === 'anonymous' ? {} : a.as === 'token' ? { authorization: `Bearer ${readOnlyToken}` } : { cookie: admin.cookie ?? '' };
  const contentType = a.body === undefined ? {} : { 'content-type': 'application/octet-stream' };
  const res = await target.app.inject({ method: 'POST', url: `/api/v1/backup${a.query ?? ''}`, headers: { ...contentType, ...auth, ...a.headers }, ...(a.body === undefined ? {} : { payload: a.body }) });
  return { status: res.statusCode, code: (JSON.parse(res.body) as { code: string }).code, requestId: String(res.headers['x-request-id']) };
}

function mutate(archive: Buffer, at: number, fn: (b: number) => number): Buffer {
  const copy = Buffer.from(archive);
  copy[at] = fn(copy[at] ?? 0);
  return copy;
}

/** A well-formed plain archive whose payload holds `lines`. */
function crafted(lines: { k: string; v: string }[]): Buffer {
  const gzip = gzipSync(lines.map((l) => `${JSON.stringify(l)}\n`).join(''));
  const sha = createHash('sha256').update(gzip).digest('hex');
  return Buffer.concat([encodeHead({ created_at: new Date().toISOString(), pika_version: 'test', entries: lines.length, payload_sha256: sha }, 0), gzip]);
}

const headerEnd = (archive: Buffer) => PRELUDE_BYTES + archive.readUInt32BE(11);

describe('restore refuses before writing anything', () => {
  const cases: [string, () => Attempt, number, string][] = [
    ['an empty body', () => ({ body: Buffer.alloc(0) }), 400, 'ERR_BACKUP_CORRUPT'],
    ['no body at all', () => ({}), 415, 'ERR_UNSUPPORTED_MEDIA_TYPE'],
    ['a JSON body', () => ({ body: '{"k":"v"}', headers: { 'content-type': 'application/json' } }), 415, 'ERR_UNSUPPORTED_MEDIA_TYPE'],
    ['text', () => ({ body: 'hello', headers: { 'content-type': 'text/plain' } }), 415, 'ERR_UNSUPPORTED_MEDIA_TYPE'],
    // Past the server-wide 32 MiB body limit: read in full (the archive parser allows 1 GiB), then refused.
    ['33 MiB of something else', () => ({ body: Buffer.alloc(33 * 1024 * 1024, 0x41) }), 400, 'ERR_BACKUP_CORRUPT'],
    ['a file that is not a backup', () => ({ body: Buffer.from('PK\u0003\u0004 a zip file, say') }), 400, 'ERR_BACKUP_CORRUPT'],
    ['wrong magic', () => ({ body: mutate(plain, 0, () => 0x51) }), 400, 'ERR_BACKUP_CORRUPT'],
    ['format version 2', () => ({ body: mutate(plain, 9, () => 2) }), 400, 'ERR_BACKUP_VERSION'],
    ['unknown flags', () => ({ body: mutate(plain, 10, () => 0x80) }), 400, 'ERR_BACKUP_CORRUPT'],
    ['a truncated header', () => ({ body: plain.subarray(0, PRELUDE_BYTES + 10) }), 400, 'ERR_BACKUP_CORRUPT'],
    ['a truncated payload', () => ({ body: plain.subarray(0, plain.length - 10) }), 400, 'ERR_BACKUP_CORRUPT'],
    ['a flipped payload byte', () => ({ body: mutate(plain, headerEnd(plain) + 20, (b) => b ^ 0x10) }), 400, 'ERR_BACKUP_CORRUPT'],
    ['a flipped encrypted byte', () => ({ body: mutate(encrypted, encrypted.length - 40, (b) => b ^ 0x10), headers: { 'x-encryption-password': 'backup password' } }), 400, 'ERR_BACKUP_CORRUPT'],
    ['an altered encrypted header', () => ({ body: Buffer.from(encrypted.toString('latin1').replace(/"created_at":"\d/, '"created_at":"9'), 'latin1'), headers: { 'x-encryption-password': 'backup password' } }), 400, 'ERR_BACKUP_CORRUPT'],
    ['a wrong password', () => ({ body: encrypted, headers: { 'x-encryption-password': 'not the password' } }), 403, 'ERR_BACKUP_PASSWORD'],
    ['a wrong password in the query', () => ({ body: encrypted, query: '?encryption_password=nope&wipe=true' }), 403, 'ERR_BACKUP_PASSWORD'],
    ['a missing password', () => ({ body: encrypted, query: '?wipe=true' }), 400, 'ERR_BACKUP_PASSWORD_REQUIRED'],
    ['an archive with a session', () => ({ body: crafted([{ k: 'cfg/file/x', v: 'e30=' }, { k: 'id/session/abc', v: 'e30=' }]), query: '?wipe=true' }), 400, 'ERR_BACKUP_CORRUPT'],
    ['a bad line late in the payload', () => ({ body: crafted([{ k: 'cfg/file/x', v: 'e30=' }, { k: 'cfg/file/y', v: 'not base64!' }]) }), 400, 'ERR_BACKUP_CORRUPT'],
    ['a bad X-Pika-Wipe', () => ({ body: plain, headers: { 'x-pika-wipe': 'yes' } }), 400, 'ERR_VALIDATION'],
    ['an over-long password', () => ({ body: encrypted, headers: { 'x-encryption-password': 'x'.repeat(5000) } }), 400, 'ERR_VALIDATION'],
    ['an unknown query parameter', () => ({ body: plain, query: '?mode=wipe' }), 400, 'ERR_VALIDATION'],
    ['no credentials', () => ({ body: plain, as: 'anonymous' }), 401, 'ERR_UNAUTHENTICATED'],
    ['a token without settings.manage', () => ({ body: plain, as: 'token', query: '?wipe=true' }), 403, 'ERR_FORBIDDEN'],
  ];

  it.each(cases)('%s', async (_name, make, status, code) => {
    await admin.get('/api/v1/audit'); // writes what earlier requests queued
    const before = await snapshot(target.store);
    const result = await attempt(make());
    expect({ status: result.status, code: result.code }).toEqual({ status, code });
    // The audit entry is written by an onResponse hook, which may run after inject() resolves:
    // poll the audit API (it flushes the queue) for this request's own entry.
    const entry = await vi.waitFor(async () => {
      const audit = await admin.get(`/api/v1/audit?_limit=20&action=${encodeURIComponent('POST /api/v1/backup')}`);
      const mine = (audit.json.entries as { id: string; request_id: string }[]).find((e) => e.request_id === result.requestId);
      expect(mine).toMatchObject({ action: 'POST /api/v1/backup', status });
      return mine!;
    });
    const after = await snapshot(target.store);
    expect(after.data).toEqual(before.data);
    expect([...after.audit].filter((k) => !before.audit.has(k))).toEqual([`audit/${entry.id}`]);
  });

  it('still accepts the untouched archives (the cases above fail for their stated reason)', async () => {
    expect(await attempt({ body: encrypted, headers: { 'x-encryption-password': 'backup password' } })).toMatchObject({ status: 200, code: undefined });
    expect((await target.withToken(readOnlyToken).get('/data/from/backup')).json).toEqual({ a: 1 });
    expect((await target.withToken(readOnlyToken).get('/data/target/own')).json).toEqual({ b: 2 });
  });
});
