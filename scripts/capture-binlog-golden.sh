#!/usr/bin/env bash
# Captures binlog events from a real MariaDB server as a golden file for the binlog decoder's tests:
# Tests/FerryMySQLTests/Golden/rows.binlog is one whole binlog file (magic, then events with CRC32
# checksums) holding exactly the statements below, fetched with mariadb-binlog --raw.
# The server must run with --log-bin --binlog-format=ROW --binlog-row-image=FULL.
# Usage: scripts/capture-binlog-golden.sh HOST PORT
set -euo pipefail
cd "$(dirname "$0")/.."
HOST=${1:?host}
PORT=${2:?port}
M=(mariadb -h "$HOST" -P "$PORT" -u root --batch --skip-column-names --default-character-set=utf8mb4)
"${M[@]}" -e "DROP DATABASE IF EXISTS ferry_golden; CREATE DATABASE ferry_golden CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"
"${M[@]}" -e "FLUSH BINARY LOGS"
FILE=$("${M[@]}" -e "SHOW MASTER STATUS" | cut -f1)
"${M[@]}" ferry_golden <<'SQL'
SET time_zone = '+00:00';
CREATE TABLE golden (id int PRIMARY KEY, i_tiny tinyint, i_ubig bigint unsigned, i_med mediumint, i_bool tinyint(1),
  d decimal(40,10), d_small decimal(5,2), f float, dbl double, c char(5), vc varchar(300), t text, b binary(4),
  vb varbinary(10), dt datetime(6), dt0 datetime, tm time(3), tm_big time(6), ts timestamp(6) NULL DEFAULT NULL,
  dte date, y year, e enum('x','y'), s set('a','b','c'), bits bit(10), u uuid, j json);
INSERT INTO golden VALUES
  (1, -128, 18446744073709551615, -8388608, 1, -123456789012345678901234567890.1234567891, -0.05, 1.5, -2.5e-300,
   'ab', REPEAT('é', 300), 'tab	and ''quote'' 🦤', X'01', X'ff00', '2024-01-02 03:04:05.123456', '9999-12-31 23:59:59',
   '-01:02:03.450', '838:59:59.000001', '2038-01-19 03:14:07.999999', '1000-01-01', 1901, 'y', 'a,c', b'1000000001',
   '00000000-0000-0000-0000-000000000000', '{"k": [1]}'),
  (2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
   NULL, NULL, NULL, NULL, NULL, NULL);
UPDATE golden SET id = 3, d_small = 1.23 WHERE id = 1;
START TRANSACTION;
DELETE FROM golden WHERE id = 2;
INSERT INTO golden (id, u) VALUES (4, 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11');
COMMIT;
ALTER TABLE golden ADD COLUMN extra int;
SQL
"${M[@]}" -e "FLUSH BINARY LOGS"
OUT=$(mktemp -d)
mariadb-binlog --read-from-remote-server --raw -h "$HOST" -P "$PORT" -u root --result-file="$OUT/" "$FILE"
mkdir -p Tests/FerryMySQLTests/Golden
cp "$OUT/$FILE" Tests/FerryMySQLTests/Golden/rows.binlog
rm -rf "$OUT"
"${M[@]}" -e "DROP DATABASE ferry_golden"
ls -l Tests/FerryMySQLTests/Golden/rows.binlog
