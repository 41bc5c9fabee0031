#!/usr/bin/env bash
# Full-load benchmark: Ferry (release build) against same-run references.
#   PG→PG:      psql "COPY t TO STDOUT" | psql "COPY t FROM STDIN" between the same two databases (the ceiling)
#   MariaDB→PG: pgloader (Debian package)
# Data: pgbench scale $SCALE (default 50: 5M accounts) and a 16-column table of $WIDE_ROWS rows (default 5M),
# made in PostgreSQL and copied to MariaDB by Ferry (that copy is timed too). Each PG→PG table is measured
# $REPS times (default 3), ceiling and Ferry alternating, each after a CHECKPOINT, with autovacuum off; the
# ratio table uses the medians. Prints one line per measurement as
# `RESULT <case> <table> rows=<n> seconds=<s> rows_per_s=<r> mb_per_s=<m>`. All tables together are
# measured the same way: one pipe per table in turn against Ferry loading them all. SKIP_MYSQL=1 skips the
# MariaDB cases.
SCALE=${SCALE:-50}
WIDE_ROWS=${WIDE_ROWS:-5000000}
REPS=${REPS:-3}
FERRY_PG_EXTRA="-c autovacuum=off"
command -v pgloader >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq pgloader >/dev/null; }
source "$(dirname "$0")/setup.sh"
psql_src() { psql -X -q -h 127.0.0.1 -p "$FERRY_PG_PORT" -U postgres -d "$1" "${@:2}"; }

for db in src ceiling ferry_dst from_mysql pgloader_dst; do psql_src postgres -c "CREATE DATABASE $db"; done
echo "generating data: pgbench scale $SCALE, wide table of $WIDE_ROWS rows"
"$PGBIN/pgbench" -q -i -s "$SCALE" -h 127.0.0.1 -p "$FERRY_PG_PORT" -U postgres src >/dev/null 2>&1
psql_src src -c "ALTER TABLE pgbench_history ADD COLUMN id bigserial PRIMARY KEY" >/dev/null
make_wide_table src "$WIDE_ROWS"
TABLES="pgbench_accounts wide pgbench_history pgbench_tellers pgbench_branches"
size_mb() { psql_src src -At -c "SELECT pg_relation_size('$1') / 1048576.0"; }
rows_of() { psql_src src -At -c "SELECT count(*) FROM $1"; }
report() { # case table rows seconds mb
  awk -v c="$1" -v t="$2" -v r="$3" -v s="$4" -v m="$5" 'BEGIN { printf "RESULT %s %s rows=%d seconds=%.2f rows_per_s=%.0f mb_per_s=%.1f\n", c, t, r, s, r / s, m / s }' | tee -a "$OUT/results.txt"
}
mapping() { # schema table
  printf '{"rules":[{"rule-type":"selection","rule-id":"1","rule-name":"1","object-locator":{"schema-name":"%s","table-name":"%s"},"rule-action":"explicit"}]}' "$1" "$2" > "$OUT/map.json"
}
: > "$OUT/results.txt"

echo "== PG→PG per table: ceiling pipe vs Ferry"
for t in $TABLES; do
  rows=$(rows_of "$t"); mb=$(size_mb "$t")
  "$PGBIN/pg_dump" -s -t "$t" -h 127.0.0.1 -p "$FERRY_PG_PORT" -U postgres src | psql_src ceiling >/dev/null
  mapping public "$t"
  reps=$REPS; [ "$rows" -lt 100000 ] && reps=1
  for rep in $(seq 1 "$reps"); do
  psql_src ceiling -c "TRUNCATE $t" -c "CHECKPOINT" >/dev/null
  start=$(now)
  psql_src src -c "COPY $t TO STDOUT" | psql_src ceiling -c "COPY $t FROM STDIN"
  report ceiling-pg-pg "$t" "$rows" "$(elapsed "$start")" "$mb"
  psql_src ferry_dst -c "CHECKPOINT" >/dev/null
  start=$(now)
  /usr/bin/time -f "%M" -o "$OUT/rss-$t.txt" "$FERRY" migrate --source "$PG/src" --target "$PG/ferry_dst" --table-mappings "$OUT/map.json" --json > "$OUT/ferry-$t.json"
  report ferry-pg-pg "$t" "$rows" "$(elapsed "$start")" "$mb"
  echo "RSS ferry-pg-pg $t max_rss_mb=$(( $(cat "$OUT/rss-$t.txt") / 1024 ))" | tee -a "$OUT/results.txt"
  done
done

echo "== PG→PG all tables: every table through its own pipe, one after another, vs Ferry loading them all"
all_rows=$(psql_src src -At -c "SELECT sum(n_live_tup) FROM pg_stat_user_tables")
all_mb=$(psql_src src -At -c "SELECT sum(pg_relation_size(relid)) / 1048576.0 FROM pg_stat_user_tables")
for rep in $(seq 1 "$REPS"); do
  psql_src ceiling -c "TRUNCATE $(echo $TABLES | tr ' ' ',')" -c "CHECKPOINT" >/dev/null
  start=$(now)
  for t in $TABLES; do psql_src src -c "COPY $t TO STDOUT" | psql_src ceiling -c "COPY $t FROM STDIN"; done
  report ceiling-pg-pg-all all "$all_rows" "$(elapsed "$start")" "$all_mb"
  psql_src ferry_dst -c "CHECKPOINT" >/dev/null
  start=$(now)
  "$FERRY" migrate --source "$PG/src" --target "$PG/ferry_dst" --json > "$OUT/ferry-all.json"
  report ferry-pg-pg-all all "$all_rows" "$(elapsed "$start")" "$all_mb"
