# Sourced first by every benchmark, after its own parameters: strict mode, the repository root, the output
# folder ($OUT), a release build of Ferry ($FERRY), throw-away PostgreSQL and MariaDB servers (settings in
# $FERRY_PG_EXTRA) stopped on exit — a script with more to stop sets its own EXIT trap, which calls
# stop_databases — their URLs ($PG, $MY), PostgreSQL's tools ($PGBIN) and timers (now, elapsed).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
OUT=${OUT:-bench/out}
mkdir -p "$OUT"
swift build -c release >/dev/null
FERRY=$(swift build -c release --show-bin-path)/ferry
source scripts/databases.sh
# Without TLS, as the figures in RESULTS.md were measured: the references would encrypt too.
FERRY_DB_TLS=off start_databases
trap stop_databases EXIT
PGBIN=$(dirname "$FERRY_PG_CTL")
PG="postgres://postgres@127.0.0.1:$FERRY_PG_PORT"
MY="mysql://root@127.0.0.1:$FERRY_MY_PORT"
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }
