#!/usr/bin/env bash
# Memory benchmark: Ferry's peak resident memory while copying one ~5 GB PostgreSQL table
# (ROWS rows, default 18M, of ~270 bytes), PG→PG (COPY passthrough) and PG→MariaDB (decoded values).
# Prints `RSS <case> rows=<n> table_mb=<m> seconds=<s> max_rss_mb=<r>`.
ROWS=${ROWS:-18000000}
source "$(dirname "$0")/setup.sh" >/dev/null
P="-h 127.0.0.1 -p $FERRY_PG_PORT -U postgres"
psql -X -q $P -d postgres -c "CREATE DATABASE src" -c "CREATE DATABASE dst"
psql -X -q $P -d src <<SQL
CREATE TABLE big (id bigint PRIMARY KEY, a text, b text, c text, d text, e text, f text, n numeric(18,4), t timestamptz);
INSERT INTO big SELECT g, md5(g::text), md5((g+1)::text), md5((g+2)::text), md5((g+3)::text), md5((g+4)::text),
  md5((g+5)::text), g / 3.0, timestamptz '2020-01-01 00:00:00+00' + g * interval '1 second'
FROM generate_series(1, $ROWS) g;
VACUUM ANALYZE big;
SQL
mb=$(psql -X -At $P -d src -c "SELECT pg_relation_size('big') / 1048576")
measure() { # case target-url mapping-json
  local start end
  printf '%s' "$3" > /tmp/ferry-memory-map.json
  start=$(date +%s.%N)
  /usr/bin/time -f "%M" -o /tmp/ferry-memory-rss "$FERRY" migrate --source "postgres://postgres@127.0.0.1:$FERRY_PG_PORT/src" \
    --target "$2" --table-mappings /tmp/ferry-memory-map.json --json > /dev/null
  end=$(date +%s.%N)
  echo "RSS $1 rows=$ROWS table_mb=$mb seconds=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }') max_rss_mb=$(( $(cat /tmp/ferry-memory-rss) / 1024 ))"
}
select='{"rule-type":"selection","rule-id":"1","rule-name":"1","object-locator":{"schema-name":"public","table-name":"big"},"rule-action":"explicit"}'
measure pg-pg "postgres://postgres@127.0.0.1:$FERRY_PG_PORT/dst" "{\"rules\":[$select]}"
measure pg-mariadb "mysql://root@127.0.0.1:$FERRY_MY_PORT" "{\"rules\":[$select,{\"rule-type\":\"transformation\",\"rule-id\":\"2\",\"rule-name\":\"2\",\"rule-target\":\"schema\",\"object-locator\":{\"schema-name\":\"public\"},\"rule-action\":\"rename\",\"value\":\"bench\"}]}"
