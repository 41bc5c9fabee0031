#!/usr/bin/env bash
# CDC benchmark, PostgreSQL→PostgreSQL: Ferry (release build) against native logical replication
# (CREATE PUBLICATION / CREATE SUBSCRIPTION) between the same databases, in the same run.
#   lag:      pgbench -N at each of $RATES TPS ($CLIENTS clients, $SECONDS_LAG s each) while a heartbeat row is inserted every
#             100 ms; each target stamps a heartbeat's arrival (a column default), so lag = arrival − commit.
#             Reports p50 / p99 / max for both.
#   catch-up: both replicas stopped; pgbench -N runs $CATCHUP_TX transactions (2 changes each); each replica
#             is started alone and timed until a marker written last arrives. Reports changes/s. Then two
#             references that apply nothing: the same backlog decoded by pgoutput in a backend
#             (`pg_logical_slot_peek_binary_changes`, counted in the server, then copied to the client with
#             COPY … TO STDOUT), and decoded by a walsender and streamed, one message per change, to
#             pg_recvlogical, which writes it to /dev/null. Ferry catches up twice: as it does by default (the
#             backlog read through SQL), and with ?sql_backlog_bytes=off (through the walsender, a second task
#             whose slot also holds the lag runs' changes). Each catch-up reports the CPU of the server
#             processes that read the source for it (its walsender or backends, sampled from /proc).
# Prints `RESULT …` lines.
SCALE=${SCALE:-10}
RATES=${RATES:-"1000 2000 4000 8000"}
CLIENTS=${CLIENTS:-4}
SECONDS_LAG=${SECONDS_LAG:-30}
CATCHUP_TX=${CATCHUP_TX:-500000}
FERRY_PG_EXTRA="-c autovacuum=off"
source "$(dirname "$0")/setup.sh"
FERRY_PID=""
cleanup() { [ -n "$FERRY_PID" ] && kill -INT "$FERRY_PID" 2>/dev/null && wait "$FERRY_PID" 2>/dev/null; stop_databases; }
trap cleanup EXIT
pg() { psql -X -q -At -h 127.0.0.1 -p "$FERRY_PG_PORT" -U postgres -d "$1" "${@:2}"; }
: > "$OUT/cdc-results.txt"
result() { echo "RESULT $*" | tee -a "$OUT/cdc-results.txt"; }

for db in src native_dst ferry_dst ferry_stream_dst; do pg postgres -c "CREATE DATABASE $db"; done
"$PGBIN/pgbench" -q -i -s "$SCALE" -h 127.0.0.1 -p "$FERRY_PG_PORT" -U postgres src >/dev/null 2>&1
pg src -c "ALTER TABLE pgbench_history ADD COLUMN id bigserial PRIMARY KEY" \
       -c "CREATE TABLE heartbeat (id bigserial PRIMARY KEY, ts timestamptz NOT NULL)"
for db in native_dst ferry_dst ferry_stream_dst; do
  "$PGBIN/pg_dump" -s -h 127.0.0.1 -p "$FERRY_PG_PORT" -U postgres src | pg "$db" >/dev/null
  pg "$db" -c "ALTER TABLE heartbeat ADD COLUMN arrived timestamptz DEFAULT clock_timestamp()"
done

