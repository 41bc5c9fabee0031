# A deadline for a test run. Source this file, then call
#   run_with_deadline MINUTES LOG COMMAND...
# which runs COMMAND in a process group of its own, shows its output and keeps a copy in LOG. When the
# command is still running after MINUTES, it prints what was stuck (thread backtraces of the test
# process, the databases' busy sessions, the tests that started and never ended), kills the group and
# returns 124; otherwise it returns the command's status.

run_with_deadline() {
  local minutes=$1 log=$2
  shift 2
  setsid bash -c 'set -o pipefail; "$@" 2>&1 | tee "$0"' "$log" "$@" &
  local pid=$! deadline=$((SECONDS + minutes * 60))
  while kill -0 "$pid" 2>/dev/null; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      echo "test.sh: '$*' still ran after $minutes minutes; stopping it"
      report_hang "$log" "$pid"
      kill -KILL -- "-$pid" 2>/dev/null || true
      wait "$pid" 2>/dev/null || true
      return 124
    fi
    sleep 5
  done
  wait "$pid"
}

# Prints what a stuck run was doing; the list of unfinished tests comes last, where a truncated log
# still shows it.
report_hang() {
  local log=$1 group=$2 pid
  for pid in $(pgrep -g "$group" -f 'xctest|PackageTests|ferry'); do
    echo "--- threads of $(tr '\0' ' ' < "/proc/$pid/cmdline" | cut -c1-120) (pid $pid), 12 frames each"
    timeout 120 gdb -p "$pid" -batch -ex 'thread apply all bt 12' 2>/dev/null | grep -E '^(Thread|#)' | cut -c1-200
  done
  if [ -n "${FERRY_PG_PORT:-}" ]; then
    echo "--- PostgreSQL sessions that are not idle"
    psql -h 127.0.0.1 -p "$FERRY_PG_PORT" -U postgres -d postgres -At -c \
      "SELECT pid, datname, state, wait_event_type, wait_event, now() - xact_start, left(query, 160)
         FROM pg_stat_activity WHERE state IS DISTINCT FROM 'idle' AND pid <> pg_backend_pid()" 2>&1
  fi
  if [ -n "${FERRY_MY_PORT:-}" ]; then
    echo "--- MariaDB sessions that are not sleeping"
    mariadb --protocol=tcp -h 127.0.0.1 -P "$FERRY_MY_PORT" -u root -N -e \
      "SELECT id, db, command, time, state, left(info, 160) FROM information_schema.processlist
        WHERE command <> 'Sleep' AND id <> connection_id()" 2>&1
  fi
  echo "--- tests that started and did not end"
  grep -oE 'Test .* started\.' "$log" | sed -E 's/^Test (.*) started\.$/\1/' | grep -vE '^(run|case passing .*)$' | sort -u |
    while IFS= read -r name; do
      grep -qE "Test $(printf '%s' "$name" | sed 's/[][\.*^$/()+?{}|]/\\&/g') (passed|failed|skipped|with [0-9]+ test cases)" "$log" || echo "  $name"
    done
}
