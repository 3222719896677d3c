import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Client, TestApp } from '../../test-support/app-harness.ts';
import { mintToken, save, startWithAdmin } from '../../test-support/config-fixtures.ts';

/** Version selection through `/data?version=` (SPEC §4 "Semver constraints", seed 000 table). */
describe('/data version selection', () => {
  let t: TestApp;
  let admin: Client;
  let data: Client;
  beforeEach(async () => {
    ({ t, admin } = await startWithAdmin());
    data = t.withToken((await mintToken(admin)).raw);
  });
  afterEach(async () => {
    await t.close();
  });

  async function history(path: string, constraints: string[]): Promise<void> {
    for (const [i, constraint] of constraints.entries()) {
      const version = await save(admin, path, { format: 'yaml', content: `version: ${i + 1}\n`, ...(constraint === '' ? {} : { constraint }) });
      expect(version).toBe(i + 1);
    }
  }

  async function pick(path: string, selector: string): Promise<number> {
    const res = await data.get(`/data/${path}?version=${encodeURIComponent(selector)}`);
    expect(res.status, `${selector}: ${res.body}`).toBe(200);
    const header = Number(res.headers['x-pika-version']);
    expect(res.body).toBe(`version: ${header}\n`);
    return header;
  }

  it('reproduces the seed table: 0.0.5 → v2, 0.1.5 → v4, 0.2.0 → v5', async () => {
    await history('myapp/config', ['', '', '>= 0.1.0', '', '>= 0.2.0']);
    const res = await data.get('/data/myapp/config?version=0.0.5');
    expect(res.status).toBe(200);
    expect(res.headers['x-pika-version']).toBe('2');
    expect(res.headers['content-type']).toBe('application/x-yaml');
    expect(res.body).toBe('version: 2\n');
    expect(await pick('myapp/config', '0.1.5')).toBe(4);
    expect(await pick('myapp/config', '0.2.0')).toBe(5);
    // Around the boundaries and beyond.
    expect(await pick('myapp/config', '0.0.99')).toBe(2);
    expect(await pick('myapp/config', '0.1.0')).toBe(4);
    expect(await pick('myapp/config', '0.1.99')).toBe(4);
    expect(await pick('myapp/config', '7.0.0')).toBe(5);
    expect(await pick('myapp/config', 'v0.1')).toBe(4);
    // The management API selects the same way.
    expect((await admin.get('/api/v1/file/myapp/config?version=0.1.5')).json.version).toBe(4);
  });

  it('shows each version its effective constraint', async () => {
    await history('myapp/config', ['', '', '>= 0.1.0', '', '>= 0.2.0']);
    const versions = (await admin.get('/api/v1/versions/myapp/config')).json as { effective_constraint: string }[];
    expect(versions.map((v) => v.effective_constraint)).toEqual(['', '', '>= 0.1.0', '>= 0.1.0', '>= 0.2.0']);
  });

  it('skips a soft-deleted version but keeps its constraint boundary', async () => {
    await history('myapp/config', ['', '', '>= 0.1.0', '', '>= 0.2.0']);
    await admin.delete('/api/v1/file/myapp/config?version=4');
    expect(await pick('myapp/config', '0.1.5')).toBe(3);
    await admin.delete('/api/v1/file/myapp/config?version=3');
    // v3 is gone, but 0.1.x apps must still not be served the pre-0.1.0 config.
    expect(await pick('myapp/config', '0.0.5')).toBe(2);
    expect(await pick('myapp/config', '0.1.5')).toBe(2);
  });

  const ranges: { range: string; hits: string[]; misses: string[] }[] = [
    { range: '^1.2.0', hits: ['1.2.0', '1.9.9'], misses: ['1.1.9', '2.0.0', '0.9.0'] },
    { range: '~1.2.0', hits: ['1.2.0', '1.2.7'], misses: ['1.3.0', '1.1.0'] },
    { range: '<2.0.0', hits: ['0.0.1', '1.9.9'], misses: ['2.0.0', '3.1.0'] },
    { range: '1.x || >=3.0.0', hits: ['1.0.0', '1.5.2', '3.0.0', '9.9.9'], misses: ['0.9.0', '2.5.0'] },
  ];
  for (const { range, hits, misses } of ranges) {
    it(`matches npm range ${range}`, async () => {
      await history('app/r', ['', range]);
      for (const v of hits) expect(await pick('app/r', v), v).toBe(2);
      for (const v of misses) expect(await pick('app/r', v), v).toBe(1);
    });
  }

  it('lets an unconstrained version inherit the range before it', async () => {
    await history('app/r', ['', '^1.0.0', '', '>=2.0.0']);
    expect(await pick('app/r', '1.5.0')).toBe(3);
    expect(await pick('app/r', '2.1.0')).toBe(4);
    expect(await pick('app/r', '0.5.0')).toBe(1);
  });

  it('picks an exact integer version, and latest by default', async () => {
    await history('app/r', ['', '>=5.0.0', '']);
    expect(await pick('app/r', '2')).toBe(2);
    expect(await pick('app/r', '1')).toBe(1);
    expect(await pick('app/r', 'latest')).toBe(3);
    const latest = await data.get('/data/app/r');
    expect(latest.headers['x-pika-version']).toBe('3');
  });

  for (const bad of ['abc', '0', '-1', '1.2.3.4', '01.2.0', 'v']) {
    it(`refuses the selector ${JSON.stringify(bad)} with ERR_VERSION_SELECTOR_INVALID`, async () => {
      await history('app/r', ['']);
      const res = await data.get(`/data/app/r?version=${encodeURIComponent(bad)}`);
      expect(res.status).toBe(400);
      expect(res.json.code).toBe('ERR_VERSION_SELECTOR_INVALID');
    });
  }

  it('answers 404 when nothing matches', async () => {
    await history('app/r', ['>=1.0.0', '']);
    const none = await data.get('/data/app/r?version=0.5.0');
    expect(none.status).toBe(404);
    expect(none.json.code).toBe('ERR_VERSION_NOT_FOUND');
    expect(await pick('app/r', '1.0.0')).toBe(2);
    const missingNumber = await data.get('/data/app/r?version=3');
    expect(missingNumber.status).toBe(404);
    expect(missingNumber.json.code).toBe('ERR_VERSION_NOT_FOUND');
    const missingFile = await data.get('/data/app/none?version=1.0.0');
    expect(missingFile.status).toBe(404);
    expect(missingFile.json.code).toBe('ERR_FILE_NOT_FOUND');
  });
});
