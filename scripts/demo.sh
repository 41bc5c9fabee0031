#!/usr/bin/env bash
# Ferry's first command: installs what building Ferry needs (libpq, MariaDB Connector/C and SQLite
# development files, with apt) when it is missing, builds Ferry and runs `ferry demo`, which writes a
# sample SQLite shop to ferry-demo/shop.db and migrates it into ferry-demo/shop-copy.db. No database
# server is needed. Extra arguments go to `ferry demo`.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/packages.sh
install_missing_packages
exec swift run ferry demo "$@"
