#!/usr/bin/env bash
# Ferry's test command: installs what is missing, starts PostgreSQL (wal_level=logical) and MariaDB
# (ROW binlog, FULL row image) on free loopback ports in a temporary directory, runs `swift test`
# against them, then the end-to-end tests (boto3, the aws CLI and a headless Chromium against a real
# `ferry serve`), stops the databases by PID and exits non-zero if any test failed. Extra arguments go to `swift test` and skip
# the end-to-end tests. A run that outlasts its deadline (FERRY_TEST_MINUTES, 35 by default, including
# the build) is stopped with a report of what was stuck (scripts/watchdog.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

source scripts/packages.sh
packages=()
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || packages+=(postgresql)
command -v mariadbd >/dev/null 2>&1 || packages+=(mariadb-server)
# The databases' TLS certificates (scripts/databases.sh) and the HTTPS tests' are made with openssl.
command -v openssl >/dev/null 2>&1 || packages+=(openssl)
python3 -c 'import boto3, pytest, selenium' 2>/dev/null && command -v aws >/dev/null || pip_missing=1
install_missing_packages "${packages[@]}"
# The console's end-to-end test drives Debian's Chromium through its WebDriver (Selenium); without the
# recommended packages it is about 90 MB.
browser=()
[ -x /usr/bin/chromium ] || browser+=(chromium)
[ -x /usr/bin/chromedriver ] || browser+=(chromium-driver)
if [ ${#browser[@]} -gt 0 ]; then
  echo "test.sh: installing ${browser[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${browser[@]}" >/dev/null
fi

if [ -n "${pip_missing:-}" ]; then
  echo "test.sh: installing boto3, awscli, pytest and selenium"
  python3 -m pip install -q boto3 awscli pytest selenium
fi

source scripts/databases.sh
source scripts/watchdog.sh
start_databases
trap stop_databases EXIT

# Swift Testing starts every test case at once unless told otherwise; on 2 cores, with each case holding
# database sessions and threads of its own, that made waits time out (load average 18, 260 s, against 92 s
# with six at a time). FERRY_TEST_PARALLEL sets how many test cases run at once.
export SWT_EXPERIMENTAL_MAXIMUM_PARALLELIZATION_WIDTH="${FERRY_TEST_PARALLEL:-6}"

set +e
run_with_deadline "${FERRY_TEST_MINUTES:-35}" "$FERRY_DB_DIR/swift-test.log" swift test "$@"
status=$?
if [ $# -eq 0 ]; then
  FERRY_BIN="$(swift build --show-bin-path)/ferry" run_with_deadline 15 "$FERRY_DB_DIR/e2e.log" \
    python3 -m pytest -q -p no:cacheprovider Tests/e2e
  e2e=$?
  [ $status -eq 0 ] && status=$e2e
fi
set -e
exit $status
