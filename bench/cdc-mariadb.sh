#!/usr/bin/env bash
# CDC benchmark, MariaDB→PostgreSQL: Ferry (release build) reading the binlog into PostgreSQL, next to
# MariaDB's own replication into a MariaDB replica of the same source, in the same run.
#   load:     a pgbench -N-like transaction (UPDATE one account, INSERT one history row: 2 changes) run by a
#             stored procedure in $CLIENTS sessions.
#   lag:      the load at each of $RATES TPS (paced) for $SECONDS_LAG s while a heartbeat row is inserted every 100 ms;
#             each target stamps a heartbeat's arrival (a column default on PostgreSQL; on the replica a
#             trigger, with slave_run_triggers_for_rbr, using SYSDATE(6): NOW() replays the source's time),
#             so lag = arrival − commit. Reports p50 / p99 / max.
#   catch-up: both stopped; $CATCHUP_TX transactions queued; each started alone and timed until a marker
#             written last arrives. Reports changes/s.
# Prints `RESULT …` lines.
ROWS=${ROWS:-1000000}
RATES=${RATES:-"500 1000 2000 4000"}
CLIENTS=${CLIENTS:-4}
SECONDS_LAG=${SECONDS_LAG:-30}
CATCHUP_TX=${CATCHUP_TX:-500000}
source "$(dirname "$0")/setup.sh"
FERRY_PID=""
REPLICA_PID=""
cleanup() {
  [ -n "$FERRY_PID" ] && kill -INT "$FERRY_PID" 2>/dev/null && wait "$FERRY_PID" 2>/dev/null
  [ -n "$REPLICA_PID" ] && kill "$REPLICA_PID" 2>/dev/null && wait "$REPLICA_PID" 2>/dev/null
  stop_databases
}
trap cleanup EXIT
pg() { psql -X -q -At -h 127.0.0.1 -p "$FERRY_PG_PORT" -U postgres -d "$1" "${@:2}"; }
src() { mariadb --protocol=tcp -h 127.0.0.1 -P "$FERRY_MY_PORT" -u root -N -B bench -e "$1"; }
: > "$OUT/cdc-mariadb-results.txt"
: > "$OUT/cdc-mariadb-ferry.log"
result() { echo "RESULT $*" | tee -a "$OUT/cdc-mariadb-results.txt"; }

echo "== the native reference: a MariaDB replica of the source"
REPLICA_PORT=$(free_port)
mkdir -p "$FERRY_DB_DIR/replica"
mariadb-install-db --no-defaults --user="$(id -un)" --datadir="$FERRY_DB_DIR/replica/data" \
  --auth-root-authentication-method=normal --skip-test-db >/dev/null 2>&1
mariadbd --no-defaults --user="$(id -un)" --datadir="$FERRY_DB_DIR/replica/data" --socket="$FERRY_DB_DIR/replica/mysqld.sock" \
  --pid-file="$FERRY_DB_DIR/replica/mysqld.pid" --bind-address=127.0.0.1 --port="$REPLICA_PORT" --server-id=2 \
  --innodb-flush-log-at-trx-commit=0 --innodb-buffer-pool-size=512M --slave-run-triggers-for-rbr=YES \
  --log-error="$FERRY_DB_DIR/replica/error.log" &
REPLICA_PID=$!
for _ in $(seq 1 100); do mariadb-admin --protocol=tcp -h 127.0.0.1 -P "$REPLICA_PORT" -u root ping >/dev/null 2>&1 && break; sleep 0.2; done
replica() { mariadb --protocol=tcp -h 127.0.0.1 -P "$REPLICA_PORT" -u root -N -B -e "$1"; }
first_binlog=$(mariadb --protocol=tcp -h 127.0.0.1 -P "$FERRY_MY_PORT" -u root -N -B -e "SHOW BINARY LOGS" | head -1 | cut -f1)
replica "CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT=$FERRY_MY_PORT, MASTER_USER='root', MASTER_LOG_FILE='$first_binlog', MASTER_LOG_POS=4; START SLAVE"

