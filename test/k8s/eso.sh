#!/usr/bin/env bash
# The real External Secrets Operator controller for test/k8s/eso-controller.test.ts, built from
# the Go module proxy and cached by version. Nothing is downloaded from a release site or a
# container registry.
#
#   test/k8s/eso.sh build        build (or reuse) the cached binary; prints its path on stdout
#   test/k8s/eso.sh path         print the cached binary's path, exit 1 when it is not built
#   test/k8s/eso.sh crds         print the path of ESO's CRD bundle (deploy/crds/bundle.yaml of
#                                the module, fetched into the module cache when missing)
#   test/k8s/eso.sh ARGS...      build if needed, then run `external-secrets ARGS...`
#
# Environment (all optional):
#   PIKA_ESO_VERSION   github.com/external-secrets/external-secrets version (default v0.16.2)
#   PIKA_ESO_CACHE     cache root; the binary goes to $PIKA_ESO_CACHE/<version>/bin/external-secrets
#                      (default <repo>/.cache/eso, ignored by git through `.cache/`)
#   PIKA_ESO_GOMODCACHE  Go module cache (default: Go's own, shared with test/k8s/cluster.sh)
#   PIKA_ESO_GOCACHE     Go build cache (default: Go's own, so a warm machine builds in seconds)
#
# How: ESO's main package is the module root (main.go → cmd/controller). `go install pkg@version`
# refuses it because ESO's go.mod has a `replace` (sprig → external-secrets/sprig). So, as
# test/k8s/cluster.sh does for kubernetes, a throw-away module under the cache folder requires
# ESO at the version, copies ESO's `replace` lines, and starts from ESO's own go.sum (so every
# dependency is checked against the sums ESO ships); then `go build -mod=mod` of the module root,
# CGO_ENABLED=0 (ESO's Makefile stamps no version into the binary). v0.16.2 has no build tags to leave
# providers out (pkg/provider/register imports all ~35), so the binary carries every cloud SDK.
# What worked (2026-11-25, Go 1.26.8, 2 cores shared with other sessions, load ~10): cold, with
# only ESO's own module in the module cache, 696 s (11.6 min), downloading 2.3 GB of modules into
# .cache/gomod and filling 2.2 GB of build cache in .cache/eso/gocache; 11 s when only the binary
# is missing (caches warm); 148 MiB (`-s -w`). The binary is the controller; `webhook` and
# `certcontroller` are subcommands the tests do not run.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
ESO_VERSION=${PIKA_ESO_VERSION:-v0.16.2}
ESO_MODULE=github.com/external-secrets/external-secrets
CACHE=${PIKA_ESO_CACHE:-$ROOT/.cache/eso}/$ESO_VERSION
BIN=$CACHE/bin
GOMODCACHE=${PIKA_ESO_GOMODCACHE:-$(go env GOMODCACHE)}
GOCACHE=${PIKA_ESO_GOCACHE:-$(go env GOCACHE)}
export GOMODCACHE GOCACHE

log() { printf '[eso] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

fresh() { [[ -x $BIN/external-secrets && -f $BIN/external-secrets.version && $(<"$BIN/external-secrets.version") == "$ESO_VERSION" ]]; }

need_go() {
  # Non-interactive shells (CI) may not have read the profile that puts Go on PATH.
  command -v go >/dev/null || [[ ! -x /usr/local/go/bin/go ]] || PATH=/usr/local/go/bin:$PATH
  command -v go >/dev/null || die "go is not installed (needed to build external-secrets $ESO_VERSION)"
}

# The module's extracted source folder in the module cache (downloads it when missing).
module_dir() {
  local dir=$GOMODCACHE/$ESO_MODULE@$ESO_VERSION
  if [[ ! -f $dir/go.mod ]]; then
    need_go
    mkdir -p "$CACHE"
    dir=$(cd "$CACHE" && GOFLAGS=-mod=mod go mod download -json "$ESO_MODULE@$ESO_VERSION" |
      sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  fi
  [[ -f $dir/go.mod ]] || die "go mod download $ESO_MODULE@$ESO_VERSION gave no module folder"
  printf '%s\n' "$dir"
}

build() {
  local src=$CACHE/src moddir t0=$SECONDS
  moddir=$(module_dir)
  mkdir -p "$src" "$CACHE/tmp"
  {
    printf 'module pika.test/eso-build\n\ngo %s\n\nrequire %s %s\n\n' \
      "$(sed -n 's/^go //p' "$moddir/go.mod")" "$ESO_MODULE" "$ESO_VERSION"
    # Single-line `replace X => Y v` directives of ESO's go.mod (v0.16.2 has exactly one: sprig).
    grep -E '^replace [^(]' "$moddir/go.mod" || true
  } >"$src/go.mod"
  cp "$moddir/go.sum" "$src/go.sum"
  chmod u+w "$src/go.sum"
  local ld="-s -w"
  log "building external-secrets $ESO_VERSION (GOMODCACHE=$GOMODCACHE GOCACHE=$GOCACHE)"
  # No VCS stamping: the throw-away module sits inside this repo's work tree.
  (cd "$src" && CGO_ENABLED=0 GOFLAGS="-mod=mod -buildvcs=false" \
    go build -trimpath -ldflags="$ld" -o "$CACHE/tmp/external-secrets" "$ESO_MODULE")
  mv -f "$CACHE/tmp/external-secrets" "$BIN/external-secrets"
  printf '%s' "$ESO_VERSION" >"$BIN/external-secrets.version"
  log "built external-secrets $ESO_VERSION in $((SECONDS - t0))s into $BIN ($(du -m "$BIN/external-secrets" | cut -f1) MiB)"
}

cmd_build() {
  if fresh; then
    printf '%s\n' "$BIN/external-secrets"
    return 0
  fi
  need_go
  mkdir -p "$BIN"
  # One build at a time (CI may pre-build in the background while a test asks for it).
  exec 9>"$CACHE/.lock"
  if ! flock -n 9; then
    log "another build of external-secrets $ESO_VERSION is running; waiting for it"
    flock 9
  fi
  fresh || build
  exec 9>&-
  printf '%s\n' "$BIN/external-secrets"
}

main() {
  case ${1:-} in
    build) cmd_build ;;
    path) fresh && printf '%s\n' "$BIN/external-secrets" ;;
    crds) printf '%s\n' "$(module_dir)/deploy/crds/bundle.yaml" ;;
    '') echo "usage: $0 build | path | crds | EXTERNAL-SECRETS-ARGS..." >&2; exit 2 ;;
    *) cmd_build >/dev/null; exec "$BIN/external-secrets" "$@" ;;
  esac
}

# On one line, so that bash has read all of it before running anything: editing this file while a
# long build runs cannot make bash read the rest from a shifted offset.
main "$@"; exit $?
