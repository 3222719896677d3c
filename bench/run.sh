#!/usr/bin/env bash
# `npm run bench`: make sure nginx and wrk are there, build pika if needed, run the orchestration.
# Everything else (servers, loads, report) is in bench/bench.ts.
set -euo pipefail
cd "$(dirname "$0")/.."

find_nginx() { command -v nginx || { [ -x /usr/sbin/nginx ] && echo /usr/sbin/nginx; } || true; }

if [ -z "$(find_nginx)" ] || ! command -v wrk >/dev/null; then
  packages=(nginx-light wrk)
  if [ "$(id -u)" = 0 ]; then
    echo "bench: installing ${packages[*]} (Debian packages)" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y --no-install-recommends "${packages[@]}" >/dev/null \
      || { apt-get update >/dev/null && apt-get install -y --no-install-recommends "${packages[@]}" >/dev/null; }
  else
    echo "bench: nginx and wrk are required; install them with:" >&2
    echo "  sudo apt-get install -y --no-install-recommends ${packages[*]}" >&2
    exit 1
  fi
fi

if [ ! -f dist/cli.js ]; then
  echo "bench: dist/ is missing; building pika" >&2
  npm run build >/dev/null
fi

NGINX_BIN="$(find_nginx)" exec npx --no-install tsx bench/bench.ts "$@"
