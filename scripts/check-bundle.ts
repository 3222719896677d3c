/**
 * The console's first download must stay under 300 KB of gzip'd JavaScript (issue 6): the
 * entry script plus every chunk index.html preloads. Lazily loaded pages (the editor) do not
 * count. Prints the sizes; exits 1 over budget.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

const DIST = join(import.meta.dirname, '..', 'web', 'dist');
const BUDGET = 300 * 1024;

const html = readFileSync(join(DIST, 'index.html'), 'utf8');
const files = [...html.matchAll(/<script[^>]+src="([^"]+\.js)"|<link[^>]+rel="modulepreload"[^>]+href="([^"]+\.js)"/g)].map((m) => (m[1] ?? m[2] ?? '').replace(/^\.\//, ''));
if (files.length === 0) {
  console.error('check-bundle: no entry script found in web/dist/index.html');
  process.exit(1);
}
let total = 0;
for (const file of files) {
  const size = gzipSync(readFileSync(join(DIST, file))).length;
  total += size;
  console.log(`  ${(size / 1024).toFixed(1).padStart(7)} KB gzip  ${file}`);
}
console.log(`initial JavaScript: ${(total / 1024).toFixed(1)} KB gzip (budget ${BUDGET / 1024} KB)`);
if (total > BUDGET) {
  console.error('check-bundle: over budget — code-split the heavy parts (dynamic import)');
  process.exit(1);
}
