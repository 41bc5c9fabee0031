# Starts and stops throw-away PostgreSQL and MariaDB servers on loopback. Source this file, then call
# start_databases (exports FERRY_TEST_POSTGRES_URL and FERRY_TEST_MYSQL_URL) and stop_databases.

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

start_databases() {
  FERRY_DB_DIR=$(mktemp -d /tmp/ferry-db.XXXXXX)
  chmod 755 "$FERRY_DB_DIR"
  local pgbin
  pgbin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
  FERRY_PG_CTL="$pgbin/pg_ctl"
  FERRY_PG_PORT=$(free_port)
  mkdir -p "$FERRY_DB_DIR/pg"
  local pg_settings="-c listen_addresses=127.0.0.1 -p $FERRY_PG_PORT -k $FERRY_DB_DIR/pg -c wal_level=logical -c max_replication_slots=64 -c max_wal_senders=64 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200 -c shared_buffers=256MB -c max_wal_size=4GB ${FERRY_PG_EXTRA:-}"
  if [ "$(id -u)" = 0 ]; then
    chown postgres:postgres "$FERRY_DB_DIR/pg"
    su postgres -c "$pgbin/initdb -D $FERRY_DB_DIR/pg/data -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 -N" >/dev/null
    su postgres -c "$FERRY_PG_CTL -D $FERRY_DB_DIR/pg/data -l $FERRY_DB_DIR/pg/server.log -w -o \"$pg_settings\" start" >/dev/null
  else
    "$pgbin/initdb" -D "$FERRY_DB_DIR/pg/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 -N >/dev/null
    "$FERRY_PG_CTL" -D "$FERRY_DB_DIR/pg/data" -l "$FERRY_DB_DIR/pg/server.log" -w -o "$pg_settings" start >/dev/null
  fi

  FERRY_MY_PORT=$(free_port)
  mkdir -p "$FERRY_DB_DIR/my"
  mariadb-install-db --no-defaults --user="$(id -un)" --datadir="$FERRY_DB_DIR/my/data" \
    --auth-root-authentication-method=normal --skip-test-db >/dev/null 2>&1
  mariadbd --no-defaults --user="$(id -un)" --datadir="$FERRY_DB_DIR/my/data" --socket="$FERRY_DB_DIR/my/mysqld.sock" \
    --pid-file="$FERRY_DB_DIR/my/mysqld.pid" --bind-address=127.0.0.1 --port="$FERRY_MY_PORT" \
    --log-bin="$FERRY_DB_DIR/my/data/binlog" --binlog-format=ROW --binlog-row-image=FULL --binlog-row-metadata=FULL \
    --server-id=1 --max-allowed-packet=256M --max-connections=300 --innodb-flush-log-at-trx-commit=0 \
    --innodb-buffer-pool-size=512M --sync-binlog=0 --log-error="$FERRY_DB_DIR/my/error.log" &
  FERRY_MY_PID=$!
  for _ in $(seq 1 100); do
    mariadb-admin --protocol=tcp -h 127.0.0.1 -P "$FERRY_MY_PORT" -u root ping >/dev/null 2>&1 && break
    sleep 0.2
  done
  export FERRY_TEST_POSTGRES_URL="postgres://postgres@127.0.0.1:$FERRY_PG_PORT/postgres"
  export FERRY_TEST_MYSQL_URL="mysql://root@127.0.0.1:$FERRY_MY_PORT"
  export FERRY_DB_DIR FERRY_PG_PORT FERRY_MY_PORT
  echo "databases: $FERRY_TEST_POSTGRES_URL $FERRY_TEST_MYSQL_URL"
}

stop_databases() {
  if [ -n "${FERRY_MY_PID:-}" ]; then
    kill "$FERRY_MY_PID" 2>/dev/null || true
    wait "$FERRY_MY_PID" 2>/dev/null || true
  fi
  if [ -n "${FERRY_PG_CTL:-}" ] && [ -d "${FERRY_DB_DIR:-}/pg/data" ]; then
    if [ "$(id -u)" = 0 ]; then
      su postgres -c "$FERRY_PG_CTL -D $FERRY_DB_DIR/pg/data -m immediate -w stop" >/dev/null 2>&1 || true
    else
      "$FERRY_PG_CTL" -D "$FERRY_DB_DIR/pg/data" -m immediate -w stop >/dev/null 2>&1 || true
    fi
  fi
  [ -n "${FERRY_DB_DIR:-}" ] && rm -rf "$FERRY_DB_DIR"
  return 0
}
