#!/usr/bin/env bash
# Helm for the chart tests (test/k8s/deploy.test.ts), built from the Go module proxy and cached by
# version. Nothing is downloaded from a release site.
#
#   test/k8s/helm.sh build        build (or reuse) the cached binary; prints its path on stdout
#   test/k8s/helm.sh path         print the cached binary's path, exit 1 when it is not built
#   test/k8s/helm.sh ARGS...      build if needed, then run `helm ARGS...`
#
# Environment (all optional):
#   PIKA_HELM_VERSION  helm.sh/helm/v3 version                 (default v3.22.0)
#   PIKA_HELM_CACHE    cache root; the binary goes to $PIKA_HELM_CACHE/<version>/bin/helm
#                      (default <repo>/.cache/helm, ignored by git through `.cache/`)
#
# How: `go install helm.sh/helm/v3/cmd/helm@VERSION` with GOBIN in the cache folder and
# GOFLAGS=-mod=mod (helm's go.mod has no replace directives, so plain `go install` works), with
# CGO_ENABLED=0 and the version stamped into the binary as helm's own Makefile does.
# What worked (2026-11-25, Go 1.26.8, 2 cores): v3.22.0 in 61 s with helm's modules not yet in
# the module cache (Go's build cache already warm from test/k8s/cluster.sh's kubernetes build,
# which shares k8s.io/* packages); seconds when only the binary is missing; 59 MiB. v4.3.1 is
# also on the proxy; v3 is used because its `lint`/`template` flags are what the tests and docs use.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
HELM_VERSION=${PIKA_HELM_VERSION:-v3.22.0}
CACHE=${PIKA_HELM_CACHE:-$ROOT/.cache/helm}/$HELM_VERSION
BIN=$CACHE/bin

log() { printf '[helm] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

fresh() { [[ -x $BIN/helm && -f $BIN/helm.version && $(<"$BIN/helm.version") == "$HELM_VERSION" ]]; }

cmd_build() {
  if fresh; then
    printf '%s\n' "$BIN/helm"
    return 0
  fi
  command -v go >/dev/null || [[ ! -x /usr/local/go/bin/go ]] || PATH=/usr/local/go/bin:$PATH
  command -v go >/dev/null || die "go is not installed (needed to build helm $HELM_VERSION)"
  mkdir -p "$BIN"
  # One build at a time (CI may pre-build in the background while a test asks for it).
  exec 9>"$CACHE/.lock"
  if ! flock -n 9; then
    log "another build of helm $HELM_VERSION is running; waiting for it"
    flock 9
  fi
  if ! fresh; then
    local t0=$SECONDS ld="-s -w"
    ld+=" -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION"
    ld+=" -X helm.sh/helm/v3/internal/version.gitTreeState=clean"
    log "building helm $HELM_VERSION from the Go module proxy"
    # GOBIN outside any module; run from the cache folder so this repo's files do not matter.
    (cd "$CACHE" && CGO_ENABLED=0 GOFLAGS="-mod=mod -buildvcs=false" GOBIN="$CACHE/tmp" \
      go install -trimpath -ldflags="$ld" "helm.sh/helm/v3/cmd/helm@$HELM_VERSION")
    mv -f "$CACHE/tmp/helm" "$BIN/helm"
    printf '%s' "$HELM_VERSION" >"$BIN/helm.version"
    log "built helm $HELM_VERSION in $((SECONDS - t0))s into $BIN"
  fi
  exec 9>&-
  printf '%s\n' "$BIN/helm"
}

main() {
  case ${1:-} in
    build) cmd_build ;;
    path) fresh && printf '%s\n' "$BIN/helm" ;;
    '') echo "usage: $0 build | path | HELM-ARGS..." >&2; exit 2 ;;
    *) cmd_build >/dev/null; exec "$BIN/helm" "$@" ;;
  esac
}

main "$@"; exit $?
