#!/usr/bin/env bash
# A real Kubernetes API server (kube-apiserver + etcd, no controller-manager, no nodes) for the
# operator's tests, built from the Go module proxy and cached by version. See test/k8s/README.md.
#
#   test/k8s/cluster.sh build        build (or reuse) the cached binaries, start nothing
#   test/k8s/cluster.sh up DIR       build if needed, start etcd + kube-apiserver on 127.0.0.1,
#                                    write DIR/kubeconfig, DIR/env, DIR/bin/kubectl, DIR/*.pid
#   test/k8s/cluster.sh down DIR     stop both (SIGTERM, SIGKILL after a grace); safe to repeat
#
# Environment (all optional):
#   PIKA_K8S_VERSION   k8s.io/kubernetes version             (default v1.37.2)
#   PIKA_ETCD_VERSION  go.etcd.io/etcd/server/v3 version     (default v3.7.3)
#   PIKA_K8S_CACHE     cache root; binaries go to $PIKA_K8S_CACHE/<k8s version>/bin
#                      (default <repo>/.cache/k8s, ignored by git through `.cache/`)
#   PIKA_K8S_READY_TIMEOUT  seconds to wait for /readyz (default 90)
#   PIKA_K8S_STOP_GRACE     seconds between SIGTERM and SIGKILL in `down` (default 10)
#
# How the build works (reference/test-services.md §11 asks for it here): k8s.io/kubernetes
# cannot be `go install`ed, because its go.mod replaces every k8s.io/* staging module with a local
# folder that the module zip does not contain. So a throw-away module under the cache folder
# requires k8s.io/kubernetes vX.Y.Z and replaces each staging module named in the `replace` block
# of kubernetes' own go.mod with its published v0.Y.Z; then `go build -mod=mod` of
# k8s.io/kubernetes/cmd/{kube-apiserver,kubectl}. etcd is a second throw-away module whose main
# calls go.etcd.io/etcd/server/v3/etcdmain.Main(os.Args). Both with CGO_ENABLED=0.
#
# What worked (2026-11-25, Go 1.26.8, 2 cores): kubernetes v1.37.2 (needs Go >= 1.26.0) with
# etcd v3.7.3. v1.37 needs --endpoint-reconciler-type=none to accept a 127.0.0.1 advertise
# address. Cold build 5-13 min (by machine load); 6-16 s when Go's build cache is warm; warm
# `up` 3-4 s. Timings, and what a cluster without controller-manager lacks: test/k8s/README.md.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
K8S_VERSION=${PIKA_K8S_VERSION:-v1.37.2}
ETCD_VERSION=${PIKA_ETCD_VERSION:-v3.7.3}
CACHE=${PIKA_K8S_CACHE:-$ROOT/.cache/k8s}/$K8S_VERSION
BIN=$CACHE/bin
READY_TIMEOUT=${PIKA_K8S_READY_TIMEOUT:-90}
STOP_GRACE=${PIKA_K8S_STOP_GRACE:-10}