echo "== source: $ROWS accounts"
mariadb --protocol=tcp -h 127.0.0.1 -P "$FERRY_MY_PORT" -u root -e "CREATE DATABASE bench"
mariadb --protocol=tcp -h 127.0.0.1 -P "$FERRY_MY_PORT" -u root bench <<SQL
CREATE TABLE accounts (id int PRIMARY KEY, balance int NOT NULL, filler char(84) NOT NULL DEFAULT '');
CREATE TABLE history (id bigint AUTO_INCREMENT PRIMARY KEY, aid int NOT NULL, delta int NOT NULL, mtime datetime(6) NOT NULL);
CREATE TABLE heartbeat (id bigint AUTO_INCREMENT PRIMARY KEY, ts datetime(6) NOT NULL);
INSERT INTO accounts (id, balance) SELECT seq, 0 FROM seq_1_to_$ROWS;
DELIMITER //
CREATE PROCEDURE work(n INT, pause DOUBLE)
BEGIN
  DECLARE i INT DEFAULT 0;
  DECLARE a INT;
  WHILE i < n DO
    -- The account is drawn first: RAND() inside the WHERE clause would be drawn per row and scan the table.
    SET a = 1 + FLOOR(RAND() * $ROWS);
    START TRANSACTION;
    UPDATE accounts SET balance = balance + 1 WHERE id = a;
    INSERT INTO history (aid, delta, mtime) VALUES (a, 1, now(6));
    COMMIT;
    -- Paced in groups of 10: SLEEP is too coarse for one transaction's share of a second.
    IF pause > 0 AND i % 10 = 9 THEN DO SLEEP(pause * 10); END IF;
    SET i = i + 1;
  END WHILE;
END//
CREATE PROCEDURE beats(n INT)
BEGIN
  DECLARE i INT DEFAULT 0;
  WHILE i < n DO INSERT INTO heartbeat (ts) VALUES (now(6)); DO SLEEP(0.1); SET i = i + 1; END WHILE;
END//
DELIMITER ;
SQL
for _ in $(seq 1 600); do [ "$(replica "SELECT count(*) FROM bench.accounts" 2>/dev/null || echo 0)" = "$ROWS" ] && break; sleep 1; done
replica "ALTER TABLE bench.heartbeat ADD COLUMN arrived datetime(6);
         CREATE TRIGGER bench.stamp BEFORE INSERT ON bench.heartbeat FOR EACH ROW SET NEW.arrived = SYSDATE(6)"

echo "== Ferry: full-load-and-cdc into PostgreSQL"
pg postgres -c "CREATE DATABASE ferry_dst"
cat > "$OUT/cdc-mariadb-mappings.json" <<'JSON'
{"rules":[
  {"rule-type":"selection","rule-id":"1","rule-name":"all","object-locator":{"schema-name":"bench","table-name":"%"},"rule-action":"include"},
  {"rule-type":"transformation","rule-id":"2","rule-name":"schema","rule-target":"schema","object-locator":{"schema-name":"bench"},"rule-action":"rename","value":"public"}
]}
JSON
start_ferry() {
  "$FERRY" migrate --source "$FERRY_TEST_MYSQL_URL/bench" --target "postgres://postgres@127.0.0.1:$FERRY_PG_PORT/ferry_dst" \
    --mode full-load-and-cdc --task bench --table-mappings "$OUT/cdc-mariadb-mappings.json" --no-secondary-objects \
    >> "$OUT/cdc-mariadb-ferry.log" 2>&1 &
  FERRY_PID=$!
}
stop_ferry() { kill -INT "$FERRY_PID"; wait "$FERRY_PID" || true; FERRY_PID=""; }
start_ferry
for _ in $(seq 1 600); do grep -q "^cdc:" "$OUT/cdc-mariadb-ferry.log" && break; sleep 1; done
pg ferry_dst -c "ALTER TABLE heartbeat ADD COLUMN arrived timestamptz DEFAULT clock_timestamp()"
echo "Ferry streams; the replica holds $(replica "SELECT count(*) FROM bench.accounts") accounts"

