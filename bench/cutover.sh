#!/usr/bin/env bash
# Cutover benchmark, PostgreSQL→PostgreSQL: the write pause of $CUTOVERS cutovers (every second one a
# rollback, so the application goes back and forth) while pgbench -N writes $RATE TPS to whichever database
# is the primary, Ferry in a release build beside `ferry migrate`, verification under the freeze $VALIDATE.
# The pause is Ferry's own figure: from the first lock requested to the release.
# Reference in the same run: the same freeze done by hand over native logical replication (a subscription):
# LOCK TABLE … IN EXCLUSIVE MODE, a marker row inserted into an unlocked published table, wait until the
# subscriber has it, COMMIT — timed from the lock to the commit, $CUTOVERS times under the same load.
# Prints `RESULT …` lines (p50 and max of both, and the ratio of the p50s).
SCALE=${SCALE:-1}
RATE=${RATE:-500}
CUTOVERS=${CUTOVERS:-10}
VALIDATE=${VALIDATE:-none}
FERRY_PG_EXTRA="-c autovacuum=off"
source "$(dirname "$0")/setup.sh"
source "$(dirname "$0")/cutover-rounds.sh"
pg() { psql -X -q -At -h 127.0.0.1 -p "$FERRY_PG_PORT" -U postgres -d "$1" "${@:2}"; }
: > "$OUT/cutover-results.txt"
result() { echo "RESULT $*" | tee -a "$OUT/cutover-results.txt"; }
TABLES="pgbench_accounts, pgbench_branches, pgbench_tellers, pgbench_history"
WORK=$(mktemp -d)

for db in a b native; do pg postgres -c "CREATE DATABASE $db"; done
"$PGBIN/pgbench" -q -i -s "$SCALE" -h 127.0.0.1 -p "$FERRY_PG_PORT" -U postgres a >/dev/null 2>&1
pg a -c "ALTER TABLE pgbench_history ADD COLUMN id bigserial PRIMARY KEY"
writes() { "$PGBIN/pgbench" -n -N -c 4 -j 2 -R "$RATE" -T "$1" -h 127.0.0.1 -p "$FERRY_PG_PORT" -U postgres "$2" > "$WORK/pgbench-$2.txt" 2>&1 || true; }

echo "== Ferry: $CUTOVERS cutovers and rollbacks at $RATE TPS (--validate $VALIDATE)"
cutover_rounds "$PG/a" "$PG/b" a b
kill -INT "$MIGRATE"; wait "$MIGRATE" || true; MIGRATE=""
for db in a b; do echo "$db: $(pg "$db" -c "SELECT count(*), sum(abalance) FROM pgbench_accounts") history $(pg "$db" -c "SELECT count(*) FROM pgbench_history")"; done
cat "$WORK/cutover-pauses.txt" "$WORK/rollback-pauses.txt" > "$WORK/ferry-pauses.txt"
result "ferry write pause: $(stats < "$WORK/ferry-pauses.txt")"

echo "== reference: a hand-made freeze over native logical replication, $CUTOVERS times at $RATE TPS"
pg a -c "DROP TRIGGER IF EXISTS ferry_write_fence ON pgbench_accounts" -c "DROP TRIGGER IF EXISTS ferry_write_fence ON pgbench_branches" \
     -c "DROP TRIGGER IF EXISTS ferry_write_fence ON pgbench_tellers" -c "DROP TRIGGER IF EXISTS ferry_write_fence ON pgbench_history" \
     -c "CREATE TABLE cutover_marker (id bigserial PRIMARY KEY)"
"$PGBIN/pg_dump" -s -h 127.0.0.1 -p "$FERRY_PG_PORT" -U postgres -t 'pgbench_*' -t cutover_marker a | pg native >/dev/null
pg a -c "CREATE PUBLICATION native FOR TABLE $TABLES, cutover_marker" -c "SELECT pg_create_logical_replication_slot('native', 'pgoutput')" >/dev/null
pg native -c "CREATE SUBSCRIPTION native CONNECTION 'host=127.0.0.1 port=$FERRY_PG_PORT dbname=a user=postgres' PUBLICATION native WITH (create_slot = false, slot_name = 'native')"
accounts=$(pg a -c "SELECT count(*) FROM pgbench_accounts")
until [ "$(pg native -c "SELECT count(*) FROM pgbench_accounts")" = "$accounts" ]; do sleep 0.5; done
: > "$WORK/native-pauses.txt"
for i in $(seq 1 "$CUTOVERS"); do
  writes 5 a & WRITER=$!
  sleep 2
  coproc LOCKER { psql -X -q -At -h 127.0.0.1 -p "$FERRY_PG_PORT" -U postgres -d a; }
  start=$(now)
  echo "BEGIN; LOCK TABLE $TABLES IN EXCLUSIVE MODE; SELECT 'locked';" >&"${LOCKER[1]}"
  read -r _ <&"${LOCKER[0]}"
  marker=$(pg a -c "INSERT INTO cutover_marker DEFAULT VALUES RETURNING id")
  until [ "$(pg native -c "SELECT count(*) FROM cutover_marker WHERE id = $marker")" = 1 ]; do sleep 0.01; done
  echo "COMMIT; SELECT 'released';" >&"${LOCKER[1]}"
  read -r _ <&"${LOCKER[0]}"
  elapsed "$start" >> "$WORK/native-pauses.txt"; echo >> "$WORK/native-pauses.txt"
  exec {LOCKER[1]}>&-
  wait "$LOCKER_PID" 2>/dev/null || true
  wait "$WRITER"
done
pg native -c "DROP SUBSCRIPTION native" >/dev/null
result "native hand-made freeze: $(grep -v '^$' "$WORK/native-pauses.txt" | stats)"
ferry_p50=$(sort -n "$WORK/ferry-pauses.txt" | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
native_p50=$(grep -v '^$' "$WORK/native-pauses.txt" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
result "ratio of p50s (ferry / native): $(awk -v a="$ferry_p50" -v b="$native_p50" 'BEGIN { printf "%.2f", a / b }')"
rm -rf "$WORK"
