#!/usr/bin/env bash
# System packages the tests need, installed with apt when missing. Idempotent: does
# nothing (no apt-get update either) when all are present. Runs unattended as root.
#   libmaxmind-db-writer-perl  test/fixtures/geoip/generate.pl (MaxMind::DB::Writer::Tree)
#   chromium                   test/e2e/ (headless, driven by playwright-core at /usr/bin/chromium)
#   prometheus                 test/alerts/ (promtool checks and unit-tests the alert rules; the
#                              package's server is not started: this is for promtool alone)
#   openssl                    test/kube/envtest/ (envtest's certificates: node:crypto cannot sign them)
set -euo pipefail

packages=(libmaxmind-db-writer-perl chromium prometheus openssl)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
if [ "${#missing[@]}" -eq 0 ]; then
  echo "install-deps: already installed: ${packages[*]}"
  exit 0
fi

if ! command -v apt-get >/dev/null; then
  echo "install-deps: missing ${missing[*]} and no apt-get to install them with" >&2
  exit 1
fi
sudo=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "install-deps: need root (or sudo) to install ${missing[*]}" >&2; exit 1; }
  sudo=(sudo -n)
fi

export DEBIAN_FRONTEND=noninteractive
echo "install-deps: installing ${missing[*]}"
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq </dev/null
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" </dev/null
