#!/usr/bin/env bash
# Runs the whole pipeline in one process on embedded defaults: installs Bun and node_modules from npm if
# needed, then `bun run dev`. With no .env that means an in-process bus, SQLite under ./data and an in-memory
# cache; with a seed-style .env, the real Kafka, Redis and Postgres/Supabase. Pass --demo where CoinGecko
# cannot be reached. Ctrl-C stops it cleanly. The status page is on http://127.0.0.1:8080/ (PORT).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x node_modules/.bin/bun ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "run: installing Bun and node_modules from npm…"
  npm ci --no-audit --no-fund --loglevel=error
fi
exec node_modules/.bin/bun run scripts/dev.ts "$@"
