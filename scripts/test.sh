#!/usr/bin/env bash
# The whole test suite: installs what it needs, starts the local stack (Kafka, Redis, Postgres), type-checks,
# lints, runs every test, and stops what it started.
#
#   bash scripts/test.sh [bun test args…]   everything on the stack's default Kafka (4.1)
#   bash scripts/test.sh --kafka-compat      only the files that talk to a broker, on Kafka 3.9.1, from a stack
#                                            of their own (state in .stack-kafka-3.9.1/, every port +100), so
#                                            that it can run beside the default stack; no type-check or lint
set -euo pipefail
cd "$(dirname "$0")/.."

# The files whose subject is Kafka or that drive producer and consumer through it end to end: the stack's own
# checks, producer.ts, the doctor, the broker faults (single broker and 3-broker cluster), the pipeline suites,
# the DLQ, replays under SIGKILL, the topic tail and backfill. Sink outages and repairs go through Kafka too,
# but what they test is the sinks, and they would add 4 min.
KAFKA_FILES=(
  tests/stack.integration.test.ts
  tests/producer.integration.test.ts
  tests/doctor.integration.test.ts
  tests/faults.integration.test.ts
  tests/kafka-cluster.integration.test.ts
  tests/pipeline.integration.test.ts
  tests/pipeline-production.integration.test.ts
  tests/dlq-poison.integration.test.ts
  tests/replay-kills.integration.test.ts
  tests/topic-tail.integration.test.ts
  tests/backfill.integration.test.ts
)

compat=0
if [ "${1:-}" = "--kafka-compat" ]; then
  compat=1
  shift
  export BELLY_KAFKA_VERSION="${BELLY_KAFKA_VERSION:-3.9.1}"
  export BELLY_STACK_DIR="${BELLY_STACK_DIR:-$PWD/.stack-kafka-$BELLY_KAFKA_VERSION}"
  export BELLY_STACK_PORT_OFFSET="${BELLY_STACK_PORT_OFFSET:-100}"
  if [ "$#" -eq 0 ]; then set -- "${KAFKA_FILES[@]}"; fi
fi
state_dir="${BELLY_STACK_DIR:-.stack}"

bash scripts/bootstrap.sh
export PATH="$PWD/node_modules/.bin:$PATH"

if [ "$compat" = 0 ]; then
  echo "== type-check (tsc --noEmit, strict)"
  tsc --noEmit
  echo "== lint and format (biome)"
  biome check .
fi

started_stack=0
if ! bun run scripts/stack.ts status --quiet; then started_stack=1; fi
cleanup() { if [ "$started_stack" = 1 ] && [ -z "${KEEP_STACK:-}" ]; then bun run scripts/stack.ts down || true; fi; }
trap cleanup EXIT
echo "== local stack"
bun run scripts/stack.ts up

echo "== tests"
log="$state_dir/bun-test.log"
status=0
bun test --timeout 120000 "$@" 2>&1 | tee "$log" || status=$?
# One plain closing line for CI, from bun's own " N pass" / " N fail" summary.
passed=$(grep -Eo '^ *[0-9]+ pass$' "$log" | tail -1 | tr -dc 0-9)
failed=$(grep -Eo '^ *[0-9]+ fail$' "$log" | tail -1 | tr -dc 0-9)
echo "tests: ${passed:-0} passed, ${failed:-0} failed"
exit "$status"
