/**
 * `pika seal` with its I/O injected: the manifest it prints opens for exactly that object, the
 * passphrase comes from stdin only, and usage mistakes are exit code 2.
 */
import { generateKeyPairSync } from 'node:crypto';
import { parse } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import type { UnlockRequest } from '../../shared/crds/index.ts';
import { keyIdOf, open, type OpeningKey, readHeader } from './seal.ts';
import { passphraseOf, runSeal, type SealIo } from './seal-command.ts';

let pem: string;
let keys: OpeningKey[];

beforeAll(async () => {
  const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
  pem = pair.publicKey.export({ type: 'spki', format: 'pem' }).toString();
  keys = [{ kid: await keyIdOf(pair.publicKey), privateKey: pair.privateKey }];
});

function io(passphrase = 'typed passphrase') {
  const out: string[] = [];
  const err: string[] = [];
  const fetched: string[] = [];
  const fake: SealIo = {
    stdout: { write: (s: string) => out.push(s) },
    stderr: { write: (s: string) => err.push(s) },
    readPassphrase: async () => passphrase,
    readFile: async (path) => {
      if (path !== 'sealing.pem') throw new Error(`ENOENT: ${path}`);
      return pem;
    },
    fetch: (async (url: string) => {
      fetched.push(url);
      if (url === 'http://operator:8081/v1/cert.pem') return new Response(pem);
      if (url === 'http://pika:8080/api/v1/key/status') return new Response(JSON.stringify({ initialized: true, unlocked: true, server_id: 'srv-from-status' }));
      return new Response('no', { status: 404 });
    }) as typeof fetch,
  };
  return { fake, out: () => out.join(''), err: () => err.join(''), fetched };
}

describe('pika seal', () => {
  it('prints an UnlockRequest whose sealedKey opens for that namespace, name and server only', async () => {
    const t = io();
    expect(await runSeal(['--cert', 'sealing.pem', '-n', 'demo', '--name', 'main', '--server-id', 'srv-1'], t.fake)).toBe(0);
    const manifest = parse(t.out()) as UnlockRequest;
    expect(manifest).toMatchObject({ apiVersion: 'pika.io/v1alpha1', kind: 'UnlockRequest', metadata: { name: 'main', namespace: 'demo' }, spec: { serverRef: { kind: 'PikaServer', name: 'main' } } });
    expect(new TextDecoder().decode(await open(manifest.spec.sealedKey, keys, { namespace: 'demo', name: 'main', serverId: 'srv-1' }))).toBe('typed passphrase');
    await expect(open(manifest.spec.sealedKey, keys, { namespace: 'demo', name: 'other', serverId: 'srv-1' })).rejects.toThrow(/bound to name "main"/);
    expect(t.out() + t.err()).not.toContain('typed passphrase');
  });

  it('fetches the key from the operator and the server id from the server; --raw prints the value alone', async () => {
    const t = io();
    const code = await runSeal(['--operator-url', 'http://operator:8081/', '-n', 'demo', '--name', 'main', '--server-url', 'http://pika:8080', '--raw', '--server-ref', 'shared', '--cluster-server'], t.fake);
    expect(code).toBe(0);
    expect(t.fetched).toEqual(['http://operator:8081/v1/cert.pem', 'http://pika:8080/api/v1/key/status']);
    expect(readHeader(t.out().trim())).toMatchObject({ namespace: 'demo', name: 'main', serverId: 'srv-from-status', kid: keys[0]!.kid });
  });

  it('--fetch-cert prints the PEM and its key id', async () => {
    const t = io();
    expect(await runSeal(['--fetch-cert', '--operator-url', 'http://operator:8081'], t.fake)).toBe(0);
    expect(t.out()).toBe(pem);
    expect(t.err()).toBe(`key id ${keys[0]!.kid}\n`);
  });

  it('sets requireApproval and a ClusterPikaServer reference when asked', async () => {
    const t = io();
    await runSeal(['--cert', 'sealing.pem', '-n', 'demo', '--name', 'main', '--server-id', 's', '--require-approval', '--cluster-server', '--server-ref', 'shared'], t.fake);
    expect((parse(t.out()) as UnlockRequest).spec).toMatchObject({ serverRef: { kind: 'ClusterPikaServer', name: 'shared' }, requireApproval: true });
  });

  it.each([
    [['-n', 'demo', '--name', 'main', '--server-id', 's'], /--cert FILE or --operator-url URL/],
    [['--cert', 'sealing.pem', '--name', 'main', '--server-id', 's'], /--namespace NS and --name NAME/],
    [['--cert', 'sealing.pem', '-n', 'demo', '--name', 'main'], /--server-id ID or --server-url URL/],
    [['--cert', 'sealing.pem', '-n', 'demo', '--name', 'main', '--server-id', 's', '--passphrase', 'x'], /Unknown option '--passphrase'/],
    [['--cert', 'sealing.pem', '--operator-url', 'http://operator:8081', '-n', 'demo', '--name', 'main', '--server-id', 's'], /one of --cert and --operator-url/],
  ])('refuses %j with a usage error (exit 2)', async (args, message) => {
    const t = io();
    expect(await runSeal(args, t.fake)).toBe(2);
    expect(t.err()).toMatch(message);
    expect(t.out()).toBe('');
  });

  it('fails (exit 1) on an unreachable operator, a bad key or an empty passphrase', async () => {
    const t = io();
    expect(await runSeal(['--operator-url', 'http://nowhere:8081', '--fetch-cert'], t.fake)).toBe(1);
    expect(t.err()).toMatch(/the operator answered HTTP 404/);
    const empty = io('');
    expect(await runSeal(['--cert', 'sealing.pem', '-n', 'demo', '--name', 'main', '--server-id', 's'], empty.fake)).toBe(1);
    expect(empty.err()).toMatch(/passphrase is empty/);
  });

  it('drops one trailing newline from piped input, nothing else', () => {
    expect(passphraseOf('secret\n')).toBe('secret');
    expect(passphraseOf('secret\r\n')).toBe('secret');
    expect(passphraseOf(' secret \n\n')).toBe(' secret \n');
  });
});