for RATE in $RATES; do
  echo "== lag at about $RATE TPS for $SECONDS_LAG s"
  src "INSERT INTO heartbeat (ts) VALUES (now(6))"; sleep 2
  first=$(src "SELECT max(id) + 1 FROM heartbeat")
  before=$(src "SELECT count(*) FROM history")
  pause=$(awk -v c="$CLIENTS" -v r="$RATE" 'BEGIN { printf "%.6f", c / r }')
  per_client=$(( RATE * SECONDS_LAG / CLIENTS ))
  start=$(now)
  src "CALL beats($(( SECONDS_LAG * 10 )))" & beats=$!
  workers=()
  for _ in $(seq 1 "$CLIENTS"); do src "CALL work($per_client, $pause)" & workers+=($!); done
  for pid in "${workers[@]}"; do wait "$pid"; done
  elapsed=$(awk -v a="$start" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }')
  wait "$beats"
  sleep 5
  tps=$(awk -v n="$(( $(src "SELECT count(*) FROM history") - before ))" -v s="$elapsed" 'BEGIN { printf "%.0f", n / s }')
  stats=$(pg ferry_dst -c "SELECT count(*), round(percentile_cont(0.5) WITHIN GROUP (ORDER BY lag)::numeric, 3),
                                  round(percentile_cont(0.99) WITHIN GROUP (ORDER BY lag)::numeric, 3), round(max(lag)::numeric, 3)
                           FROM (SELECT extract(epoch FROM arrived - (ts AT TIME ZONE 'UTC')) AS lag FROM heartbeat WHERE id >= $first) l")
  IFS='|' read -r n p50 p99 max <<< "$stats"
  result "lag target=ferry-postgres rate=$RATE tps=$tps heartbeats=$n p50_s=$p50 p99_s=$p99 max_s=$max"
  stats=$(replica "SELECT count(*), ROUND(MAX(lag), 3) FROM
                   (SELECT TIMESTAMPDIFF(MICROSECOND, ts, arrived) / 1e6 AS lag FROM bench.heartbeat WHERE id >= $first) l")
  IFS=$'\t' read -r n max <<< "$stats"
  lags=$(replica "SELECT TIMESTAMPDIFF(MICROSECOND, ts, arrived) / 1e6 FROM bench.heartbeat WHERE id >= $first ORDER BY 1")
  p50=$(echo "$lags" | awk '{ a[NR] = $1 } END { printf "%.3f", a[int(NR * 0.5) + 1] }')
  p99=$(echo "$lags" | awk '{ a[NR] = $1 } END { i = int(NR * 0.99) + 1; if (i > NR) i = NR; printf "%.3f", a[i] }')
  result "lag target=native-replica rate=$RATE tps=$tps heartbeats=$n p50_s=$p50 p99_s=$p99 max_s=$max"
done

echo "== catch-up: $CATCHUP_TX transactions queued while both are stopped"
stop_ferry
replica "STOP SLAVE"
workers=()
for _ in $(seq 1 "$CLIENTS"); do src "CALL work($(( CATCHUP_TX / CLIENTS )), 0)" & workers+=($!); done
for pid in "${workers[@]}"; do wait "$pid"; done
marker=$(src "INSERT INTO heartbeat (ts) VALUES (now(6)); SELECT LAST_INSERT_ID()")
changes=$(( CATCHUP_TX * 2 ))
start=$(now); replica "START SLAVE"
for _ in $(seq 1 6000); do [ "$(replica "SELECT count(*) FROM bench.heartbeat WHERE id = $marker")" = 1 ] && break; sleep 0.1; done
s=$(awk -v a="$start" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }')
result "catchup target=native-replica changes=$changes seconds=$s changes_per_s=$(awk -v c="$changes" -v s="$s" 'BEGIN { printf "%.0f", c / s }')"
start=$(now); start_ferry
for _ in $(seq 1 6000); do [ "$(pg ferry_dst -c "SELECT count(*) FROM heartbeat WHERE id = $marker")" = 1 ] && break; sleep 0.1; done
s=$(awk -v a="$start" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }')
result "catchup target=ferry-postgres changes=$changes seconds=$s changes_per_s=$(awk -v c="$changes" -v s="$s" 'BEGIN { printf "%.0f", c / s }')"
stop_ferry
echo "== validate: ferry validate of the Ferry copy"
"$FERRY" validate --source "$FERRY_TEST_MYSQL_URL/bench" --target "postgres://postgres@127.0.0.1:$FERRY_PG_PORT/ferry_dst" \
  --table-mappings "$OUT/cdc-mariadb-mappings.json" > "$OUT/cdc-mariadb-validate.txt" 2>&1 && result "validate ferry-postgres verdict=equal" \
  || result "validate ferry-postgres verdict=DIFFERENT (see $OUT/cdc-mariadb-validate.txt)"