log() { printf '[k8s] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }
now() { printf '%s' "$EPOCHREALTIME"; }
since() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1fs", b - a }'; }

# ---------------------------------------------------------------------------------------------
# build

# Version stamps: bin/kube-apiserver.version etc. hold the version each binary was built from, so
# a version bump (or a half-finished earlier build) rebuilds just what is stale.
fresh() { [[ -x $BIN/$1 && -f $BIN/$1.version && $(<"$BIN/$1.version") == "$2" ]]; }

build_kubernetes() {
  local src=$CACHE/src/kubernetes gomod minor
  minor=${K8S_VERSION#v1.}; minor=${minor%%.*}
  mkdir -p "$src"
  log "fetching k8s.io/kubernetes@$K8S_VERSION"
  gomod=$(cd "$CACHE" && go mod download -json "k8s.io/kubernetes@$K8S_VERSION" |
    sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",$/\1/p')
  [[ -f $gomod ]] || die "go mod download k8s.io/kubernetes@$K8S_VERSION gave no go.mod"
  {
    printf 'module pika.test/k8s-build\n\ngo 1.26\n\nrequire k8s.io/kubernetes %s\n\nreplace (\n' "$K8S_VERSION"
    # Lines like `k8s.io/api => ./staging/src/k8s.io/api` inside kubernetes' replace block.
    awk '/^replace \(/ { on = 1; next } on && /^\)/ { on = 0 } on && $2 == "=>" && $3 ~ /^\.\/staging\// { print $1 }' "$gomod" |
      while read -r m; do printf '\t%s => %s v0.%s.%s\n' "$m" "$m" "$minor" "${K8S_VERSION##*.}"; done
    printf ')\n'
  } >"$src/go.mod"
  grep -q '=> k8s.io/api ' "$src/go.mod" || die "no staging replace lines found in $gomod"
  : >"$src/go.sum"
  local pkg=k8s.io/component-base/version cpkg=k8s.io/client-go/pkg/version ld='-s -w' kv
  for kv in "gitVersion=$K8S_VERSION" "gitMajor=1" "gitMinor=$minor" "gitTreeState=clean" \
    "buildDate=1970-01-01T00:00:00Z"; do
    ld+=" -X $pkg.$kv -X $cpkg.$kv"
  done
  log "building kube-apiserver and kubectl $K8S_VERSION (5-13 min on 2 cores with cold Go caches, seconds with warm ones)"
  mkdir -p "$CACHE/tmp"
  (cd "$src" && go build -mod=mod -trimpath -ldflags="$ld" -o "$CACHE/tmp/" \
    k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kubectl)
  local b
  for b in kube-apiserver kubectl; do
    mv -f "$CACHE/tmp/$b" "$BIN/$b"
    printf '%s' "$K8S_VERSION" >"$BIN/$b.version"
  done
}

build_etcd() {
  local src=$CACHE/src/etcd
  mkdir -p "$src"
  printf 'module pika.test/etcd-build\n\ngo 1.26\n\nrequire go.etcd.io/etcd/server/v3 %s\n' "$ETCD_VERSION" >"$src/go.mod"
  cat >"$src/main.go" <<'EOF'
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
EOF
  log "building etcd $ETCD_VERSION"
  mkdir -p "$CACHE/tmp"
  (cd "$src" && go mod tidy && go build -trimpath -ldflags='-s -w' -o "$CACHE/tmp/etcd" .)
  mv -f "$CACHE/tmp/etcd" "$BIN/etcd"
  printf '%s' "$ETCD_VERSION" >"$BIN/etcd.version"
}

cmd_build() {
  local t0 what=()
  t0=$(now)
  # Non-interactive shells (CI) may not have read the profile that puts Go on PATH.
  command -v go >/dev/null || [[ ! -x /usr/local/go/bin/go ]] || PATH=/usr/local/go/bin:$PATH
  command -v go >/dev/null || die "go is not installed (Go >= 1.26 is needed to build kubernetes $K8S_VERSION)"
  # Static binaries as upstream releases them; no C compiler needed. No VCS stamping: the
  # throw-away modules sit inside this repo's work tree.
  export CGO_ENABLED=0 GOFLAGS=-buildvcs=false
  mkdir -p "$BIN"
  # One build at a time per version (CI may pre-build in the background while a test runs `up`).
  exec 9>"$CACHE/.lock"
  if ! flock -n 9; then
    log "another build of $K8S_VERSION is running; waiting for it"
    flock 9
  fi
  fresh kube-apiserver "$K8S_VERSION" && fresh kubectl "$K8S_VERSION" || { build_kubernetes; what+=(kubernetes); }
  fresh etcd "$ETCD_VERSION" || { build_etcd; what+=(etcd); }
  exec 9>&-
  if ((${#what[@]})); then
    log "built ${what[*]} in $(since "$t0") into $BIN:"
    (cd "$BIN" && ls -l kube-apiserver kubectl etcd | awk '{ printf "[k8s]   %-15s %6.1f MiB\n", $9, $5 / 1048576 }' >&2)
  else
    log "binaries cached in $BIN (kubernetes $K8S_VERSION, etcd $ETCD_VERSION)"
  fi
}

# ---------------------------------------------------------------------------------------------
# up / down

free_ports() { # N distinct free TCP ports on 127.0.0.1
  # Chosen at random below the kernel's ephemeral range (32768+ here), where listen(0) servers of
  # other tests and outgoing connections take their ports: between this check and etcd or
  # kube-apiserver binding the port, nothing else is then likely to take it. (start_once retries
  # on new ports if something does.)
  node -e '
    const net = require("net"); const n = +process.argv[1]; const held = [];
    const tryPort = () => {
      if (held.length === n) { console.log(held.map((s) => s.address().port).join(" ")); held.forEach((s) => s.close()); return; }
      const s = net.createServer();
      s.once("error", tryPort);
      s.listen(20000 + Math.floor(Math.random() * 12000), "127.0.0.1", () => { held.push(s); tryPort(); });
    };
    tryPort();' "$1"
}

alive() { # alive PIDFILE BINARY: the pid in the file is running and is that binary
  local pid
  [[ -f $1 ]] || return 1
  pid=$(<"$1")
  [[ $pid =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null || return 1
  # No `tr | grep -q` here: under pipefail, grep quitting early can SIGPIPE tr and fail the test.
  local cmdline
  cmdline=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || return 1
  [[ $cmdline == *"/$2 "* ]]
}

stop_one() { # stop_one DIR NAME BINARY
  local pidfile=$1/$2.pid pid i t0
  t0=$(now)
  if ! alive "$pidfile" "$3"; then rm -f "$pidfile"; return 0; fi
  pid=$(<"$pidfile")
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < STOP_GRACE * 10; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    log "$2 (pid $pid) ignored SIGTERM for ${STOP_GRACE}s; sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done
  fi
  rm -f "$pidfile"
  log "stopped $2 (pid $pid) in $(since "$t0")"
}

cmd_down() {
  local dir=${1:?usage: cluster.sh down DIR}
  [[ -d $dir ]] || { log "nothing to stop: $dir does not exist"; return 0; }
  dir=$(cd "$dir" && pwd)
  local t0; t0=$(now)
  stop_one "$dir" kube-apiserver kube-apiserver
  stop_one "$dir" etcd etcd
  log "down in $(since "$t0")"
}

gen_pki() { # CA, serving cert for 127.0.0.1/localhost, service-account key pair, static tokens
  local p=$1/pki
  mkdir -p "$p"
  (
    cd "$p"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 3650 \
      -subj /CN=pika-test-ca -keyout ca.key -out ca.crt 2>/dev/null
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
      -subj /CN=kube-apiserver -keyout apiserver.key -out apiserver.csr 2>/dev/null
    printf 'subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc\nextendedKeyUsage=serverAuth\n' >apiserver.ext
    openssl x509 -req -in apiserver.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 3650 \
      -extfile apiserver.ext -out apiserver.crt 2>/dev/null
    openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out sa.key 2>/dev/null
    openssl pkey -in sa.key -pubout -out sa.pub
    admin=$(openssl rand -hex 24)
    user=$(openssl rand -hex 24)
    # token,user,uid,"groups". The second user has no bindings: RBAC must deny it everything
    # but the discovery/self-review rules every authenticated user gets.
    printf '%s,pika-admin,pika-admin,"system:masters"\n%s,pika-unprivileged,pika-unprivileged\n' "$admin" "$user" >tokens.csv
    printf '%s' "$admin" >admin.token
    printf '%s' "$user" >unprivileged.token
    chmod 600 ./*.key tokens.csv ./*.token
  )
}

write_kubeconfig() { # DIR SERVER
  local ca admin user
  ca=$(base64 -w0 <"$1/pki/ca.crt")
  admin=$(<"$1/pki/admin.token")
  user=$(<"$1/pki/unprivileged.token")
  cat >"$1/kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: pika-test
  cluster:
    server: $2
    certificate-authority-data: $ca
users:
- name: pika-admin
  user:
    token: $admin
- name: pika-unprivileged
  user:
    token: $user
contexts:
- name: admin
  context: {cluster: pika-test, user: pika-admin, namespace: default}
- name: unprivileged
  context: {cluster: pika-test, user: pika-unprivileged, namespace: default}
current-context: admin
EOF
  chmod 600 "$1/kubeconfig"
}

wait_http() { # wait_http NAME DEADLINE_EPOCH PIDFILE BINARY LOG CURL-ARGS...
  local name=$1 deadline=$2 pidfile=$3 bin=$4 logf=$5
  shift 5
  until curl -sf -o /dev/null --max-time 2 "$@"; do
    if ! alive "$pidfile" "$bin"; then
      log "$name exited during start-up; last lines of $logf:"
      tail -n 30 "$logf" >&2
      return 1
    fi
    if (($(date +%s) >= deadline)); then
      log "$name not ready after ${READY_TIMEOUT}s; last lines of $logf:"
      tail -n 30 "$logf" >&2
      # The URL is the last argument; ?verbose makes /readyz list the checks that fail.
      curl -s --max-time 2 "${@:1:$#-1}" "${!#}?verbose" >&2 || true
      return 1
    fi
    sleep 0.2
  done
}

# start_once DIR: one attempt at etcd + kube-apiserver on fresh ports. Returns 0 when both are
# ready, 2 when one lost a race for its port (another process bound it after free_ports closed
# it: worth another try), 1 otherwise. Leaves nothing running unless it returns 0.
start_once() {
  local dir=$1 t1 deadline etcd_port peer_port api_port
  read -r etcd_port peer_port api_port <<<"$(free_ports 3)"
  local etcd_url=http://127.0.0.1:$etcd_port server=https://127.0.0.1:$api_port
  rm -rf "$dir/etcd-data"

  t1=$(now)
  deadline=$(($(date +%s) + READY_TIMEOUT))
  # --unsafe-no-fsync: test data only, and it makes etcd much faster on slow disks.
  nohup "$BIN/etcd" --name pika-test --data-dir "$dir/etcd-data" \
    --listen-client-urls "$etcd_url" --advertise-client-urls "$etcd_url" \
    --listen-peer-urls "http://127.0.0.1:$peer_port" --initial-advertise-peer-urls "http://127.0.0.1:$peer_port" \
    --initial-cluster "pika-test=http://127.0.0.1:$peer_port" --initial-cluster-state new \
    --unsafe-no-fsync --log-level warn \
    </dev/null >"$dir/etcd.log" 2>&1 &
  echo $! >"$dir/etcd.pid"
  if ! wait_http etcd "$deadline" "$dir/etcd.pid" etcd "$dir/etcd.log" "$etcd_url/health"; then
    cmd_down "$dir"
    grep -qi 'address already in use' "$dir/etcd.log" && return 2
    return 1
  fi
  log "etcd ready at $etcd_url in $(since "$t1")"

  t1=$(now)
  # --endpoint-reconciler-type=none: since v1.37 the apiserver refuses a loopback advertise
  # address when it maintains the `kubernetes` Service's endpoints (nothing in-cluster uses them).
  # ServiceAccount admission is off (as in controller-runtime's envtest): with no
  # controller-manager no `default` ServiceAccount is ever created, and the plugin would then
  # reject every Pod.
  nohup "$BIN/kube-apiserver" \
    --bind-address=127.0.0.1 --advertise-address=127.0.0.1 --secure-port="$api_port" \
    --endpoint-reconciler-type=none \
    --tls-cert-file="$dir/pki/apiserver.crt" --tls-private-key-file="$dir/pki/apiserver.key" \
    --client-ca-file="$dir/pki/ca.crt" \
    --token-auth-file="$dir/pki/tokens.csv" \
    --authorization-mode=RBAC \
    --etcd-servers="$etcd_url" \
    --service-cluster-ip-range=10.0.0.0/24 \
    --service-account-issuer=https://kubernetes.default.svc.cluster.local \
    --service-account-key-file="$dir/pki/sa.pub" \
    --service-account-signing-key-file="$dir/pki/sa.key" \
    --disable-admission-plugins=ServiceAccount \
    --allow-privileged=true \
    --profiling=false \
    </dev/null >"$dir/kube-apiserver.log" 2>&1 &
  echo $! >"$dir/kube-apiserver.pid"
  local auth=(-H "Authorization: Bearer $(<"$dir/pki/admin.token")" --cacert "$dir/pki/ca.crt")
  # /readyz does not cover the `default` namespace, which the apiserver creates just after.
  if ! wait_http kube-apiserver "$deadline" "$dir/kube-apiserver.pid" kube-apiserver "$dir/kube-apiserver.log" \
    "${auth[@]}" "$server/readyz" ||
    ! wait_http kube-apiserver "$deadline" "$dir/kube-apiserver.pid" kube-apiserver "$dir/kube-apiserver.log" \
      "${auth[@]}" "$server/api/v1/namespaces/default"; then
    cmd_down "$dir"
    grep -qi 'address already in use' "$dir/kube-apiserver.log" && return 2
    return 1
  fi
  log "kube-apiserver ready at $server in $(since "$t1")"

  write_kubeconfig "$dir" "$server"
  cat >"$dir/env" <<EOF
KUBECONFIG=$dir/kubeconfig
PIKA_K8S_SERVER=$server
PIKA_K8S_CA_FILE=$dir/pki/ca.crt
PIKA_K8S_ADMIN_TOKEN_FILE=$dir/pki/admin.token
PIKA_K8S_UNPRIVILEGED_TOKEN_FILE=$dir/pki/unprivileged.token
PIKA_K8S_ETCD=$etcd_url
PIKA_K8S_VERSION=$K8S_VERSION
PATH=$dir/bin:\$PATH
EOF
}

cmd_up() {
  local dir=${1:?usage: cluster.sh up DIR}
  local t0 t1 attempt rc
  t0=$(now)
  cmd_build
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  if alive "$dir/kube-apiserver.pid" kube-apiserver || alive "$dir/etcd.pid" etcd; then
    die "a cluster is already running in $dir (run: $0 down $dir)"
  fi
  rm -rf "$dir/pki" "$dir/env" "$dir/kubeconfig"
  mkdir -p "$dir/bin"
  ln -sf "$BIN/kubectl" "$dir/bin/kubectl"

  t1=$(now)
  gen_pki "$dir"
  log "generated keys in $(since "$t1")"
  for attempt in 1 2 3; do
    rc=0
    start_once "$dir" || rc=$?
    ((rc == 2)) || break
    log "lost a port to another process (attempt $attempt); retrying on new ports"
  done
  ((rc == 0)) || die "could not start the cluster; logs are in $dir"
  log "up in $(since "$t0"): KUBECONFIG=$dir/kubeconfig ($(sed -n 's/^PIKA_K8S_SERVER=//p' "$dir/env"))"
}

main() {
  case ${1:-} in
    build) cmd_build ;;
    up) shift; cmd_up "$@" ;;
    down) shift; cmd_down "$@" ;;
    *) echo "usage: $0 build | up DIR | down DIR" >&2; exit 2 ;;
  esac
}

# On one line, so that bash has read all of it before running anything: editing this file (or a
# checkout changing it) while a long build runs cannot make bash read the rest from a shifted offset.
main "$@"; exit $?
