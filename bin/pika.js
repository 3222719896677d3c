#!/usr/bin/env node
// The one executable. The TypeScript sources are compiled to dist/ by `npm run build`
// (which `npm ci` runs through the `prepare` script), so a fresh checkout can `npx pika`.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const cli = new URL('../dist/cli.js', import.meta.url);
if (!existsSync(fileURLToPath(cli))) {
  process.stderr.write('pika: dist/ is missing; run `npm run build` first\n');
  process.exit(1);
}
const { main } = await import(cli.href);
process.exitCode = await main(process.argv.slice(2));
