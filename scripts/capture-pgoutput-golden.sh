#!/usr/bin/env bash
# Captures pgoutput messages from a real PostgreSQL server as golden files for the decoder's tests:
# Tests/FerryPostgresTests/Golden/pgoutput.hex holds one message per line, in hex, in WAL order.
# Usage: scripts/capture-pgoutput-golden.sh postgres://postgres@127.0.0.1:PORT/postgres
set -euo pipefail
cd "$(dirname "$0")/.."
URL=${1:?a PostgreSQL URL}
psql -X -q -v ON_ERROR_STOP=1 "$URL" <<'SQL'
DROP DATABASE IF EXISTS ferry_golden;
SQL
psql -X -q -v ON_ERROR_STOP=1 "$URL" -c "CREATE DATABASE ferry_golden"
GOLDEN_URL="${URL%/*}/ferry_golden"
psql -X -q -v ON_ERROR_STOP=1 "$GOLDEN_URL" <<'SQL'
CREATE TABLE items (id int PRIMARY KEY, name text, price numeric(10,2), big text, seen timestamptz);
CREATE TABLE audit (id bigint, note text);
ALTER TABLE audit REPLICA IDENTITY FULL;
CREATE PUBLICATION golden FOR ALL TABLES;
SELECT pg_create_logical_replication_slot('golden', 'pgoutput');
INSERT INTO items VALUES (1, 'tab	and ''quote'' 🦤', 12.50, (SELECT string_agg(md5(g::text), '') FROM generate_series(1, 1000) g), '2024-01-02 03:04:05.123456+00'), (2, NULL, NULL, NULL, NULL);
UPDATE items SET price = 13 WHERE id = 1;
UPDATE items SET id = 3 WHERE id = 2;
DELETE FROM items WHERE id = 3;
INSERT INTO audit VALUES (1, 'first');
UPDATE audit SET note = 'second' WHERE id = 1;
DELETE FROM audit WHERE id = 1;
TRUNCATE audit;
SQL
psql -X -At "$GOLDEN_URL" -c "SELECT encode(data, 'hex') FROM pg_logical_slot_get_binary_changes('golden', NULL, NULL, 'proto_version', '1', 'publication_names', 'golden')" \
  > Tests/FerryPostgresTests/Golden/pgoutput.hex
psql -X -q "$GOLDEN_URL" -c "SELECT pg_drop_replication_slot('golden')"
psql -X -q "$URL" -c "DROP DATABASE ferry_golden"
wc -l Tests/FerryPostgresTests/Golden/pgoutput.hex
