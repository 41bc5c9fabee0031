#!/usr/bin/env bash
# Cutover benchmark, MariaDB→PostgreSQL: the write pause of $CUTOVERS cutovers (every second one a rollback,
# so the application goes back and forth) while bench/paced_writer.py writes $RATE TPS (an account update and
# a history insert without an id) to whichever database is the primary, Ferry in a release build beside
# `ferry migrate`, verification under the freeze $VALIDATE. The pause is Ferry's own figure: from the first
# lock requested to the release. Cutovers freeze MariaDB, rollbacks PostgreSQL: each is reported apart.
# Reference in the same run: what DMS's users do by hand over the same change stream (Ferry's CDC task,
# still running after the last rollback): LOCK TABLES … READ, a marker row inserted into an unlocked migrated
# table, wait until PostgreSQL has it, UNLOCK TABLES — timed from the lock to the unlock, $CUTOVERS times
# under the same load. Prints `RESULT …` lines (p50 and max, and the ratio of the cutovers' p50 to it).
ACCOUNTS=${ACCOUNTS:-100000}
RATE=${RATE:-500}
CUTOVERS=${CUTOVERS:-10}
VALIDATE=${VALIDATE:-none}
source "$(dirname "$0")/setup.sh"
source "$(dirname "$0")/cutover-rounds.sh"
pg() { psql -X -q -At -h 127.0.0.1 -p "$FERRY_PG_PORT" -U postgres -d "$1" "${@:2}"; }
my() { mariadb -N -B -h 127.0.0.1 -P "$FERRY_MY_PORT" -u root "$@"; }
: > "$OUT/cutover-mariadb-results.txt"
result() { echo "RESULT $*" | tee -a "$OUT/cutover-mariadb-results.txt"; }
p50() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
WORK=$(mktemp -d)

my -e "CREATE DATABASE app; USE app;
  CREATE TABLE accounts (id INT PRIMARY KEY, balance BIGINT NOT NULL);
  CREATE TABLE history (id BIGINT AUTO_INCREMENT PRIMARY KEY, aid INT NOT NULL, delta INT NOT NULL);
  CREATE TABLE cutover_marker (id BIGINT AUTO_INCREMENT PRIMARY KEY);
  INSERT INTO accounts SELECT seq, 0 FROM seq_1_to_$ACCOUNTS;"
pg postgres -c "CREATE DATABASE b"
writes() {
  if [ "$2" = mariadb ]; then
    python3 bench/paced_writer.py "$RATE" "$1" "$ACCOUNTS" -- mariadb --force -h 127.0.0.1 -P "$FERRY_MY_PORT" -u root app
  else
    python3 bench/paced_writer.py "$RATE" "$1" "$ACCOUNTS" -- psql -X -q -h 127.0.0.1 -p "$FERRY_PG_PORT" -U postgres -d b
  fi
}

echo "== Ferry: $CUTOVERS cutovers and rollbacks at $RATE TPS (--validate $VALIDATE)"
cutover_rounds "$MY/app" "$PG/b" mariadb postgres
sleep 2
echo "mariadb: $(my app -e "SELECT count(*), sum(balance) FROM accounts") history $(my app -e "SELECT count(*), max(id) FROM history")"
echo "postgres: $(pg b -c "SELECT count(*), sum(balance) FROM app.accounts") history $(pg b -c "SELECT count(*), max(id) FROM app.history")"
result "ferry write pause, cutovers (MariaDB frozen): $(stats < "$WORK/cutover-pauses.txt")"
result "ferry write pause, rollbacks (PostgreSQL frozen): $(stats < "$WORK/rollback-pauses.txt")"

echo "== reference: a hand-made freeze over the same change stream, $CUTOVERS times at $RATE TPS"
: > "$WORK/native-pauses.txt"
for i in $(seq 1 "$CUTOVERS"); do
  writes 5 mariadb & WRITER=$!
  sleep 2
  coproc LOCKER { mariadb -N -B --unbuffered -h 127.0.0.1 -P "$FERRY_MY_PORT" -u root app; }
  start=$(now)
  echo "LOCK TABLES accounts READ, history READ; SELECT 'locked';" >&"${LOCKER[1]}"
  read -r _ <&"${LOCKER[0]}"
  marker=$(my app -e "INSERT INTO cutover_marker VALUES (); SELECT LAST_INSERT_ID()")
  until [ "$(pg b -c "SELECT count(*) FROM app.cutover_marker WHERE id = $marker")" = 1 ]; do sleep 0.01; done
  echo "UNLOCK TABLES; SELECT 'released';" >&"${LOCKER[1]}"
  read -r _ <&"${LOCKER[0]}"
  elapsed "$start" >> "$WORK/native-pauses.txt"; echo >> "$WORK/native-pauses.txt"
  exec {LOCKER[1]}>&-
  wait "$LOCKER_PID" 2>/dev/null || true
  wait "$WRITER"
done
kill -INT "$MIGRATE"; wait "$MIGRATE" || true; MIGRATE=""
result "hand-made freeze over the stream: $(grep -v '^$' "$WORK/native-pauses.txt" | stats)"
result "ratio of p50s (ferry cutover / hand-made): $(awk -v a="$(p50 < "$WORK/cutover-pauses.txt")" \
  -v b="$(grep -v '^$' "$WORK/native-pauses.txt" | p50)" 'BEGIN { printf "%.2f", a / b }')"
rm -rf "$WORK"
