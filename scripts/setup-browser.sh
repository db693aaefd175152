#!/usr/bin/env bash
# Installs Debian's Chromium (and a basic font, so screenshots have readable text) for the status page's
# browser tests, which drive it through playwright-core.
# Idempotent: a quick no-op when /usr/bin/chromium and the font are there; `apt-get update` runs only when
# something is missing. Non-interactive: fine under CI=true with no stdin.
set -euo pipefail

missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
# Without any font Chromium renders tofu boxes; DejaVu is small and covers Latin, Greek and symbols (−, ▲, ▼).
[ -d /usr/share/fonts/truetype/dejavu ] || missing+=(fonts-dejavu-core)

if [ "${#missing[@]}" -eq 0 ]; then
  echo "setup-browser: chromium present"
  exit 0
fi

bash "$(dirname "$0")/apt-install.sh" setup-browser "${missing[@]}"

[ -x /usr/bin/chromium ] || { echo "setup-browser: /usr/bin/chromium still missing after install" >&2; exit 1; }
echo "setup-browser: done ($(/usr/bin/chromium --version 2>/dev/null || echo 'chromium'))"