done

if [ -n "${SKIP_MYSQL:-}" ]; then
  echo "== MariaDB cases skipped (SKIP_MYSQL)"
else
echo "== PG→MariaDB (prepares the MariaDB copy)"
printf '{"rules":[{"rule-type":"selection","rule-id":"1","rule-name":"1","object-locator":{"schema-name":"public","table-name":"%%"},"rule-action":"include"},{"rule-type":"transformation","rule-id":"2","rule-name":"2","rule-target":"schema","object-locator":{"schema-name":"public"},"rule-action":"rename","value":"bench"}]}' > "$OUT/to-mysql.json"
start=$(now)
"$FERRY" migrate --source "$PG/src" --target "$MY" --table-mappings "$OUT/to-mysql.json" --json > "$OUT/ferry-pg-mysql.json"
report ferry-pg-mysql all "$all_rows" "$(elapsed "$start")" "$all_mb"

echo "== MariaDB→PG: pgloader vs Ferry"
# pgloader's defaults (prefetch 100000 rows per reader) can exhaust its 1 GB SBCL heap on this data; that
# outcome is recorded, then it runs again with smaller batches so there is a working figure to compare.
start=$(now)
if pgloader --quiet "mysql://root@127.0.0.1:$FERRY_MY_PORT/bench" "postgresql://postgres@127.0.0.1:$FERRY_PG_PORT/pgloader_dst" > "$OUT/pgloader.log" 2>&1; then
  report pgloader-mysql-pg all "$all_rows" "$(elapsed "$start")" "$all_mb"
else
  echo "RESULT pgloader-defaults-failed after $(elapsed "$start")s: $(grep -m1 -E 'Heap exhausted|ERROR|FATAL' "$OUT/pgloader.log")" | tee -a "$OUT/results.txt"
  psql_src postgres -c "DROP DATABASE pgloader_dst" -c "CREATE DATABASE pgloader_dst" >/dev/null
  start=$(now)
  pgloader --quiet --with "prefetch rows = 10000" --with "batch rows = 10000" \
    "mysql://root@127.0.0.1:$FERRY_MY_PORT/bench" "postgresql://postgres@127.0.0.1:$FERRY_PG_PORT/pgloader_dst" > "$OUT/pgloader-small.log" 2>&1
  report pgloader-mysql-pg all "$all_rows" "$(elapsed "$start")" "$all_mb"
fi
start=$(now)
/usr/bin/time -f "%M" -o "$OUT/rss-mysql-pg.txt" "$FERRY" migrate --source "$MY/bench" --target "$PG/from_mysql" --json > "$OUT/ferry-mysql-pg.json"
report ferry-mysql-pg all "$all_rows" "$(elapsed "$start")" "$all_mb"
echo "RSS ferry-mysql-pg all max_rss_mb=$(( $(cat "$OUT/rss-mysql-pg.txt") / 1024 ))" | tee -a "$OUT/results.txt"
loaded=$(psql_src from_mysql -At -c "SELECT count(*) FROM bench.pgbench_accounts")
[ "$loaded" = "$(rows_of pgbench_accounts)" ] || { echo "row count mismatch after MariaDB→PG: $loaded"; exit 1; }
fi

echo
echo "== ratios (medians; higher is better for Ferry)"
awk '
  /^RESULT/ && $5 ~ /^seconds=/ { split($5, s, "="); k = $2 "|" $3; n[k]++; v[k, n[k]] = s[2] }
  function median(k,   i, j, t, m) {
    m = n[k]; if (m == 0) return 0
    for (i = 1; i <= m; i++) a[i] = v[k, i]
    for (i = 1; i <= m; i++) for (j = i + 1; j <= m; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
    return (m % 2) ? a[(m + 1) / 2] : (a[m / 2] + a[m / 2 + 1]) / 2
  }
  END {
    split("pgbench_accounts wide pgbench_history pgbench_tellers pgbench_branches", tabs, " ")
    for (i = 1; i <= 5; i++) {
      c = median("ceiling-pg-pg|" tabs[i]); f = median("ferry-pg-pg|" tabs[i])
      if (c && f) { printf "PG→PG %-18s ceiling %7.2fs  ferry %7.2fs  ferry/ceiling speed %.2fx (n=%d)\n", tabs[i], c, f, c / f, n["ferry-pg-pg|" tabs[i]]; sum += c }
    }
    whole = median("ferry-pg-pg-all|all"); pipes = median("ceiling-pg-pg-all|all")
    printf "PG→PG all tables: one pipe per table in turn %.2fs, ferry all at once %.2fs: %.2fx\n", pipes, whole, pipes / whole
    p = median("pgloader-mysql-pg|all"); f = median("ferry-mysql-pg|all")
    if (p && f) printf "MariaDB→PG: pgloader %.2fs, ferry %.2fs: ferry %.2fx pgloader speed\n", p, f, p / f
  }' "$OUT/results.txt" | tee "$OUT/ratios.txt"
