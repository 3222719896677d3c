import { parseArgs } from 'node:util';
import { VERSION } from './shared/version.ts';

const HELP = `pika ${VERSION}: configuration server, secrets manager and personal vault

usage:
  pika server [--config FILE]   run the server (config: pika.yaml|yml|json|toml or PIKA_* env)
  pika operator                 run the Kubernetes operator (config: PIKA_OPERATOR_* env, KUBECONFIG)
  pika seal [options]           seal a server passphrase into an UnlockRequest (pika seal --help)
  pika version                  print the version
  pika help                     this text
`;

/** The one executable (SPEC §2). Returns the process exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  const [command = 'help', ...rest] = argv;
  switch (command) {
    case 'server': {
      const { values } = parseArgs({ args: [...rest], options: { config: { type: 'string', short: 'c' } }, strict: true });
      const { runServer } = await import('./server/main.ts');
      return runServer({ configFile: values.config });
    }
    case 'operator': {
      parseArgs({ args: [...rest], options: {}, strict: true });
      const { runOperator } = await import('./operator/main.ts');
      return runOperator();
    }
    case 'seal': {
      const { runSeal } = await import('./operator/unlock/seal-command.ts');
      return runSeal(rest);
    }
    case 'version':
    case '--version':
      process.stdout.write(`${VERSION}\n`);
      return 0;
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(HELP);
      return 0;
    default:
      process.stderr.write(`pika: unknown command "${command}"\n\n${HELP}`);
      return 2;
  }
}
