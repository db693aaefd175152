#!/usr/bin/env bash
# Runs the pipeline with embedded defaults: installs what it needs, starts the local stack, then the consumer
# and the producer. Pass --demo where CoinGecko cannot be reached.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
exec node_modules/.bin/bun run scripts/dev.ts "$@"
