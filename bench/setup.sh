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
# median: the median of the numbers on standard input, one per line.
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
# report_rows CASE TABLE ROWS SECONDS: a `RESULT` line with the rate, also appended to $OUT/results.txt.
report_rows() {
  awk -v c="$1" -v t="$2" -v r="$3" -v s="$4" 'BEGIN { printf "RESULT %s %s rows=%d seconds=%.2f rows_per_s=%.0f\n", c, t, r, s, r / s }' | tee -a "$OUT/results.txt"
}
# make_wide_table DB ROWS: the 16-column table `wide` (integers, numerics, timestamps, booleans, text, dates)
# of ROWS rows in PostgreSQL database DB, vacuumed and analyzed.
make_wide_table() {
  psql -X -q -h 127.0.0.1 -p "$FERRY_PG_PORT" -U postgres -d "$1" <<SQL >/dev/null
CREATE TABLE wide (
  id bigint PRIMARY KEY, c_int1 integer, c_int2 integer, c_big1 bigint, c_big2 bigint, c_num1 numeric(12,2),
  c_num2 numeric(18,6), c_ts1 timestamp, c_ts2 timestamptz, c_bool boolean, c_v1 varchar(32), c_v2 varchar(32),
  c_v3 varchar(32), c_v4 varchar(32), c_v5 varchar(32), c_date date);
INSERT INTO wide SELECT g, g % 1000, g % 77, g * 31, g * 17, (g % 100000) / 100.0, g / 7.0,
  timestamp '2020-01-01' + g * interval '1 second', timestamptz '2020-01-01 00:00:00+00' + g * interval '1 minute',
  g % 2 = 0, md5(g::text), md5((g + 1)::text), md5((g + 2)::text), md5((g + 3)::text), md5((g + 4)::text),
  date '2000-01-01' + (g % 9000)
FROM generate_series(1, $2) g;
VACUUM ANALYZE;
SQL
}
