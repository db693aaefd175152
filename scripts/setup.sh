#!/usr/bin/env bash
# Installs the Debian packages the local stack needs (scripts/stack.ts): Redis, PostgreSQL, OpenSSL,
# a Java 17+ runtime and Maven (Kafka itself comes from Maven Central, see scripts/stack/kafka-jars.ts).
# Idempotent: a quick no-op when everything is there; `apt-get update` runs only when something is missing.
# Non-interactive: fine under CI=true with no stdin.
set -euo pipefail

missing=()
have() { command -v "$1" >/dev/null 2>&1; }

have redis-server || missing+=(redis-server)
have openssl || missing+=(openssl)
have runuser || missing+=(util-linux)
# Debian's postgresql puts its server binaries outside PATH, under /usr/lib/postgresql/<major>/bin.
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || missing+=(postgresql)

java_major() {
  java -version 2>&1 | awk -F'"' '/version/ { split($2, v, "."); print (v[1] == "1" ? v[2] : v[1]); exit }'
}
if ! have java || [ "$(java_major)" -lt 17 ]; then
  missing+=(openjdk-17-jre-headless)
fi
have keytool || missing+=(openjdk-17-jre-headless)
have mvn || missing+=(maven)
# The systemd units' test verifies them with systemd-analyze (deploy/systemd/), and the /metrics test lints
# both processes' output with promtool (Debian's prometheus package; its server is not started).
have systemd-analyze || missing+=(systemd)
have promtool || missing+=(prometheus)

if [ "${#missing[@]}" -eq 0 ]; then
  echo "setup: all stack prerequisites present"
  exit 0
fi

bash "$(dirname "$0")/apt-install.sh" setup "${missing[@]}"

for cmd in redis-server openssl java keytool mvn systemd-analyze promtool; do
  have "$cmd" || { echo "setup: $cmd still missing after install" >&2; exit 1; }
done
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || { echo "setup: initdb still missing" >&2; exit 1; }
echo "setup: done"
