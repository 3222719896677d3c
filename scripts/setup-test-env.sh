#!/usr/bin/env bash
# Installs the Debian packages the test tiers start as real servers (reference/test-services.md):
# OpenLDAP's slapd for the LDAP strategy and user sync, Chromium for browser tests. Idempotent:
# packages already present are not touched, so a warm machine pays nothing.
set -euo pipefail

PACKAGES=(slapd ldap-utils chromium fonts-liberation openssl)

missing=()
for pkg in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "setup-test-env: missing Debian packages: ${missing[*]}; run as root or: sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
echo "setup-test-env: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
