#!/usr/bin/env bash
# Full-load benchmark into MariaDB: Ferry (release build) against the same-run pipe of the databases' own tools.
#   pipe:  psql -c "COPY (…) TO STDOUT" | mariadb --local-infile -e "LOAD DATA LOCAL INFILE '/dev/stdin' INTO TABLE t",
#          into the table Ferry itself creates (read from a first Ferry run); the COPY's query turns booleans into
#          0/1 and timestamptz into UTC text, as MariaDB reads them
#   ferry: ferry migrate --source postgres://…/src --target mysql://…, one table
# Data: pgbench_accounts at scale $SCALE (default 10: 1M rows) and the 16-column table `wide` of $WIDE_ROWS rows
# (default 1M). Each is measured $REPS times (default 3), pipe and Ferry alternating, each into an emptied table;
# prints `RESULT <case> <table> rows=<n> seconds=<s> rows_per_s=<r>` per run and the ratio of the medians.
# After the runs, `ferry validate` checks that Ferry's copy of each table equals the source.
SCALE=${SCALE:-10}
WIDE_ROWS=${WIDE_ROWS:-1000000}
REPS=${REPS:-3}
source "$(dirname "$0")/setup.sh"
psql_src() { psql -X -q -h 127.0.0.1 -p "$FERRY_PG_PORT" -U postgres -d "$1" "${@:2}"; }
my() { mariadb --local-infile=1 -h 127.0.0.1 -P "$FERRY_MY_PORT" -u root -N "$@"; }

psql_src postgres -c "CREATE DATABASE src"
echo "generating data: pgbench scale $SCALE, wide table of $WIDE_ROWS rows"
"$PGBIN/pgbench" -q -i -s "$SCALE" -h 127.0.0.1 -p "$FERRY_PG_PORT" -U postgres src >/dev/null 2>&1
make_wide_table src "$WIDE_ROWS"
: > "$OUT/results.txt"
declare -A select_list=(
  [pgbench_accounts]="*"
  [wide]="id, c_int1, c_int2, c_big1, c_big2, c_num1, c_num2, c_ts1, c_ts2 AT TIME ZONE 'UTC', c_bool::int, c_v1, c_v2, c_v3, c_v4, c_v5, c_date"
)

for t in pgbench_accounts wide; do
  rows=$(psql_src src -At -c "SELECT count(*) FROM $t")
  printf '{"rules":[{"rule-type":"selection","rule-id":"1","rule-name":"1","object-locator":{"schema-name":"public","table-name":"%s"},"rule-action":"explicit"},{"rule-type":"transformation","rule-id":"2","rule-name":"2","rule-target":"schema","object-locator":{"schema-name":"public"},"rule-action":"rename","value":"ferry"}]}' "$t" > "$OUT/map-ferry.json"
  # Ferry's CREATE TABLE, so that the pipe writes the same table (types, key) as Ferry does.
  my -e "DROP DATABASE IF EXISTS ferry; DROP DATABASE IF EXISTS pipe; CREATE DATABASE pipe"
  "$FERRY" migrate --source "$PG/src" --target "$MY" --table-mappings "$OUT/map-ferry.json" --json >/dev/null
  my -e "USE pipe; $(my -e "SHOW CREATE TABLE ferry.$t" | cut -f2-)"
  : > "$OUT/pipe-$t.txt"; : > "$OUT/ferry-$t.txt"
  for rep in $(seq 1 "$REPS"); do
    my -e "TRUNCATE pipe.$t; DROP DATABASE ferry"
    start=$(now)
    psql_src src -c "COPY (SELECT ${select_list[$t]} FROM $t) TO STDOUT" | my pipe -e "LOAD DATA LOCAL INFILE '/dev/stdin' INTO TABLE $t"
    seconds=$(elapsed "$start"); echo "$seconds" >> "$OUT/pipe-$t.txt"
    report_rows pipe-pg-mariadb "$t" "$rows" "$seconds"
    [ "$(my -e "SELECT count(*) FROM pipe.$t")" = "$rows" ] || { echo "the pipe loaded the wrong row count into $t"; exit 1; }
    start=$(now)
    "$FERRY" migrate --source "$PG/src" --target "$MY" --table-mappings "$OUT/map-ferry.json" --json > "$OUT/ferry-$t.json"
    seconds=$(elapsed "$start"); echo "$seconds" >> "$OUT/ferry-$t.txt"
    report_rows ferry-pg-mariadb "$t" "$rows" "$seconds"
    [ "$(my -e "SELECT count(*) FROM ferry.$t")" = "$rows" ] || { echo "ferry loaded the wrong row count into $t"; exit 1; }
  done
  # The copy Ferry made last must validate equal to the source.
  "$FERRY" validate --source "$PG/src" --target "$MY" --table-mappings "$OUT/map-ferry.json" --json > "$OUT/validate-$t.json" || true
  python3 -c 'import json, sys; t = json.load(open(sys.argv[1]))["tables"][0]; print("VALIDATE", sys.argv[2], t["state"], t["differenceCount"]); sys.exit(t["differenceCount"] != 0 or t["state"] != "Validated")' \
    "$OUT/validate-$t.json" "$t" | tee -a "$OUT/results.txt" || { echo "ferry's copy of $t does not validate"; exit 1; }
  awk -v t="$t" -v c="$(median < "$OUT/pipe-$t.txt")" -v f="$(median < "$OUT/ferry-$t.txt")" \
    'BEGIN { printf "RATIO pg-mariadb %s ferry_vs_pipe=%.2f (pipe %.2f s, ferry %.2f s, medians)\n", t, c / f, c, f }' | tee -a "$OUT/results.txt"
done
