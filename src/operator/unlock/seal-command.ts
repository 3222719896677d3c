import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { stringify } from 'yaml';
import { UNLOCK_REQUEST_RESOURCE, type UnlockRequest } from '../../shared/crds/index.ts';
import { keyIdOf, publicKeyFromPem, seal } from './seal.ts';

/**
 * `pika seal` (like kubeseal): seals a pika server passphrase for one UnlockRequest. The
 * passphrase is read from stdin (typed without echo on a terminal, or piped), never from the
 * command line, where it would end up in the shell history and the process list.
 *
 *   pika seal --fetch-cert --operator-url http://127.0.0.1:8081 > sealing.pem
 *   pika seal --cert sealing.pem -n demo --name main --server-id <id> < passphrase.txt > unlock.yaml
 */
export const SEAL_HELP = `usage: pika seal [options] < passphrase

Seals a pika server passphrase into an UnlockRequest (printed as YAML) that only the pika
operator of this cluster can open, and only for this namespace, name and server.

  --cert FILE            the operator's sealing public key (PEM, from --fetch-cert)
  --operator-url URL     fetch it from the operator instead (its health port, e.g. http://127.0.0.1:8081)
  --fetch-cert           print the operator's public key (needs --operator-url) and exit
  -n, --namespace NS     namespace of the UnlockRequest (required)
  --name NAME            name of the UnlockRequest (required)
  --server-id ID         the pika server's id (kubectl get psrv NAME -o jsonpath='{.status.serverId}')
  --server-url URL       or read it from the server's /api/v1/key/status
  --server-ref NAME      the PikaServer (or ClusterPikaServer) the UnlockRequest names (default: main)
  --cluster-server       serverRef is a ClusterPikaServer
  --require-approval     set spec.requireApproval (every unlock waits for an annotation)
  --raw                  print only the sealed value (for spec.sealedKey)
  -h, --help             this text

The passphrase is read from stdin: typed (no echo) on a terminal, or piped; one trailing newline
is dropped. It is never accepted as an argument.
`;

export interface SealIo {
  readonly stdout: { write(s: string): unknown };
  readonly stderr: { write(s: string): unknown };
  /** The passphrase from stdin (prompting on a terminal). */
  readonly readPassphrase: () => Promise<string>;
  readonly readFile: (path: string) => Promise<string>;
  readonly fetch: typeof fetch;
}

class UsageError extends Error {}

const OPTIONS = {
  cert: { type: 'string' },
  'operator-url': { type: 'string' },
  'fetch-cert': { type: 'boolean' },
  namespace: { type: 'string', short: 'n' },
  name: { type: 'string' },
  'server-id': { type: 'string' },
  'server-url': { type: 'string' },
  'server-ref': { type: 'string' },
  'cluster-server': { type: 'boolean' },
  'require-approval': { type: 'boolean' },
  raw: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; strict: true }>>['values'];

const trimSlash = (url: string) => url.replace(/\/+$/, '');

async function getText(io: SealIo, url: string, what: string): Promise<string> {
  let response: Response;
  try {
    response = await io.fetch(url, { signal: AbortSignal.timeout(10_000) });
  } catch (err) {
    throw new Error(`cannot reach ${what} at ${url}: ${(err as Error).message}`);
  }
  if (!response.ok) throw new Error(`${what} answered HTTP ${response.status} at ${url}`);
  return response.text();
}

async function certPem(values: Values, io: SealIo): Promise<string> {
  if (values.cert !== undefined && values['operator-url'] !== undefined) throw new UsageError('give one of --cert and --operator-url');
  if (values.cert !== undefined) return io.readFile(values.cert);
  if (values['operator-url'] !== undefined) return getText(io, `${trimSlash(values['operator-url'])}/v1/cert.pem`, 'the operator');
  throw new UsageError('give the sealing key: --cert FILE or --operator-url URL');
}

