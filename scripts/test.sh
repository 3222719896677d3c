#!/usr/bin/env bash
# Everything `npm test` (and so CI) runs, in order: static checks, the build the e2e tier starts,
# then every test tier (unit, integration, e2e) in one Vitest run that ends with its summary line.
set -euo pipefail
cd "$(dirname "$0")/.."

# kube-apiserver/etcd/kubectl, helm and the External Secrets Operator controller for the k8s tier
# (test/k8s/README.md), built from the Go module proxy into .cache/ keyed by version: cold builds
# take 5-13 min (ESO about 12) on 2 cores, seconds with warm Go caches. They run in the
# background, overlapping the checks below.
mkdir -p test-results
bash test/k8s/cluster.sh build >test-results/k8s-build.log 2>&1 &
k8s_build=$!
bash test/k8s/helm.sh build >test-results/helm-build.log 2>&1 &
helm_build=$!
bash test/k8s/eso.sh build >test-results/eso-build.log 2>&1 &
eso_build=$!

echo "== test services (Debian packages)"; bash scripts/setup-test-env.sh
echo "== typecheck"; npm run --silent typecheck
echo "== lint"; npm run --silent lint
echo "== generated files"; npm run --silent gen -- --check
echo "== build"; npm run --silent build
echo "== console bundle budget"; npx tsx scripts/check-bundle.ts
echo "== k8s binaries"; wait "$k8s_build" || { cat test-results/k8s-build.log; exit 1; }; tail -n 4 test-results/k8s-build.log
echo "== helm"; wait "$helm_build" || { cat test-results/helm-build.log; exit 1; }; tail -n 1 test-results/helm-build.log
echo "== eso"; wait "$eso_build" || { cat test-results/eso-build.log; exit 1; }; tail -n 2 test-results/eso-build.log
echo "== tests (unit, integration, e2e, k8s)"
npx vitest run
