#!/usr/bin/env bash
# Installs Debian packages non-interactively (CI=true, no stdin): `bash scripts/apt-install.sh TAG PKG...`.
# Runs `apt-get update` first, since a fresh machine's lists may be empty; as root, or through `sudo -n`.
set -euo pipefail
tag=$1
shift
mapfile -t packages < <(printf '%s\n' "$@" | sort -u)
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO=(sudo -n); else
    echo "$tag: missing ${packages[*]}; run this script as root" >&2
    exit 1
  fi
else
  SUDO=()
fi
echo "$tag: installing ${packages[*]}"
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -qq </dev/null
"${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${packages[@]}" </dev/null
