#!/usr/bin/env bash
# Installs what the project needs on a fresh Debian machine: Debian packages, then Bun and node_modules from npm.
# Idempotent and quiet when everything is already there.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/setup-browser.sh
if [ ! -x node_modules/.bin/bun ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "bootstrap: installing Bun and node_modules from npm…"
  npm ci --no-audit --no-fund --loglevel=error
fi
