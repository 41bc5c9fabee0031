#!/usr/bin/env bash
# What recording and exposing metrics costs, in a release build.
#   full load: `ferry migrate` of pgbench scale $SCALE PostgreSQL→PostgreSQL, $RUNS times without metrics and
#              $RUNS times with `--metrics-listen` scraped every second (by curl beside it), alternating; the medians
#              and their ratio.
#   CDC:       the catch-up of $CDC_TX pgbench -N transactions by `ferry migrate --mode cdc --cdc-stop-position`, $RUNS
#              times each way, alternating, with and without `--metrics-listen` scraped every second.
#   scrape:    `ferry serve` after $TASKS full-load tasks of $TABLES tables each ran on it (SQLite files):
#              GET /metrics timed $SCRAPES times against GET /health on the same server (bench/metrics_scrape.py).
# Prints `RESULT …` lines.
SCALE=${SCALE:-50}
RUNS=${RUNS:-5}
CDC_TX=${CDC_TX:-100000}
TASKS=${TASKS:-100}
TABLES=${TABLES:-50}
SCRAPES=${SCRAPES:-50}
FERRY_PG_EXTRA="-c autovacuum=off"
source "$(dirname "$0")/setup.sh"
SERVER=""
cleanup() { if [ -n "$SERVER" ]; then kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; fi; stop_databases; }
trap cleanup EXIT
pg() { psql -X -q -At -h 127.0.0.1 -p "$FERRY_PG_PORT" -U postgres -d "$1" "${@:2}"; }
: > "$OUT/metrics-cost-results.txt"
result() { echo "RESULT $*" | tee -a "$OUT/metrics-cost-results.txt"; }
WORK=$(mktemp -d)
# Runs a command while curl scrapes its /metrics every second beside it; the time is the command's alone.
scraped() {
  (while true; do curl -s -o /dev/null "http://127.0.0.1:$PORT/metrics" || true; sleep 1; done) & SCRAPER=$!
  "$@"
  kill "$SCRAPER"; wait "$SCRAPER" 2>/dev/null || true
}
PORT=$(python3 -c "import socket; s = socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])")

pg postgres -c "CREATE DATABASE src"
"$PGBIN/pgbench" -q -i -s "$SCALE" -h 127.0.0.1 -p "$FERRY_PG_PORT" -U postgres src >/dev/null 2>&1
echo "== full load of pgbench scale $SCALE, $RUNS times each way"
: > "$WORK/plain.txt"; : > "$WORK/metrics.txt"
for i in $(seq 1 "$RUNS"); do
  for way in plain metrics; do
    pg postgres -c "DROP DATABASE IF EXISTS dst" -c "CREATE DATABASE dst"
    pg src -c "CHECKPOINT"
    start=$(now)
    if [ "$way" = plain ]; then
      "$FERRY" migrate --source "$PG/src" --target "$PG/dst" --json > /dev/null
    else
      scraped "$FERRY" migrate --source "$PG/src" --target "$PG/dst" --json --metrics-listen "127.0.0.1:$PORT" > /dev/null
    fi
    elapsed "$start" >> "$WORK/$way.txt"; echo >> "$WORK/$way.txt"
  done
done
plain=$(grep -v '^$' "$WORK/plain.txt" | median); metrics=$(grep -v '^$' "$WORK/metrics.txt" | median)
result "full load without metrics: median $plain s ($(grep -v '^$' "$WORK/plain.txt" | tr '\n' ' ')s)"
result "full load with --metrics-listen scraped every second: median $metrics s ($(grep -v '^$' "$WORK/metrics.txt" | tr '\n' ' ')s)"
result "ratio (with / without): $(awk -v a="$metrics" -v b="$plain" 'BEGIN { printf "%.3f", a / b }')"

echo "== CDC catch-up of $CDC_TX pgbench transactions, $RUNS times each way"
# The target keeps the last load's rows; each run's task streams from its own slot, made just before the writes.
pg src -c "ALTER TABLE pgbench_history ADD COLUMN id bigserial PRIMARY KEY" >/dev/null
pg postgres -c "DROP DATABASE IF EXISTS dst" -c "CREATE DATABASE dst"
"$FERRY" migrate --source "$PG/src" --target "$PG/dst" --json > /dev/null
: > "$WORK/cdc-plain.txt"; : > "$WORK/cdc-metrics.txt"
for i in $(seq 1 "$RUNS"); do
  for way in plain metrics; do
    task="cost-$way-$i"
    "$FERRY" migrate --source "$PG/src" --target "$PG/dst" --mode cdc --task "$task" > "$WORK/start.log" 2>&1 & START=$!
    until grep -q "^cdc:" "$WORK/start.log"; do sleep 0.2; done
    kill -INT "$START"; wait "$START" || true
    "$PGBIN/pgbench" -n -N -c 4 -j 2 -t $((CDC_TX / 4)) -h 127.0.0.1 -p "$FERRY_PG_PORT" -U postgres src > /dev/null 2>&1
    # The run stops at the first transaction committed after the backlog (the stop time has whole seconds,
    # so it is taken more than a second after the last write, and one more write follows a second later).
    sleep 1.2
    stop="commit_time:$(date -u +%Y-%m-%dT%H:%M:%S)"
    sleep 1.2
    pg src -c "UPDATE pgbench_branches SET bbalance = bbalance WHERE bid = 1" > /dev/null
    start=$(now)
    if [ "$way" = plain ]; then
      "$FERRY" migrate --source "$PG/src" --target "$PG/dst" --mode cdc --task "$task" --cdc-stop-position "$stop" > /dev/null 2>&1
    else
      scraped "$FERRY" migrate --source "$PG/src" --target "$PG/dst" --mode cdc --task "$task" --cdc-stop-position "$stop" \
        --metrics-listen "127.0.0.1:$PORT" > /dev/null 2>&1
    fi
    elapsed "$start" >> "$WORK/cdc-$way.txt"; echo >> "$WORK/cdc-$way.txt"
    pg src -c "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE NOT active AND slot_name LIKE 'ferry_cost%'" > /dev/null
  done
done
plain=$(grep -v '^$' "$WORK/cdc-plain.txt" | median); metrics=$(grep -v '^$' "$WORK/cdc-metrics.txt" | median)
result "CDC catch-up without metrics: median $plain s ($(grep -v '^$' "$WORK/cdc-plain.txt" | tr '\n' ' ')s)"
result "CDC catch-up with --metrics-listen scraped every second: median $metrics s ($(grep -v '^$' "$WORK/cdc-metrics.txt" | tr '\n' ' ')s)"
result "ratio (with / without): $(awk -v a="$metrics" -v b="$plain" 'BEGIN { printf "%.3f", a / b }')"

echo "== scrape of $TASKS tasks x $TABLES tables"
export FERRY_ACCESS_KEY_ID=AKIAMETRICSBENCH0001 FERRY_SECRET_ACCESS_KEY=metrics-bench-secret
"$FERRY" serve --listen "127.0.0.1:$PORT" --data-dir "$WORK/data" > "$WORK/serve.log" 2>&1 & SERVER=$!
until curl -s "http://127.0.0.1:$PORT/health" > /dev/null; do sleep 0.2; done
python3 bench/metrics_scrape.py "http://127.0.0.1:$PORT" "$WORK" "$TASKS" "$TABLES" "$SCRAPES" | tee -a "$OUT/metrics-cost-results.txt"
rm -rf "$WORK"
