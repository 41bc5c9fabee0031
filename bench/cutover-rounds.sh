# Sourced by the cutover benchmarks after setup.sh: `ferry migrate` started and followed, and the rounds of
# alternating `ferry cutover` and `ferry rollback` while the caller's `writes SECONDS PRIMARY` writes to
# whichever database is the primary. Each round's write pause goes to $WORK/cutover-pauses.txt or
# $WORK/rollback-pauses.txt.
MIGRATE=""
# Only the latest `ferry migrate` can still run (each one before it is waited for); the servers go last.
cleanup() { if [ -n "$MIGRATE" ]; then kill -INT "$MIGRATE" 2>/dev/null || true; wait "$MIGRATE" 2>/dev/null || true; fi; stop_databases; }
trap cleanup EXIT
# The p50 and max of the numbers on standard input.
stats() { sort -n | awk '{ v[NR] = $1 } END { printf "p50 %.3f s max %.3f s (n=%d)", v[int((NR + 1) / 2)], v[NR], NR }'; }
RUNS=0
# Starts `ferry migrate` with a log of its own and waits until it streams changes.
migrate() {
  RUNS=$((RUNS + 1))
  (cd "$WORK" && exec "$FERRY" migrate "$@" > "$WORK/migrate-$RUNS.log" 2>&1) & MIGRATE=$!
  until grep -q "^cdc:" "$WORK/migrate-$RUNS.log"; do sleep 0.2; done
}

# cutover_rounds OLD_URL NEW_URL OLD_NAME NEW_NAME: $CUTOVERS rounds from OLD to NEW and back, task fwd.
cutover_rounds() {
  local old=$1 new=$2 primary=$3 i command position
  migrate --source "$old" --target "$new" --mode full-load-and-cdc --task fwd
  : > "$WORK/cutover-pauses.txt"; : > "$WORK/rollback-pauses.txt"
  for i in $(seq 1 "$CUTOVERS"); do
    writes 6 "$primary" & WRITER=$!
    sleep 3
    if [ $((i % 2)) = 1 ]; then command=cutover; else command=rollback; fi
    (cd "$WORK" && "$FERRY" "$command" --source "$old" --target "$new" --task fwd --validate "$VALIDATE" --json > "$WORK/report-$i.json")
    python3 -c "import json,sys; r=json.load(open(sys.argv[1])); assert r['Status'] == 'completed', r; print(r['WritePauseSeconds'])" \
      "$WORK/report-$i.json" >> "$WORK/$command-pauses.txt"
    wait "$MIGRATE" || true
    wait "$WRITER"
    position=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['ReversePosition'])" "$WORK/report-$i.json")
    if [ "$command" = cutover ]; then
      primary=$4
      migrate --mode cdc --source "$new" --target "$old" --task fwd-reverse --cdc-start-position "$position" --table-mappings ferry-cutover-fwd-reverse.json
    else
      primary=$3
      migrate --mode cdc --source "$old" --target "$new" --task fwd --cdc-start-position "$position"
    fi
  done
}
