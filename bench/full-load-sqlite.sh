#!/usr/bin/env bash
# Full-load benchmark into SQLite: Ferry (release build) against the same-run ceiling of the sqlite3 shell.
#   ceiling: psql "\copy t TO STDOUT (FORMAT csv)" | sqlite3 file ".import --csv /dev/stdin t", into a table made
#            with Ferry's own CREATE TABLE (read from a first Ferry run), so both write the same columns and key
#   ferry:   ferry migrate --source postgres://…/src --target sqlite://…/ferry.db, one table
# Then SQLite → SQLite from the file Ferry loaded: the ceiling is `ATTACH` and `INSERT INTO t SELECT * FROM src.t`
# in the sqlite3 shell, into the same CREATE TABLE; Ferry is `ferry migrate --source sqlite://…/src.db`.
# Data: pgbench_accounts at scale $SCALE (default 10: 1M rows) and a 16-column table of $WIDE_ROWS rows (default
# 1M). Each is measured $REPS times (default 3), ceiling and Ferry alternating, each into a new file; prints
# `RESULT <case> <table> rows=<n> seconds=<s> rows_per_s=<r>` per run and the ratio of the medians.
SCALE=${SCALE:-10}
WIDE_ROWS=${WIDE_ROWS:-1000000}
REPS=${REPS:-3}
command -v sqlite3 >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq sqlite3 >/dev/null; }
source "$(dirname "$0")/setup.sh"
psql_src() { psql -X -q -h 127.0.0.1 -p "$FERRY_PG_PORT" -U postgres -d "$1" "${@:2}"; }

psql_src postgres -c "CREATE DATABASE src"
echo "generating data: pgbench scale $SCALE, wide table of $WIDE_ROWS rows"
"$PGBIN/pgbench" -q -i -s "$SCALE" -h 127.0.0.1 -p "$FERRY_PG_PORT" -U postgres src >/dev/null 2>&1
make_wide_table src "$WIDE_ROWS"
: > "$OUT/results.txt"
ceiling_pg() { psql_src src -c "\\copy $t TO STDOUT (FORMAT csv)" | sqlite3 "$OUT/ceiling.db" ".import --csv /dev/stdin $t"; }
ceiling_sqlite() { sqlite3 "$OUT/ceiling.db" "ATTACH '$OUT/src.db' AS src; INSERT INTO main.$t SELECT * FROM src.$t;"; }
# compare PAIR SOURCE_URL MAP CEILING_FUNCTION: $REPS runs of the ceiling (into a new ceiling.db holding Ferry's
# CREATE TABLE) and of Ferry (into a new ferry.db), alternating, for table $t of $rows rows; then the ratio.
compare() {
  local pair=$1 source=$2 map=$3 ceiling=$4
  : > "$OUT/ceiling-$pair-$t.txt"; : > "$OUT/ferry-$pair-$t.txt"
  for rep in $(seq 1 "$REPS"); do
    rm -f "$OUT/ceiling.db"* "$OUT/ferry.db"*
    sqlite3 "$OUT/ceiling.db" "$schema"
    start=$(now)
    "$ceiling"
    seconds=$(elapsed "$start"); echo "$seconds" >> "$OUT/ceiling-$pair-$t.txt"
    report_rows "ceiling-$pair" "$t" "$rows" "$seconds"
    start=$(now)
    "$FERRY" migrate --source "$source" --target "sqlite://$OUT/ferry.db" --table-mappings "$map" --json > "$OUT/ferry-$pair-$t.json"
    seconds=$(elapsed "$start"); echo "$seconds" >> "$OUT/ferry-$pair-$t.txt"
    report_rows "ferry-$pair" "$t" "$rows" "$seconds"
    [ "$(sqlite3 "$OUT/ferry.db" "SELECT count(*) FROM $t")" = "$rows" ] || { echo "ferry loaded the wrong row count into $t"; exit 1; }
  done
  awk -v p="$pair" -v t="$t" -v c="$(median < "$OUT/ceiling-$pair-$t.txt")" -v f="$(median < "$OUT/ferry-$pair-$t.txt")" \
    'BEGIN { printf "RATIO %s %s ferry_vs_ceiling=%.2f (ceiling %.2f s, ferry %.2f s, medians)\n", p, t, c / f, c, f }' | tee -a "$OUT/results.txt"
}

for t in pgbench_accounts wide; do
  rows=$(psql_src src -At -c "SELECT count(*) FROM $t")
  printf '{"rules":[{"rule-type":"selection","rule-id":"1","rule-name":"1","object-locator":{"schema-name":"public","table-name":"%s"},"rule-action":"explicit"}]}' "$t" > "$OUT/map.json"
  # Ferry's CREATE TABLE, so that the ceiling writes the same table (types, key) as Ferry does.
  rm -f "$OUT/schema.db"*
  "$FERRY" migrate --source "$PG/src" --target "sqlite://$OUT/schema.db" --table-mappings "$OUT/map.json" --json >/dev/null
  schema=$(sqlite3 "$OUT/schema.db" "SELECT sql FROM sqlite_master WHERE name = '$t'")
  compare pg-sqlite "$PG/src" "$OUT/map.json" ceiling_pg
  # The file Ferry loaded last is the SQLite source.
  mv "$OUT/ferry.db" "$OUT/src.db"; rm -f "$OUT/ferry.db"*
  sed 's/"public"/"main"/' "$OUT/map.json" > "$OUT/map-sqlite.json"
  compare sqlite-sqlite "sqlite://$OUT/src.db" "$OUT/map-sqlite.json" ceiling_sqlite
done
