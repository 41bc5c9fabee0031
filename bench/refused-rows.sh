#!/usr/bin/env bash
# What rows a target refuses cost a full load under ErrorBehavior.DataErrorPolicy LOG_ERROR (release build).
# pgbench_accounts at scale $SCALE (default 20: 2M rows) is loaded PG→PG into a table the target already has
# (TargetTablePrepMode DO_NOTHING) that carries CHECK (abalance >= 0), with 0, 1 and $MANY (default 1000)
# scattered source rows set negative. Same-run references: the psql COPY pipe into the same table without
# refused rows (the ceiling), and Ferry's own load of it. Each case runs $REPS times (default 3); prints
# `RESULT case=… refused=… seconds=… skipped=…` lines and the medians' ratios to the ceiling.
SCALE=${SCALE:-20}
MANY=${MANY:-1000}
REPS=${REPS:-3}
FERRY_PG_EXTRA="-c autovacuum=off"
source "$(dirname "$0")/setup.sh"
sql() { psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$FERRY_PG_PORT" -U postgres -d "$1" "${@:2}"; }

for db in src dst; do sql postgres -c "CREATE DATABASE $db"; done
echo "generating pgbench scale $SCALE"
"$PGBIN/pgbench" -q -i -s "$SCALE" -h 127.0.0.1 -p "$FERRY_PG_PORT" -U postgres src >/dev/null 2>&1
"$PGBIN/pg_dump" -s -t pgbench_accounts -h 127.0.0.1 -p "$FERRY_PG_PORT" -U postgres src | sql dst >/dev/null
sql dst -c "ALTER TABLE pgbench_accounts ADD CONSTRAINT no_overdraft CHECK (abalance >= 0)"
rows=$(sql src -At -c "SELECT count(*) FROM pgbench_accounts")
printf '{"rules":[{"rule-type":"selection","rule-id":"1","rule-name":"1","object-locator":{"schema-name":"public","table-name":"pgbench_accounts"},"rule-action":"explicit"}]}' > "$OUT/refused-map.json"
printf '{"FullLoadSettings":{"TargetTablePrepMode":"DO_NOTHING"},"ErrorBehavior":{"DataErrorPolicy":"LOG_ERROR"}}' > "$OUT/refused-settings.json"
: > "$OUT/refused-results.txt"
report() { echo "RESULT case=$1 refused=$2 seconds=$3 skipped=$4" | tee -a "$OUT/refused-results.txt"; }
refuse() { # how many scattered rows the target will refuse
  sql src -c "UPDATE pgbench_accounts SET abalance = 0 WHERE abalance < 0" \
          -c "UPDATE pgbench_accounts SET abalance = -1 WHERE aid IN (SELECT 1 + (g * 7919::bigint) % $rows FROM generate_series(1, $1) g)" \
          -c "VACUUM pgbench_accounts" >/dev/null
}
fresh() { sql dst -c "TRUNCATE pgbench_accounts" -c "TRUNCATE public.awsdms_apply_exceptions" -c "CHECKPOINT" >/dev/null 2>&1 \
          || sql dst -c "TRUNCATE pgbench_accounts" -c "CHECKPOINT" >/dev/null; }

for refused in 0 1 "$MANY"; do
  if [ "$refused" = 0 ]; then refuse 0; else refuse "$refused"; fi
  for rep in $(seq 1 "$REPS"); do
    if [ "$refused" = 0 ]; then
      fresh; start=$(now)
      sql src -c "COPY pgbench_accounts TO STDOUT" | sql dst -c "COPY pgbench_accounts FROM STDIN"
      report ceiling 0 "$(elapsed "$start")" 0
    fi
    fresh; start=$(now)
    "$FERRY" migrate --source "$PG/src" --target "$PG/dst" --table-mappings "$OUT/refused-map.json" \
      --task-settings "$OUT/refused-settings.json" --no-secondary-objects --json > "$OUT/refused-ferry.json"
    seconds=$(elapsed "$start")
    loaded=$(sql dst -At -c "SELECT count(*) FROM pgbench_accounts")
    [ "$loaded" -eq $((rows - refused)) ] || { echo "refused=$refused: $loaded rows loaded, expected $((rows - refused))" >&2; exit 1; }
    report ferry "$refused" "$seconds" "$((rows - loaded))"
  done
done

echo "== medians ($rows rows; ratio to the ceiling pipe, which cannot load a table with a refused row at all)"
awk '/^RESULT/ {
  split($2, c, "="); split($3, r, "="); split($4, s, "=")
  key = c[2] " " r[2]; n[key]++; v[key, n[key]] = s[2]
}
END {
  for (k in n) { m = n[k]; for (i = 1; i <= m; i++) for (j = i + 1; j <= m; j++) if (v[k, j] < v[k, i]) { t = v[k, i]; v[k, i] = v[k, j]; v[k, j] = t }
    med[k] = v[k, int((m + 1) / 2)] }
  printf "%-10s %8s %8s %8s\n", "case", "refused", "seconds", "ratio"
  for (k in med) { split(k, p, " "); printf "%-10s %8s %8.2f %7.2fx\n", p[1], p[2], med[k], med[k] / med["ceiling 0"] }
}' "$OUT/refused-results.txt" | sort | tee -a "$OUT/refused-results.txt"