echo "== initial copy: native subscription and Ferry full-load-and-cdc"
# Within one cluster the subscription's slot must be created beforehand (PostgreSQL's documented rule).
pg src -c "CREATE PUBLICATION native FOR ALL TABLES" -c "SELECT pg_create_logical_replication_slot('native', 'pgoutput')" >/dev/null
pg native_dst -c "CREATE SUBSCRIPTION native CONNECTION 'host=127.0.0.1 port=$FERRY_PG_PORT dbname=src user=postgres' PUBLICATION native WITH (create_slot = false, slot_name = 'native')"
# start_ferry [stream]: task bench into ferry_dst, or with `stream` task bench_stream into ferry_stream_dst,
# reading every backlog through the walsender.
start_ferry() {
  local task=bench db=ferry_dst options=""
  [ "${1:-}" = stream ] && task=bench_stream db=ferry_stream_dst options="?sql_backlog_bytes=off"
  "$FERRY" migrate --source "$PG/src$options" --target "$PG/$db" --mode full-load-and-cdc --task "$task" \
    --target-table-prep-mode do-nothing --no-secondary-objects >> "$OUT/cdc-$task.log" 2>&1 &
  FERRY_PID=$!
}
stop_ferry() { kill -INT "$FERRY_PID"; wait "$FERRY_PID" || true; FERRY_PID=""; }
: > "$OUT/cdc-bench.log"; : > "$OUT/cdc-bench_stream.log"
start_ferry stream
for _ in $(seq 1 600); do grep -q "^cdc:" "$OUT/cdc-bench_stream.log" && break; sleep 1; done
stop_ferry
start_ferry
accounts=$(pg src -c "SELECT count(*) FROM pgbench_accounts")
for _ in $(seq 1 600); do
  a=$(pg native_dst -c "SELECT count(*) FROM pgbench_accounts"); b=$(pg ferry_dst -c "SELECT count(*) FROM pgbench_accounts")
  [ "$a" = "$accounts" ] && [ "$b" = "$accounts" ] && grep -q "^cdc:" "$OUT/cdc-bench.log" && break
  sleep 1
done
echo "both replicas hold $accounts accounts and stream"

