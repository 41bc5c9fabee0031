#!/usr/bin/env bash
# Validation benchmark: `ferry validate` (release build) against same-run references on one large table.
#   ceiling:  one full scan per side at once — PostgreSQL `SELECT count(*), sum(hashtext(t::text)::bigint)`,
#             MariaDB `SELECT count(*), BIT_XOR(CRC32(CONCAT_WS('#', …)))`; the slower side sets the time.
#   reladiff: reladiff 0.6.0 from PyPI with its defaults (key aid, all columns compared), in a venv.
# Data: pgbench_accounts at scale $SCALE (default 100: 10M rows) in PostgreSQL, copied by Ferry to a second
# PostgreSQL database (the target) and to MariaDB (the source of the MariaDB→PG pair).
# Cases, applied to the target in turn and undone afterwards: none; one changed row; 1,000 scattered
# changed rows; a gap of 10,000 contiguous missing keys. Pairs: pg-pg and mariadb-pg.
# Prints `RESULT case=… pair=… tool=… seconds=… verdict_seconds=… differences=…` lines and a ratio table.
# RELADIFF_TIMEOUT (default 900 s) bounds each reladiff run. PAIRS (default "pg-pg mariadb-pg") picks the pairs.
SCALE=${SCALE:-100}
RELADIFF_TIMEOUT=${RELADIFF_TIMEOUT:-900}
PAIRS=${PAIRS:-pg-pg mariadb-pg}
FERRY_PG_EXTRA="-c autovacuum=off"
source "$(dirname "$0")/setup.sh"
VENV="$OUT/reladiff-venv"
[ -x "$VENV/bin/reladiff" ] || { python3 -m venv "$VENV" && "$VENV/bin/pip" install -q 'reladiff[postgresql,mysql]==0.6.0'; }
pg() { psql -X -q -At -h 127.0.0.1 -p "$FERRY_PG_PORT" -U postgres -d "$1" "${@:2}"; }
my() { mariadb --protocol=tcp -h 127.0.0.1 -P "$FERRY_MY_PORT" -u root -N public "$@"; }

for db in src dst; do pg postgres -c "CREATE DATABASE $db"; done
echo "generating data: pgbench scale $SCALE"
"$PGBIN/pgbench" -q -i -s "$SCALE" -h 127.0.0.1 -p "$FERRY_PG_PORT" -U postgres src >/dev/null 2>&1
printf '{"rules":[{"rule-type":"selection","rule-id":"1","rule-name":"1","object-locator":{"schema-name":"public","table-name":"pgbench_accounts"},"rule-action":"explicit"}]}' > "$OUT/accounts.json"
"$FERRY" migrate --source "$PG/src" --target "$PG/dst" --table-mappings "$OUT/accounts.json" --json >/dev/null
"$FERRY" migrate --source "$PG/src" --target "$MY" --table-mappings "$OUT/accounts.json" --json >/dev/null
for db in src dst; do pg "$db" -c "VACUUM ANALYZE pgbench_accounts"; done
my -e "ANALYZE TABLE pgbench_accounts" >/dev/null
ROWS=$(pg src -c "SELECT count(*) FROM pgbench_accounts")
echo "rows: $ROWS"
: > "$OUT/validate-results.txt"

result() { # case pair tool seconds verdict differences
  echo "RESULT case=$1 pair=$2 tool=$3 seconds=$4 verdict_seconds=$5 differences=$6" | tee -a "$OUT/validate-results.txt"
}

ceiling() { # case pair
  local start
  start=$(now)
  if [ "$2" = pg-pg ]; then
    pg src -c "SELECT count(*), sum(hashtext(t::text)::bigint) FROM pgbench_accounts t" >/dev/null &
  else
    my -e "SELECT COUNT(*), BIT_XOR(CRC32(CONCAT_WS('#', aid, bid, abalance, filler))) FROM pgbench_accounts" >/dev/null &
  fi
  local other=$!
  pg dst -c "SELECT count(*), sum(hashtext(t::text)::bigint) FROM pgbench_accounts t" >/dev/null
  wait "$other"
  local s
  s=$(elapsed "$start")
  result "$1" "$2" ceiling "$s" "$s" -
}

