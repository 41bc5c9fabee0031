# Starts and stops throw-away PostgreSQL and MariaDB servers on loopback. Source this file, then call
# start_databases (exports FERRY_TEST_POSTGRES_URL and FERRY_TEST_MYSQL_URL) and stop_databases.

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# A certificate authority and a server certificate for the name localhost only (not 127.0.0.1, so that
# verify-full to the address fails as it must), in folder $1: ca.pem, server.pem, server.key.
make_test_certificates() {
  local dir="$1"
  mkdir -p "$dir"
  openssl req -x509 -newkey rsa:2048 -nodes -days 3 -subj "/CN=Ferry test CA" -keyout "$dir/ca.key" -out "$dir/ca.pem" 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" -keyout "$dir/server.key" -out "$dir/server.csr" 2>/dev/null
  printf 'subjectAltName=DNS:localhost\n' > "$dir/server.ext"
  openssl x509 -req -in "$dir/server.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" -CAcreateserial -days 3 \
    -extfile "$dir/server.ext" -out "$dir/server.pem" 2>/dev/null
  chmod 644 "$dir/ca.pem" "$dir/server.pem"
  chmod 600 "$dir/server.key"
}

# Both servers take TLS (FERRY_DB_TLS=off leaves it out, for benchmarks comparable with earlier runs).
# PostgreSQL's role ferry_tls_only may connect over TLS only; FERRY_TEST_TLS_CA names the authority.
start_databases() {
  FERRY_DB_DIR=$(mktemp -d /tmp/ferry-db.XXXXXX)
  chmod 755 "$FERRY_DB_DIR"
  local tls_pg="" tls_my=()
  if [ "${FERRY_DB_TLS:-on}" != off ]; then
    make_test_certificates "$FERRY_DB_DIR/tls"
    export FERRY_TEST_TLS_CA="$FERRY_DB_DIR/tls/ca.pem"
    tls_pg="-c ssl=on -c ssl_cert_file=$FERRY_DB_DIR/tls/server.pem -c ssl_key_file=$FERRY_DB_DIR/pg/server.key"
    tls_my=(--ssl-ca="$FERRY_DB_DIR/tls/ca.pem" --ssl-cert="$FERRY_DB_DIR/tls/server.pem" --ssl-key="$FERRY_DB_DIR/tls/server.key")
  fi
  local pgbin
  pgbin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
  FERRY_PG_CTL="$pgbin/pg_ctl"
  FERRY_PG_PORT=$(free_port)
  mkdir -p "$FERRY_DB_DIR/pg"
  [ -n "$tls_pg" ] && install -m 600 "$FERRY_DB_DIR/tls/server.key" "$FERRY_DB_DIR/pg/server.key"
  local pg_settings="-c listen_addresses=127.0.0.1 -p $FERRY_PG_PORT -k $FERRY_DB_DIR/pg -c wal_level=logical -c max_replication_slots=64 -c max_wal_senders=64 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200 -c shared_buffers=256MB -c max_wal_size=4GB $tls_pg ${FERRY_PG_EXTRA:-}"
  if [ "$(id -u)" = 0 ]; then
    chown -R postgres:postgres "$FERRY_DB_DIR/pg"
    su postgres -c "$pgbin/initdb -D $FERRY_DB_DIR/pg/data -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 -N" >/dev/null
  else
    "$pgbin/initdb" -D "$FERRY_DB_DIR/pg/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 -N >/dev/null
  fi
  # Read first: the role ferry_tls_only is refused without TLS, and needs its password with it.
  printf 'hostnossl all ferry_tls_only 127.0.0.1/32 reject\nhostssl all ferry_tls_only 127.0.0.1/32 scram-sha-256\n%s\n' \
    "$(cat "$FERRY_DB_DIR/pg/data/pg_hba.conf")" > "$FERRY_DB_DIR/pg/data/pg_hba.conf"
  if [ "$(id -u)" = 0 ]; then
    su postgres -c "$FERRY_PG_CTL -D $FERRY_DB_DIR/pg/data -l $FERRY_DB_DIR/pg/server.log -w -o \"$pg_settings\" start" >/dev/null
  else
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
    --innodb-buffer-pool-size=512M --sync-binlog=0 --log-error="$FERRY_DB_DIR/my/error.log" "${tls_my[@]}" &
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
