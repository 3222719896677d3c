#!/usr/bin/env bash
# Everything `npm test` (and so CI) runs, in order: static checks, the build the e2e tier starts,
# then every test tier (unit, integration, e2e) in one Vitest run that ends with its summary line.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== test services (Debian packages)"; bash scripts/setup-test-env.sh
echo "== typecheck"; npm run --silent typecheck
echo "== lint"; npm run --silent lint
echo "== generated files"; npm run --silent gen -- --check
echo "== build"; npm run --silent build
echo "== console bundle budget"; npx tsx scripts/check-bundle.ts
echo "== tests (unit, integration, e2e)"
npx vitest run