ferry() { # case pair
  local source="$PG/src"
  [ "$2" = mariadb-pg ] && source="$MY"
  local start
  start=$(now)
  "$FERRY" validate --source "$source" --target "$PG/dst" --table-mappings "$OUT/accounts.json" --max-differences 100000 --json > "$OUT/ferry-$1-$2.json" || true
  local s
  s=$(elapsed "$start")
  read -r verdict differences < <(python3 -c 'import json,sys; t=json.load(open(sys.argv[1]))["tables"][0]; print("%.2f" % t["verdictSeconds"], t["differenceCount"])' "$OUT/ferry-$1-$2.json")
  result "$1" "$2" ferry "$s" "$verdict" "$differences"
}

reladiff() { # case pair
  local source="postgresql://postgres@127.0.0.1:$FERRY_PG_PORT/src"
  [ "$2" = mariadb-pg ] && source="mysql://root@127.0.0.1:$FERRY_MY_PORT/public"
  local start
  start=$(now)
  if timeout "$RELADIFF_TIMEOUT" "$VENV/bin/reladiff" "$source" pgbench_accounts "postgresql://postgres@127.0.0.1:$FERRY_PG_PORT/dst" pgbench_accounts \
      -k aid -c '%' --json > "$OUT/reladiff-$1-$2.jsonl" 2>"$OUT/reladiff-$1-$2.err"; then
    # Each difference is a '-' line (source row) and/or a '+' line (target row); count distinct keys.
    local differences
    differences=$(python3 -c 'import json,sys; print(len({json.loads(l)[1][0] for l in open(sys.argv[1]) if l.strip()}))' "$OUT/reladiff-$1-$2.jsonl")
    local s
    s=$(elapsed "$start")
    result "$1" "$2" reladiff "$s" - "$differences"
  else
    result "$1" "$2" reladiff "timeout>$RELADIFF_TIMEOUT" - -
  fi
}

measure() { # case
  for pair in $PAIRS; do
    ceiling "$1" "$pair"
    ferry "$1" "$pair"
    reladiff "$1" "$pair"
  done
}

step=$((ROWS / 1000))
gap_start=$((ROWS * 3 / 10 + 1))
echo "== no difference"; measure none
pg dst -c "UPDATE pgbench_accounts SET abalance = abalance + 1 WHERE aid = $((ROWS / 2))" -c "VACUUM pgbench_accounts"
echo "== one changed row"; measure one
pg dst -c "UPDATE pgbench_accounts SET abalance = abalance - 1 WHERE aid = $((ROWS / 2))" \
       -c "UPDATE pgbench_accounts SET abalance = abalance + 1 WHERE aid % $step = 7" -c "VACUUM pgbench_accounts"
echo "== 1,000 scattered changed rows"; measure scattered
pg dst -c "UPDATE pgbench_accounts SET abalance = abalance - 1 WHERE aid % $step = 7" \
       -c "DELETE FROM pgbench_accounts WHERE aid BETWEEN $gap_start AND $((gap_start + 9999))" -c "VACUUM pgbench_accounts"
echo "== a gap of 10,000 missing keys"; measure gap

echo "== ratios (Ferry / ceiling; reladiff / Ferry)"
awk '
  /^RESULT/ {
    for (i = 2; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
    k = f["case"] " " f["pair"]
    if (f["tool"] == "ceiling") ceil[k] = f["seconds"]
    if (f["tool"] == "ferry") { fv[k] = f["verdict_seconds"]; ff[k] = f["seconds"]; keys[k] = 1 }
    if (f["tool"] == "reladiff") rd[k] = f["seconds"]
  }
  END {
    printf "%-22s %9s %9s %9s %9s %9s %9s\n", "case pair", "ceiling", "verdict", "all", "verdict×", "all×", "reladiff×"
    for (k in keys) {
      r = (rd[k] ~ /^[0-9.]+$/) ? sprintf("%.1f", rd[k] / ff[k]) : rd[k]
      printf "%-22s %9.2f %9.2f %9.2f %9.2f %9.2f %9s\n", k, ceil[k], fv[k], ff[k], fv[k] / ceil[k], ff[k] / ceil[k], r
    }
  }' "$OUT/validate-results.txt"
