#!/usr/bin/env bash
# The whole test suite: installs what it needs, starts the local stack (Kafka, Redis, Postgres), type-checks,
# lints, runs every test, and stops what it started.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
export PATH="$PWD/node_modules/.bin:$PATH"

echo "== type-check (tsc --noEmit, strict)"
tsc --noEmit
echo "== lint and format (biome)"
biome check .

started_stack=0
if ! bun run scripts/stack.ts status --quiet; then started_stack=1; fi
cleanup() { if [ "$started_stack" = 1 ] && [ -z "${KEEP_STACK:-}" ]; then bun run scripts/stack.ts down || true; fi; }
trap cleanup EXIT
echo "== local stack"
bun run scripts/stack.ts up

echo "== tests"
log=.stack/bun-test.log
status=0
bun test --timeout 120000 "$@" 2>&1 | tee "$log" || status=$?
# One plain closing line for CI, from bun's own " N pass" / " N fail" summary.
passed=$(grep -Eo '^ *[0-9]+ pass$' "$log" | tail -1 | tr -dc 0-9)
failed=$(grep -Eo '^ *[0-9]+ fail$' "$log" | tail -1 | tr -dc 0-9)
echo "tests: ${passed:-0} passed, ${failed:-0} failed"
exit "$status"
