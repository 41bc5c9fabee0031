#!/usr/bin/env bash
# Ferry's test command: installs what is missing, starts PostgreSQL (wal_level=logical) and MariaDB
# (ROW binlog, FULL row image) on free loopback ports in a temporary directory, runs `swift test`
# against them, stops them by PID and exits with the tests' status. Extra arguments go to `swift test`.
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

missing=()
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
pkg-config --exists libpq 2>/dev/null || missing+=(libpq-dev)
command -v mariadbd >/dev/null 2>&1 || missing+=(mariadb-server)
pkg-config --exists libmariadb 2>/dev/null || missing+=(libmariadb-dev)
pkg-config --exists sqlite3 2>/dev/null || missing+=(libsqlite3-dev)
if [ ${#missing[@]} -gt 0 ]; then
  echo "test.sh: installing ${missing[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

source scripts/databases.sh
start_databases
trap stop_databases EXIT

set +e
swift test "$@"
status=$?
set -e
exit $status