async function serverIdOf(values: Values, io: SealIo): Promise<string> {
  if (values['server-id'] !== undefined && values['server-url'] !== undefined) throw new UsageError('give one of --server-id and --server-url');
  if (values['server-id'] !== undefined) return values['server-id'];
  if (values['server-url'] === undefined) throw new UsageError('give the server: --server-id ID or --server-url URL');
  const body = await getText(io, `${trimSlash(values['server-url'])}/api/v1/key/status`, 'the pika server');
  const id = (JSON.parse(body) as { server_id?: unknown }).server_id;
  if (typeof id !== 'string' || id === '') throw new Error('the pika server does not report a server_id (too old a version?)');
  return id;
}

function manifest(values: Values, namespace: string, name: string, sealedKey: string): string {
  const request: UnlockRequest = {
    apiVersion: UNLOCK_REQUEST_RESOURCE.apiVersion,
    kind: UNLOCK_REQUEST_RESOURCE.kind,
    metadata: { name, namespace },
    spec: {
      serverRef: { kind: values['cluster-server'] ? 'ClusterPikaServer' : 'PikaServer', name: values['server-ref'] ?? 'main' },
      sealedKey,
      ...(values['require-approval'] ? { requireApproval: true } : {}),
    },
  };
  return stringify(request, { lineWidth: 0 });
}

async function run(argv: readonly string[], io: SealIo): Promise<number> {
  const { values } = parseArgs({ args: [...argv], options: OPTIONS, strict: true, allowPositionals: false });
  if (values.help) {
    io.stdout.write(SEAL_HELP);
    return 0;
  }
  const pem = await certPem(values, io);
  const publicKey = publicKeyFromPem(pem);
  if (values['fetch-cert']) {
    io.stdout.write(publicKey.export({ type: 'spki', format: 'pem' }).toString());
    io.stderr.write(`key id ${await keyIdOf(publicKey)}\n`);
    return 0;
  }
  const namespace = values.namespace;
  const name = values.name;
  if (!namespace || !name) throw new UsageError('give the UnlockRequest: --namespace NS and --name NAME (the sealed value works for that object only)');
  const serverId = await serverIdOf(values, io);
  const passphrase = await io.readPassphrase();
  const sealedKey = await seal(passphrase, { namespace, name, serverId }, publicKey);
  io.stdout.write(values.raw ? `${sealedKey}\n` : manifest(values, namespace, name, sealedKey));
  return 0;
}

/** Runs `pika seal`; returns the exit code (2: usage, 1: failure). Never prints the passphrase. */
export async function runSeal(argv: readonly string[], io: SealIo = processIo()): Promise<number> {
  try {
    return await run(argv, io);
  } catch (err) {
    const usage = err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS') === true;
    io.stderr.write(`pika seal: ${(err as Error).message}\n${usage ? '\nrun `pika seal --help` for the options\n' : ''}`);
    return usage ? 2 : 1;
  }
}

/** One trailing newline (as `echo` or a file editor leaves it) is not part of the passphrase. */
export function passphraseOf(input: string): string {
  return input.replace(/\r?\n$/, '');
}

/** Reads a line from a terminal without echoing it. */
function promptHidden(stdin: NodeJS.ReadStream, stderr: NodeJS.WriteStream): Promise<string> {
  return new Promise((resolve, reject) => {
    let typed = '';
    stderr.write('pika server passphrase (not echoed): ');
    stdin.setRawMode(true);
    stdin.setEncoding('utf8');
    stdin.resume();
    const done = (err?: Error) => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.off('data', onData);
      stderr.write('\n');
      if (err) reject(err);
      else resolve(typed);
    };
    const onData = (chunk: string) => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n' || ch === '\u0004' || ch === '\u0003') {
          done(ch === '\u0003' ? new Error('interrupted') : undefined);
          return;
        }
        typed = ch === '\u007f' || ch === '\b' ? Array.from(typed).slice(0, -1).join('') : typed + ch;
      }
    };
    stdin.on('data', onData);
  });
}

async function readAll(stdin: NodeJS.ReadStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

function processIo(): SealIo {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    readPassphrase: async () => passphraseOf(process.stdin.isTTY ? await promptHidden(process.stdin, process.stderr) : await readAll(process.stdin)),
    readFile: (path) => readFile(path, 'utf8'),
    fetch,
  };
}
