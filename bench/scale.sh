#!/usr/bin/env bash
# Scale benchmark (release build): clusters of NODES ("1 3") ferry serve nodes, each running TASKS ("1 2 4 6")
# PostgreSQL→PostgreSQL change-streaming tasks fed RATE (1000) changes a second each by pgbench for SECONDS_RUN
# (60); per configuration, each task's lag on its target (p50, p99) and whether all kept up. Everything shares
# this machine's cores. Prints `RESULT …` lines (bench/scale.py has the method).
source "$(dirname "$0")/setup.sh"
FERRY_BIN="$FERRY" FERRY_TEST_POSTGRES_URL="$PG/postgres" PGBENCH="$PGBIN/pgbench" python3 bench/scale.py 2>&1 | tee "$OUT/scale.txt"