for RATE in $RATES; do
  echo "== lag at $RATE TPS for $SECONDS_LAG s"
  pg src -c "INSERT INTO heartbeat (ts) VALUES (clock_timestamp())"; sleep 2
  first=$(pg src -c "SELECT max(id) + 1 FROM heartbeat")
  ( end=$(( $(date +%s) + SECONDS_LAG )); while [ "$(date +%s)" -lt "$end" ]; do pg src -c "INSERT INTO heartbeat (ts) VALUES (clock_timestamp())"; sleep 0.1; done ) &
  beats=$!
  "$PGBIN/pgbench" -n -N -c "$CLIENTS" -j 2 -R "$RATE" -T "$SECONDS_LAG" -h 127.0.0.1 -p "$FERRY_PG_PORT" -U postgres src > "$OUT/pgbench-lag-$RATE.txt" 2>&1
  wait "$beats"
  sleep 5
  tps=$(grep -E "^tps" "$OUT/pgbench-lag-$RATE.txt" | head -1 | awk '{print $3}')
  for db in native_dst ferry_dst; do
    stats=$(pg "$db" -c "SELECT count(*), round(percentile_cont(0.5) WITHIN GROUP (ORDER BY lag)::numeric, 3),
                                round(percentile_cont(0.99) WITHIN GROUP (ORDER BY lag)::numeric, 3), round(max(lag)::numeric, 3)
                         FROM (SELECT extract(epoch FROM arrived - ts) AS lag FROM heartbeat WHERE id >= $first) l")
    IFS='|' read -r n p50 p99 max <<< "$stats"
    result "lag target=$db rate=$RATE tps=$tps heartbeats=$n p50_s=$p50 p99_s=$p99 max_s=$max"
  done
done

echo "== catch-up: $CATCHUP_TX transactions queued while both replicas are stopped"
stop_ferry
pg native_dst -c "ALTER SUBSCRIPTION native DISABLE"
pg src -c "SELECT pg_create_logical_replication_slot('decode_only', 'pgoutput')" >/dev/null
pg src -c "SELECT pg_create_logical_replication_slot('decode_stream', 'pgoutput')" >/dev/null
"$PGBIN/pgbench" -n -N -c "$CLIENTS" -j 2 -t $((CATCHUP_TX / CLIENTS)) -h 127.0.0.1 -p "$FERRY_PG_PORT" -U postgres src > "$OUT/pgbench-catchup.txt" 2>&1
marker=$(pg src -c "INSERT INTO heartbeat (ts) VALUES (clock_timestamp()) RETURNING id")
marker_lsn=$(pg src -c "SELECT pg_current_wal_insert_lsn()")
changes=$(( CATCHUP_TX * 2 ))
# The CPU seconds of the server processes reading database src for application $1, sampled until stop_sampler.
start_sampler() {
  ( declare -A ticks
    trap 'total=0; for p in "${!ticks[@]}"; do total=$((total + ticks[$p])); done; echo "$total" > "$OUT/sampler.txt"; exit' TERM
    while true; do
      for p in $(pg postgres -c "SELECT pid FROM pg_stat_activity WHERE datname = 'src' AND application_name = '$1'"); do
        t=$(awk '{ print $14 + $15 }' "/proc/$p/stat" 2>/dev/null) && ticks[$p]=$t
      done
      sleep 0.2
    done ) &
  SAMPLER=$!
}
stop_sampler() { kill -TERM "$SAMPLER"; wait "$SAMPLER" 2>/dev/null; SOURCE_CPU=$(awk -v t="$(cat "$OUT/sampler.txt")" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.2f", t / hz }'); }
wait_marker() { for _ in $(seq 1 3000); do [ "$(pg "$1" -c "SELECT count(*) FROM heartbeat WHERE id = $marker")" = 1 ] && return; sleep 0.2; done; echo "timeout"; }
start_sampler native
start=$(now); pg native_dst -c "ALTER SUBSCRIPTION native ENABLE"; wait_marker native_dst
s=$(awk -v a="$start" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }')
stop_sampler
result "catchup target=native changes=$changes seconds=$s changes_per_s=$(awk -v c="$changes" -v s="$s" 'BEGIN { printf "%.0f", c / s }') source_cpu_s=$SOURCE_CPU"
for how in sql stream; do
  start_sampler ferry
  start=$(now); start_ferry "$how"; wait_marker "$([ "$how" = sql ] && echo ferry_dst || echo ferry_stream_dst)"
  s=$(awk -v a="$start" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }')
  stop_sampler
  result "catchup target=ferry$([ "$how" = stream ] && echo -walsender) changes=$changes seconds=$s changes_per_s=$(awk -v c="$changes" -v s="$s" 'BEGIN { printf "%.0f", c / s }') source_cpu_s=$SOURCE_CPU"
  stop_ferry
done
start=$(now)
pg src -c "SELECT count(*) FROM pg_logical_slot_peek_binary_changes('decode_only', '$marker_lsn', NULL,
             'proto_version', '1', 'publication_names', 'native')" >/dev/null
s=$(awk -v a="$start" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }')
result "catchup target=decode-in-backend changes=$changes seconds=$s changes_per_s=$(awk -v c="$changes" -v s="$s" 'BEGIN { printf "%.0f", c / s }')"
start=$(now)
pg src -c "COPY (SELECT lsn, xid, data FROM pg_logical_slot_peek_binary_changes('decode_only', '$marker_lsn', NULL,
             'proto_version', '1', 'publication_names', 'native')) TO STDOUT (FORMAT binary)" > /dev/null
s=$(awk -v a="$start" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }')
result "catchup target=decode-in-backend-copied-out changes=$changes seconds=$s changes_per_s=$(awk -v c="$changes" -v s="$s" 'BEGIN { printf "%.0f", c / s }')"
start=$(now)
"$PGBIN/pg_recvlogical" -h 127.0.0.1 -p "$FERRY_PG_PORT" -U postgres -d src --slot decode_stream --start --endpos "$marker_lsn" \
  -o proto_version=1 -o publication_names=native -f /dev/null
s=$(awk -v a="$start" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }')
result "catchup target=decode-and-stream changes=$changes seconds=$s changes_per_s=$(awk -v c="$changes" -v s="$s" 'BEGIN { printf "%.0f", c / s }')"
pg src -c "SELECT pg_drop_replication_slot('decode_only')" -c "SELECT pg_drop_replication_slot('decode_stream')" >/dev/null
pg native_dst -c "DROP SUBSCRIPTION native"
